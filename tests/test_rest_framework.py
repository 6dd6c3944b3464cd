"""The DRF serializer field, mapped automatically for ModelSerializer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers

from s3_file_field.rest_framework import S3FileSerializerField
from s3_file_field.values import sign_field_value
from test_app.api import MultiResourceSerializer, ResourceSerializer
from test_app.models import Resource

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


def test_model_serializer_maps_the_field():
    field = ResourceSerializer().fields["blob"]
    assert isinstance(field, S3FileSerializerField)
    assert field.field_id == FIELD
    optional = MultiResourceSerializer().fields["optional_blob"]
    assert isinstance(optional, S3FileSerializerField)
    assert optional.field_id == "test_app.MultiResource.optional_blob"


def test_api_creates_a_record_from_a_field_value(api_client, upload):
    result = upload(api_client, FIELD, b"via the API")
    response = api_client.post(
        "/api/resources/", {"blob": result.finalize.json()["field_value"]}, format="json"
    )
    assert response.status_code == 201, response.json()
    resource = Resource.objects.get(pk=response.json()["id"])
    assert resource.blob.read() == b"via the API"
    # Reading it back gives a URL to the object.
    assert result.finalize.json()["object_key"] in response.json()["blob"]


def test_inline_file_is_refused_with_a_clear_message(api_client):
    upload = SimpleUploadedFile("inline.txt", b"inline bytes")
    response = api_client.post("/api/resources/", {"blob": upload}, format="multipart")
    assert response.status_code == 400
    assert "not accepted inline" in response.json()["blob"][0]
    assert not Resource.objects.exists()


def test_optional_field_may_be_null_or_omitted(api_client):
    value = sign_field_value("test_app.MultiResource.blob", "a/b.txt", 1)
    response = api_client.post("/api/multi-resources/", {"blob": value}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["optional_blob"] is None


def test_plain_serializer_needs_a_field_id():
    class Plain(serializers.Serializer):
        blob = S3FileSerializerField()

    serializer = Plain(data={"blob": sign_field_value(FIELD, "a/b", 1)})
    assert not serializer.is_valid()
    assert "field_id=" in serializer.errors["blob"][0]

    class Explicit(serializers.Serializer):
        blob = S3FileSerializerField(field_id=FIELD)

    explicit = Explicit(data={"blob": sign_field_value(FIELD, "a/b", 1)})
    assert explicit.is_valid(), explicit.errors
    assert explicit.validated_data["blob"] == "a/b"
