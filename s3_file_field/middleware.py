"""`S3FileFieldMiddleware`: lets the form fields know who submits a form, and stops reading a
file sent with a form past what its S3 field would take."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.apps import apps
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db.models import FileField
from django.http import HttpRequest, HttpResponse

from .context import answering, mark_stopped
from .fallback import plain_uploads_allowed
from .fields import S3FileField
from .registry import iter_fields


class S3FileFieldMiddleware:
    """Makes the request visible to S3 form fields while it is answered (Django gives form
    fields none), so that an upload's value is accepted only from the user who made it
    (`S3FF_VALUES_BOUND_TO_UPLOADER`) and a file sent with the form is under the upload API's
    policy (`S3FF_PLAIN_UPLOADS`); bounds what is read of such a file (`MaxSizeUploadHandler`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            limits = size_limits(plain_uploads_allowed())
            if limits:
                # First: the others would spool the bytes before it could stop them.
                request.upload_handlers.insert(0, MaxSizeUploadHandler(request, limits))
        with answering(request):
            return self.get_response(request)


@cache
def size_limits(plain_uploads: bool) -> dict[str, int]:
    """Per form input name, how many bytes of a file sent for it are read: with plain uploads,
    the largest `max_size` of the S3FileFields so named; without, none. A name that another
    FileField has too, or (with plain uploads) an S3FileField without `max_size`, is not
    bounded here. Computed once: models and their fields do not change while Django runs."""
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


class MaxSizeUploadHandler(FileUploadHandler):
    """Stops reading a request as soon as a file sent for an S3 field passes what the field
    takes: an oversized file is neither spooled to disk nor read to its end."""

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
            assert self.request is not None
            mark_stopped(self.request, self.field_name)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
