"""The prepare and finalize signals: their arguments, and a prepare receiver's veto."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from s3_file_field.signals import s3_file_field_upload_finalize, s3_file_field_upload_prepare
from test_app.models import Resource

from .harness.driver import post

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"
COMMON = {
    "field_id",
    "object_key",
    "bucket_key",
    "file_name",
    "file_size",
    "content_type",
    "request",
    "field",
    "signal",
    "sender",
}


@pytest.fixture
def received():
    calls: list[tuple[str, dict]] = []

    def on_prepare(**kwargs):
        calls.append(("prepare", kwargs))

    def on_finalize(**kwargs):
        calls.append(("finalize", kwargs))

    s3_file_field_upload_prepare.connect(on_prepare)
    s3_file_field_upload_finalize.connect(on_finalize)
    yield calls
    s3_file_field_upload_prepare.disconnect(on_prepare)
    s3_file_field_upload_finalize.disconnect(on_finalize)


def test_prepare_and_finalize_send_their_arguments(api_client, upload, received):
    result = upload(api_client, FIELD, b"signals", file_name="s.txt", content_type="text/plain")
    assert result.finalize.status_code == 200
    (kind1, prepare), (kind2, finalize) = received
    assert (kind1, kind2) == ("prepare", "finalize")
    assert set(prepare) == COMMON
    assert set(finalize) == COMMON | {"status", "reason"}
    assert prepare["sender"] is Resource
    assert prepare["field_id"] == FIELD
    assert prepare["file_name"] == "s.txt"
    assert prepare["file_size"] == 7
    assert prepare["content_type"] == "text/plain"
    assert prepare["object_key"] == finalize["object_key"] == result.prepare["object_key"]
    assert prepare["request"].user.is_anonymous
    assert (finalize["status"], finalize["reason"]) == ("completed", "")


def test_object_key_is_the_storage_name_and_bucket_key_the_key(
    api_client, upload, received, monkeypatch
):
    """They differ once the storage has a location; the API's `object_key` is the bucket's."""
    from s3_file_field.registry import get_field

    field = get_field(FIELD)
    assert field is not None
    assert field.upload_backend is not None
    # The storage itself, not the lazy object in front of it.
    monkeypatch.setattr(field.upload_backend.storage, "location", "media")
    result = upload(api_client, FIELD, b"located", file_name="l.txt")
    assert result.finalize.status_code == 200, result.finalize.json()
    (_, prepare), (_, finalize) = received
    name = prepare["object_key"]
    assert not name.startswith("media/")
    assert prepare["bucket_key"] == finalize["bucket_key"] == f"media/{name}"
    assert result.prepare["object_key"] == result.finalize.json()["object_key"] == f"media/{name}"


def test_finalize_failure_is_sent_with_its_reason(api_client, received):
    prepared = post(
        api_client, "upload-prepare", {"field_id": FIELD, "file_name": "x", "file_size": 1}
    ).json()
    response = post(
        api_client, "upload-finalize", {"upload_signature": prepared["upload_signature"]}
    )
    assert response.status_code == 400
    kind, finalize = received[-1]
    assert (kind, finalize["status"]) == ("finalize", "failed")
    assert "has not arrived" in finalize["reason"]


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (PermissionDenied("Uploads are closed today."), 403, "Uploads are closed today."),
        (ValidationError("Quota exceeded."), 400, "Quota exceeded."),
        (ValidationError({"file_size": "Too big for your plan."}), 400, "Too big for your plan."),
    ],
)
def test_a_prepare_receiver_can_refuse(api_client, s3_client, error, status, message):
    def refuse(**kwargs):
        raise error

    s3_file_field_upload_prepare.connect(refuse)
    try:
        before = s3_client.list_multipart_uploads(Bucket="s3ff-test").get("Uploads", [])
        body = {"field_id": FIELD, "file_name": "x.bin", "file_size": 50 * 1024 * 1024}
        response = post(api_client, "upload-prepare", body)
    finally:
        s3_file_field_upload_prepare.disconnect(refuse)
    assert response.status_code == status
    assert message in str(response.json())
    # Refused before any multipart upload was started.
    assert s3_client.list_multipart_uploads(Bucket="s3ff-test").get("Uploads", []) == before
