"""A strict Content-Security-Policy on the demo's own pages, proving the widget needs no
inline script or style."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def content_security_policy(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        # The store as browsers reach it; read per request, so that tests may change it.
        public = getattr(settings, "S3FF_PRESIGN_ENDPOINT_URL", None) or settings.S3_ENDPOINT_URL
        endpoint = urlsplit(public)
        policy = f"default-src 'self'; connect-src 'self' {endpoint.scheme}://{endpoint.netloc}"
        response = get_response(request)
        # The admin and DRF's browsable API are Django's and DRF's pages, not the demo's.
        if not request.path.startswith(("/admin/", "/api/")):
            response.headers.setdefault("Content-Security-Policy", policy)
        return response

    return middleware
