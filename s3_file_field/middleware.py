"""`S3FileFieldMiddleware`: lets the form fields know who submits a form."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_current_request: ContextVar[HttpRequest | None] = ContextVar("s3_file_field_request", default=None)


class S3FileFieldMiddleware:
    """Makes the request visible to S3 form fields while it is answered, so that an upload's
    value is accepted only from the user who made it (`S3FF_VALUES_BOUND_TO_UPLOADER`).

    Form fields are given no request by Django; a context variable carries it to them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


def current_request() -> HttpRequest | None:
    """The request being answered, where `S3FileFieldMiddleware` is installed."""
    return _current_request.get()
