"""Objects uploaded through the API are stored as the storage stores files on save: its object
parameters (S3Storage) or metadata (MinioStorage), signed into single PUTs and set when a
multipart upload starts; compared header by header on SeaweedFS with `storage.save()`'s."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

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

# The storages' and the store's behaviour, not Django's: once, on the newest.
pytestmark = pytest.mark.once

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


# S3FF_PRESIGN_ENDPOINT_URL: URLs for the store's public name (tests/browser/test_public_endpoint.py
# uploads through one in Chromium).


def test_presigned_urls_name_the_public_endpoint(settings):
    from storages.backends.s3 import S3Storage

    from .harness.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY

    settings.S3FF_PRESIGN_ENDPOINT_URL = "https://files.example.com"
    path_style = s3_storage("http://store.internal:8333", "media")
    virtual = S3Storage(
        bucket_name="media",
        endpoint_url="http://store.internal:8333",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region_name=REGION,
        addressing_style="virtual",
    )
    minio = minio_storage("http://store.internal:8333", "media")
    urls = {
        kind: urlsplit(get_backend(storage).presign_put("a.txt", 3, "text/plain", 60))  # type: ignore[union-attr]
        for kind, storage in (("path", path_style), ("virtual", virtual), ("minio", minio))
    }
    assert (urls["path"].scheme, urls["path"].netloc) == ("https", "files.example.com")
    assert urls["path"].path == "/media/a.txt"
    assert urls["virtual"].netloc == "media.files.example.com"
    assert urls["virtual"].path == "/a.txt"
    assert urls["minio"].netloc == "files.example.com"
    settings.S3FF_PRESIGN_ENDPOINT_URL = None
    assert urlsplit(get_backend(path_style).presign_put("a.txt", 3, "text/plain", 60)).netloc == (  # type: ignore[union-attr]
        "store.internal:8333"
    )


@pytest.mark.parametrize("value", ["localhost:9000", "http://store/path", 9000, "ftp://store"])
def test_a_presign_endpoint_that_is_no_address_is_a_settings_error(settings, value):
    from s3_file_field.conf import setting_problems

    settings.S3FF_PRESIGN_ENDPOINT_URL = value
    (problem,) = [p for p in setting_problems() if p.name == "S3FF_PRESIGN_ENDPOINT_URL"]
    assert "scheme://host[:port]" in problem.message


@pytest.mark.parametrize(
    ("endpoint", "offered"),
    [
        ("https://s3.us-west-004.backblazeb2.com", ("md5",)),
        ("https://storage.googleapis.com", ("md5",)),
        ("https://nyc3.digitaloceanspaces.com", ("md5",)),
        ("https://s3.eu-central-1.wasabisys.com", ("md5",)),
        ("http://127.0.0.1:8333", ("crc32", "crc32c", "crc64nvme", "md5", "sha1", "sha256")),
    ],
)
def test_stores_that_verify_only_md5_are_offered_only_md5(endpoint, offered):
    backend = get_backend(s3_storage(endpoint, "media"))
    assert backend is not None
    assert set(backend.offered_checksums(None)) == set(offered)
    # The project's setting wins.
    assert backend.offered_checksums(["crc32"]) == ("crc32",)


ENCRYPTIONS = {
    "SSE-S3": {"ServerSideEncryption": "AES256"},
    "SSE-KMS": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "s3ff-test-key"},
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [10, PART + 1], ids=["single PUT", "multipart"])
@pytest.mark.parametrize("encryption", sorted(ENCRYPTIONS))
def test_uploads_are_encrypted_as_the_storage_encrypts(
    live_server, seaweedfs, s3_client, settings, monkeypatch, size, encryption
):
    storage = s3_storage(
        seaweedfs.endpoint_url,
        settings.S3_BUCKET,
        object_parameters={**ENCRYPTIONS[encryption], "StorageClass": "STANDARD_IA"},
    )
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    settings.S3FF_PART_SIZE = PART
    data = b"z" * size
    saved_name = storage.save("parity/secret.bin", ContentFile(data))
    with S3FileFieldClient(f"{live_server.url}/api/s3-upload/") as client:
        uploaded = client.upload(data, "test_app.Resource.blob", file_name="secret.bin")
    saved = head(s3_client, settings.S3_BUCKET, saved_name)
    direct = head(s3_client, settings.S3_BUCKET, uploaded.object_key)
    compared = ["x-amz-server-side-encryption", "x-amz-storage-class"]
    if encryption == "SSE-KMS":
        compared.append("x-amz-server-side-encryption-aws-kms-key-id")
    for header in compared:
        assert saved.get(header) is not None, (header, saved)
        assert direct.get(header) == saved[header], header
    assert direct["x-amz-server-side-encryption"] == ENCRYPTIONS[encryption]["ServerSideEncryption"]
    body = s3_client.get_object(Bucket=settings.S3_BUCKET, Key=uploaded.object_key)["Body"]
    assert body.read() == data


@pytest.mark.parametrize(
    ("s3_config", "host"),
    [
        ({"use_accelerate_endpoint": True}, "media.s3-accelerate.amazonaws.com"),
        ({"use_dualstack_endpoint": True}, "media.s3.dualstack.eu-west-1.amazonaws.com"),
    ],
    ids=["transfer acceleration", "dual-stack"],
)
def test_upload_urls_use_the_endpoint_the_storage_asks_for(s3_config, host):
    from botocore.config import Config
    from storages.backends.s3 import S3Storage

    storage = S3Storage(
        bucket_name="media",
        region_name="eu-west-1",
        access_key="AKIAEXAMPLE",
        secret_key="secret",
        client_config=Config(signature_version="s3v4", s3=s3_config),
    )
    backend = get_backend(storage)
    assert backend is not None
    url = urlsplit(backend.presign_put("a.txt", 3, "text/plain", 60))
    assert url.netloc == host
    assert url.path == "/a.txt"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "file_name",
    ["quote\" %41 'x'.pdf", "é" * 200 + ".pdf", 'a"; filename=evil.exe; b=".pdf'],
    ids=["quotes and escapes", "long and not ASCII", "parameter smuggling"],
)
def test_a_hostile_file_name_cannot_shape_the_download_header(
    api_client, settings, monkeypatch, file_name
):
    monkeypatch.setattr(Resource._meta.get_field("blob"), "download_name", True)
    answer = post(
        api_client,
        "upload-prepare",
        {"field_id": "test_app.Resource.blob", "file_name": file_name, "file_size": 3},
    )
    assert answer.status_code == 200, answer.content
    disposition = answer.json()["part_headers"]["Content-Disposition"]
    assert disposition.isascii()
    assert not any(char in disposition for char in "\r\n")
    # Exactly two parameters: the quoted ASCII fallback (no quote or backslash inside, so it
    # cannot close early) and filename*, percent-encoded (no separator inside).
    parsed = re.fullmatch(
        r"""attachment; filename="([^"\\]*)"; filename\*=UTF-8''([^;, ]+)""", disposition
    )
    assert parsed, disposition
    assert unquote(parsed.group(2)) == file_name
