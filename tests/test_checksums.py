"""Checksums: Content-MD5 signed into a part's URL (the store itself refuses corrupted bytes),
and ETags that are MD5s (the client checks each part it sent)."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from django.test import override_settings

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db


def md5(data: bytes) -> str:
    return base64.b64encode(
        hashlib.md5(data).digest()
    ).decode()  # Content-MD5 is an integrity check, not security


def corrupt(data: bytes) -> bytes:
    return bytes([data[0] ^ 0xFF]) + data[1:]


def test_single_put_with_content_md5(api_client, s3_client, store_case):
    data = os.urandom(1000)
    prepared = post(
        api_client,
        "upload-prepare",
        {
            "field_id": store_case.field_id,
            "file_name": "sum.bin",
            "file_size": len(data),
            "checksum": "md5",
            "part_checksums": [{"part_number": 1, "content_md5": md5(data)}],
        },
    ).json()
    assert prepared["checksum"] == "md5"
    (part,) = prepared["parts"]
    headers = {**prepared["part_headers"], **part["headers"]}
    assert part["headers"] == {"Content-MD5": md5(data)}
    refused = put_part(part["upload_url"], corrupt(data), headers)
    assert refused.status_code == 400
    assert "BadDigest" in refused.text
    # Leaving the checksum out breaks the signature: it cannot be dropped on the way.
    unsigned = {k: v for k, v in headers.items() if k != "Content-MD5"}
    assert put_part(part["upload_url"], data, unsigned).status_code == 403
    assert put_part(part["upload_url"], data, headers).status_code == 200
    done = post(api_client, "upload-finalize", {"upload_signature": prepared["upload_signature"]})
    assert done.status_code == 200
    key = done.json()["object_key"]
    assert s3_client.get_object(Bucket=store_case.bucket, Key=key)["Body"].read() == data


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_multipart_parts_are_signed_as_they_are_hashed(api_client, s3_client, store_case):
    data = os.urandom(11 * MiB)
    chunks = [data[i : i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    prepared = post(
        api_client,
        "upload-prepare",
        {
            "field_id": store_case.field_id,
            "file_name": "sums.bin",
            "file_size": len(data),
            "checksum": "md5",
        },
    ).json()
    assert prepared["part_count"] == 3
    assert prepared["parts"] == []
    signature = prepared["upload_signature"]
    unsummed = post(
        api_client, "upload-parts", {"upload_signature": signature, "part_numbers": [1]}
    )
    assert unsummed.status_code == 400
    assert "part 1 has none" in unsummed.json()["part_checksums"][0]
    receipts = []
    for number, chunk in enumerate(chunks, start=1):
        body = {
            "upload_signature": signature,
            "part_numbers": [number],
            "part_checksums": [{"part_number": number, "content_md5": md5(chunk)}],
        }
        (part,) = post(api_client, "upload-parts", body).json()["parts"]
        assert put_part(part["upload_url"], corrupt(chunk), part["headers"]).status_code == 400
        stored = put_part(part["upload_url"], chunk, part["headers"])
        assert stored.status_code == 200
        receipts.append({"part_number": number, "etag": stored.headers["ETag"]})
    done = post(api_client, "upload-finalize", {"upload_signature": signature, "parts": receipts})
    assert done.status_code == 200, done.json()
    key = done.json()["object_key"]
    assert s3_client.get_object(Bucket=store_case.bucket, Key=key)["Body"].read() == data


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_a_part_checked_by_its_etag_is_signed_for_its_md5_on_demand(
    api_client, s3_client, store_case
):
    """How the client checks parts without a checksum up front: each part's ETag is its MD5,
    and a part that arrived altered is signed again for its Content-MD5 (the upload itself
    was prepared without `checksum`), so that the store checks the second try."""
    data = os.urandom(6 * MiB)
    first, second = data[: 5 * MiB], data[5 * MiB :]
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": store_case.field_id, "file_name": "etag.bin", "file_size": len(data)},
    ).json()
    assert prepared["checksum"] is None
    part_1, part_2 = prepared["parts"]
    assert "headers" not in part_1
    stored = put_part(part_1["upload_url"], first, {})
    assert stored.headers["ETag"].strip('"') == hashlib.md5(first).hexdigest()
    altered = put_part(part_2["upload_url"], corrupt(second), {})
    assert altered.headers["ETag"].strip('"') != hashlib.md5(second).hexdigest()
    body = {
        "upload_signature": prepared["upload_signature"],
        "part_numbers": [2],
        "part_checksums": [{"part_number": 2, "content_md5": md5(second)}],
    }
    (signed,) = post(api_client, "upload-parts", body).json()["parts"]
    assert signed["headers"] == {"Content-MD5": md5(second)}
    assert put_part(signed["upload_url"], corrupt(second), signed["headers"]).status_code == 400
    again = put_part(signed["upload_url"], second, signed["headers"])
    assert again.headers["ETag"].strip('"') == hashlib.md5(second).hexdigest()
    receipts = [
        {"part_number": 1, "etag": stored.headers["ETag"]},
        {"part_number": 2, "etag": again.headers["ETag"]},
    ]
    done = post(
        api_client,
        "upload-finalize",
        {"upload_signature": prepared["upload_signature"], "parts": receipts},
    )
    assert done.status_code == 200, done.json()
    key = done.json()["object_key"]
    assert s3_client.get_object(Bucket=store_case.bucket, Key=key)["Body"].read() == data


@pytest.mark.parametrize(
    ("algorithm", "checksums", "fragment"),
    [
        ("md5", "abc", "expected a list"),
        ("md5", [{"part_number": 1, "content_md5": "not base64!"}], "16-byte md5"),
        (
            "md5",
            [{"part_number": 1, "content_md5": base64.b64encode(b"x" * 20).decode()}],
            "16-byte md5",
        ),
        ("md5", [{"part_number": 0, "content_md5": md5(b"")}], "part_number"),
        ("md5", [{"part_number": 2, "content_md5": md5(b"")}], "there is no part 2"),
        (
            "crc32",
            [{"part_number": 1, "checksum": base64.b64encode(b"12345").decode()}],
            "4-byte crc32",
        ),
        ("crc32", [{"part_number": 1, "checksum": "not base64"}], "4-byte crc32"),
        ("crc32", [{"part_number": 1}], "base64 of the part"),
    ],
)
def test_bad_checksums(api_client, algorithm, checksums, fragment):
    body = {
        "field_id": "test_app.Resource.blob",
        "file_name": "a.bin",
        "file_size": 10,
        "checksum": algorithm,
        "part_checksums": checksums,
    }
    response = post(api_client, "upload-prepare", body)
    assert response.status_code == 400
    assert fragment.lower() in str(response.json()["part_checksums"]).lower()


def test_unknown_checksum_kind(api_client):
    body = {
        "field_id": "test_app.Resource.blob",
        "file_name": "a",
        "file_size": 1,
        "checksum": "crc",
    }
    response = post(api_client, "upload-prepare", body)
    assert response.status_code == 400
    assert "not a valid choice" in response.json()["checksum"][0]


@override_settings(S3FF_REQUIRE_CHECKSUMS=True)
def test_checksums_can_be_required(api_client):
    body = {"field_id": "test_app.Resource.blob", "file_name": "a", "file_size": 1}
    response = post(api_client, "upload-prepare", body)
    assert response.status_code == 400
    assert "requires a checksum" in response.json()["checksum"][0]
    body.update(checksum="md5", part_checksums=[{"part_number": 1, "content_md5": md5(b"a")}])
    assert post(api_client, "upload-prepare", body).status_code == 200
