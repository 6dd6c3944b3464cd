"""Signals sent by the upload API.

`s3_file_field_upload_prepare` is sent before an upload is signed (and before any multipart
upload is started), with keyword arguments:
    sender        the model class of the field
    field         the `S3FileField`
    field_id      "app_label.ModelName.field_name"
    object_key    the storage name the object will have (what the field stores)
    bucket_key    the key in the bucket (the storage's `location` before the name, if any)
    file_name     the user's file name, as checked
    file_size     the declared size in bytes
    content_type  the declared content type
    request       the DRF `Request`
A receiver may refuse the upload by raising `django.core.exceptions.PermissionDenied` (answered
403) or `django.core.exceptions.ValidationError` (answered 400 with its messages).

`s3_file_field_upload_finalize` is sent on each finalize that reached the store, with the
same arguments plus:
    status        "completed", or "failed"
    reason        why it failed ("" when completed)
A retried finalize (after a lost response) sends "completed" again, so receivers should be
idempotent, e.g. keyed on `object_key`. A receiver may also raise `PermissionDenied` or
`ValidationError` to withhold the field value.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

s3_file_field_upload_prepare = Signal()
s3_file_field_upload_finalize = Signal()


def upload_signal_args(
    field: Any,
    name: str,
    bucket_key: str,
    file_name: str,
    file_size: int,
    content_type: str,
    request: Any,
) -> dict[str, Any]:
    """What both signals carry, for a direct upload and a plain one alike."""
    return {
        "sender": field.model,
        "field": field,
        "field_id": field.id,
        "object_key": name,
        "bucket_key": bucket_key,
        "file_name": file_name,
        "file_size": file_size,
        "content_type": content_type,
        "request": request,
    }
