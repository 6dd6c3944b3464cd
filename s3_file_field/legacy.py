"""The django-s3-file-field 1.x wire protocol, served beside this one for clients written for
1.x (its npm and Python clients): `upload-initialize/`, `upload-complete/`, `finalize/`.

Each call is an adapter over this library's own steps, with the same guarantees: a signed,
expiring, field-bound upload signature; `max_size`, `accept`, unique keys and the field's
permission classes at initialize; the parts assembled, the object checked and both signals
sent at complete; a field value forms and serializers accept at finalize. What 1.x left to the
client, completing the multipart upload on the store through a presigned URL, the server does
itself at `upload-complete/`: the `complete_url` it answers with is its own, and takes the
client's POST without acting on it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from . import uploads
from .backends.base import PartReceipt
from .exceptions import UploadRefused
from .parts import PartPlan
from .protocol import (
    NewUpload,
    PartReceiptsField,
    PrepareSerializer,
    SignedUpload,
    SignedUploadSerializer,
)
from .values import sign_field_value
from .views import MAX_FINALIZE_BODY, PrepareView, UploadAPIView

NOT_COMPLETED = "The file has not been completed; call upload-complete/ first."


class LegacyInitializeSerializer(PrepareSerializer):
    """1.x's `upload-initialize/`: the same fields, a file of at least one byte (1.x's rule),
    no checksums (1.x clients send none), and always a multipart upload, which is what its
    clients complete."""

    def validate_file_size(self, value: int) -> int:
        if value < 1:
            raise serializers.ValidationError("Ensure this value is greater than or equal to 1.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        plain = {key: value for key, value in attrs.items() if "checksum" not in key}
        new: NewUpload = super().validate(plain)["upload"]
        plan = new.plan
        if not plan.multipart:
            plan = PartPlan(new.file_size, max(plan.part_size, new.file_size), multipart=True)
        return {"upload": replace(new, plan=plan)}


class LegacyInitializeView(PrepareView):
    serializer_class = LegacyInitializeSerializer

    def post(self, request: Request) -> Response:
        prepared = self.prepared(request, every_part=True)
        return Response(
            {
                "object_key": prepared.object_key,
                "upload_id": prepared.upload_id,
                "parts": [
                    {"part_number": p.part_number, "size": p.size, "upload_url": p.upload_url}
                    for p in prepared.parts
                ],
                "upload_signature": prepared.upload_signature,
            }
        )


class LegacyPartsField(serializers.Field):  # type: ignore[type-arg]
    """1.x's `parts`: receipts (checked as upload-finalize/'s are) that also say each part's
    size; one message for a bad item, not one per item (an error must not grow with the
    request)."""

    def to_internal_value(self, data: Any) -> list[tuple[PartReceipt, int]]:
        receipts = PartReceiptsField().to_internal_value(data)
        sizes = []
        for index, item in enumerate(data):
            size = item.get("size")
            if type(size) is not int or size < 0:
                raise serializers.ValidationError(
                    f"Item {index}: size must be the part's size in bytes."
                )
            sizes.append(size)
        return list(zip(receipts, sizes, strict=True))


class LegacyCompleteSerializer(SignedUploadSerializer):
    """1.x's `upload-complete/`: the upload, its id, and every part's size and ETag."""

    upload_id = serializers.CharField(max_length=2000)
    parts = LegacyPartsField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        upload: SignedUpload = attrs["upload"]
        plan = upload.plan
        if upload.ticket.upload_id is None or upload.ticket.upload_id != attrs["upload_id"]:
            raise serializers.ValidationError({"upload_id": "This is not the upload's id."})
        parts = sorted(attrs["parts"], key=lambda part: part[0].part_number)
        if [receipt.part_number for receipt, _ in parts] != list(range(1, plan.count + 1)):
            raise serializers.ValidationError(
                {"parts": f"List each of the {plan.count} parts once, with its ETag."}
            )
        for receipt, size in parts:
            if size != plan.size_of(receipt.part_number):
                raise serializers.ValidationError(
                    {"parts": f"Part {receipt.part_number} has the wrong size."}
                )
        attrs["receipts"] = [receipt for receipt, _ in parts]
        return attrs


class LegacyCompleteView(UploadAPIView):
    serializer_class = LegacyCompleteSerializer
    max_request_body = MAX_FINALIZE_BODY
    # 1.x lists each part's size too: three values a part, for up to 10,000 parts.
    max_request_values = 35_000

    def post(self, request: Request) -> Response:
        data = self.validated(request)
        upload: SignedUpload = data["upload"]
        self.check_field_permissions(request, upload.field)
        # Assembled and checked here, as upload-finalize/ does; a file that fails is removed.
        uploads.finalize(upload, data["receipts"], request)
        done = request.build_absolute_uri(reverse("s3_file_field:legacy-completed"))
        return Response({"complete_url": done, "body": ""})


class LegacyFinalizeView(UploadAPIView):
    serializer_class = SignedUploadSerializer

    def post(self, request: Request) -> Response:
        upload: SignedUpload = self.validated(request)["upload"]
        self.check_field_permissions(request, upload.field)
        ticket = upload.ticket
        stored = upload.backend.stat_object(ticket.name)
        # Only upload-complete/ makes the object (the client has no way to), and it removes
        # one that fails its checks: one of the declared size is the checked file.
        if stored is None or stored.size != ticket.file_size:
            raise UploadRefused(NOT_COMPLETED)
        value = sign_field_value(upload.field.id, ticket.name, stored.size, ticket.uploader)
        return Response({"field_value": value})


@csrf_exempt
def legacy_completed(request: HttpRequest) -> HttpResponse:
    """Where 1.x clients send the completion the server has made already: answered, ignored."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    return HttpResponse(status=200)
