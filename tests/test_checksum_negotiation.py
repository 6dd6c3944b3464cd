"""Negotiated checksums: the client names what it can compute, the server picks what the store
verifies, every part URL is signed for its checksum, and the store refuses other bytes and
keeps a checksum of the whole object that finalize reports."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Callable

import pytest
from django.test import override_settings

from s3_file_field.backends.minio import MinioBackend
from s3_file_field.fields import S3FieldFile
from s3_file_field.files import S3PlaceholderFile
from test_app.forms import ResourceForm
from test_app.models import Resource

from .conftest import STORE_CASES
from .harness.driver import MiB, post, put_part

pytestmark = [pytest.mark.django_db, pytest.mark.once]


def _reflected_crc(width: int, polynomial: int) -> Callable[[bytes], int]:
    """A reflected CRC with all-ones start and end, bit by bit: slow, but the test's own."""
    mask = (1 << width) - 1

    def crc(data: bytes) -> int:
        value = mask
        for byte in data:
            value ^= byte
            for _ in range(8):
                value = (value >> 1) ^ (polynomial if value & 1 else 0)
        return value ^ mask

    return crc


_crc32c = _reflected_crc(32, 0x82F63B78)
_crc64nvme = _reflected_crc(64, 0x9A6C9329AC4BC9B5)


def digest(algorithm: str, data: bytes) -> bytes:
    if algorithm == "crc32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "crc32c":
        return _crc32c(data).to_bytes(4, "big")
    if algorithm == "crc64nvme":
        return _crc64nvme(data).to_bytes(8, "big")
    return hashlib.new(algorithm, data).digest()


def checksum(algorithm: str, data: bytes) -> str:
    return base64.b64encode(digest(algorithm, data)).decode()


def corrupt(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def test_the_reference_crcs_are_right():
    # The published check values of each CRC, for the bytes "123456789".
    assert _crc32c(b"123456789") == 0xE3069283
    assert _crc64nvme(b"123456789") == 0xAE8B14860A799888


OFFERED = {
    "s3storage": ["crc32", "crc32c", "crc64nvme", "md5", "sha1", "sha256"],
    "miniostorage": ["crc32", "crc32c", "crc64nvme", "md5"],
}


def test_the_minio_backend_offers_no_sha():
    # Their objects' checksums are of the parts' checksums, which its completion cannot list.
    assert list(MinioBackend.verified_checksums) == OFFERED["miniostorage"]


@pytest.mark.parametrize(
    ("case", "algorithm"),
    [(case, algorithm) for case, offered in sorted(OFFERED.items()) for algorithm in offered],
)
def test_each_algorithm_refuses_a_corrupted_byte_and_keeps_the_right_one(
    api_client, s3_client, case, algorithm
):
    store_case = STORE_CASES[case]
    data = os.urandom(4000)
    prepared = post(
        api_client,
        "upload-prepare",
        {
            "field_id": store_case.field_id,
            "file_name": "sum.bin",
            "file_size": len(data),
            "checksum_algorithms": [algorithm],
            "part_checksums": [{"part_number": 1, "checksum": checksum(algorithm, data)}],
        },
    ).json()
    assert prepared["checksum"] == algorithm
    assert prepared["checksum_algorithms"] == OFFERED[case]
    (part,) = prepared["parts"]
    headers = {**prepared["part_headers"], **part["headers"]}
    header = "Content-MD5" if algorithm == "md5" else f"x-amz-checksum-{algorithm}"
    assert part["headers"] == {header: checksum(algorithm, data)}
    refused = put_part(part["upload_url"], corrupt(data), headers)
    assert (refused.status_code, "BadDigest" in refused.text) == (400, True)
    # Leaving the checksum out breaks the signature: it cannot be dropped on the way.
    unsigned = {k: v for k, v in headers.items() if k != header}
    assert put_part(part["upload_url"], data, unsigned).status_code == 403
    assert put_part(part["upload_url"], data, headers).status_code == 200
    done = post(api_client, "upload-finalize", {"upload_signature": prepared["upload_signature"]})
    assert done.status_code == 200, done.json()
    answer = done.json()
    key = answer["object_key"]
    assert s3_client.get_object(Bucket=store_case.bucket, Key=key)["Body"].read() == data
    if algorithm == "md5":
        # S3 checks Content-MD5 as the bytes come and keeps no checksum of it.
        assert answer["checksum"] is None
    else:
        assert answer["checksum"] == {
            "algorithm": algorithm,
            "value": checksum(algorithm, data),
            "type": "FULL_OBJECT",
        }


@override_settings(S3FF_PART_SIZE=5 * MiB)
# CRC32 alone: the other CRCs' headers are tested above, and this test's own CRC32C, bit by
# bit in Python, would take seconds over 11 MiB.
@pytest.mark.parametrize("algorithm", ["crc32"])
def test_a_multipart_upload_gets_a_whole_file_checksum(
    api_client, s3_client, store_case, algorithm
):
    data = os.urandom(11 * MiB)
    chunks = [data[i : i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    prepared = post(
        api_client,
        "upload-prepare",
        {
            "field_id": store_case.field_id,
            "file_name": "big.bin",
            "file_size": len(data),
            "checksum_algorithms": [algorithm, "md5"],
        },
    ).json()
    assert (prepared["checksum"], prepared["part_count"], prepared["parts"]) == (algorithm, 3, [])
    signature = prepared["upload_signature"]
    sums = [checksum(algorithm, chunk) for chunk in chunks]
    parts = post(
        api_client,
        "upload-parts",
        {
            "upload_signature": signature,
            "part_numbers": [1, 2, 3],
            "part_checksums": [{"part_number": n, "checksum": sums[n - 1]} for n in (1, 2, 3)],
        },
    ).json()["parts"]
    receipts = []
    for part, chunk in zip(parts, chunks, strict=True):
        refused = put_part(part["upload_url"], corrupt(chunk), part["headers"])
        assert refused.status_code == 400
        stored = put_part(part["upload_url"], chunk, part["headers"])
        assert stored.status_code == 200
        receipts.append(
            {
                "part_number": part["part_number"],
                "etag": stored.headers["ETag"],
                "checksum": sums[part["part_number"] - 1],
            }
        )
    done = post(api_client, "upload-finalize", {"upload_signature": signature, "parts": receipts})
    assert done.status_code == 200, done.json()
    assert done.json()["checksum"] == {
        "algorithm": algorithm,
        "value": checksum(algorithm, data),
        "type": "FULL_OBJECT",
    }
    key = done.json()["object_key"]
    assert s3_client.get_object(Bucket=store_case.bucket, Key=key)["Body"].read() == data
    if store_case.field_id == "test_app.Resource.blob":
        # The field value carries it: a form's file shows what the store computed.
        form = ResourceForm(data={"blob": done.json()["field_value"]})
        assert form.is_valid(), form.errors
        placeholder = form.cleaned_data["blob"]
        assert isinstance(placeholder, S3PlaceholderFile)
        assert placeholder.checksum is not None
        assert placeholder.checksum.as_json() == done.json()["checksum"]
        # And the saved record's file, read back, asks the store.
        record = Resource.objects.get(pk=form.save().pk)
        assert isinstance(record.blob, S3FieldFile)
        assert record.blob.checksum is not None
        assert record.blob.checksum.as_json() == done.json()["checksum"]


@override_settings(S3FF_CHECKSUM_ALGORITHMS=["md5", "crc32"])
def test_the_server_picks_the_clients_first_that_it_offers(api_client):
    data = b"x" * 10
    body = {
        "field_id": "test_app.Resource.blob",
        "file_name": "a.bin",
        "file_size": len(data),
        "checksum_algorithms": ["sha256", "crc32", "md5"],
        # Of the client's first algorithm, which the server does not take: they sign nothing.
        "part_checksums": [{"part_number": 1, "checksum": checksum("sha256", data)}],
    }
    prepared = post(api_client, "upload-prepare", body).json()
    assert prepared["checksum"] == "crc32"
    assert prepared["checksum_algorithms"] == ["md5", "crc32"]
    assert prepared["parts"] == []


@override_settings(S3FF_CHECKSUM_ALGORITHMS=["crc32"])
def test_an_algorithm_the_store_does_not_verify_is_refused_with_what_is_offered(api_client):
    body = {"field_id": "test_app.Resource.blob", "file_name": "a", "file_size": 1}
    response = post(api_client, "upload-prepare", {**body, "checksum": "sha1"})
    assert response.status_code == 400
    assert response.json()["checksum"] == [
        "This store does not verify sha1 checksums (offered: crc32)."
    ]
    both = post(
        api_client,
        "upload-prepare",
        {**body, "checksum": "crc32", "checksum_algorithms": ["crc32"]},
    )
    assert both.status_code == 400
    assert "not both" in both.json()["checksum_algorithms"][0]


@pytest.mark.parametrize(
    "algorithms",
    [[[]], [{}], [None], ["crc32", 7], ["crc32"] * 7, "crc32", [], ["x" * 100_000]],
    ids=["list", "object", "null", "number", "too many", "string", "empty", "huge name"],
)
def test_hostile_checksum_algorithms_are_a_400_that_echoes_nothing(api_client, algorithms):
    body = {
        "field_id": "test_app.Resource.blob",
        "file_name": "a",
        "file_size": 1,
        "checksum_algorithms": algorithms,
    }
    response = post(api_client, "upload-prepare", body)
    assert response.status_code == 400
    assert len(response.content) < 300


@override_settings(S3FF_CHECKSUM_ALGORITHMS=[])
def test_a_store_that_verifies_nothing_gets_uploads_without_checksums(api_client, s3_client):
    data = b"unchecked"
    body = {
        "field_id": "test_app.Resource.blob",
        "file_name": "a.bin",
        "file_size": len(data),
        "checksum_algorithms": ["crc32", "md5"],
    }
    prepared = post(api_client, "upload-prepare", body).json()
    assert (prepared["checksum"], prepared["checksum_algorithms"]) == (None, [])
    (part,) = prepared["parts"]
    assert "headers" not in part
    assert put_part(part["upload_url"], data, prepared["part_headers"]).status_code == 200
    done = post(api_client, "upload-finalize", {"upload_signature": prepared["upload_signature"]})
    assert done.json()["checksum"] is None
    with override_settings(S3FF_REQUIRE_CHECKSUMS=True):
        refused = post(api_client, "upload-prepare", body)
    assert refused.status_code == 400
    assert refused.json()["checksum"] == [
        "This server requires a checksum for every part (offered: none)."
    ]
