"""The small interface every storage family implements for direct uploads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.core.files.storage import Storage

from ..conf import S3_MAX_OBJECT_SIZE


@dataclass(frozen=True)
class StoredPart:
    """A part the store holds for an unfinished multipart upload (or a whole object)."""

    part_number: int
    size: int
    etag: str


@dataclass(frozen=True)
class PartReceipt:
    """What the client reports of a part it sent: the number and the store's ETag."""

    part_number: int
    etag: str


def quoted_etag(etag: str) -> str:
    """An ETag as the store sends it in the `ETag` header: in double quotes."""
    etag = etag.strip()
    return etag if etag.startswith('"') or not etag else f'"{etag}"'


class StorageError(Exception):
    """The store answered with an error that retrying with the same input will not fix."""


class StorageUnavailable(StorageError):
    """The store could not be reached, or timed out."""


class UploadNotFound(StorageError):
    """The multipart upload id is unknown to the store (never existed, completed or aborted)."""


class InvalidParts(StorageError):
    """The store refused to complete the upload from the parts given (missing, wrong ETag...)."""


class UploadBackend(ABC):
    """Direct-upload operations on one Django storage of a supported family.

    `name` arguments are Django storage names (what a `FileField` stores); each backend maps
    them to bucket keys the way its storage does.
    """

    max_object_size: ClassVar[int] = S3_MAX_OBJECT_SIZE

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    @abstractmethod
    def supports(cls, storage: Storage) -> bool:
        """Whether this backend can drive `storage`."""

    @abstractmethod
    def bucket_key(self, name: str) -> str:
        """The key in the bucket under which the storage keeps `name`."""

    @abstractmethod
    def presign_put(self, name: str, size: int, content_type: str, expires: int) -> str:
        """A URL for one PUT of exactly `size` bytes with this `Content-Type`."""

    @abstractmethod
    def create_multipart_upload(self, name: str, content_type: str) -> str:
        """Start a multipart upload; return its upload id."""

    @abstractmethod
    def presign_upload_part(
        self, name: str, upload_id: str, part_number: int, size: int, expires: int
    ) -> str:
        """A URL for the PUT of part `part_number`, of exactly `size` bytes."""

    @abstractmethod
    def list_parts(self, name: str, upload_id: str) -> list[StoredPart]:
        """Every part the store holds for this upload, by part number."""

    @abstractmethod
    def complete_multipart_upload(
        self, name: str, upload_id: str, parts: Sequence[PartReceipt]
    ) -> None:
        """Assemble the object from `parts`."""

    @abstractmethod
    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        """Free the parts of an unfinished upload; unknown uploads are not an error."""

    @abstractmethod
    def stat_object(self, name: str) -> StoredPart | None:
        """The stored object's size and ETag (as part 1), or None if there is none."""

    @abstractmethod
    def delete_object(self, name: str) -> None:
        """Remove the object; a missing object is not an error."""

    def describe(self) -> dict[str, Any]:
        """Facts for error messages and checks."""
        return {"backend": type(self).__name__}
