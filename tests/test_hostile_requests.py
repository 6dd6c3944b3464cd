"""Requests built to cost the server, crash it or make it say too much: each a cheap, clear 400.

Each test here failed before its fix: deep JSON was a 500 (DRF's parser let RecursionError
escape), a list of two million part numbers was validated item by item before its length (half
a minute of CPU, a 62 MB error body), a validly signed value without a timestamp was a 500,
types with line breaks reached the store, and the MinIO signer kept runs of spaces that SigV4
collapses (its URLs were refused).
"""

from __future__ import annotations

import json

import pytest
from django.core import signing
from django.test import override_settings

from s3_file_field.values import FIELD_VALUE_SALT, UPLOAD_SIGNATURE_SALT, sign_upload_ticket

from .harness.driver import MiB, post, put_part
from .test_bad_input import make_ticket

pytestmark = pytest.mark.django_db

# What the views take at most: the largest finalize the protocol allows fits.
MAX_REQUEST_BODY = 2 * MiB
ENDPOINTS = [
    "upload-prepare",
    "upload-parts",
    "upload-status",
    "upload-finalize",
    "upload-abort",
    # The 1.x protocol's, over the same parser (legacy.py).
    "upload-initialize",
    "upload-complete",
    "finalize",
]


def raw_post(client, endpoint: str, body: str | bytes):
    return client.post(
        f"/api/s3-upload/{endpoint}/", body, content_type="application/json; charset=utf-8"
    )


def assert_400(response, fragment: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert fragment.lower() in response.content.decode().lower(), response.content


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_nested_past_the_recursion_limit(api_client, endpoint):
    assert_400(raw_post(api_client, endpoint, "[" * 20_000 + "]" * 20_000), "nests deeper")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_json_nested_deeper_than_the_protocol_under_any_key(api_client, endpoint):
    body = {"upload_signature": "x", "unknown": [[[["deep"]]]]}
    assert_400(raw_post(api_client, endpoint, json.dumps(body)), "nests deeper")


def test_the_deepest_legitimate_body_passes_the_parser(api_client):
    # An object, a list, objects of scalars: finalize's shape, judged by the serializer.
    body = {"upload_signature": "x", "parts": [{"part_number": 1, "etag": "e"}]}
    response = raw_post(api_client, "upload-finalize", json.dumps(body))
    assert_400(response, "upload_signature")
    assert "nests deeper" not in response.content.decode()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_larger_than_the_protocol_needs(api_client, endpoint):
    body = json.dumps({"file_name": "x" * MAX_REQUEST_BODY})
    assert_400(raw_post(api_client, endpoint, body), "larger than this api needs")


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_the_largest_finalize_fits(api_client):
    """10,000 parts, each with the longest ETag accepted, fit in the body limit."""
    signature = sign_upload_ticket(make_ticket(file_size=10_000 * 5 * MiB))
    parts = [{"part_number": n, "etag": '"' + "e" * 126 + '"'} for n in range(1, 10_001)]
    body = json.dumps({"upload_signature": signature, "parts": parts})
    assert len(body) <= MAX_REQUEST_BODY
    response = raw_post(api_client, "upload-finalize", body)
    # Past the parser and the serializer: the store knows no such upload.
    assert response.status_code == 400, response.content
    assert "larger than" not in response.content.decode()
    assert "etag" not in response.json()


def test_a_body_of_more_values_than_the_protocol_needs(api_client):
    body = '{"upload_signature": "x", "x": [' + ",".join(["[]"] * 30_000) + "]}"
    assert len(body) < MAX_REQUEST_BODY
    assert_400(raw_post(api_client, "upload-finalize", body), "more values than this api needs")


def test_a_huge_list_of_part_numbers_is_refused_by_its_length(api_client):
    # Within the body's size and value limits, yet past the 100 part numbers of one call.
    body = '{"upload_signature": "x", "part_numbers": [' + ",".join(["0"] * 20_000) + "]}"
    response = raw_post(api_client, "upload-parts", body)
    assert_400(response, "at most 100 parts")
    # One message, not one per item.
    assert len(response.content) < 1000


@pytest.mark.parametrize("field", ["parts", "part_checksums"])
def test_huge_lists_of_objects_are_refused_by_their_length(api_client, field):
    item = '{"part_number": 1}'
    body = f'{{"upload_signature": "x", "{field}": [' + ",".join([item] * 10_001) + "]}"
    response = raw_post(api_client, "upload-finalize" if field == "parts" else "upload-parts", body)
    assert response.status_code == 400
    assert len(response.content) < 1000, response.content[:300]


@pytest.mark.parametrize("salt", [UPLOAD_SIGNATURE_SALT, FIELD_VALUE_SALT])
def test_a_validly_signed_value_without_a_timestamp(api_client, salt):
    forged = signing.Signer(salt=salt).sign_object({"f": "test_app.Resource.blob"})
    response = post(api_client, "upload-status", {"upload_signature": forged})
    assert_400(response, "not valid")
    response = api_client.post("/api/resources/", {"blob": forged}, format="json")
    assert_400(response, "not valid")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain\r\nX-Amz-Acl: public-read",
        "text/plain\n",
        "text/plain\t; charset=utf-8",
        'text/plain; name="a\tb"',
        'text/plain; name="a\rb"',
        "text/plain\x00",
        "text/plain\x7f",
    ],
)
def test_control_characters_in_a_type(api_client, store_case, content_type):
    body = {
        "field_id": store_case.field_id,
        "file_name": "a.txt",
        "file_size": 3,
        "content_type": content_type,
    }
    response = post(api_client, "upload-prepare", body)
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["content_type"]


def test_runs_of_spaces_in_a_type_are_signed_as_sent(api_client, store_case, s3_client):
    body = {
        "field_id": store_case.field_id,
        "file_name": "a.txt",
        "file_size": 3,
        "content_type": "text/plain;   charset=utf-8",
    }
    prepared = post(api_client, "upload-prepare", body)
    assert prepared.status_code == 200, prepared.content
    headers = prepared.json()["part_headers"]
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    stored = put_part(prepared.json()["parts"][0]["upload_url"], b"abc", headers)
    assert stored.status_code == 200, stored.text
    key = prepared.json()["object_key"]
    head = s3_client.head_object(Bucket=store_case.bucket, Key=key)
    assert head["ContentType"] == "text/plain; charset=utf-8"
