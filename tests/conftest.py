from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.harness.driver import Uploaded, upload_bytes
from tests.harness.seaweedfs import admin_client

if TYPE_CHECKING:
    # Django is set up after this module is imported (see the root conftest.py), so the
    # modules that read settings are imported inside the fixtures.
    from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture(scope="session")
def s3_client() -> Any:
    """A boto3 client of our own, to look at the bucket independently of the library."""
    from django.conf import settings

    return admin_client(settings.S3_ENDPOINT_URL)


@dataclass(frozen=True)
class StoreCase:
    """A model field on one storage family, and the bucket behind it."""

    field_id: str
    bucket: str


STORE_CASES = {
    "s3storage": StoreCase("test_app.Resource.blob", "s3ff-test"),
    "miniostorage": StoreCase("test_app.MinioResource.blob", "s3ff-minio-test"),
}


@pytest.fixture(params=sorted(STORE_CASES))
def store_case(request: pytest.FixtureRequest) -> StoreCase:
    return STORE_CASES[request.param]


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A store that accepts connections (into the listen backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        host, port = server.getsockname()
        yield f"http://{host}:{port}"


@dataclass
class Connection:
    """One connection attempt of urllib3, which botocore and the Minio SDK send through."""

    address: tuple[str, int]
    connect_timeout: Any
    error: OSError | None
    sock: socket.socket | None

    @property
    def read_timeout(self) -> float | None:
        """The socket's last timeout: urllib3 sets the read timeout on it before reading."""
        return None if self.sock is None else self.sock.gettimeout()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Connection]:
    """Every connection the storages' clients attempt during the test, in order: what bounds
    a request to a store that is down is how many it makes and how long each may wait."""
    import urllib3.util.connection

    attempts: list[Connection] = []
    create = urllib3.util.connection.create_connection

    def spy(address: tuple[str, int], timeout: Any, *args: Any, **kwargs: Any) -> socket.socket:
        try:
            sock = create(address, timeout, *args, **kwargs)
        except OSError as error:
            attempts.append(Connection(address, timeout, error, None))
            raise
        attempts.append(Connection(address, timeout, None, sock))
        return sock

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    return attempts


@pytest.fixture
def upload() -> Callable[..., Uploaded]:
    return upload_bytes
