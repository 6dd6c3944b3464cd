"""The whole protocol against SeaweedFS, through both storage families: real bytes, read back."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import override_settings

from s3_file_field.registry import get_field
from s3_file_field.values import read_field_value

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db

SMALL_PARTS = override_settings(S3FF_PART_SIZE=5 * MiB, S3FF_PART_URL_BATCH=2)


def read_back(s3_client, bucket: str, key: str) -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.parametrize(
    "size",
    [0, 1, 1024, 5 * MiB, 5 * MiB + 1, 17 * MiB + 3],
    ids=["0B", "1B", "1KiB", "one-part", "one-part+1", "four-parts"],
)
@SMALL_PARTS
def test_upload_reads_back_equal(api_client, s3_client, store_case, upload, size):
    data = os.urandom(size)
    result = upload(api_client, store_case.field_id, data, file_name="report 2024.bin")
    assert result.finalize.status_code == 200, result.finalize.json()
    body = result.finalize.json()
    assert body["file_size"] == size
    assert body["object_key"] == result.prepare["object_key"]
    assert body["object_key"].endswith("/report_2024.bin")
    assert read_back(s3_client, store_case.bucket, body["object_key"]) == data
    value = read_field_value(body["field_value"], store_case.field_id, max_age=60)
    assert (value.size, value.field_id) == (size, store_case.field_id)
    multipart = size > 5 * MiB
    assert (result.prepare["upload_id"] is not None) == multipart
    assert result.prepare["part_count"] == max(1, -(-size // (5 * MiB)))


def test_single_part_prepare_is_signed_for_size_and_type(api_client, store_case):
    response = post(
        api_client,
        "upload-prepare",
        {
            "field_id": store_case.field_id,
            "file_name": "a.txt",
            "file_size": 5,
            "content_type": "text/plain",
        },
    )
    prepared = response.json()
    headers = {
        "Content-Type": "text/plain",
        "Content-Disposition": "inline",
        "If-None-Match": "*",
        "Cache-Control": "",
        "Content-Encoding": "",
        "Content-Language": "",
        "Expires": "",
    }
    assert prepared["part_headers"] == headers
    url = prepared["parts"][0]["upload_url"]
    signed_headers = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
    assert {"content-length", *(name.lower() for name in headers)} <= set(signed_headers)
    # The store refuses a body of another size, or another type, than the one signed.
    assert put_part(url, b"123456", headers).status_code == 403
    assert put_part(url, b"12345", {**headers, "Content-Type": "text/html"}).status_code == 403
    assert put_part(url, b"12345", headers).status_code == 200


@SMALL_PARTS
def test_part_urls_are_signed_for_their_size(api_client, store_case):
    response = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "big.bin", "file_size": 6 * MiB},
    )
    prepared = response.json()
    first, last = prepared["parts"]
    assert (first["size"], last["size"]) == (5 * MiB, MiB)
    assert put_part(first["upload_url"], b"x" * MiB).status_code == 403
    assert put_part(last["upload_url"], b"x" * (MiB + 1)).status_code == 403
    post(api_client, "upload-abort", {"upload_signature": prepared["upload_signature"]})


@SMALL_PARTS
def test_finalize_is_idempotent(api_client, store_case, upload):
    data = os.urandom(6 * MiB)
    first = upload(api_client, store_case.field_id, data)
    assert first.finalize.status_code == 200
    again = post(
        api_client,
        "upload-finalize",
        {
            "upload_signature": first.prepare["upload_signature"],
            "parts": [
                {"part_number": 1, "etag": "whatever"},
                {"part_number": 2, "etag": "whatever"},
            ],
        },
    )
    assert again.status_code == 200, again.json()
    assert again.json()["file_size"] == len(data)
    assert again.json()["object_key"] == first.finalize.json()["object_key"]


@SMALL_PARTS
def test_status_lists_the_parts_that_arrived(api_client, store_case, upload):
    data = os.urandom(11 * MiB)
    response = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "resume.bin", "file_size": len(data)},
    )
    prepared = response.json()
    signature = prepared["upload_signature"]
    assert post(api_client, "upload-status", {"upload_signature": signature}).json() == {
        "parts": []
    }
    second = prepared["parts"][1]
    stored = put_part(second["upload_url"], data[5 * MiB : 10 * MiB])
    status = post(api_client, "upload-status", {"upload_signature": signature}).json()
    assert status == {
        "parts": [{"part_number": 2, "size": 5 * MiB, "etag": stored.headers["ETag"]}]
    }
    post(api_client, "upload-abort", {"upload_signature": signature})


def test_single_part_status(api_client, store_case):
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "one.txt", "file_size": 3},
    ).json()
    signature = prepared["upload_signature"]
    assert post(api_client, "upload-status", {"upload_signature": signature}).json() == {
        "parts": []
    }
    stored = put_part(prepared["parts"][0]["upload_url"], b"abc", prepared["part_headers"])
    parts = post(api_client, "upload-status", {"upload_signature": signature}).json()["parts"]
    assert parts == [{"part_number": 1, "size": 3, "etag": stored.headers["ETag"]}]


@SMALL_PARTS
def test_abort_frees_the_parts(api_client, s3_client, store_case):
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "gone.bin", "file_size": 12 * MiB},
    ).json()
    put_part(prepared["parts"][0]["upload_url"], b"x" * 5 * MiB)
    uploads = s3_client.list_multipart_uploads(Bucket=store_case.bucket).get("Uploads", [])
    assert prepared["upload_id"] in {u["UploadId"] for u in uploads}
    response = post(api_client, "upload-abort", {"upload_signature": prepared["upload_signature"]})
    assert response.status_code == 204
    uploads = s3_client.list_multipart_uploads(Bucket=store_case.bucket).get("Uploads", [])
    assert prepared["upload_id"] not in {u["UploadId"] for u in uploads}
    # Aborting twice is harmless.
    again = post(api_client, "upload-abort", {"upload_signature": prepared["upload_signature"]})
    assert again.status_code == 204


def test_abort_never_deletes_a_finalized_object(api_client, s3_client, store_case, upload):
    result = upload(api_client, store_case.field_id, b"keep me")
    assert result.finalize.status_code == 200
    response = post(
        api_client, "upload-abort", {"upload_signature": result.prepare["upload_signature"]}
    )
    assert response.status_code == 204
    key = result.finalize.json()["object_key"]
    assert read_back(s3_client, store_case.bucket, key) == b"keep me"


@SMALL_PARTS
def test_upload_parts_resigns_urls(api_client, store_case):
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "x.bin", "file_size": 16 * MiB},
    ).json()
    assert [p["part_number"] for p in prepared["parts"]] == [1, 2]
    response = post(
        api_client,
        "upload-parts",
        {"upload_signature": prepared["upload_signature"], "part_numbers": [4, 3, 4]},
    )
    assert response.status_code == 200
    parts = response.json()["parts"]
    assert [(p["part_number"], p["size"]) for p in parts] == [(3, 5 * MiB), (4, MiB)]
    post(api_client, "upload-abort", {"upload_signature": prepared["upload_signature"]})


def test_object_key_is_random_and_keeps_the_name(api_client):
    keys = set()
    for _ in range(3):
        prepared = post(
            api_client,
            "upload-prepare",
            {"field_id": "test_app.Resource.blob", "file_name": "photo.jpg", "file_size": 1},
        ).json()
        keys.add(prepared["object_key"])
    assert len(keys) == 3
    assert all(k.endswith("/photo.jpg") and len(k.split("/")[0]) == 36 for k in keys)


def test_large_prepare_is_small_and_batched(api_client, s3_client):
    size = 1024**4  # 1 TiB
    response = post(
        api_client,
        "upload-prepare",
        {"field_id": "test_app.Resource.blob", "file_name": "huge.bin", "file_size": size},
    )
    assert response.status_code == 200, response.json()
    prepared = response.json()
    assert prepared["part_count"] <= 10_000
    assert prepared["part_size"] * prepared["part_count"] >= size
    assert prepared["part_size"] % MiB == 0
    assert len(prepared["parts"]) == 16
    assert len(response.content) <= 64 * 1024
    assert get_field("test_app.Resource.blob") is not None
    s3_client.abort_multipart_upload(
        Bucket="s3ff-test", Key=prepared["object_key"], UploadId=prepared["upload_id"]
    )
