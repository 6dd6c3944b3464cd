"""Our SigV4 presigner (both backends presign with it) gives botocore's signature for the same
request, and the S3 backend's URLs are the ones botocore would make, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from storages.backends.s3 import S3Storage

import s3_file_field._sigv4
from s3_file_field._sigv4 import presign_url
from s3_file_field.backends.s3 import S3Backend
from s3_file_field.checksums import ALGORITHMS, PartChecksum
from s3_file_field.headers import object_headers, single_put_headers

pytestmark = pytest.mark.once

NOW = datetime(2026, 11, 21, 12, 30, 45, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "headers", "token"),
    [
        (
            "http://127.0.0.1:9000/bucket/a/b.txt",
            {"Content-Length": "5", "Content-Type": "text/plain"},
            None,
        ),
        (
            "https://s3.example.com/bucket/%C3%A9t%C3%A9%20x.bin?partNumber=7&uploadId=a%2Fb%3Dc",
            {"Content-Length": "5242880"},
            None,
        ),
        ("https://bucket.s3.eu-west-1.amazonaws.com/k", {}, "session-token/+="),
        # SigV4's trimall: runs of whitespace in a header value are one space, ends trimmed.
        (
            "http://127.0.0.1:9000/bucket/k",
            {"Content-Disposition": ' attachment;  filename="two  spaces"\t', "Cache-Control": ""},
            None,
        ),
    ],
)
def test_matches_botocore(url, headers, token, monkeypatch):
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    request = AWSRequest(method="PUT", url=url, headers=headers)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    S3SigV4QueryAuth(credentials, "s3", "eu-west-1", expires=900).add_auth(request)
    expected = parse_qs(urlsplit(str(request.url)).query)

    ours = presign_url(
        method="PUT",
        url=urlsplit(url),
        headers=headers,
        access_key=credentials.access_key,
        secret_key=credentials.secret_key,
        session_token=token,
        region="eu-west-1",
        expires=900,
        now=NOW,
    )
    got = parse_qs(urlsplit(ours).query)
    assert got["X-Amz-SignedHeaders"] == expected["X-Amz-SignedHeaders"]
    assert got["X-Amz-Signature"] == expected["X-Amz-Signature"]
    assert urlsplit(ours).path == urlsplit(url).path


def _sign_empty_expires(request: Any, **kwargs: Any) -> None:
    """What boto3 needs to sign an empty `Expires`, which it takes no parameter for."""
    if request.context.get("is_presign_request"):
        request.headers["Expires"] = ""


def _botocore_client(storage: S3Storage) -> Any:
    client = storage.connection.meta.client
    client.meta.events.register("before-sign.s3.PutObject", _sign_empty_expires)
    return client


TRICKY_KEYS = [
    "plain/key.bin",
    "a b/ü+%~!*'()&=?.txt",
    "dir//double/slash/ends-with/",
    "日本語/😀 emoji.png",
]
STORAGES = {
    "path-style endpoint": {"endpoint_url": "http://127.0.0.1:8333", "addressing_style": "path"},
    "aws virtual host": {"region_name": "eu-west-1"},
    "aws dotted bucket": {"region_name": "eu-west-1", "bucket_name": "my.dotted.bucket"},
    "https on its default port": {"endpoint_url": "https://s3.example.com:443"},
    "session token": {"endpoint_url": "http://127.0.0.1:8333", "security_token": "token/+= x"},
}


@pytest.mark.parametrize("key", TRICKY_KEYS)
@pytest.mark.parametrize("where", sorted(STORAGES))
def test_s3_backend_urls_are_botocores_byte_for_byte(key, where, monkeypatch):
    options = {
        "bucket_name": "bucket",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "signature_version": "s3v4",
        **STORAGES[where],
    }
    storage = S3Storage(**options)
    backend = S3Backend(storage)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    monkeypatch.setattr(s3_file_field._sigv4, "utc_now", lambda: NOW)
    client = _botocore_client(storage)
    bucket = options["bucket_name"]
    crc = PartChecksum(ALGORITHMS["crc32"], "AAAAAA==")

    ours = backend.presign_put(key, 5, "text/plain", 900, crc)
    theirs = client.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": bucket,
            "Key": backend.bucket_key(key),
            "ContentLength": 5,
            **{
                name.replace("-", ""): value
                for name, value in single_put_headers(object_headers("text/plain")).items()
                if name != "Expires"
            },
            "ChecksumCRC32": "AAAAAA==",
        },
        ExpiresIn=900,
    )
    assert ours == theirs

    md5 = PartChecksum(ALGORITHMS["md5"], "1B2M2Y8AsgTpgAmY7PhCfg==")
    ours = backend.presign_upload_part(key, "upload/+= id", 7, 5 * 1024 * 1024, 900, md5)
    theirs = client.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": bucket,
            "Key": backend.bucket_key(key),
            "UploadId": "upload/+= id",
            "PartNumber": 7,
            "ContentLength": 5 * 1024 * 1024,
            "ContentMD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        },
        ExpiresIn=900,
    )
    assert ours == theirs
