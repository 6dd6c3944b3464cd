"""Objects uploaded through the API are stored as the storage stores files on save: its object
parameters (S3Storage) or metadata (MinioStorage), signed into single PUTs and set when a
multipart upload starts; compared header by header on SeaweedFS with `storage.save()`'s."""

from __future__ import annotations

import pytest
import requests
from django.core.files.base import ContentFile
from django.core.management import call_command

from s3_file_field.backends import get_backend
from s3_file_field.checks import check_storage_parity
from s3_file_field.client import S3FileFieldClient
from test_app.models import MinioResource, Resource

from .harness.driver import MiB, post
from .harness.storages import minio_storage, s3_storage

PART = 5 * MiB
# What a storage may set that SeaweedFS keeps and serves (docs: the README's store table).
S3_PARAMETERS = {
    "CacheControl": "max-age=86400, immutable",
    "ContentLanguage": "fr",
    "Metadata": {"project": "apollo", "stage": "raw"},
    "Tagging": "team=data&tier=cold",
}
# The response headers those come back as, and the ones no parameter asked for.
COMPARED = ("cache-control", "content-language", "x-amz-meta-project", "x-amz-meta-stage")


def head(s3_client, bucket: str, key: str) -> dict[str, str]:
    answer = s3_client.head_object(Bucket=bucket, Key=key)
    return {k.lower(): v for k, v in answer["ResponseMetadata"]["HTTPHeaders"].items()}


@pytest.fixture
def parity_storage(seaweedfs, settings, monkeypatch):
    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        file_overwrite=False,
        object_parameters=S3_PARAMETERS,
    )
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    settings.S3FF_PART_SIZE = PART
    return storage


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [10, PART + 1], ids=["single PUT", "multipart"])
def test_uploads_are_stored_as_the_s3_storage_saves(
    live_server, parity_storage, s3_client, settings, size
):
    bucket = settings.S3_BUCKET
    saved_name = parity_storage.save("parity/saved.txt", ContentFile(b"x" * size))
    with S3FileFieldClient(f"{live_server.url}/api/s3-upload/") as client:
        uploaded = client.upload(b"y" * size, "test_app.Resource.blob", file_name="up.txt")
    saved = head(s3_client, bucket, saved_name)
    direct = head(s3_client, bucket, uploaded.object_key)
    for header in COMPARED:
        assert saved.get(header) is not None, (header, saved)
        assert direct.get(header) == saved[header], header
    assert direct["content-type"] == saved["content-type"] == "text/plain"
    tags = [
        s3_client.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        for key in (saved_name, uploaded.object_key)
    ]
    assert sorted(map(str, tags[0])) == sorted(map(str, tags[1]))
    assert {tag["Key"] for tag in tags[1]} == {"team", "tier"}


@pytest.mark.django_db
def test_a_single_put_is_signed_for_the_storages_headers(api_client, parity_storage):
    answer = post(
        api_client,
        "upload-prepare",
        {"field_id": "test_app.Resource.blob", "file_name": "a.txt", "file_size": 3},
    )
    assert answer.status_code == 200, answer.content
    headers = answer.json()["part_headers"]
    assert headers["Cache-Control"] == S3_PARAMETERS["CacheControl"]
    assert headers["x-amz-meta-project"] == "apollo"
    assert headers["x-amz-tagging"] == S3_PARAMETERS["Tagging"]
    # Signed: the URL's signed headers name them, so a client cannot drop or change them.
    url = answer.json()["parts"][0]["upload_url"]
    assert "x-amz-meta-project" in url
    assert "cache-control" in url


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["altered", "dropped"])
def test_a_client_changing_a_signed_storage_header_is_refused_by_the_store(
    api_client, parity_storage, change
):
    answer = post(
        api_client,
        "upload-prepare",
        {"field_id": "test_app.Resource.blob", "file_name": "a.txt", "file_size": 3},
    )
    prepared = answer.json()
    headers = dict(prepared["part_headers"])
    if change == "altered":
        headers["x-amz-meta-project"] = "not-apollo"
    else:
        del headers["Cache-Control"]
    refused = requests.put(prepared["parts"][0]["upload_url"], data=b"abc", headers=headers)
    assert refused.status_code == 403, refused.text


@pytest.mark.django_db(transaction=True)
def test_uploads_are_stored_as_the_minio_storage_saves(
    live_server, seaweedfs, settings, s3_client, monkeypatch
):
    bucket = settings.MINIO_BUCKET
    storage = minio_storage(seaweedfs.endpoint_url, bucket)
    storage.object_metadata = {"Cache-Control": "max-age=60", "project": "apollo"}
    monkeypatch.setattr(MinioResource._meta.get_field("blob"), "storage", storage)
    saved_name = storage.save("parity/saved.txt", ContentFile(b"x" * 10))
    with S3FileFieldClient(f"{live_server.url}/api/s3-upload/") as client:
        uploaded = client.upload(b"y" * 10, "test_app.MinioResource.blob", file_name="up.txt")
    saved = head(s3_client, bucket, saved_name)
    direct = head(s3_client, bucket, uploaded.object_key)
    for header in ("cache-control", "x-amz-meta-project"):
        assert saved.get(header) is not None, (header, saved)
        assert direct.get(header) == saved[header], header


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [10, PART + 1], ids=["single PUT", "multipart"])
def test_a_field_keeping_names_stores_them_for_downloads(
    live_server, s3_client, settings, monkeypatch, size
):
    settings.S3FF_PART_SIZE = PART
    monkeypatch.setattr(Resource._meta.get_field("blob"), "download_name", True)
    name = 'naïve "résumé" 100%.pdf'
    with S3FileFieldClient(f"{live_server.url}/api/s3-upload/") as client:
        uploaded = client.upload(b"%PDF" + b"y" * size, "test_app.Resource.blob", file_name=name)
    stored = head(s3_client, settings.S3_BUCKET, uploaded.object_key)
    assert stored["content-disposition"] == (
        'inline; filename="na_ve _r_sum__ 100_.pdf"; '
        "filename*=UTF-8''na%C3%AFve%20%22r%C3%A9sum%C3%A9%22%20100%25.pdf"
    )
    # The key stays as the storage cleans names: no quotes, spaces or percent signs.
    assert uploaded.object_key.endswith("/naïve_résumé_100.pdf")


def test_a_customer_key_is_an_error_and_gzip_a_warning(seaweedfs, settings, monkeypatch):
    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        gzip=True,
        object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "k" * 32},
    )
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    messages = {message.id: message for message in check_storage_parity()}
    assert "customer-provided key" in messages["s3_file_field.E021"].msg
    assert "gzips" in messages["s3_file_field.W022"].msg
    assert messages["s3_file_field.E021"].hint


@pytest.mark.django_db
def test_a_customer_key_storage_refuses_uploads_without_leaking_the_key(
    api_client, seaweedfs, settings, monkeypatch
):
    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "secret" * 6},
    )
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    answer = post(
        api_client,
        "upload-prepare",
        {"field_id": "test_app.Resource.blob", "file_name": "a.txt", "file_size": 3},
    )
    assert 500 < answer.status_code < 600
    assert answer.status_code != 500
    assert b"secret" not in answer.content


def test_cors_rules_allow_the_storages_own_headers(seaweedfs, settings):
    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        object_parameters={"Metadata": {"project": "apollo"}},
        default_acl="private",
    )
    backend = get_backend(storage)
    assert backend is not None
    headers = backend.cors_request_headers()
    assert "x-amz-meta-project" in headers
    assert "x-amz-acl" in headers
    assert "If-None-Match" in headers


def test_s3ff_cors_writes_a_rule_with_the_storages_headers(seaweedfs, settings, monkeypatch):
    import io

    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        object_parameters={"Metadata": {"project": "apollo"}},
    )
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    out = io.StringIO()
    call_command("s3ff_cors", "--origin", "https://app.example.com", stdout=out)
    assert "x-amz-meta-project" in out.getvalue()
