"""What the library knows of the request being answered, for code Django gives no request to
(form fields, widgets): set by `S3FileFieldMiddleware`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest

_current_request: ContextVar[HttpRequest | None] = ContextVar("s3_file_field_request", default=None)
# Attribute of the request naming the file inputs whose reading was cut off at their limit.
_STOPPED_INPUTS = "_s3ff_stopped_inputs"


@contextmanager
def answering(request: HttpRequest) -> Iterator[None]:
    """Make `request` the current one while the block runs."""
    token = _current_request.set(request)
    try:
        yield
    finally:
        _current_request.reset(token)


def current_request() -> HttpRequest | None:
    """The request being answered, where `S3FileFieldMiddleware` is installed."""
    return _current_request.get()


def mark_stopped(request: HttpRequest, input_name: str) -> None:
    """Record that reading the file sent for `input_name` was cut off."""
    stopped: set[str] = getattr(request, _STOPPED_INPUTS, set())
    stopped.add(input_name)
    setattr(request, _STOPPED_INPUTS, stopped)


def was_stopped(request: HttpRequest | None, input_name: str) -> bool:
    """Whether reading the file sent for `input_name` was cut off."""
    return input_name in getattr(request, _STOPPED_INPUTS, ())
