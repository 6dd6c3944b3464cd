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

from django.dispatch import Signal

s3_file_field_upload_prepare = Signal()
s3_file_field_upload_finalize = Signal()
