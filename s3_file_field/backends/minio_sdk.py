"""The minio SDK's private members this library needs, behind one small adapter.

The SDK has no public call to start, list, complete or abort a multipart upload, to send a
raw request (bucket CORS), or to presign a URL with headers; its private ones have been stable
through the 7.x releases. `PRIVATE_MEMBERS` names each one used; `tests/test_minio_sdk.py`
fails when the installed release lacks one, and pyproject.toml keeps minio below 8.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult

import urllib3
from minio import Minio
from minio.credentials.credentials import Credentials
from minio.datatypes import ListMultipartUploadsResult, ListPartsResult, Part
from minio_storage.storage import MinioStorage

_Params = dict[str, str | list[str] | tuple[str]]

# Per class, the private members used here: attributes of an instance, or methods.
PRIVATE_MEMBERS: dict[type, tuple[str, ...]] = {
    Minio: (
        "_http",
        "_provider",
        "_base_url",
        "_get_region",
        "_execute",
        "_create_multipart_upload",
        "_list_parts",
        "_complete_multipart_upload",
        "_abort_multipart_upload",
        "_list_multipart_uploads",
    ),
    MinioStorage: ("_sanitize_path",),
    urllib3.Timeout: ("_read",),
}


class MinioSdk:
    """What the backend does with a minio client beyond its public calls."""

    def __init__(self, client: Minio) -> None:
        self.client = client

    @property
    def pool(self) -> urllib3.PoolManager:
        """The connection pool the client sends through."""
        pool: urllib3.PoolManager = self.client._http
        return pool

    def over(self, pool: urllib3.PoolManager) -> Minio:
        """The client (endpoint, credentials, shared region cache) sending through `pool`."""
        copied = copy.copy(self.client)
        copied._http = pool
        return copied

    def credentials(self) -> Credentials | None:
        provider = self.client._provider
        return None if provider is None else provider.retrieve()

    def region(self, bucket: str) -> str:
        return str(self.client._get_region(bucket))

    def object_url(
        self, method: str, region: str, bucket: str, key: str, query: _Params
    ) -> SplitResult:
        url: SplitResult = self.client._base_url.build(
            method=method, region=region, bucket_name=bucket, object_name=key, query_params=query
        )
        return url

    def endpoint(self) -> str:
        return str(self.client._base_url._url.geturl())

    def execute(self, method: str, bucket: str, **kwargs: Any) -> Any:
        """A signed request to the bucket, its answer's body in `.data`."""
        return self.client._execute(method, bucket, **kwargs)

    def create_multipart_upload(self, bucket: str, key: str, headers: _Params) -> str:
        return str(self.client._create_multipart_upload(bucket, key, headers))

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: str | None
    ) -> ListPartsResult:
        return self.client._list_parts(bucket, key, upload_id, part_number_marker=marker)

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: Sequence[Part]
    ) -> None:
        self.client._complete_multipart_upload(bucket, key, upload_id, list(parts))

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.client._abort_multipart_upload(bucket, key, upload_id)

    def list_multipart_uploads(
        self, bucket: str, prefix: str, key_marker: str | None, upload_id_marker: str | None
    ) -> ListMultipartUploadsResult:
        return self.client._list_multipart_uploads(
            bucket, prefix=prefix, key_marker=key_marker, upload_id_marker=upload_id_marker
        )


def storage_key(storage: MinioStorage, name: str) -> str:
    """The key under which django-minio-storage keeps `name`."""
    return str(storage._sanitize_path(name))  # type: ignore[no-untyped-call]


def read_timeout(timeout: urllib3.Timeout) -> Any:
    """The read part of `timeout` as given (urllib3 resolves it only per request)."""
    return timeout._read


def missing_private_members(client: Minio, timeout: urllib3.Timeout) -> list[str]:
    """`Class.member` for every private member used here that these objects lack."""
    subjects: dict[type, object] = {
        Minio: client,
        MinioStorage: MinioStorage,
        urllib3.Timeout: timeout,
    }
    return [
        f"{cls.__name__}.{name}"
        for cls, names in PRIVATE_MEMBERS.items()
        for name in names
        if not hasattr(subjects[cls], name)
    ]
