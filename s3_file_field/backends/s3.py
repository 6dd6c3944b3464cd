"""django-storages' `S3Storage`, driven through the boto3 client the storage already holds."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.core.files.storage import Storage

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
    from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name
except ImportError:  # pragma: no cover - django-storages or boto3 not installed
    S3Storage = None

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Backend(UploadBackend):
    @classmethod
    def supports(cls, storage: Storage) -> bool:
        return S3Storage is not None and isinstance(storage, S3Storage)

    @property
    def client(self) -> S3Client:
        # The storage keeps one boto3 resource per thread; its client is reused, never rebuilt.
        client: S3Client = self.storage.connection.meta.client  # type: ignore[attr-defined]
        return client

    @property
    def bucket(self) -> str:
        return str(self.storage.bucket_name)  # type: ignore[attr-defined]

    def bucket_key(self, name: str) -> str:
        return str(self.storage._normalize_name(clean_name(name)))  # type: ignore[attr-defined]

    def presign_put(self, name: str, size: int, content_type: str, expires: int) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": self.bucket_key(name),
            "ContentLength": size,
            "ContentType": content_type,
        }
        with _translated_errors():
            return self.client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=expires
            )

    def create_multipart_upload(self, name: str, content_type: str) -> str:
        with _translated_errors():
            response = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.bucket_key(name), ContentType=content_type
            )
        return response["UploadId"]

    def presign_upload_part(
        self, name: str, upload_id: str, part_number: int, size: int, expires: int
    ) -> str:
        params = {
            "Bucket": self.bucket,
            "Key": self.bucket_key(name),
            "UploadId": upload_id,
            "PartNumber": part_number,
            "ContentLength": size,
        }
        with _translated_errors():
            return self.client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=expires
            )

    def list_parts(self, name: str, upload_id: str) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker = 0
        with _translated_errors():
            while True:
                page = self.client.list_parts(
                    Bucket=self.bucket,
                    Key=self.bucket_key(name),
                    UploadId=upload_id,
                    PartNumberMarker=marker,
                )
                parts.extend(
                    StoredPart(part["PartNumber"], part["Size"], quoted_etag(part["ETag"]))
                    for part in page.get("Parts", [])
                )
                if not page.get("IsTruncated"):
                    return parts
                marker = page["NextPartNumberMarker"]

    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: Sequence[PartReceipt]
    ) -> None:
        with _translated_errors():
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.bucket_key(name),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]
                },
            )

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        try:
            with _translated_errors():
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=self.bucket_key(name), UploadId=upload_id
                )
        except UploadNotFound:
            pass

    def stat_object(self, name: str) -> StoredPart | None:
        try:
            with _translated_errors():
                head = self.client.head_object(Bucket=self.bucket, Key=self.bucket_key(name))
        except _ObjectMissing:
            return None
        return StoredPart(1, int(head["ContentLength"]), quoted_etag(head.get("ETag", "")))

    def delete_object(self, name: str) -> None:
        with _translated_errors():
            self.client.delete_object(Bucket=self.bucket, Key=self.bucket_key(name))


class _ObjectMissing(StorageError):
    pass


_CODE_TO_ERROR: dict[str, Callable[[str], StorageError]] = {
    "NoSuchUpload": UploadNotFound,
    "InvalidPart": InvalidParts,
    "InvalidPartOrder": InvalidParts,
    "EntityTooSmall": InvalidParts,
    "NoSuchKey": _ObjectMissing,
    "404": _ObjectMissing,
}


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn botocore's exceptions into the backend's, keeping the store's own message."""
    try:
        yield
    except ClientError as error:
        details: Any = error.response.get("Error", {})
        code = str(details.get("Code", ""))
        message = f"{code}: {details.get('Message', '') or error}"
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in _CODE_TO_ERROR:
            raise _CODE_TO_ERROR[code](message) from error
        if status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError"):
            raise StorageUnavailable(message) from error
        raise StorageError(message) from error
    except (HTTPClientError, BotoConnectionError) as error:
        raise StorageUnavailable(str(error)) from error
    except BotoCoreError as error:
        raise StorageError(str(error)) from error
