"""The no-JavaScript path: a file sent with the form, saved through Django, under the upload
API's policy (`S3FF_PLAIN_UPLOADS`).

It runs what a direct upload runs: the API's authentication, permission and throttle classes,
the field's `upload_permission_classes`, both signals, and the field's limits; it stores the
file under a key of its own, and hands the form the same not-yet-attached name as a field value
does. Off (the default), such a file is refused, and `S3FileFieldMiddleware` stops reading it
at its first bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException

from .attach import AttachableName
from .conf import get_settings
from .exceptions import InvalidFileName, PlainUploadRefused, UploadToNeedsInstance
from .filenames import clean_file_name, runs_script_unasked
from .policy import admit
from .signals import (
    s3_file_field_upload_finalize,
    s3_file_field_upload_prepare,
    upload_signal_args,
)
from .widgets import upload_api_base_url

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

    from .fields import S3FileField


def plain_uploads_allowed() -> bool:
    """Whether a file sent with the form is taken: `S3FF_PLAIN_UPLOADS`, or no upload API to
    send it to instead (the field is then a plain FileField, as check W006 says)."""
    return get_settings().plain_uploads or upload_api_base_url() is None


def _send(signal: Any, **args: Any) -> None:
    try:
        signal.send(**args)
    except PermissionDenied as error:
        raise PlainUploadRefused(str(error) or "You may not upload this file.") from None
    except ValidationError as error:
        raise PlainUploadRefused(" ".join(error.messages)) from None


def store_plain_upload(field: S3FileField, upload: UploadedFile[Any], request: HttpRequest) -> str:
    """Check a file sent with the form under the API's policy, store it under a key of its
    own, and return its name, not attached yet. PlainUploadRefused with the form error's
    message."""
    try:
        api_request = admit(request, field)
    except APIException as error:
        raise PlainUploadRefused(str(getattr(error, "detail", error))) from None
    backend = field.upload_backend
    assert backend is not None  # the form takes plain uploads only where the API is
    try:
        file_name = clean_file_name(upload.name or "")
        name = field.upload_name(file_name)
    except InvalidFileName as error:
        raise PlainUploadRefused(str(error)) from None
    except UploadToNeedsInstance:
        raise PlainUploadRefused(
            "This field cannot take uploads before its record exists."
        ) from None
    content_type = upload.content_type or "application/octet-stream"
    file_size = upload.size or 0

    def signal_args(stored_as: str) -> dict[str, Any]:
        return upload_signal_args(
            field,
            stored_as,
            backend.bucket_key(stored_as),
            file_name,
            file_size,
            content_type,
            api_request,
        )

    _send(s3_file_field_upload_prepare, **signal_args(name))
    stored = field.storage.save(name, upload, max_length=field.max_length)
    try:
        served = backend.stat_object(stored)
        # As finalize does: a store may serve a type it detected from the bytes.
        if served and runs_script_unasked(content_type, served.headers.get("content-type", "")):
            raise PlainUploadRefused("Files of this type are not accepted here.")
        _send(s3_file_field_upload_finalize, **signal_args(stored), status="completed", reason="")
    except PlainUploadRefused:
        field.storage.delete(stored)
        raise
    return AttachableName(stored)
