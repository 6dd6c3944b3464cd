"""Who may upload: the upload API's DRF authentication, permission and throttle classes, and
a field's own `upload_permission_classes`. The API's views and the forms' plain-upload path
both ask here, so one policy holds for every way in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rest_framework.settings import perform_import
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from .conf import get_settings

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    from .fields import S3FileField


class AnonymousMultipartThrottle(SimpleRateThrottle):
    """Bounds the multipart uploads each anonymous client (by IP address) starts: the store
    holds each one, and bills its parts, until it is finished or aborted."""

    scope = "s3ff_anonymous_multipart"

    def __init__(self, rate: str) -> None:
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UploadPolicyView(APIView):
    """A DRF view with the upload API's classes (`S3FF_*_CLASSES`, else DRF's defaults)."""

    def _classes(self, configured: Sequence[str] | None, default: Any, name: str) -> list[Any]:
        if configured is None:
            return list(default)
        return list(perform_import(configured, name) or [])

    def get_authenticators(self) -> list[Any]:
        configured = get_settings().authentication_classes
        classes = self._classes(
            configured, self.authentication_classes, "S3FF_AUTHENTICATION_CLASSES"
        )
        return [c() for c in classes]

    def get_permissions(self) -> list[Any]:
        configured = get_settings().permission_classes
        classes = self._classes(configured, self.permission_classes, "S3FF_PERMISSION_CLASSES")
        return [c() for c in classes]

    def get_throttles(self) -> list[Any]:
        configured = get_settings().throttle_classes
        classes = self._classes(configured, self.throttle_classes, "S3FF_THROTTLE_CLASSES")
        return [c() for c in classes]

    def check_field_permissions(self, request: Request, field: S3FileField) -> None:
        """The field's own `upload_permission_classes`, asked after the API-wide ones: an
        admin-only field stays admin-only however open the API is."""
        classes = perform_import(field.upload_permission_classes, "upload_permission_classes")
        for permission in [c() for c in classes or []]:
            if not permission.has_permission(request, self):
                self.permission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )


def policy_view(request: HttpRequest) -> tuple[UploadPolicyView, Request]:
    """A view with the upload API's classes for a request that did not come through the API,
    and the request as DRF's `Request`."""
    view = UploadPolicyView()
    view.args, view.kwargs, view.headers = (), {}, {}
    api_request = view.initialize_request(request)
    view.request = api_request
    view.format_kwarg = None
    return view, api_request


def admit(request: HttpRequest, field: S3FileField | None = None) -> Request:
    """Run the upload API's classes (and `field`'s own) as upload-prepare/ would; return the
    request as DRF's `Request`. Raises DRF's `NotAuthenticated`, `PermissionDenied` or
    `Throttled`."""
    view, api_request = policy_view(request)
    view.initial(api_request)
    if field is not None:
        view.check_field_permissions(api_request, field)
    return api_request
