"""What an uploaded object is served with: types that cannot run script, headers the server
chose (issue #13, items 4 and 5)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from s3_file_field.filenames import content_disposition, is_accepted, parse_accept

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db
# Headers a store keeps from a PUT and serves back, each as a client might try to set it.
CLIENT_HEADERS = {
    "Content-Disposition": "inline",
    "Content-Encoding": "gzip",
    "Cache-Control": "public, max-age=31536000",
    "Content-Language": "de",
    "Expires": "Wed, 21 Oct 2099 07:28:00 GMT",
}
KEPT = ("Cache-Control", "Content-Encoding", "Content-Language", "Expires")


def prepare(client, field_id, file_name, size, content_type):
    return post(
        client,
        "upload-prepare",
        {
            "field_id": field_id,
            "file_name": file_name,
            "file_size": size,
            "content_type": content_type,
        },
    )


def head(s3_client, bucket, key):
    return s3_client.head_object(Bucket=bucket, Key=key)


@pytest.mark.parametrize("header", sorted(CLIENT_HEADERS))
def test_a_client_cannot_add_a_header_the_store_would_keep(
    header, api_client, store_case, s3_client
):
    prepared = prepare(api_client, store_case.field_id, "page.bin", 4, "").json()
    url = prepared["parts"][0]["upload_url"]
    chosen = {**prepared["part_headers"], header: CLIENT_HEADERS[header]}
    assert put_part(url, b"evil", chosen).status_code == 403
    listed = s3_client.list_objects_v2(Bucket=store_case.bucket, Prefix=prepared["object_key"])
    assert "Contents" not in listed
    assert put_part(url, b"good", prepared["part_headers"]).status_code == 200
    stored = head(s3_client, store_case.bucket, prepared["object_key"])
    assert stored["ContentDisposition"] == "attachment"
    assert stored["ContentType"] == "application/octet-stream"
    assert not any(stored.get(name.replace("-", "")) for name in KEPT)


@pytest.mark.parametrize(
    ("content_type", "disposition"),
    [("image/png", "inline"), ("application/pdf", "inline"), ("application/zip", "attachment")],
)
def test_single_put_objects_are_stored_with_the_servers_disposition(
    content_type, disposition, api_client, store_case, s3_client, upload
):
    done = upload(api_client, store_case.field_id, b"bytes", "f.bin", content_type)
    assert done.finalize.status_code == 200
    stored = head(s3_client, store_case.bucket, done.prepare["object_key"])
    assert (stored["ContentType"], stored["ContentDisposition"]) == (content_type, disposition)


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_multipart_objects_are_stored_with_the_servers_disposition(
    api_client, store_case, s3_client, upload
):
    done = upload(api_client, store_case.field_id, b"x" * (6 * MiB), "a.zip", "application/zip")
    assert done.prepare["upload_id"] is not None
    assert done.finalize.status_code == 200
    stored = head(s3_client, store_case.bucket, done.prepare["object_key"])
    assert stored["ContentDisposition"] == "attachment"


@pytest.mark.parametrize(
    ("field_id", "file_name", "content_type"),
    [
        # The case: a .pdf field and an HTML page named .pdf.
        ("test_app.LimitedResource.document", "invoice.pdf", "text/html"),
        ("test_app.LimitedResource.image", "logo.svg", "image/svg+xml"),
        ("test_app.LimitedResource.image", "logo.png", "text/html"),
        ("test_app.Resource.blob", "page.html", "text/html"),
        ("test_app.Resource.blob", "page.html", "text/html; charset=utf-8"),
        ("test_app.Resource.blob", "page.xhtml", "application/xhtml+xml"),
        ("test_app.Resource.blob", "feed.xml", "application/atom+xml"),
        ("test_app.Resource.blob", "app.js", "text/javascript"),
    ],
)
def test_prepare_refuses_types_that_could_run_script(field_id, file_name, content_type, api_client):
    response = prepare(api_client, field_id, file_name, 10, content_type)
    assert response.status_code == 400
    assert "not accepted" in response.json()["content_type"][0]


def test_a_file_of_unknown_type_is_stored_to_be_downloaded(api_client, s3_client, upload):
    done = upload(api_client, "test_app.Resource.blob", b"\x00\x01\x02", "data.dat", "")
    assert done.finalize.status_code == 200
    stored = head(s3_client, "s3ff-test", done.prepare["object_key"])
    assert stored["ContentDisposition"] == "attachment"


def test_finalize_removes_an_object_the_store_would_serve_as_a_page(api_client, s3_client, upload):
    """SeaweedFS stores a type it detects from the bytes in place of application/octet-stream:
    an HTML page declared as "no type" would come back as text/html."""
    done = upload(api_client, "test_app.Resource.blob", b"<html><script>", "page.html", "")
    assert done.finalize.status_code == 400
    assert "a type that can run script" in done.finalize.json()["detail"][0]
    listed = s3_client.list_objects_v2(Bucket="s3ff-test", Prefix=done.prepare["object_key"])
    assert "Contents" not in listed


@pytest.mark.parametrize(
    ("accept", "file_name", "content_type", "accepted"),
    [
        ("application/pdf,.pdf", "a.pdf", "application/pdf", True),
        ("application/pdf,.pdf", "a.pdf", "text/html", False),
        (".pdf", "a.pdf", "application/octet-stream", True),
        (".pdf", "a.pdf", "image/png", False),
        (".pdf", "a.txt", "application/pdf", False),
        (".zip", "a.zip", "application/x-zip-compressed", True),
        (".csv", "a.csv", "application/vnd.ms-excel", True),
        # An extension Python's table does not know: any type that cannot run script.
        (".dcm", "scan.dcm", "application/dicom", True),
        (".dcm", "scan.dcm", "text/html", False),
        ("image/*", "a.png", "image/png", True),
        ("image/*", "a.svg", "image/svg+xml", False),
        ("*/*", "a.html", "text/html", False),
        ("", "a.html", "text/html", False),
        ("", "a.bin", "application/octet-stream", True),
        # Named explicitly: the project asked for them.
        ("image/svg+xml", "a.svg", "image/svg+xml", True),
        (".svg", "a.svg", "image/svg+xml", True),
        ("text/html", "a.html", "text/html; charset=utf-8", True),
        (".svg", "a.svg", "text/html", False),
    ],
)
def test_the_accept_rule(accept, file_name, content_type, accepted):
    assert is_accepted(parse_accept(accept), file_name, content_type) is accepted


@pytest.mark.parametrize(
    ("content_type", "disposition"),
    [
        ("image/png", "inline"),
        ("IMAGE/PNG", "inline"),
        ("text/plain; charset=utf-8", "inline"),
        ("text/html", "attachment"),
        ("image/svg+xml", "attachment"),
        ("application/octet-stream", "attachment"),
        ("text/csv", "attachment"),
    ],
)
def test_only_types_known_safe_are_shown_inline(content_type, disposition):
    assert content_disposition(content_type) == disposition
