"""Every kind of bad input is a 4xx with a message, and leaves nothing behind."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core import signing
from django.test import override_settings

from s3_file_field.values import UploadTicket, sign_field_value, sign_upload_ticket

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


def prepare_body(**overrides):
    return {"field_id": FIELD, "file_name": "a.txt", "file_size": 10, **overrides}


def assert_error(response, status: int, key: str, fragment: str = "") -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert key in body, body
    text = str(body[key])
    assert fragment.lower() in text.lower(), text


def no_uploads_started(s3_client) -> set[str]:
    return {
        u["UploadId"]
        for u in s3_client.list_multipart_uploads(Bucket="s3ff-test").get("Uploads", [])
    }


@pytest.mark.parametrize(
    ("field_id", "fragment"),
    [
        ("test_app.Nope.blob", "unknown field_id"),
        ("test_app.Resource.nope", "unknown field_id"),
        ("test_app.resource.blob", "unknown field_id"),
        ("test_app.Attachment.resource", "unknown field_id"),
        ("blob", "unknown field_id"),
        ("a.b.c.d", "unknown field_id"),
    ],
)
def test_unknown_field_id(api_client, field_id, fragment):
    assert_error(
        post(api_client, "upload-prepare", prepare_body(field_id=field_id)),
        400,
        "field_id",
        fragment,
    )


@pytest.mark.parametrize("missing", ["field_id", "file_name", "file_size"])
def test_missing_keys(api_client, missing):
    body = prepare_body()
    del body[missing]
    assert_error(post(api_client, "upload-prepare", body), 400, missing, "required")


@pytest.mark.parametrize(
    "endpoint", ["upload-parts", "upload-status", "upload-finalize", "upload-abort"]
)
def test_missing_signature(api_client, endpoint):
    assert_error(post(api_client, endpoint, {}), 400, "upload_signature", "required")


@pytest.mark.parametrize(
    ("size", "fragment"),
    [
        (-1, "greater than or equal to 0"),
        ("ten", "valid integer"),
        (1.5, "valid integer"),
        (None, "may not be null"),
        (True, "valid integer"),
        ("10", "valid integer"),
        (" 10 ", "valid integer"),
        ("10.0", "valid integer"),
        (10.0, "valid integer"),
        (2**64, "less than or equal"),
        (5 * 1024**4 + 1, "the store accepts at most"),
    ],
)
def test_bad_sizes(api_client, size, fragment):
    assert_error(
        post(api_client, "upload-prepare", prepare_body(file_size=size)), 400, "file_size", fragment
    )


def test_larger_than_max_size(api_client):
    body = prepare_body(
        field_id="test_app.LimitedResource.image",
        file_name="a.png",
        content_type="image/png",
        file_size=5 * MiB + 1,
    )
    assert_error(post(api_client, "upload-prepare", body), 400, "file_size", "(5242880 bytes)")
    body["file_size"] = 5 * MiB
    assert post(api_client, "upload-prepare", body).status_code == 200


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 10_000, "too long"),
        ("../../x", "path"),
        ("/etc/passwd", "path"),
        ("..\\..\\windows", "path"),
        ("..", "dots"),
        (".", "dots"),
        ("a\x00b.txt", "null characters are not allowed"),
        ("a\nb.txt", "U+000A"),
        ("a\x1bb.txt", "U+001B"),
        ("invoice\u202egnp.exe", "U+202E"),
        ("zero\u200bwidth.txt", "U+200B"),
        (["a.txt"], "not a valid string"),
        (True, "not a valid string"),
        (":", "no character a storage key can keep"),
        ("***", "no character a storage key can keep"),
    ],
)
def test_bad_file_names(api_client, s3_client, name, fragment):
    before = no_uploads_started(s3_client)
    response = post(api_client, "upload-prepare", prepare_body(file_name=name, file_size=20 * MiB))
    assert_error(response, 400, "file_name", fragment)
    assert no_uploads_started(s3_client) == before


@pytest.mark.parametrize(
    "name", ["résumé.pdf", "写真.jpg", "Ελληνικά.txt", "emoji 😀.png", "e\u0301.txt"]
)
def test_unicode_names_are_kept(api_client, s3_client, name):
    import unicodedata

    response = post(api_client, "upload-prepare", prepare_body(file_name=name, file_size=3))
    assert response.status_code == 200, response.json()
    prepared = response.json()
    from django.utils.text import get_valid_filename

    # The storage's get_valid_name() still applies (Django's rule keeps letters of any script).
    expected = get_valid_filename(unicodedata.normalize("NFC", name))
    assert prepared["object_key"].split("/", 1)[1] == expected
    assert (
        put_part(prepared["parts"][0]["upload_url"], b"abc", prepared["part_headers"]).status_code
        == 200
    )
    assert (
        s3_client.get_object(Bucket="s3ff-test", Key=prepared["object_key"])["Body"].read()
        == b"abc"
    )


def test_lone_surrogate_in_json(api_client):
    body = f'{{"field_id": "{FIELD}", "file_name": "lone\\ud800.txt", "file_size": 1}}'
    response = api_client.post(
        "/api/s3-upload/upload-prepare/", body, content_type="application/json"
    )
    assert_error(response, 400, "file_name", "U+D800")


def test_long_name_is_shortened_to_fit_the_key(api_client):
    name = "é" * 900 + ".tar.gz"
    response = post(api_client, "upload-prepare", prepare_body(file_name=name))
    assert response.status_code == 200, response.json()
    key = response.json()["object_key"]
    assert len(key.encode()) <= 1024
    assert key.endswith("é.gz")


@pytest.mark.parametrize(
    ("field_id", "file_name", "content_type"),
    [
        ("test_app.LimitedResource.image", "a.pdf", "application/pdf"),
        ("test_app.LimitedResource.image", "a.png", "text/html"),
        ("test_app.LimitedResource.image", "a.png", ""),
        ("test_app.LimitedResource.document", "a.txt", "text/plain"),
    ],
)
def test_content_type_outside_accept(api_client, field_id, file_name, content_type):
    body = prepare_body(field_id=field_id, file_name=file_name, content_type=content_type)
    assert_error(post(api_client, "upload-prepare", body), 400, "content_type", "not accepted")


@pytest.mark.parametrize(
    ("field_id", "file_name", "content_type"),
    [
        ("test_app.LimitedResource.image", "a.png", "image/png"),
        ("test_app.LimitedResource.image", "a.jpeg", "IMAGE/JPEG"),
        ("test_app.LimitedResource.document", "a.PDF", "application/octet-stream"),
        ("test_app.LimitedResource.document", "a.bin", "application/pdf"),
    ],
)
def test_content_type_inside_accept(api_client, field_id, file_name, content_type):
    body = prepare_body(field_id=field_id, file_name=file_name, content_type=content_type)
    assert post(api_client, "upload-prepare", body).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    ["nonsense", "text/", "a/b\r\nX-Evil: 1", "x" * 300 + "/y", "text/plain; charset"],
)
def test_malformed_content_type(api_client, content_type):
    assert_error(
        post(api_client, "upload-prepare", prepare_body(content_type=content_type)),
        400,
        "content_type",
        "MIME",
    )


def test_non_json_and_wrong_shapes(api_client):
    response = api_client.post(
        "/api/s3-upload/upload-prepare/", "{not json", content_type="application/json"
    )
    assert_error(response, 400, "detail", "JSON parse error")
    response = api_client.post("/api/s3-upload/upload-prepare/", [1, 2], format="json")
    assert_error(response, 400, "non_field_errors", "expected a dictionary")
    response = api_client.post(
        "/api/s3-upload/upload-prepare/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert api_client.get("/api/s3-upload/upload-prepare/").status_code == 405


def make_ticket(**overrides):
    values: dict[str, Any] = {
        "field_id": FIELD,
        "name": "0000/x.bin",
        "file_name": "x.bin",
        "file_size": 12 * MiB,
        "content_type": "application/octet-stream",
        "upload_id": "bogus",
        "part_size": 5 * MiB,
    }
    values.update(overrides)
    return UploadTicket(**values)


def test_field_value_where_upload_signature_belongs(api_client):
    value = sign_field_value(FIELD, "x/y", 1)
    for endpoint in ["upload-parts", "upload-status", "upload-finalize", "upload-abort"]:
        body = {"upload_signature": value, "part_numbers": [1], "parts": []}
        assert_error(post(api_client, endpoint, body), 400, "upload_signature", "not valid")


def test_upload_signature_where_field_value_belongs(api_client):
    signature = sign_upload_ticket(make_ticket())
    response = api_client.post("/api/resources/", {"blob": signature}, format="json")
    assert_error(response, 400, "blob", "not valid")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),
        lambda s: s[: len(s) // 2],
        lambda s: "x" + s,
        lambda s: s.replace(":", "", 1),
        lambda s: "",
        lambda s: signing.dumps({"f": FIELD}, salt="s3_file_field.upload-signature"),
    ],
    ids=["flipped", "truncated", "prefixed", "mangled", "empty", "incomplete-payload"],
)
def test_tampered_signature(api_client, mutate):
    signature = mutate(sign_upload_ticket(make_ticket()))
    body = {"upload_signature": signature, "part_numbers": [1]}
    response = post(api_client, "upload-parts", body)
    assert_error(response, 400, "upload_signature")


def test_non_string_signature(api_client):
    for value in [None, 7, ["a"], {"a": 1}]:
        response = post(api_client, "upload-status", {"upload_signature": value})
        assert response.status_code == 400, value


def test_signature_for_field_a_is_not_a_value_for_field_b(api_client, upload):
    result = upload(api_client, FIELD, b"for Resource.blob")
    value = result.finalize.json()["field_value"]
    response = api_client.post("/api/multi-resources/", {"blob": value}, format="json")
    assert_error(response, 400, "blob", "another field")
    response = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert response.status_code == 201


def test_expired_signature(api_client):
    signature = sign_upload_ticket(make_ticket())
    with override_settings(S3FF_UPLOAD_SIGNATURE_MAX_AGE=-1):
        response = post(api_client, "upload-status", {"upload_signature": signature})
    assert_error(response, 400, "upload_signature", "expired")


def test_expired_field_value(api_client):
    value = sign_field_value(FIELD, "x/y", 1)
    with override_settings(S3FF_FIELD_VALUE_MAX_AGE=-1):
        response = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert_error(response, 400, "blob", "expired")


@override_settings(S3FF_PART_SIZE=5 * MiB)
@pytest.mark.parametrize(
    ("numbers", "fragment"),
    [
        ([0], "integer from 1 to 10000"),
        ([10_001], "integer from 1 to 10000"),
        ([4], "there is no part 4"),
        ([], "may not be empty"),
        (["one"], "integer from 1 to 10000"),
        ([1.0], "integer from 1 to 10000"),
        (["1"], "integer from 1 to 10000"),
        ([True], "integer from 1 to 10000"),
        (list(range(1, 102)), "at most 100"),
        ("1", "expected a list"),
    ],
)
def test_bad_part_numbers(api_client, numbers, fragment):
    signature = sign_upload_ticket(make_ticket())
    response = post(
        api_client, "upload-parts", {"upload_signature": signature, "part_numbers": numbers}
    )
    assert_error(response, 400, "part_numbers", fragment)


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_finalize_before_the_bytes_arrived(api_client, s3_client):
    single = post(api_client, "upload-prepare", prepare_body()).json()
    response = post(
        api_client, "upload-finalize", {"upload_signature": single["upload_signature"], "parts": []}
    )
    assert_error(response, 400, "detail", "has not arrived")

    multi = post(api_client, "upload-prepare", prepare_body(file_size=6 * MiB)).json()
    fake = [{"part_number": 1, "etag": '"abc"'}, {"part_number": 2, "etag": '"def"'}]
    response = post(
        api_client,
        "upload-finalize",
        {"upload_signature": multi["upload_signature"], "parts": fake},
    )
    assert_error(response, 400, "detail", "part 1 has not arrived")
    assert multi["upload_id"] in no_uploads_started(s3_client)
    post(api_client, "upload-abort", {"upload_signature": multi["upload_signature"]})


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_finalize_with_wrong_etags(api_client, s3_client, upload):
    data = os.urandom(6 * MiB)
    result = upload(api_client, FIELD, data, finalize=False)
    receipts = result.finalize
    signature = result.prepare["upload_signature"]
    wrong = [receipts[0], {"part_number": 2, "etag": receipts[0]["etag"]}]
    response = post(api_client, "upload-finalize", {"upload_signature": signature, "parts": wrong})
    assert_error(response, 400, "detail", "part 2: the etag does not match")
    # The upload is still open, so the right receipts still finalize it: nothing is lost.
    missing = post(
        api_client, "upload-finalize", {"upload_signature": signature, "parts": receipts[:1]}
    )
    assert_error(missing, 400, "parts", "each of the 2 parts")
    response = post(
        api_client, "upload-finalize", {"upload_signature": signature, "parts": receipts}
    )
    assert response.status_code == 200, response.json()


def test_finalize_of_an_object_with_another_size(api_client, s3_client):
    prepared = post(api_client, "upload-prepare", prepare_body(file_size=10)).json()
    key = prepared["object_key"]
    # A client going around the signed URL (here: with the store's own credentials).
    s3_client.put_object(Bucket="s3ff-test", Key=key, Body=b"123")
    response = post(
        api_client, "upload-finalize", {"upload_signature": prepared["upload_signature"]}
    )
    assert_error(response, 400, "detail", "has 3 bytes, not the 10 declared")
    assert "Contents" not in s3_client.list_objects_v2(Bucket="s3ff-test", Prefix=key)


def test_bogus_upload_id_inside_a_signed_value(api_client):
    signature = sign_upload_ticket(make_ticket(upload_id="no-such-upload"))
    response = post(api_client, "upload-status", {"upload_signature": signature})
    assert_error(response, 400, "detail", "no such multipart upload")
    parts = [
        {"part_number": 1, "etag": "a"},
        {"part_number": 2, "etag": "b"},
        {"part_number": 3, "etag": "c"},
    ]
    response = post(api_client, "upload-finalize", {"upload_signature": signature, "parts": parts})
    assert_error(response, 400, "detail", "has not arrived")
    assert post(api_client, "upload-abort", {"upload_signature": signature}).status_code == 204


@override_settings(S3FF_PART_SIZE=5 * MiB)
@pytest.mark.parametrize(
    ("parts", "fragment"),
    [
        ("1,2", "expected a list"),
        ([1, 2], "item 0: part_number"),
        ([{"part_number": True, "etag": "a"}], "item 0: part_number"),
        ([{"part_number": 1, "etag": "a"}, {"part_number": 0, "etag": "a"}], "item 1: part_number"),
        ([{"part_number": 1}], "item 0: etag"),
        ([{"part_number": 1, "etag": ""}], "item 0: etag"),
        ([{"part_number": 1, "etag": "x" * 2000}], "item 0: etag"),
        ([{"part_number": 1, "etag": "a"}] * 10_001, "at most 10000 parts"),
        ([{"part_number": 1, "etag": "a"}, {"part_number": 1, "etag": "a"}], "each of the 3 parts"),
    ],
)
def test_bad_part_receipts(api_client, parts, fragment):
    signature = sign_upload_ticket(make_ticket())
    response = post(api_client, "upload-finalize", {"upload_signature": signature, "parts": parts})
    assert_error(response, 400, "parts", fragment)
