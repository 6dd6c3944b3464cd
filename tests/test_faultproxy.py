"""The fault proxy itself: each kind of fault does what the fault tests rely on."""

from __future__ import annotations

import base64
import hashlib

import pytest
import requests

from tests.harness.faultproxy import FaultProxy, Mode
from tests.harness.seaweedfs import admin_client

from .harness.driver import post
from .harness.storages import s3_storage

pytestmark = [pytest.mark.once, pytest.mark.django_db]


@pytest.fixture
def proxy(seaweedfs):
    with FaultProxy(seaweedfs.endpoint_url) as running:
        yield running


def presigned_put_through(proxy) -> str:
    # The signature covers the host: sign for the proxy's address.
    return str(
        admin_client(proxy.url).generate_presigned_url(
            "put_object", Params={"Bucket": "s3ff-test", "Key": "proxy/x.bin"}, ExpiresIn=600
        )
    )


@pytest.mark.parametrize(
    ("kind", "status", "code"), [("500", 500, "InternalError"), ("503", 503, "SlowDown")]
)
def test_error_kinds(proxy, kind, status, code):
    proxy.set_mode(Mode(name="fail", rate=1.0, kinds=(kind,)))
    response = requests.put(presigned_put_through(proxy), data=b"x" * 1000, timeout=10)
    assert response.status_code == status
    assert f"<Code>{code}</Code>" in response.text
    assert proxy.stats()["faults"] == {kind: 1}


def test_reset_and_stall(proxy, s3_client):
    url = presigned_put_through(proxy)
    proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("reset",)))
    with pytest.raises(requests.ConnectionError):
        requests.put(url, data=b"x" * 100_000, timeout=10)
    for _ in range(20):  # an empty body is reset too, never answered by the store
        with pytest.raises(requests.ConnectionError):
            requests.put(url, data=b"", timeout=10)
    # A small body comes in one read with its head: it is still cut at half, so the store
    # never has the whole request to answer (it did, and its 200 beat the reset).
    for size in (1, 5, 17, 1000):
        for _ in range(5):
            with pytest.raises(requests.ConnectionError):
                requests.put(url, data=b"x" * size, timeout=10)
    assert "Contents" not in s3_client.list_objects_v2(Bucket="s3ff-test", Prefix="proxy/x.bin")
    proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("stall",)))
    with pytest.raises(requests.ReadTimeout):
        requests.put(url, data=b"x" * 100_000, timeout=1)
    proxy.set_mode(Mode(name="pass"))
    assert requests.put(url, data=b"x" * 10, timeout=10).status_code == 200
    assert proxy.stats()["faults"] == {"reset": 41, "stall": 1}


def test_corrupt_changes_one_byte_on_the_way(proxy, s3_client):
    client = admin_client(proxy.url)
    key = "proxy/corrupted.bin"
    body = bytes(range(256)) * 400
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": "s3ff-test", "Key": key}, ExpiresIn=600
    )
    proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("corrupt",)))
    assert requests.put(url, data=body, timeout=10).status_code == 200
    stored = s3_client.get_object(Bucket="s3ff-test", Key=key)["Body"].read()
    assert len(stored) == len(body)
    assert [i for i in range(len(body)) if stored[i] != body[i]] == [len(body) // 2]
    assert stored[len(body) // 2] == body[len(body) // 2] ^ 0xFF

    # What the checksums are for: signed for its Content-MD5, the PUT is refused instead.
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    signed = client.generate_presigned_url(
        "put_object",
        Params={"Bucket": "s3ff-test", "Key": "proxy/checked.bin", "ContentMD5": md5},
        ExpiresIn=600,
    )
    refused = requests.put(signed, data=body, headers={"Content-MD5": md5}, timeout=10)
    assert refused.status_code == 400
    assert "<Code>BadDigest</Code>" in refused.text
    assert proxy.stats()["faults"] == {"corrupt": 2}

    # An empty body has no byte to change: it passes, and is not counted as a fault.
    empty = client.generate_presigned_url(
        "put_object", Params={"Bucket": "s3ff-test", "Key": "proxy/empty.bin"}, ExpiresIn=600
    )
    assert requests.put(empty, data=b"", timeout=10).status_code == 200
    assert proxy.stats()["faults"] == {"corrupt": 2}


def test_django_calls_pass_through_untouched(proxy, api_client, monkeypatch):
    """Only presigned PUTs fail: the library's own S3 calls are signed in headers."""

    from test_app.models import Resource

    storage = s3_storage(proxy.url, "s3ff-test")
    monkeypatch.setattr(Resource._meta.get_field("blob"), "storage", storage)
    proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("500",)))
    body = {"field_id": "test_app.Resource.blob", "file_name": "a.bin", "file_size": 30 * 2**20}
    prepared = post(api_client, "upload-prepare", body)
    assert prepared.status_code == 200
    assert proxy.url.split("//")[1] in prepared.json()["parts"][0]["upload_url"]
    abort = post(
        api_client, "upload-abort", {"upload_signature": prepared.json()["upload_signature"]}
    )
    assert abort.status_code == 204
    assert proxy.stats()["faults"] == {}
