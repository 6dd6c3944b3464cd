"""The no-JavaScript path: a file sent with the form, saved through Django, under the upload
API's policy (`S3FF_PLAIN_UPLOADS`).

It runs what a direct upload runs: the API's authentication, permission and throttle classes,
the field's `upload_permission_classes`, both signals, and the field's limits; it stores the
file under a key of its own, and hands the form the same not-yet-attached name as a field value
does. Off (the default), such a file is refused, and reading the request stops at its first
bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import FileField
from rest_framework.exceptions import APIException

from .attach import AttachableName
from .conf import get_settings
from .filenames import (
    InvalidFileName,
    UploadToNeedsInstance,
    clean_file_name,
    fit_key,
    is_active_type,
)
from .registry import iter_fields
from .signals import s3_file_field_upload_finalize, s3_file_field_upload_prepare

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

    from .fields import S3FileField

NEEDS_JAVASCRIPT = "This form uploads files with JavaScript; turn it on and choose the file again."
# Attribute of the request that names the file inputs whose upload was cut off at max_size.
STOPPED_UPLOADS = "_s3ff_stopped_uploads"


def plain_uploads_allowed() -> bool:
    """Whether a file sent with the form is taken: `S3FF_PLAIN_UPLOADS`, or no upload API to
    send it to instead (the field is then a plain FileField, as check W006 says)."""
    from .widgets import upload_api_base_url

    return get_settings().plain_uploads or upload_api_base_url() is None


class StoppedUpload:
    """What the widget gives for a file whose reading `MaxSizeUploadHandler` cut off."""


class Refused(Exception):
    """The policy refuses a plain upload; the message is the form error."""


def size_limits(plain_uploads: bool) -> dict[str, int]:
    """Per form input name, how many bytes of a file sent for it are read: with plain uploads,
    the largest `max_size` of the S3FileFields so named; without, none. A name that another
    FileField has too, or (with plain uploads) an S3FileField without `max_size`, is not
    bounded here."""
    from .fields import S3FileField

    limits: dict[str, int | None] = {}
    for field in iter_fields():
        known = limits.get(field.name, 0)
        if not plain_uploads:
            limits[field.name] = 0
        elif known is None or field.max_size is None:
            limits[field.name] = None
        else:
            limits[field.name] = max(known, field.max_size)
    for model in apps.get_models():
        for other in model._meta.get_fields():
            if isinstance(other, FileField) and not isinstance(other, S3FileField):
                limits.pop(other.name, None)
    return {name: limit for name, limit in limits.items() if limit is not None}


def was_stopped(request: HttpRequest | None, input_name: str) -> bool:
    """Whether reading the file sent for `input_name` was cut off (`MaxSizeUploadHandler`)."""
    return input_name in getattr(request, STOPPED_UPLOADS, ())


class MaxSizeUploadHandler(FileUploadHandler):
    """Stops reading a request as soon as a file sent for an S3 field passes the field's
    `max_size`: an oversized file is neither spooled to disk nor read to its end."""

    def __init__(self, request: HttpRequest, limits: dict[str, int]) -> None:
        super().__init__(request)
        self.limits = limits
        self.limit: int | None = None

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, *args, **kwargs)
        # A formset's inputs are "<prefix>-<index>-<field name>".
        self.limit = self.limits.get(field_name.rsplit("-", 1)[-1])

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if self.limit is not None and (self.limit == 0 or start + len(raw_data) > self.limit):
            stopped: set[str] = getattr(self.request, STOPPED_UPLOADS, set())
            stopped.add(self.field_name)
            setattr(self.request, STOPPED_UPLOADS, stopped)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _api_policy(field: S3FileField, request: HttpRequest) -> Any:
    """Run the upload API's authentication, permission and throttle classes and the field's
    own, as upload-prepare/ does; return the DRF request the signals are sent with."""
    from .views import PrepareView

    view = PrepareView()
    view.args, view.kwargs, view.headers = (), {}, {}
    api_request = view.initialize_request(request)
    view.request = api_request
    view.format_kwarg = None
    try:
        view.initial(api_request)
        view.check_field_permissions(api_request, field)
    except APIException as error:
        raise Refused(str(getattr(error, "detail", error))) from None
    return api_request


def _send(signal: Any, field: S3FileField, request: Any, **extra: Any) -> None:
    try:
        signal.send(sender=field.model, field=field, field_id=field.id, request=request, **extra)
    except PermissionDenied as error:
        raise Refused(str(error) or "You may not upload this file.") from None
    except ValidationError as error:
        raise Refused(" ".join(error.messages)) from None


def store_plain_upload(field: S3FileField, upload: UploadedFile[Any], request: HttpRequest) -> str:
    """Check a file sent with the form under the API's policy, store it under a key of its
    own, and return its name, not attached yet. Refused with the form error's message."""
    api_request = _api_policy(field, request)
    try:
        file_name = clean_file_name(upload.name or "")
        backend = field.upload_backend
        assert backend is not None
        name = fit_key(
            field.direct_upload_name,
            file_name,
            lambda key: len(backend.bucket_key(key).encode()),
            field.max_length or 0,
        )
    except (InvalidFileName, SuspiciousFileOperation) as error:
        raise Refused(str(error) or "The file name cannot be stored.") from None
    except UploadToNeedsInstance:
        raise Refused("This field cannot take uploads before its record exists.") from None
    facts = {
        "object_key": name,
        "file_name": file_name,
        "file_size": upload.size or 0,
        "content_type": upload.content_type or "application/octet-stream",
    }
    _send(s3_file_field_upload_prepare, field, api_request, **facts)
    stored = field.storage.save(name, upload, max_length=field.max_length)
    facts["object_key"] = stored
    try:
        served = backend.stat_object(stored)
        # As finalize does: SeaweedFS stores a type it detects in place of octet-stream.
        served_type = served.headers.get("content-type", "") if served else ""
        if is_active_type(served_type) and not is_active_type(str(facts["content_type"])):
            raise Refused("Files of this type are not accepted here.")
        _send(
            s3_file_field_upload_finalize,
            field,
            api_request,
            status="completed",
            reason="",
            **facts,
        )
    except Refused:
        field.storage.delete(stored)
        raise
    return AttachableName(stored)
