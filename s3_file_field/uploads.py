"""What each API call does with the store. The views parse and answer; this module acts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any

from .attach import uploader_of
from .backends.base import PartReceipt, StoredPart, UploadBackend
from .checksums import ALGORITHMS, PartChecksum
from .conf import Settings
from .exceptions import InvalidParts, ObjectExists, UploadNotFound, UploadRefused
from .fields import S3FileField
from .filenames import runs_script_unasked
from .headers import UNSET_PUT_HEADERS, single_put_headers
from .protocol import FinalizedUpload, NewUpload, PreparedUpload, PresignedPart, SignedUpload
from .signals import (
    s3_file_field_upload_finalize,
    s3_file_field_upload_prepare,
    upload_signal_args,
)
from .values import UploadTicket, sign_field_value, sign_upload_ticket


def _signal_args(
    field: S3FileField,
    backend: UploadBackend,
    name: str,
    facts: UploadTicket | NewUpload,
    request: Any,
) -> dict[str, Any]:
    return upload_signal_args(
        field,
        name,
        backend.bucket_key(name),
        facts.file_name,
        facts.file_size,
        facts.content_type,
        request,
    )


def presign_parts(
    upload: SignedUpload, part_numbers: Iterable[int], checksums: Mapping[int, str], expires: int
) -> list[PresignedPart]:
    """URLs for these parts, each signed for its size and, where given, its checksum (of the
    upload's algorithm; an MD5 for an upload without one), living `expires` seconds."""
    ticket, backend = upload.ticket, upload.backend
    algorithm = upload.checksum or ALGORITHMS["md5"]
    parts = []
    for number in part_numbers:
        size = ticket.plan.size_of(number)
        value = checksums.get(number)
        checksum = None if value is None else PartChecksum(algorithm, value)
        if ticket.upload_id is None:
            url = backend.presign_put(
                ticket.name,
                size,
                ticket.content_type,
                expires,
                checksum,
                download_name(upload.field, ticket.file_name),
            )
        else:
            url = backend.presign_upload_part(
                ticket.name, ticket.upload_id, number, size, expires, checksum
            )
        parts.append(PresignedPart(number, size, url, checksum))
    return parts


def prepare(
    new: NewUpload, request: Any, config: Settings, *, every_part: bool = False
) -> PreparedUpload:
    """Sign an upload (starting a multipart upload for a large file) and its first part URLs
    (`every_part`: all of them, as 1.x clients expect)."""
    s3_file_field_upload_prepare.send(
        **_signal_args(new.field, new.backend, new.name, new, request)
    )
    plan = new.plan
    saved_as = download_name(new.field, new.file_name)
    upload_id = (
        new.backend.create_multipart_upload(new.name, new.content_type, new.checksum, saved_as)
        if plan.multipart
        else None
    )
    ticket = UploadTicket(
        field_id=new.field.id,
        name=new.name,
        file_name=new.file_name,
        file_size=new.file_size,
        content_type=new.content_type,
        upload_id=upload_id,
        part_size=plan.part_size,
        checksum=None if new.checksum is None else new.checksum.name,
        uploader=uploader_of(request),
    )
    batch = plan.count if every_part else config.part_url_batch
    if new.checksum is None:
        first_batch: Iterable[int] = range(1, min(plan.count, batch) + 1)
    else:
        # A URL signed for a checksum needs the checksum first: sign only the parts the client
        # has hashed already; it asks upload-parts/ for the others as it hashes them.
        first_batch = sorted(new.part_checksums)[:batch]
    upload = SignedUpload(ticket, new.field, new.backend)
    return PreparedUpload(
        upload_signature=sign_upload_ticket(ticket),
        object_key=new.backend.bucket_key(new.name),
        upload_id=upload_id,
        plan=plan,
        parts=presign_parts(upload, first_batch, new.part_checksums, config.presigned_url_expires),
        # A single PUT is signed for these headers: the client sends exactly them.
        part_headers={}
        if plan.multipart
        else single_put_headers(new.backend.stored_headers(new.name, new.content_type, saved_as)),
        checksum=new.checksum,
        offered=new.offered,
        max_part_urls=config.max_part_urls_per_request,
    )


def status(upload: SignedUpload) -> list[StoredPart]:
    """The parts the store holds (for a single PUT, the object, as part 1)."""
    ticket, backend = upload.ticket, upload.backend
    if ticket.upload_id is None:
        stored = backend.stat_object(ticket.name)
        return [stored] if stored is not None else []
    try:
        return backend.list_parts(ticket.name, ticket.upload_id)
    except UploadNotFound:
        raise UploadRefused(
            "The store holds no such multipart upload (finalized or aborted)."
        ) from None


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
        if part.size != ticket.plan.size_of(receipt.part_number):
            return f"Part {receipt.part_number} has the wrong size ({part.size} bytes)."
    return str(error)


def download_name(field: S3FileField, file_name: str) -> str | None:
    """The name browsers save the object under, for a field that keeps the user's names."""
    return file_name if field.download_name else None


def _served_problem(upload: SignedUpload, stored: StoredPart) -> str | None:
    """How the store would serve the object other than as signed, or None. Signed headers
    hold it to that on stores that check them all; this holds it on the others (SeaweedFS
    stores a type it detects from the bytes in place of `application/octet-stream`)."""
    ticket = upload.ticket
    expected = upload.backend.stored_headers(
        ticket.name, ticket.content_type, download_name(upload.field, ticket.file_name)
    )
    chosen = {name.lower(): value for name, value in expected.items() if value}
    disposition = chosen.get("content-disposition")
    if disposition is not None and stored.headers.get("content-disposition") != disposition:
        return f"without `Content-Disposition: {disposition}`"
    added = [
        name
        for name in UNSET_PUT_HEADERS
        if stored.headers.get(name.lower()) and name.lower() not in chosen
    ]
    if added:
        return f"with headers the server did not choose ({', '.join(added)})"
    served_type = stored.headers.get("content-type", "")
    if runs_script_unasked(ticket.content_type, served_type):
        return f"as {served_type!r}, a type that can run script, not {ticket.content_type!r}"
    return None


def finalize(
    upload: SignedUpload, receipts: Sequence[PartReceipt], request: Any
) -> FinalizedUpload:
    """Complete the upload, check the object's real size and headers, sign the field value."""
    ticket, field, backend = upload.ticket, upload.field, upload.backend
    signal_args = _signal_args(field, backend, ticket.name, ticket, request)

    def fail(reason: str) -> UploadRefused:
        s3_file_field_upload_finalize.send(**signal_args, status="failed", reason=reason)
        return UploadRefused(reason)

    if ticket.upload_id is not None:
        try:
            backend.complete_multipart_upload(
                ticket.name, ticket.upload_id, receipts, upload.checksum
            )
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
    served_wrong = _served_problem(upload, stored)
    if served_wrong:
        backend.delete_object(ticket.name)
        raise fail(f"The store keeps the file {served_wrong}; it was removed.")
    s3_file_field_upload_finalize.send(**signal_args, status="completed", reason="")
    # Only what the store computed for this upload's algorithm: a checksum is kept for the
    # bytes it verified, not one some other client chose.
    checksum = stored.checksum if upload.checksum is not None else None
    return FinalizedUpload(
        field_value=sign_field_value(field.id, ticket.name, stored.size, ticket.uploader, checksum),
        object_key=signal_args["bucket_key"],
        file_size=stored.size,
        checksum=checksum,
    )


def abort(upload: SignedUpload) -> None:
    """Free an unfinished multipart upload. A finalized object is never touched."""
    if upload.ticket.upload_id is not None:
        upload.backend.abort_multipart_upload(upload.ticket.name, upload.ticket.upload_id)
