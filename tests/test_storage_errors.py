"""A store that is down or refuses: 503/502 with a JSON detail, never a 500 or a traceback."""

from __future__ import annotations

import pytest
from django.test import override_settings
from minio import Minio
from minio_storage.storage import MinioStorage
from storages.backends.s3 import S3Storage

from test_app.models import MinioResource, Resource
from test_app.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY, SeaweedFS

from .conftest import MiB, post

pytestmark = pytest.mark.django_db


def s3_storage(endpoint: str, secret: str = SECRET_KEY) -> S3Storage:
    return S3Storage(
        bucket_name="outage",
        endpoint_url=endpoint,
        access_key=ACCESS_KEY,
        secret_key=secret,
        region_name=REGION,
        signature_version="s3v4",
        addressing_style="path",
    )


def minio_storage(endpoint: str, secret: str = SECRET_KEY) -> MinioStorage:
    client = Minio(
        endpoint.split("//")[1],
        access_key=ACCESS_KEY,
        secret_key=secret,
        secure=False,
        region=REGION,
    )
    return MinioStorage(client, "outage", assume_bucket_exists=True)


CASES = {
    "s3storage": (Resource, "test_app.Resource.blob", s3_storage),
    "miniostorage": (MinioResource, "test_app.MinioResource.blob", minio_storage),
}


@pytest.fixture(params=sorted(CASES))
def outage_case(request, monkeypatch):
    model, field_id, make_storage = CASES[request.param]
    field = model._meta.get_field("blob")

    def use_storage(storage):
        monkeypatch.setattr(field, "storage", storage)

    return field_id, make_storage, use_storage


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_store_stopped_answers_503(api_client, outage_case):
    field_id, make_storage, use_storage = outage_case
    with SeaweedFS(buckets=["outage"]) as server:
        use_storage(make_storage(server.endpoint_url))
        prepared = post(
            api_client,
            "upload-prepare",
            {"field_id": field_id, "file_name": "a.bin", "file_size": 6 * MiB},
        )
        assert prepared.status_code == 200, prepared.json()
    signature = prepared.json()["upload_signature"]

    calls = [
        ("upload-prepare", {"field_id": field_id, "file_name": "b.bin", "file_size": 6 * MiB}),
        ("upload-status", {"upload_signature": signature}),
        (
            "upload-finalize",
            {
                "upload_signature": signature,
                "parts": [{"part_number": 1, "etag": "a"}, {"part_number": 2, "etag": "b"}],
            },
        ),
        ("upload-abort", {"upload_signature": signature}),
    ]
    for endpoint, body in calls:
        response = post(api_client, endpoint, body)
        assert response.status_code == 503, (endpoint, response.content)
        assert "cannot be reached" in response.json()["detail"]
    # Signing needs no store: upload-parts still answers while the store is down.
    parts = post(api_client, "upload-parts", {"upload_signature": signature, "part_numbers": [2]})
    assert parts.status_code == 200


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_store_refusing_the_credentials_answers_502(api_client, outage_case, seaweedfs):
    field_id, make_storage, use_storage = outage_case
    use_storage(make_storage(seaweedfs.endpoint_url, secret="wrong-secret"))
    response = post(
        api_client,
        "upload-prepare",
        {"field_id": field_id, "file_name": "a.bin", "file_size": 6 * MiB},
    )
    assert response.status_code == 502, response.content
    assert "refused" in response.json()["detail"]
    assert "SignatureDoesNotMatch" in response.json()["detail"]
