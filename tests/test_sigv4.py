"""Our SigV4 presigner (used for the minio SDK) gives botocore's signature for the same request."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import botocore.auth
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from s3_file_field._sigv4 import presign_url

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
