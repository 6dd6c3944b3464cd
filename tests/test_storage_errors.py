"""A store that is down or refuses: 503/502 with a JSON detail, never a 500 or a traceback, after
at most STORE_ATTEMPTS connections per API call, each bounded by its timeout."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from django.db.models import Model
from django.test import override_settings
from minio_storage.storage import MinioStorage
from storages.backends.s3 import S3Storage

from s3_file_field.backends import get_backend
from s3_file_field.backends.base import STORE_ATTEMPTS, STORE_CONNECT_TIMEOUT
from s3_file_field.backends.minio import MinioBackend
from s3_file_field.backends.s3 import S3Backend
from s3_file_field.values import UploadTicket, sign_upload_ticket
from test_app.models import MinioResource, Resource
from tests.harness.seaweedfs import SECRET_KEY, SeaweedFS

from .conftest import Connection
from .harness import storages as harness_storages
from .harness.driver import MiB, post

if TYPE_CHECKING:
    from django.core.files.storage import Storage
    from rest_framework.test import APIClient

pytestmark = [pytest.mark.once, pytest.mark.django_db]

# The storages' own read timeout in the test of a store that never answers.
SHORT_READ_TIMEOUT = 1.0


def s3_storage(
    endpoint: str, secret: str = SECRET_KEY, read_timeout: float | None = None
) -> S3Storage:
    options: dict[str, Any] = {}
    if read_timeout is not None:
        options["client_config"] = Config(
            s3={"addressing_style": "path"}, signature_version="s3v4", read_timeout=read_timeout
        )
    return harness_storages.s3_storage(endpoint, "outage", secret=secret, **options)


def minio_storage(
    endpoint: str, secret: str = SECRET_KEY, read_timeout: float | None = None
) -> MinioStorage:
    return harness_storages.minio_storage(
        endpoint, "outage", secret=secret, read_timeout=read_timeout
    )


MakeStorage = Callable[..., "Storage"]
CASES: dict[str, tuple[type[Model], str, MakeStorage]] = {
    "s3storage": (Resource, "test_app.Resource.blob", s3_storage),
    "miniostorage": (MinioResource, "test_app.MinioResource.blob", minio_storage),
}
OutageCase = tuple[str, MakeStorage, Callable[["Storage"], None]]


@pytest.fixture(params=sorted(CASES))
def outage_case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> OutageCase:
    model, field_id, make_storage = CASES[request.param]
    field = model._meta.get_field("blob")

    def use_storage(storage: Storage) -> None:
        monkeypatch.setattr(field, "storage", storage)

    return field_id, make_storage, use_storage


@pytest.fixture
def unaccepting_endpoint() -> Iterator[str]:
    """A host that never completes a connection, like one behind a firewall that drops packets:
    a listening socket whose accept queue is kept full, so that the kernel drops new SYNs."""
    with ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        host, port = server.getsockname()
        for _ in range(16):
            client = stack.enter_context(socket.socket())
            client.settimeout(0.2)
            try:
                client.connect((host, port))
            except TimeoutError:
                break
        else:
            pytest.fail("The accept queue never filled: connections are not dropped here.")
        yield f"http://{host}:{port}"


def multipart_signature(field_id: str) -> str:
    """An upload signature as upload-prepare gives it, without a store to prepare against."""
    ticket = UploadTicket(
        field_id=field_id,
        name="outage/a.bin",
        file_name="a.bin",
        file_size=6 * MiB,
        content_type="application/octet-stream",
        upload_id="an-upload-id",
        part_size=5 * MiB,
    )
    return sign_upload_ticket(ticket)


def store_calls(field_id: str, signature: str) -> list[tuple[str, dict[str, Any]]]:
    """One call of each endpoint that needs the store."""
    return [
        ("upload-prepare", {"field_id": field_id, "file_name": "b.bin", "file_size": 6 * MiB}),
        ("upload-status", {"upload_signature": signature}),
        (
            "upload-finalize",
            {
                "upload_signature": signature,
                "parts": [{"part_number": 1, "etag": "a"}, {"part_number": 2, "etag": "b"}],
            },
        ),
        ("upload-abort", {"upload_signature": signature}),
    ]


def assert_unavailable(
    client: APIClient, endpoint: str, body: Any, connections: list[Connection]
) -> list[Connection]:
    """Call `endpoint`: it must answer 503 with a JSON detail. Gives the connections it tried."""
    connections.clear()
    response = post(client, endpoint, body)
    assert response.status_code == 503, (endpoint, response.content)
    assert response["Content-Type"] == "application/json", endpoint
    assert "cannot be reached" in response.json()["detail"], endpoint
    # Neither the store's address nor the driver's words reach the client.
    assert set(response.json()) == {"detail", "error_id"}, endpoint
    assert "127.0.0.1" not in response.content.decode(), endpoint
    return list(connections)


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_store_stopped_answers_503(
    api_client: APIClient, outage_case: OutageCase, connections: list[Connection]
) -> None:
    field_id, make_storage, use_storage = outage_case
    with SeaweedFS(buckets=["outage"]) as server:
        use_storage(make_storage(server.endpoint_url))
        prepared = post(
            api_client,
            "upload-prepare",
            {"field_id": field_id, "file_name": "a.bin", "file_size": 6 * MiB},
        )
        assert prepared.status_code == 200, prepared.json()
    signature = prepared.json()["upload_signature"]

    for endpoint, body in store_calls(field_id, signature):
        tried = assert_unavailable(api_client, endpoint, body, connections)
        # Refused, tried again once, then given up.
        assert [type(c.error) for c in tried] == [ConnectionRefusedError] * STORE_ATTEMPTS, endpoint
    # Signing needs no store: upload-parts still answers while the store is down, without
    # trying to reach it.
    connections.clear()
    parts = post(api_client, "upload-parts", {"upload_signature": signature, "part_numbers": [2]})
    assert parts.status_code == 200
    assert connections == []


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_a_host_that_drops_connections_answers_503(
    api_client: APIClient,
    outage_case: OutageCase,
    unaccepting_endpoint: str,
    connections: list[Connection],
) -> None:
    field_id, make_storage, use_storage = outage_case
    use_storage(make_storage(unaccepting_endpoint))
    for endpoint, body in store_calls(field_id, multipart_signature(field_id)):
        tried = assert_unavailable(api_client, endpoint, body, connections)
        # STORE_ATTEMPTS connections, each of which waited its STORE_CONNECT_TIMEOUT in vain.
        assert len(tried) == STORE_ATTEMPTS, endpoint
        for connection in tried:
            assert isinstance(connection.error, TimeoutError), (endpoint, connection.error)
            assert connection.connect_timeout == STORE_CONNECT_TIMEOUT, endpoint


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_a_store_that_never_answers_costs_the_storages_read_timeout(
    api_client: APIClient,
    outage_case: OutageCase,
    silent_endpoint: str,
    connections: list[Connection],
) -> None:
    # The upload API keeps the storage's read timeout (a completion may take minutes), so a
    # store that takes the request and never answers is bounded by that timeout alone: here a
    # short one, for the test's sake.
    field_id, make_storage, use_storage = outage_case
    use_storage(make_storage(silent_endpoint, read_timeout=SHORT_READ_TIMEOUT))
    for endpoint, body in store_calls(field_id, multipart_signature(field_id)):
        tried = assert_unavailable(api_client, endpoint, body, connections)
        # Connected each time, and each read waited SHORT_READ_TIMEOUT at most.
        assert 1 <= len(tried) <= STORE_ATTEMPTS, (endpoint, tried)
        for connection in tried:
            assert connection.error is None, endpoint
            assert connection.read_timeout == SHORT_READ_TIMEOUT, endpoint


def test_store_calls_keep_the_storages_read_timeout() -> None:
    s3_backend = get_backend(s3_storage("http://127.0.0.1:9"))
    assert isinstance(s3_backend, S3Backend)
    # botocore sets a Config's options as attributes, which its stubs do not declare.
    config: Any = s3_backend.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (STORE_CONNECT_TIMEOUT, 60)
    assert config.retries == {"mode": "standard", "total_max_attempts": STORE_ATTEMPTS}

    minio_backend = get_backend(minio_storage("http://127.0.0.1:9"))
    assert isinstance(minio_backend, MinioBackend)
    timeout = minio_backend.client._http.connection_pool_kw["timeout"]
    assert (timeout.connect_timeout, timeout.read_timeout) == (STORE_CONNECT_TIMEOUT, 300)
    # Built once per storage, not per call.
    assert minio_backend.client is minio_backend.client
    assert s3_backend.client is s3_backend.client


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_store_refusing_the_credentials_answers_502(
    api_client: APIClient,
    outage_case: OutageCase,
    seaweedfs: SeaweedFS,
    caplog: pytest.LogCaptureFixture,
) -> None:
    field_id, make_storage, use_storage = outage_case
    use_storage(make_storage(seaweedfs.endpoint_url, secret="wrong-secret"))
    response = post(
        api_client,
        "upload-prepare",
        {"field_id": field_id, "file_name": "a.bin", "file_size": 6 * MiB},
    )
    assert response.status_code == 502, response.content
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert "refused" in body["detail"]
    # What the store said stays in the server's log, under the id the client is given.
    assert "SignatureDoesNotMatch" not in response.content.decode()
    assert seaweedfs.endpoint_url.split("//")[1] not in response.content.decode()
    (record,) = [r for r in caplog.records if r.name == "s3_file_field"]
    assert body["error_id"] in record.getMessage()
    assert "SignatureDoesNotMatch" in record.getMessage()
