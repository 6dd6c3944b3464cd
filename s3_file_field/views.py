"""The upload API: thin DRF views over `serializers` (input) and `uploads` (actions)."""

from __future__ import annotations

import io
import logging
import secrets
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from . import uploads
from .attach import uploader_refusal
from .conf import get_settings
from .exceptions import StorageError, StorageUnavailable, UploadRefused
from .policy import AnonymousMultipartThrottle, UploadPolicyView
from .protocol import (
    FinalizeSerializer,
    NewUpload,
    PartsSerializer,
    PreparedUpload,
    PrepareSerializer,
    SignedUpload,
    SignedUploadSerializer,
    parts_json,
    status_json,
)

logger = logging.getLogger("s3_file_field")

# The largest body each call needs: finalizing 10,000 parts, each with an ETag of up to
# MAX_ETAG_LENGTH characters; a prepare with a checksum for each of 10,000 parts; the others
# carry a signature and at most a batch of part numbers.
MAX_FINALIZE_BODY = 2 * 1024 * 1024
MAX_PREPARE_BODY = 1024 * 1024
MAX_SMALL_BODY = 64 * 1024
# Values in a body, counted by its commas (in C, before parsing, which is the costly part):
# the 10,000 parts of the largest finalize take 20,000.
MAX_REQUEST_VALUES = 25_000
# An object holding lists of objects holding scalars: the deepest body the protocol needs.
MAX_REQUEST_DEPTH = 3
ANOTHER_USERS_UPLOAD = "This upload was prepared by another user."
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _too_deep(value: Any, depth: int) -> bool:
    """Whether `value`, at `depth`, nests deeper than MAX_REQUEST_DEPTH; one pass over each
    container's items by their types (in C), so a flat list of a million items is cheap."""
    children = value.values() if isinstance(value, dict) else value
    kinds = set(map(type, children))
    if kinds <= _SCALARS:
        return False
    if depth >= MAX_REQUEST_DEPTH:
        return True
    return any(
        _too_deep(child, depth + 1) for child in children if child and type(child) in (dict, list)
    )


class BoundedJSONParser(JSONParser):
    """JSON no larger, with no more values and no deeper than the protocol needs; anything
    else is a cheap 400. The view names its limits (`max_request_body`, `max_request_values`)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_request_body", MAX_SMALL_BODY)
        most_values = getattr(view, "max_request_values", MAX_REQUEST_VALUES)
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise exceptions.ParseError(
                f"The request body is larger than this API needs ({limit} bytes)."
            )
        if body.count(b",") >= most_values:
            raise exceptions.ParseError(
                f"The request body holds more values than this API needs ({most_values})."
            )
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
            too_deep = isinstance(data, (dict, list)) and _too_deep(data, 1)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise exceptions.ParseError(
                "The request body nests deeper than this API needs: an object whose values "
                "are strings, integers, or lists of such objects."
            )
        return data


class StoreUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The file store cannot be reached; try again later."
    default_code = "store_unavailable"


class StoreRefused(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = (
        "The file store refused the request; the site's administrators can find why in "
        "their log, under the error_id."
    )
    default_code = "store_refused"


class UploadStored(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This upload's file is stored already: finalize it to get its field value."
    default_code = "stored"


class UploadAPIView(UploadPolicyView):
    parser_classes = [BoundedJSONParser]
    max_request_body = MAX_SMALL_BODY
    renderer_classes = [JSONRenderer]
    serializer_class: type[Serializer[Any]]

    def validated(self, request: Request) -> dict[str, Any]:
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.get("upload")
        bound = get_settings().values_bound_to_uploader
        if isinstance(upload, SignedUpload) and uploader_refusal(
            upload.ticket.uploader, request, bound
        ):
            self.permission_denied(request, message=ANOTHER_USERS_UPLOAD)
        return data

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, StorageError):
            # What the store said names its address, bucket and keys: the log keeps it, under
            # an id the client is given to quote.
            error_id = secrets.token_hex(6)
            logger.error(
                "s3-file-field error %s on %s: %s",
                error_id,
                self.request.path,
                exc,
                exc_info=exc,
            )
            kind = StoreUnavailable if isinstance(exc, StorageUnavailable) else StoreRefused
            exc = kind({"detail": kind.default_detail, "error_id": error_id})
        elif isinstance(exc, UploadRefused):
            exc = exceptions.ValidationError({"detail": [str(exc)]})
        elif isinstance(exc, DjangoValidationError):
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            exc = exceptions.ValidationError(detail)
        return super().handle_exception(exc)


class PrepareView(UploadAPIView):
    serializer_class = PrepareSerializer
    max_request_body = MAX_PREPARE_BODY

    def post(self, request: Request) -> Response:
        return Response(self.prepared(request).as_json())

    def prepared(self, request: Request, *, every_part: bool = False) -> PreparedUpload:
        new: NewUpload = self.validated(request)["upload"]
        self.check_field_permissions(request, new.field)
        config = get_settings()
        rate = config.anonymous_multipart_rate
        if rate is not None and new.plan.multipart:
            throttle = AnonymousMultipartThrottle(rate)
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait() or 1.0)
        return uploads.prepare(new, request, config, every_part=every_part)


class PartsView(UploadAPIView):
    serializer_class = PartsSerializer

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        upload: SignedUpload = data["upload"]
        self.check_field_permissions(request, upload.field)
        if not upload.plan.multipart and uploads.status(upload):
            # Nothing is signed for a file once stored (a finished multipart upload has no
            # upload id left to sign for).
            raise UploadStored
        expires = get_settings().presigned_url_expires
        parts = uploads.presign_parts(upload, data["part_numbers"], data["part_checksums"], expires)
        return Response(parts_json(parts))


class StatusView(UploadAPIView):
    serializer_class = SignedUploadSerializer

    def post(self, request: Request) -> Response:
        upload: SignedUpload = self.validated(request)["upload"]
        return Response(status_json(uploads.status(upload)))


class FinalizeView(UploadAPIView):
    serializer_class = FinalizeSerializer
    max_request_body = MAX_FINALIZE_BODY

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        upload: SignedUpload = data["upload"]
        # The value binds the file to the field: whoever lost the right since prepare is refused.
        self.check_field_permissions(request, upload.field)
        return Response(uploads.finalize(upload, data["receipts"], request).as_json())


class AbortView(UploadAPIView):
    serializer_class = SignedUploadSerializer

    def post(self, request: Request) -> Response:
        uploads.abort(self.validated(request)["upload"])
        return Response(status=status.HTTP_204_NO_CONTENT)
