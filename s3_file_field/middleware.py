"""`S3FileFieldMiddleware`: lets the form fields know who submits a form, and stops reading a
file sent with a form past what its S3 field would take."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_current_request: ContextVar[HttpRequest | None] = ContextVar("s3_file_field_request", default=None)


class S3FileFieldMiddleware:
    """Makes the request visible to S3 form fields while it is answered, so that an upload's
    value is accepted only from the user who made it (`S3FF_VALUES_BOUND_TO_UPLOADER`) and a
    file sent with the form is under the upload API's policy (`S3FF_PLAIN_UPLOADS`); bounds
    what is read of such a file (`fallback.MaxSizeUploadHandler`).

    Form fields are given no request by Django; a context variable carries it to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .fallback import MaxSizeUploadHandler, plain_uploads_allowed, size_limits

        if request.method == "POST" and request.content_type == "multipart/form-data":
            limits = size_limits(plain_uploads_allowed())
            if limits:
                # First: the others would spool the bytes before it could stop them.
                request.upload_handlers.insert(0, MaxSizeUploadHandler(request, limits))
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_request() -> HttpRequest | None:
    """The request being answered, where `S3FileFieldMiddleware` is installed."""
    return _current_request.get()
