"""What each API call does with the store. The views parse and answer; this module acts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from .attach import uploader_of
from .backends.base import PartReceipt, StoredPart, UploadBackend
from .conf import S3_MAX_PART_COUNT, S3_MAX_PART_SIZE, MiB, Settings
from .exceptions import InvalidParts, ObjectExists, UploadNotFound, UploadRefused
from .fields import S3FileField
from .filenames import is_active_type
from .headers import UNSET_PUT_HEADERS, object_headers, single_put_headers
from .signals import s3_file_field_upload_finalize, s3_file_field_upload_prepare
from .values import UploadTicket, sign_field_value, sign_upload_ticket


def plan_part_size(file_size: int, part_size: int) -> tuple[int, bool]:
    """The part size for a file, and whether it goes up in parts at all.

    A file no larger than one part goes up in one PUT. Otherwise parts are `part_size`, grown
    (in whole MiB) for files that would need more than 10,000 parts.
    """
    if file_size <= part_size:
        return part_size, False
    needed = -(-file_size // S3_MAX_PART_COUNT)
    if needed > part_size:
        part_size = min(-(-needed // MiB) * MiB, S3_MAX_PART_SIZE)
    return part_size, True


def planned_part_count(file_size: int, part_size: int) -> int:
    part_size, multipart = plan_part_size(file_size, part_size)
    return max(1, -(-file_size // part_size)) if multipart else 1


@dataclass(frozen=True)
class PresignedPart:
    part_number: int
    size: int
    upload_url: str
    content_md5: str | None = None

    def as_dict(self) -> dict[str, Any]:
        part: dict[str, Any] = {
            "part_number": self.part_number,
            "size": self.size,
            "upload_url": self.upload_url,
        }
        if self.content_md5 is not None:
            # Signed into the URL: the PUT must carry it, and the store checks the bytes.
            part["headers"] = {"Content-MD5": self.content_md5}
        return part


def _backend(field: S3FileField) -> UploadBackend:
    backend = field.upload_backend
    if backend is None:  # the serializers refuse such fields first
        raise UploadRefused("This field's storage does not support direct uploads.")
    return backend


def presign_parts(
    field: S3FileField,
    ticket: UploadTicket,
    part_numbers: Iterable[int],
    md5s: Mapping[int, str] | None,
    expires: int,
) -> list[PresignedPart]:
    """URLs for these parts, each signed for its size and, where given, its Content-MD5, living
    `expires` seconds."""
    backend = _backend(field)
    md5s = md5s or {}
    parts = []
    for number in part_numbers:
        size = ticket.part_size_of(number)
        md5 = md5s.get(number)
        if ticket.upload_id is None:
            url = backend.presign_put(ticket.name, size, ticket.content_type, expires, md5)
        else:
            url = backend.presign_upload_part(
                ticket.name, ticket.upload_id, number, size, expires, md5
            )
        parts.append(PresignedPart(number, size, url, md5))
    return parts


def prepare(
    field: S3FileField,
    name: str,
    file_name: str,
    file_size: int,
    content_type: str,
    request: Any,
    config: Settings,
    checksum: str | None = None,
    md5s: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Sign an upload (starting a multipart upload for a large file) and its first part URLs."""
    s3_file_field_upload_prepare.send(
        sender=field.model,
        field=field,
        field_id=field.id,
        object_key=name,
        file_name=file_name,
        file_size=file_size,
        content_type=content_type,
        request=request,
    )
    backend = _backend(field)
    part_size, multipart = plan_part_size(file_size, config.part_size)
    upload_id = backend.create_multipart_upload(name, content_type) if multipart else None
    ticket = UploadTicket(
        field_id=field.id,
        name=name,
        file_name=file_name,
        file_size=file_size,
        content_type=content_type,
        upload_id=upload_id,
        part_size=part_size,
        checksum=checksum,
        uploader=uploader_of(request),
    )
    batch = config.part_url_batch
    if checksum is None:
        first_batch: Iterable[int] = range(1, min(ticket.part_count, batch) + 1)
    else:
        # A URL signed for a checksum needs the checksum first: sign only the parts the client
        # has hashed already; it asks upload-parts/ for the others as it hashes them.
        first_batch = sorted(number for number in md5s or {} if number <= ticket.part_count)[:batch]
    return {
        "upload_signature": sign_upload_ticket(ticket),
        "object_key": backend.bucket_key(name),
        "upload_id": upload_id,
        "part_size": part_size,
        "part_count": ticket.part_count,
        "parts": [
            part.as_dict()
            for part in presign_parts(
                field, ticket, first_batch, md5s, config.presigned_url_expires
            )
        ],
        # What one upload-parts/ call may ask for.
        "max_part_urls": config.max_part_urls_per_request,
        # A single PUT is signed for these headers: the client sends exactly them.
        "part_headers": {} if multipart else single_put_headers(content_type),
        "checksum": checksum,
    }


def status(field: S3FileField, ticket: UploadTicket) -> list[dict[str, Any]]:
    backend = _backend(field)
    if ticket.upload_id is None:
        stored = backend.stat_object(ticket.name)
        parts = [stored] if stored is not None else []
    else:
        try:
            parts = backend.list_parts(ticket.name, ticket.upload_id)
        except UploadNotFound:
            raise UploadRefused(
                "The store holds no such multipart upload (finalized or aborted)."
            ) from None
    return [{"part_number": p.part_number, "size": p.size, "etag": p.etag} for p in parts]


def _normal_etag(etag: str) -> str:
    return etag.strip().strip('"').lower()


def _explain_refusal(
    backend: UploadBackend, ticket: UploadTicket, receipts: Sequence[PartReceipt], error: Exception
) -> str:
    """Name the part the store refused to assemble, by comparing with what it holds.

    Only on this error path: listing the parts of a large upload is costly, and the store
    itself checks every ETag when it completes.
    """
    assert ticket.upload_id is not None
    stored = {p.part_number: p for p in backend.list_parts(ticket.name, ticket.upload_id)}
    for receipt in receipts:
        part = stored.get(receipt.part_number)
        if part is None:
            return f"Part {receipt.part_number} has not arrived in the store."
        if _normal_etag(part.etag) != _normal_etag(receipt.etag):
            return f"Part {receipt.part_number}: the ETag does not match the store's."
        if part.size != ticket.part_size_of(receipt.part_number):
            return f"Part {receipt.part_number} has the wrong size ({part.size} bytes)."
    return str(error)


def _served_problem(ticket: UploadTicket, stored: StoredPart) -> str | None:
    """How the store would serve the object other than as signed, or None. Signed headers
    hold it to that on stores that check them all; this holds it on the others (SeaweedFS
    stores a type it detects from the bytes in place of `application/octet-stream`)."""
    disposition = object_headers(ticket.content_type)["Content-Disposition"]
    if stored.headers.get("content-disposition") != disposition:
        return f"without `Content-Disposition: {disposition}`"
    added = [name for name in UNSET_PUT_HEADERS if stored.headers.get(name.lower())]
    if added:
        return f"with headers the server did not choose ({', '.join(added)})"
    served_type = stored.headers.get("content-type", "")
    if is_active_type(served_type) and not is_active_type(ticket.content_type):
        return f"as {served_type!r}, a type that can run script, not {ticket.content_type!r}"
    return None


def finalize(
    field: S3FileField, ticket: UploadTicket, receipts: Sequence[PartReceipt], request: Any
) -> dict[str, Any]:
    """Complete the upload, check the object's real size, and sign the field value."""
    backend = _backend(field)
    signal_args = {
        "sender": field.model,
        "field": field,
        "field_id": field.id,
        "object_key": ticket.name,
        "file_name": ticket.file_name,
        "file_size": ticket.file_size,
        "content_type": ticket.content_type,
        "request": request,
    }

    def fail(reason: str) -> UploadRefused:
        s3_file_field_upload_finalize.send(**signal_args, status="failed", reason=reason)
        return UploadRefused(reason)

    if ticket.upload_id is not None:
        try:
            backend.complete_multipart_upload(ticket.name, ticket.upload_id, receipts)
        except (UploadNotFound, ObjectExists):
            # Completed by an earlier finalize whose response was lost, or aborted: the object
            # check below tells which. (Keys are unique: an object at this one is this upload's.)
            pass
        except InvalidParts as error:
            try:
                reason = _explain_refusal(backend, ticket, receipts, error)
            except UploadNotFound:
                reason = str(error)
            raise fail(f"The store refused the parts: {reason}") from None

    stored = backend.stat_object(ticket.name)
    if stored is None:
        reason = "The file has not arrived in the store; upload it before finalizing."
        if ticket.upload_id is not None:
            # Some stores answer NoSuchUpload to a completion while no part has arrived.
            with suppress(UploadNotFound):
                reason = _explain_refusal(backend, ticket, receipts, UploadRefused(reason))
        raise fail(reason)
    if stored.size != ticket.file_size:
        backend.delete_object(ticket.name)
        raise fail(
            f"The stored file has {stored.size} bytes, not the {ticket.file_size} declared; "
            "it was removed."
        )
    served_wrong = _served_problem(ticket, stored)
    if served_wrong:
        backend.delete_object(ticket.name)
        raise fail(f"The store keeps the file {served_wrong}; it was removed.")
    s3_file_field_upload_finalize.send(**signal_args, status="completed", reason="")
    return {
        "field_value": sign_field_value(field.id, ticket.name, stored.size, ticket.uploader),
        "object_key": backend.bucket_key(ticket.name),
        "file_size": stored.size,
    }


def abort(field: S3FileField, ticket: UploadTicket) -> None:
    """Free an unfinished multipart upload. A finalized object is never touched."""
    if ticket.upload_id is not None:
        _backend(field).abort_multipart_upload(ticket.name, ticket.upload_id)
