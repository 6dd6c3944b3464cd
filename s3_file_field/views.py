"""The upload API: thin DRF views over `serializers` (input) and `uploads` (actions)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import perform_import
from rest_framework.views import APIView

from . import uploads
from .backends.base import StorageError, StorageUnavailable
from .conf import api_setting
from .serializers import (
    FinalizeSerializer,
    PartsSerializer,
    PrepareSerializer,
    SignedUploadSerializer,
)


class StoreUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The file store cannot be reached; try again later."
    default_code = "store_unavailable"


class StoreRefused(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The file store refused the request."
    default_code = "store_refused"


class UploadAPIView(APIView):
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    serializer_class: type[Serializer[Any]]

    def _classes(self, setting: str, default: Any) -> list[Any]:
        configured = api_setting(setting)
        if configured is None:
            return list(default)
        return list(perform_import(configured, setting) or [])

    def get_authenticators(self) -> list[Any]:
        return [
            c() for c in self._classes("S3FF_AUTHENTICATION_CLASSES", self.authentication_classes)
        ]

    def get_permissions(self) -> list[Any]:
        return [c() for c in self._classes("S3FF_PERMISSION_CLASSES", self.permission_classes)]

    def get_throttles(self) -> list[Any]:
        return [c() for c in self._classes("S3FF_THROTTLE_CLASSES", self.throttle_classes)]

    def validated(self, request: Request) -> dict[str, Any]:
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StorageUnavailable):
            exc = StoreUnavailable(f"The file store cannot be reached: {exc}")
        elif isinstance(exc, StorageError):
            exc = StoreRefused(f"The file store refused the request: {exc}")
        elif isinstance(exc, uploads.UploadRefused):
            exc = exceptions.ValidationError({"detail": [str(exc)]})
        elif isinstance(exc, DjangoValidationError):
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            exc = exceptions.ValidationError(detail)
        return super().handle_exception(exc)


class PrepareView(UploadAPIView):
    serializer_class = PrepareSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        return Response(
            uploads.prepare(
                data["field_id"],
                data["name"],
                data["file_name"],
                data["file_size"],
                data["content_type"],
                request,
                checksum=data.get("checksum"),
                md5s=data.get("part_checksums"),
            )
        )


class PartsView(UploadAPIView):
    serializer_class = PartsSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        parts = uploads.presign_parts(
            data["field"],
            data["upload_signature"],
            data["part_numbers"],
            data.get("part_checksums"),
        )
        return Response({"parts": [part.as_dict() for part in parts]})


class StatusView(UploadAPIView):
    serializer_class = SignedUploadSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        return Response({"parts": uploads.status(data["field"], data["upload_signature"])})


class FinalizeView(UploadAPIView):
    serializer_class = FinalizeSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        return Response(
            uploads.finalize(data["field"], data["upload_signature"], data["receipts"], request)
        )


class AbortView(UploadAPIView):
    serializer_class = SignedUploadSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        uploads.abort(data["field"], data["upload_signature"])
        return Response(status=status.HTTP_204_NO_CONTENT)
