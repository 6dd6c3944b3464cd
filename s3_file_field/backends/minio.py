"""django-minio-storage's `MinioStorage`, driven through the minio client the storage holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.files.storage import Storage

from .._sigv4 import presign_url
from .base import (
    InvalidParts,
    PartReceipt,
    StorageError,
    StorageUnavailable,
    StoredPart,
    UploadBackend,
    UploadNotFound,
    quoted_etag,
)

try:
    import urllib3.exceptions
    from minio import Minio
    from minio.datatypes import Part
    from minio.error import InvalidResponseError, S3Error, ServerError
    from minio_storage.storage import MinioStorage
except ImportError:  # pragma: no cover - django-minio-storage not installed
    MinioStorage = None  # type: ignore[assignment,misc]


class MinioBackend(UploadBackend):
    @classmethod
    def supports(cls, storage: Storage) -> bool:
        return MinioStorage is not None and isinstance(storage, MinioStorage)

    @property
    def client(self) -> Minio:
        return self.storage.client  # type: ignore[attr-defined,no-any-return]

    @property
    def presign_client(self) -> Minio:
        # With a public `base_url`, the storage keeps a second client for the address browsers
        # reach; presigned URLs must name that host, because the host is signed.
        client: Minio = getattr(self.storage, "base_url_client", self.client)
        return client

    @property
    def bucket(self) -> str:
        return str(self.storage.bucket_name)  # type: ignore[attr-defined]

    def bucket_key(self, name: str) -> str:
        return str(self.storage._sanitize_path(name))  # type: ignore[attr-defined]

    def _presign(
        self,
        name: str,
        headers: dict[str, str],
        query: dict[str, str | list[str] | tuple[str]],
        expires: int,
    ) -> str:
        client = self.presign_client
        with _translated_errors():
            region = client._get_region(self.bucket)
            if client._provider is None:
                raise StorageError("The minio client has no credentials to sign with.")
            credentials = client._provider.retrieve()
        url = client._base_url.build(
            method="PUT",
            region=region,
            bucket_name=self.bucket,
            object_name=self.bucket_key(name),
            query_params=query,
        )
        return presign_url(
            method="PUT",
            url=url,
            headers=headers,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            session_token=credentials.session_token,
            region=region,
            expires=expires,
        )

    def presign_put(self, name: str, size: int, content_type: str, expires: int) -> str:
        headers = {"Content-Length": str(size), "Content-Type": content_type}
        return self._presign(name, headers, {}, expires)

    def create_multipart_upload(self, name: str, content_type: str) -> str:
        with _translated_errors():
            return str(
                self.client._create_multipart_upload(
                    self.bucket, self.bucket_key(name), {"Content-Type": content_type}
                )
            )

    def presign_upload_part(
        self, name: str, upload_id: str, part_number: int, size: int, expires: int
    ) -> str:
        query: dict[str, str | list[str] | tuple[str]] = {
            "partNumber": str(part_number),
            "uploadId": upload_id,
        }
        return self._presign(name, {"Content-Length": str(size)}, query, expires)

    def list_parts(self, name: str, upload_id: str) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker: str | None = None
        with _translated_errors():
            while True:
                page = self.client._list_parts(
                    self.bucket, self.bucket_key(name), upload_id, part_number_marker=marker
                )
                parts.extend(
                    StoredPart(p.part_number, p.size or 0, quoted_etag(p.etag)) for p in page.parts
                )
                if not page.is_truncated:
                    return parts
                marker = str(page.next_part_number_marker)

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: Sequence[PartReceipt]
    ) -> None:
        with _translated_errors():
            self.client._complete_multipart_upload(
                self.bucket,
                self.bucket_key(name),
                upload_id,
                [Part(p.part_number, p.etag) for p in parts],
            )

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        try:
            with _translated_errors():
                self.client._abort_multipart_upload(self.bucket, self.bucket_key(name), upload_id)
        except UploadNotFound:
            pass

    def stat_object(self, name: str) -> StoredPart | None:
        try:
            with _translated_errors():
                stat = self.client.stat_object(self.bucket, self.bucket_key(name))
        except _ObjectMissing:
            return None
        return StoredPart(1, int(stat.size or 0), quoted_etag(stat.etag or ""))

    def delete_object(self, name: str) -> None:
        with _translated_errors():
            self.client.remove_object(self.bucket, self.bucket_key(name))


class _ObjectMissing(StorageError):
    pass


_CODE_TO_ERROR: dict[str, type[StorageError]] = {
    "NoSuchUpload": UploadNotFound,
    "InvalidPart": InvalidParts,
    "InvalidPartOrder": InvalidParts,
    "EntityTooSmall": InvalidParts,
    "NoSuchKey": _ObjectMissing,
    "ResourceNotFound": _ObjectMissing,
}


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn the minio SDK's exceptions into the backend's, keeping the store's own message."""
    try:
        yield
    except S3Error as error:
        code = str(error.code)
        message = f"{code}: {error.message}"
        if code in _CODE_TO_ERROR:
            raise _CODE_TO_ERROR[code](message) from error
        status: Any = getattr(error.response, "status", 0)
        if int(status or 0) >= 500:
            raise StorageUnavailable(message) from error
        raise StorageError(message) from error
    except ServerError as error:
        raise StorageUnavailable(str(error)) from error
    except InvalidResponseError as error:
        raise StorageError(str(error)) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise StorageUnavailable(str(error)) from error
