"""The upload API's shapes, as docs/protocol.md has them: each request's serializer (which
checks it and names what it parsed for what it is) beside the types its answer is made of.
Nothing invalid reaches the store or is signed."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import filesizeformat
from rest_framework import serializers

from .backends.base import PartReceipt, StoredPart, UploadBackend
from .checksums import ALGORITHMS, ChecksumAlgorithm, ObjectChecksum, PartChecksum
from .conf import S3_MAX_OBJECT_SIZE, S3_MAX_PART_COUNT, get_settings
from .exceptions import InvalidFileName, InvalidSignedValue, UploadToNeedsInstance
from .fields import S3FileField
from .filenames import (
    clean_content_type,
    clean_file_name,
    is_accepted,
)
from .parts import PartPlan
from .registry import get_field
from .values import UploadTicket, read_upload_ticket

logger = logging.getLogger("s3_file_field")

# S3's ETags are 32 hex digits, quoted, with "-<parts>" for a multipart object; this leaves
# room for other stores' forms while keeping the largest finalize body bounded.
MAX_ETAG_LENGTH = 128
MAX_FIELD_ID_LENGTH = 500


# What the requests are, once parsed.


@dataclass(frozen=True)
class NewUpload:
    """An upload-prepare/ request, checked: what to sign, for which field, under which name."""

    field: S3FileField
    backend: UploadBackend
    # The storage name the object will have (what the field stores).
    name: str
    file_name: str
    file_size: int
    content_type: str
    plan: PartPlan
    # The algorithm every part is signed for; None: parts are signed for no checksum.
    checksum: ChecksumAlgorithm | None
    # The checksums the client sent of the parts it hashed already, of `checksum`.
    part_checksums: Mapping[int, str]
    # The algorithms this field's store verifies, that the server offers.
    offered: Sequence[str]


@dataclass(frozen=True)
class SignedUpload:
    """An upload signature, checked and resolved once: what it carries, its field, the field's
    backend."""

    ticket: UploadTicket
    field: S3FileField
    backend: UploadBackend

    @property
    def plan(self) -> PartPlan:
        return self.ticket.plan

    @property
    def checksum(self) -> ChecksumAlgorithm | None:
        return None if self.ticket.checksum is None else ALGORITHMS[self.ticket.checksum]


# What the answers are made of.


@dataclass(frozen=True)
class PresignedPart:
    part_number: int
    size: int
    upload_url: str
    checksum: PartChecksum | None = None

    def as_json(self) -> dict[str, Any]:
        part: dict[str, Any] = {
            "part_number": self.part_number,
            "size": self.size,
            "upload_url": self.upload_url,
        }
        if self.checksum is not None:
            # Signed into the URL: the PUT must carry it, and the store checks the bytes.
            part["headers"] = self.checksum.header()
        return part


@dataclass(frozen=True)
class PreparedUpload:
    """upload-prepare/'s answer."""

    upload_signature: str
    # The bucket key (the storage's location before the name).
    object_key: str
    upload_id: str | None
    plan: PartPlan
    parts: Sequence[PresignedPart]
    part_headers: Mapping[str, str]
    checksum: ChecksumAlgorithm | None
    offered: Sequence[str]
    max_part_urls: int

    def as_json(self) -> dict[str, Any]:
        return {
            "upload_signature": self.upload_signature,
            "object_key": self.object_key,
            "upload_id": self.upload_id,
            "part_size": self.plan.part_size,
            "part_count": self.plan.count,
            "parts": [part.as_json() for part in self.parts],
            "part_headers": dict(self.part_headers),
            "checksum": None if self.checksum is None else self.checksum.name,
            "checksum_algorithms": list(self.offered),
            "max_part_urls": self.max_part_urls,
        }


def parts_json(parts: Sequence[PresignedPart]) -> dict[str, Any]:
    """upload-parts/'s answer."""
    return {"parts": [part.as_json() for part in parts]}


def status_json(parts: Sequence[StoredPart]) -> dict[str, Any]:
    """upload-status/'s answer."""
    return {
        "parts": [{"part_number": p.part_number, "size": p.size, "etag": p.etag} for p in parts]
    }


@dataclass(frozen=True)
class FinalizedUpload:
    """upload-finalize/'s answer."""

    field_value: str
    # The bucket key.
    object_key: str
    file_size: int
    # What the store computed of the bytes it holds, where the upload had a checksum algorithm.
    checksum: ObjectChecksum | None

    def as_json(self) -> dict[str, Any]:
        return {
            "field_value": self.field_value,
            "object_key": self.object_key,
            "file_size": self.file_size,
            "checksum": None if self.checksum is None else self.checksum.as_json(),
        }


# The requests.


class UploadFieldField(serializers.Field):  # type: ignore[type-arg]
    """A `field_id`, read as the S3FileField it names."""

    def to_internal_value(self, data: Any) -> S3FileField:
        if not isinstance(data, str) or not data or len(data) > MAX_FIELD_ID_LENGTH:
            raise serializers.ValidationError(
                f"Expected a field id, 'app_label.ModelName.field_name' (at most "
                f"{MAX_FIELD_ID_LENGTH} characters)."
            )
        return _upload_field(data)


def _upload_field(field_id: str) -> S3FileField:
    field = get_field(field_id)
    if field is None:
        raise serializers.ValidationError(
            f"Unknown field_id {field_id!r}; expected 'app_label.ModelName.field_name' "
            "of an S3FileField."
        )
    if field.upload_backend is None:
        raise serializers.ValidationError(
            f"The storage of {field_id!r} does not support direct uploads."
        )
    return field


def _too_large(size: int, limit: int, whose: str) -> str:
    return (
        f"The file is too large ({filesizeformat(size)}); {whose} accepts at most "
        f"{filesizeformat(limit)} ({limit} bytes)."
    )


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: not "10", 10.0 or true, which DRF's IntegerField would take."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return int(super().to_internal_value(data))


class PartNumbersField(serializers.Field):  # type: ignore[type-arg]
    """A list of part numbers, its length checked before any item: a huge list costs nothing."""

    def to_internal_value(self, data: Any) -> list[int]:
        if not isinstance(data, list):
            raise serializers.ValidationError("Expected a list of part numbers.")
        if not data:
            raise serializers.ValidationError("This list may not be empty.")
        limit = get_settings().max_part_urls_per_request
        if len(data) > limit:
            raise serializers.ValidationError(f"Ask for at most {limit} parts at a time.")
        for index, number in enumerate(data):
            if type(number) is not int or not 1 <= number <= S3_MAX_PART_COUNT:
                raise serializers.ValidationError(
                    f"Item {index}: a part number is an integer from 1 to {S3_MAX_PART_COUNT}."
                )
        return data


class PartChecksumsField(serializers.Field):  # type: ignore[type-arg]
    """`[{part_number, checksum}, ...]`: the base64 checksum of each part (`content_md5` is
    the older name of an MD5's). Which algorithm they are of is the request's to say; their
    form is checked once it is known (`checked_checksums`)."""

    def to_internal_value(self, data: Any) -> dict[int, str]:
        if not isinstance(data, list):
            raise serializers.ValidationError("Expected a list of {part_number, checksum} objects.")
        if len(data) > S3_MAX_PART_COUNT:
            raise serializers.ValidationError(f"An upload has at most {S3_MAX_PART_COUNT} parts.")
        checksums: dict[int, str] = {}
        for index, item in enumerate(data):
            number = _part_number(item, index)
            value = item.get("checksum", item.get("content_md5"))
            if not isinstance(value, str) or not value or len(value) > 64:
                raise serializers.ValidationError(
                    f"Item {index}: checksum must be the base64 of the part's digest."
                )
            checksums[number] = value
        return checksums


def checked_checksums(checksums: Mapping[int, str], algorithm: ChecksumAlgorithm) -> None:
    """Refuse part checksums that are not digests of `algorithm`."""
    for number, value in sorted(checksums.items()):
        if not algorithm.is_value(value):
            raise serializers.ValidationError(
                {
                    "part_checksums": f"Part {number}: the checksum must be the base64 of a "
                    f"{algorithm.digest_bytes}-byte {algorithm.name} digest."
                }
            )


class ChecksumAlgorithmsField(serializers.Field):  # type: ignore[type-arg]
    """The algorithms a client can compute, the one it prefers first."""

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list) or not data or len(data) > len(ALGORITHMS):
            raise serializers.ValidationError(
                f"Expected a list of 1 to {len(ALGORITHMS)} checksum algorithms."
            )
        for index, name in enumerate(data):
            # A name is a string first: a list or an object would not even hash.
            if not isinstance(name, str) or name not in ALGORITHMS:
                raise serializers.ValidationError(
                    f"Item {index}: not a checksum algorithm; known: {', '.join(ALGORITHMS)}."
                )
        return list(data)


def _part_number(item: Any, index: int) -> int:
    """The `part_number` of one item of a list of parts, checked."""
    number = item.get("part_number") if isinstance(item, dict) else None
    if (
        not isinstance(number, int)
        or isinstance(number, bool)
        or not 1 <= number <= S3_MAX_PART_COUNT
    ):
        raise serializers.ValidationError(
            f"Item {index}: part_number must be an integer from 1 to {S3_MAX_PART_COUNT}."
        )
    return number


def _no_such_part(part_count: int, number: int) -> str:
    return f"This upload has {part_count} part(s); there is no part {number}."


class PrepareSerializer(serializers.Serializer[Any]):
    """upload-prepare/: validated into `{"upload": NewUpload}`."""

    field_id = UploadFieldField(source="field")
    file_name = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=None)
    file_size = StrictIntegerField(min_value=0, max_value=2**63 - 1)
    # Untrimmed: a type that ends in a line break is refused, not quietly mended.
    content_type = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, trim_whitespace=False
    )
    checksum = serializers.ChoiceField(choices=list(ALGORITHMS), required=False, allow_null=True)
    checksum_algorithms = ChecksumAlgorithmsField(required=False)
    part_checksums = PartChecksumsField(required=False)

    def validate_file_name(self, value: str) -> str:
        try:
            return clean_file_name(value)
        except InvalidFileName as error:
            raise serializers.ValidationError(str(error)) from None

    def validate_content_type(self, value: str) -> str:
        try:
            return clean_content_type(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        field: S3FileField = attrs["field"]
        backend = field.upload_backend
        assert backend is not None
        file_name: str = attrs["file_name"]
        file_size: int = attrs["file_size"]
        content_type = attrs.get("content_type") or clean_content_type("")
        attrs["content_type"] = content_type

        _check_size_and_type(field, backend, file_name, file_size, content_type)
        offered = backend.offered_checksums(get_settings().checksum_algorithms)
        requested, checksum = _negotiated_checksum(attrs, offered)
        plan = PartPlan.for_file(file_size, get_settings().part_size)
        part_checksums: dict[int, str] = attrs.get("part_checksums", {})
        beyond = sorted(n for n in part_checksums if n > plan.count)
        if beyond:
            raise serializers.ValidationError(
                {"part_checksums": _no_such_part(plan.count, beyond[0])}
            )
        if part_checksums and requested is None:
            raise serializers.ValidationError(
                {
                    "part_checksums": "Say which algorithm they are of: checksum, or the first of "
                    "checksum_algorithms."
                }
            )
        if requested is not None:
            checked_checksums(part_checksums, requested)
        name = _storage_name(field, file_name)
        return {
            "upload": NewUpload(
                field=field,
                backend=backend,
                name=name,
                file_name=file_name,
                file_size=file_size,
                content_type=content_type,
                plan=plan,
                checksum=checksum,
                # Of another algorithm than the one chosen, they sign nothing.
                part_checksums=part_checksums if checksum is requested else {},
                offered=offered,
            )
        }


def _negotiated_checksum(
    attrs: dict[str, Any], offered: Sequence[str]
) -> tuple[ChecksumAlgorithm | None, ChecksumAlgorithm | None]:
    """The algorithm the client's part checksums are of, and the one every part is signed for
    (the client's `checksum`, or the first of its `checksum_algorithms` the server offers)."""
    asked: str | None = attrs.get("checksum")
    acceptable: list[str] | None = attrs.get("checksum_algorithms")
    if asked is not None and acceptable is not None:
        raise serializers.ValidationError(
            {"checksum_algorithms": "Send checksum or checksum_algorithms, not both."}
        )
    offers = ", ".join(offered) or "none"
    if asked is not None and asked not in offered:
        raise serializers.ValidationError(
            {"checksum": f"This store does not verify {asked} checksums (offered: {offers})."}
        )
    wanted = [asked] if asked is not None else acceptable or []
    chosen = next((name for name in wanted if name in offered), None)
    if chosen is None and get_settings().require_checksums:
        raise serializers.ValidationError(
            {"checksum": f"This server requires a checksum for every part (offered: {offers})."}
        )
    requested = ALGORITHMS[wanted[0]] if wanted else None
    return requested, None if chosen is None else ALGORITHMS[chosen]


def _check_size_and_type(
    field: S3FileField, backend: UploadBackend, file_name: str, file_size: int, content_type: str
) -> None:
    """The field's `max_size` and `accept`, and the store's largest object."""
    limit = min(backend.max_object_size, S3_MAX_OBJECT_SIZE)
    if field.max_size is not None and file_size > field.max_size:
        raise serializers.ValidationError(
            {"file_size": _too_large(file_size, field.max_size, "this field")}
        )
    if file_size > limit:
        raise serializers.ValidationError({"file_size": _too_large(file_size, limit, "the store")})
    if not is_accepted(field.accept_entries, file_name, content_type):
        allowed = ", ".join(field.accept_entries)
        raise serializers.ValidationError(
            {
                "content_type": f"A file {file_name!r} of type {content_type!r} is not "
                f"accepted here (allowed: {allowed})."
            }
        )


def _storage_name(field: S3FileField, file_name: str) -> str:
    """The name the object will have (`S3FileField.upload_name`), or the request's error."""
    try:
        return field.upload_name(file_name)
    except InvalidFileName as error:
        raise serializers.ValidationError({"file_name": str(error)}) from None
    except UploadToNeedsInstance:
        # The traceback is the project's to read (check s3_file_field.W018 says so too).
        logger.warning("Direct upload refused", exc_info=True)
        raise serializers.ValidationError(
            {
                "field_id": "This field names its files from the record they belong to, "
                "which does not exist before the upload: it cannot take direct uploads."
            }
        ) from None


class UploadSignatureField(serializers.Field):  # type: ignore[type-arg]
    """An upload signature, read back into the `UploadTicket` it carries."""

    def to_internal_value(self, data: Any) -> UploadTicket:
        try:
            return read_upload_ticket(data, max_age=get_settings().upload_signature_max_age)
        except InvalidSignedValue as error:
            raise serializers.ValidationError(str(error)) from None


class SignedUploadSerializer(serializers.Serializer[Any]):
    """upload-status/ and upload-abort/: validated into `{"upload": SignedUpload}`."""

    upload_signature = UploadSignatureField(source="upload")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        ticket: UploadTicket = attrs["upload"]
        try:
            field = _upload_field(ticket.field_id)
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"upload_signature": error.detail}) from None
        assert field.upload_backend is not None  # _upload_field refuses fields without one
        attrs["upload"] = SignedUpload(ticket, field, field.upload_backend)
        return attrs


class PartsSerializer(SignedUploadSerializer):
    """upload-parts/: `upload`, the sorted `part_numbers` and their `part_checksums`."""

    part_numbers = PartNumbersField()
    part_checksums = PartChecksumsField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        upload: SignedUpload = attrs["upload"]
        ticket = upload.ticket
        numbers: list[int] = attrs["part_numbers"]
        beyond = sorted(n for n in set(numbers) if n > upload.plan.count)
        if beyond:
            raise serializers.ValidationError(
                {"part_numbers": _no_such_part(upload.plan.count, beyond[0])}
            )
        attrs["part_numbers"] = sorted(set(numbers))
        checksums: dict[int, str] = attrs.setdefault("part_checksums", {})
        if set(checksums) - set(numbers):
            raise serializers.ValidationError(
                {"part_checksums": "Give checksums only for the parts asked for in part_numbers."}
            )
        # An upload prepared without an algorithm may have a part signed for its Content-MD5
        # (a client that found the part's ETag wrong sends it again for the store to check).
        checked_checksums(checksums, upload.checksum or ALGORITHMS["md5"])
        if ticket.checksum is not None and set(numbers) - set(checksums):
            missing = min(set(numbers) - set(checksums))
            raise serializers.ValidationError(
                {
                    "part_checksums": f"This upload signs every part for its {ticket.checksum} "
                    f"checksum: part {missing} has none."
                }
            )
        return attrs


class PartReceiptsField(serializers.Field):  # type: ignore[type-arg]
    """`[{part_number, etag, checksum?}, ...]`, checked by hand: a nested serializer per item costs
    about 30 µs, and an upload may have 10,000 parts."""

    def to_internal_value(self, data: Any) -> list[PartReceipt]:
        if not isinstance(data, list):
            raise serializers.ValidationError("Expected a list of {part_number, etag} objects.")
        if len(data) > S3_MAX_PART_COUNT:
            raise serializers.ValidationError(f"An upload has at most {S3_MAX_PART_COUNT} parts.")
        receipts = []
        for index, item in enumerate(data):
            number = _part_number(item, index)
            etag = item.get("etag")
            if not isinstance(etag, str) or not etag or len(etag) > MAX_ETAG_LENGTH:
                raise serializers.ValidationError(
                    f"Item {index}: etag must be the store's ETag header (a non-empty string)."
                )
            checksum = item.get("checksum")
            if checksum is not None and (not isinstance(checksum, str) or len(checksum) > 64):
                raise serializers.ValidationError(
                    f"Item {index}: checksum must be the part's base64 checksum."
                )
            receipts.append(PartReceipt(number, etag, checksum))
        return receipts


class FinalizeSerializer(SignedUploadSerializer):
    """upload-finalize/: `upload` and the `receipts` of its parts, in order."""

    parts = PartReceiptsField(required=False, source="receipts")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        plan = attrs["upload"].plan
        receipts: list[PartReceipt] = attrs.get("receipts", [])
        if plan.multipart:
            numbers = sorted(r.part_number for r in receipts)
            if numbers != list(range(1, plan.count + 1)):
                raise serializers.ValidationError(
                    {
                        "parts": f"List each of the {plan.count} parts once, with "
                        "the ETag the store returned for it."
                    }
                )
        elif receipts and [r.part_number for r in receipts] != [1]:
            raise serializers.ValidationError({"parts": "A single-part upload has only part 1."})
        algorithm = attrs["upload"].checksum
        given = {r.part_number: r.checksum for r in receipts if r.checksum is not None}
        if given and algorithm is None:
            raise serializers.ValidationError(
                {"parts": "This upload has no checksum algorithm: send no part checksums."}
            )
        if algorithm is not None:
            checked_checksums(given, algorithm)
        attrs["receipts"] = sorted(receipts, key=lambda r: r.part_number)
        return attrs
