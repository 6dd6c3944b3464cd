"""The signed values that carry an upload's facts between calls (the API keeps no state).

Each kind of value has its own salt, so one kind is never accepted where another belongs, and
each is checked against a maximum age.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing

from .checksums import ObjectChecksum
from .exceptions import InvalidSignedValue
from .parts import PartPlan

UPLOAD_SIGNATURE_SALT = "s3_file_field.upload-signature"
FIELD_VALUE_SALT = "s3_file_field.field-value"
# A field value made by the test fixtures without a field: accepted by every S3FileField, so
# that tests written for django-s3-file-field 1.x keep working. The API never issues one.
ANY_FIELD = "*"


@dataclass(frozen=True)
class UploadTicket:
    """What an upload signature carries: every fact later calls need."""

    field_id: str
    name: str
    file_name: str
    file_size: int
    content_type: str
    upload_id: str | None
    part_size: int
    # The algorithm ("crc32", "md5"...) every part URL is signed for a checksum of, which the
    # client gives and the store checks; None: parts are signed for no checksum.
    checksum: str | None = None
    # The signed-in user who prepared it (`attach.uploader_of`); None if anonymous.
    uploader: str | None = None

    @property
    def plan(self) -> PartPlan:
        return PartPlan(self.file_size, self.part_size, multipart=self.upload_id is not None)


@dataclass(frozen=True)
class FieldValue:
    """What a field value carries: a finalized object, and the field it was issued for."""

    field_id: str
    name: str
    size: int
    # The signed-in user who uploaded it; None if anonymous or made by the test fixtures.
    uploader: str | None = None
    # The checksum the store computed of the object, where the upload had an algorithm.
    checksum: ObjectChecksum | None = None


def _load(value: Any, salt: str, max_age: int, what: str) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        raise InvalidSignedValue(f"The {what} must be a non-empty string.")
    try:
        payload = signing.loads(value, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise InvalidSignedValue(f"The {what} has expired; upload the file again.") from None
    except (signing.BadSignature, ValueError):
        # ValueError: validly signed by a plain Signer, with no timestamp to read.
        raise InvalidSignedValue(
            f"The {what} is not valid (tampered with, truncated or of another kind)."
        ) from None
    if not isinstance(payload, dict):
        raise InvalidSignedValue(f"The {what} is not valid.")
    return payload


def sign_upload_ticket(ticket: UploadTicket) -> str:
    return signing.dumps(
        {
            "f": ticket.field_id,
            "k": ticket.name,
            "n": ticket.file_name,
            "s": ticket.file_size,
            "t": ticket.content_type,
            "u": ticket.upload_id,
            "p": ticket.part_size,
            "c": ticket.checksum,
            "o": ticket.uploader,
        },
        salt=UPLOAD_SIGNATURE_SALT,
        compress=True,
    )


def read_upload_ticket(signature: Any, *, max_age: int) -> UploadTicket:
    """Check an upload signature no older than `max_age` seconds."""
    payload = _load(signature, UPLOAD_SIGNATURE_SALT, max_age, "upload signature")
    try:
        return UploadTicket(
            field_id=str(payload["f"]),
            name=str(payload["k"]),
            file_name=str(payload["n"]),
            file_size=int(payload["s"]),
            content_type=str(payload["t"]),
            upload_id=None if payload["u"] is None else str(payload["u"]),
            part_size=int(payload["p"]),
            checksum=None if payload.get("c") is None else str(payload["c"]),
            uploader=None if payload.get("o") is None else str(payload["o"]),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidSignedValue("The upload signature is not valid.") from None


def sign_field_value(
    field_id: str,
    name: str,
    size: int,
    uploader: str | None = None,
    checksum: ObjectChecksum | None = None,
) -> str:
    payload: dict[str, Any] = {"f": field_id, "k": name, "s": size, "o": uploader}
    if checksum is not None:
        payload["c"] = [checksum.algorithm, checksum.value, checksum.type]
    return signing.dumps(payload, salt=FIELD_VALUE_SALT, compress=True)


def read_field_value(value: Any, field_id: str, *, max_age: int) -> FieldValue:
    """Check a field value for the field `field_id`, no older than `max_age` seconds."""
    payload = _load(value, FIELD_VALUE_SALT, max_age, "uploaded file value")
    try:
        result = FieldValue(
            field_id=str(payload["f"]),
            name=str(payload["k"]),
            size=int(payload["s"]),
            uploader=None if payload.get("o") is None else str(payload["o"]),
            checksum=None if payload.get("c") is None else ObjectChecksum(*map(str, payload["c"])),
        )
    except (KeyError, TypeError, ValueError):
        raise InvalidSignedValue("The uploaded file value is not valid.") from None
    if result.field_id not in (field_id, ANY_FIELD):
        raise InvalidSignedValue("The uploaded file value was issued for another field.")
    return result
