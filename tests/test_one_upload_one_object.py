"""One upload, one object: no client can write over, delete or take an object its own upload
did not write, nor change one once finalized. Each test here failed before its fix: keys came
from `upload_to` alone, so two uploads of one name shared a key, and single PUTs were not
conditional, so a URL (or a fresh one from upload-parts/) rewrote a finalized file."""

from __future__ import annotations

import pytest
from django.test import override_settings

from s3_file_field.backends.base import PartReceipt
from s3_file_field.exceptions import ObjectExists
from s3_file_field.registry import get_field

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db


@pytest.fixture
def fixed_upload_to(monkeypatch, store_case):
    """The field of `store_case` with an upload_to that has no random part."""
    field = get_field(store_case.field_id)
    assert field is not None
    monkeypatch.setattr(field, "upload_to", "docs/")
    return field


def prepare(client, field_id: str, name: str, size: int):
    body = {"field_id": field_id, "file_name": name, "file_size": size}
    response = post(client, "upload-prepare", body)
    assert response.status_code == 200, response.content
    return response.json()


def upload(client, field_id: str, name: str, data: bytes):
    prepared = prepare(client, field_id, name, len(data))
    (part,) = prepared["parts"]
    stored = put_part(part["upload_url"], data, prepared["part_headers"])
    assert stored.status_code == 200, stored.text
    done = post(
        client,
        "upload-finalize",
        {"upload_signature": prepared["upload_signature"], "parts": []},
    )
    assert done.status_code == 200, done.content
    return prepared


def read(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_two_uploads_of_one_name_get_two_keys(api_client, store_case, fixed_upload_to):
    first = prepare(api_client, store_case.field_id, "report.pdf", 10)["object_key"]
    second = prepare(api_client, store_case.field_id, "report.pdf", 10)["object_key"]
    assert first != second
    for key in (first, second):
        assert "docs/" in key
        assert key.endswith("/report.pdf")


def test_preparing_a_victims_name_cannot_delete_it(
    api_client, store_case, fixed_upload_to, s3_client
):
    victim = upload(api_client, store_case.field_id, "report.pdf", b"the victim's file")
    # The attack: the same name, a smaller size, finalized without a byte sent.
    attacker = prepare(api_client, store_case.field_id, "report.pdf", 1)
    response = post(
        api_client,
        "upload-finalize",
        {"upload_signature": attacker["upload_signature"], "parts": []},
    )
    assert response.status_code == 400
    assert "has not arrived" in response.json()["detail"][0]
    assert read(s3_client, store_case.bucket, victim["object_key"]) == b"the victim's file"


def test_a_finalized_file_cannot_be_rewritten(api_client, store_case, s3_client):
    prepared = upload(api_client, store_case.field_id, "scanned.txt", b"checked and clean")
    key = prepared["object_key"]
    # The first URL, still within its lifetime.
    again = put_part(
        prepared["parts"][0]["upload_url"], b"malicious change!", prepared["part_headers"]
    )
    assert again.status_code == 412, again.text
    # Without the header, the signature does not hold.
    headers = {k: v for k, v in prepared["part_headers"].items() if k != "If-None-Match"}
    url = prepared["parts"][0]["upload_url"]
    assert put_part(url, b"malicious change!", headers).status_code == 403
    # No fresh URL is signed for a stored file.
    fresh = post(
        api_client,
        "upload-parts",
        {"upload_signature": prepared["upload_signature"], "part_numbers": [1]},
    )
    assert fresh.status_code == 409, fresh.content
    assert "stored already" in fresh.json()["detail"]
    assert read(s3_client, store_case.bucket, key) == b"checked and clean"


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_a_multipart_completion_never_replaces_an_object(s3_client):
    """S3Storage completes with If-None-Match: *, so an object at the key stays as it is."""
    field = get_field("test_app.Resource.blob")
    assert field is not None
    backend = field.upload_backend
    assert backend is not None
    name = "00000000-0000-4000-8000-000000000000/taken.bin"
    key = backend.bucket_key(name)
    s3_client.put_object(Bucket="s3ff-test", Key=key, Body=b"already here")
    upload_id = backend.create_multipart_upload(name, "application/octet-stream")
    part = s3_client.upload_part(
        Bucket="s3ff-test", Key=key, UploadId=upload_id, PartNumber=1, Body=b"x"
    )
    with pytest.raises(ObjectExists):
        backend.complete_multipart_upload(name, upload_id, [PartReceipt(1, part["ETag"])])
    backend.abort_multipart_upload(name, upload_id)
    assert read(s3_client, "s3ff-test", key) == b"already here"
