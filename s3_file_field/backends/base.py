"""The small interface every storage family implements for direct uploads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, TypeVar

from django.core.files.storage import Storage

from ..conf import S3_MAX_OBJECT_SIZE
from ..cors import CorsRule


@dataclass(frozen=True)
class StoredPart:
    """A part the store holds for an unfinished multipart upload (or a whole object)."""

    part_number: int
    size: int
    etag: str
    # What the store serves a whole object with, by lower-case header name (`stat_object`).
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class PartReceipt:
    """What the client reports of a part it sent: the number and the store's ETag."""

    part_number: int
    etag: str


@dataclass(frozen=True)
class StoredObject:
    """An object found by listing the bucket, under its storage name."""

    name: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class PendingUpload:
    """An unfinished multipart upload found by listing the bucket, under its storage name."""

    name: str
    upload_id: str
    initiated: datetime


def quoted_etag(etag: str) -> str:
    """An ETag as the store sends it in the `ETag` header: in double quotes."""
    etag = etag.strip()
    return etag if etag.startswith('"') or not etag else f'"{etag}"'


_Backend = TypeVar("_Backend", bound="UploadBackend")

# A backend's own store calls (the upload API's, the commands') give up connecting after
# STORE_CONNECT_TIMEOUT seconds and make at most STORE_ATTEMPTS attempts: a store that is down
# (refusing connections, or on a host that drops them) costs an API request at most
# STORE_CONNECT_TIMEOUT * STORE_ATTEMPTS seconds (4 s) before its 503. Reading the answer keeps
# the storage's own timeout: completing a large multipart upload may take minutes.
STORE_CONNECT_TIMEOUT = 2.0
STORE_ATTEMPTS = 2


class UploadBackend(ABC):
    """Direct-upload operations on one Django storage of a supported family.

    `name` arguments are Django storage names (what a `FileField` stores); each backend maps
    them to bucket keys the way its storage does. Its store calls go through a client built
    once from the storage's own (endpoint, credentials, TLS, proxy, read timeout), bounded by
    STORE_CONNECT_TIMEOUT and STORE_ATTEMPTS.
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
    def presign_put(
        self,
        name: str,
        size: int,
        content_type: str,
        expires: int,
        content_md5: str | None = None,
    ) -> str:
        """A URL for one PUT of exactly `size` bytes with `single_put_headers(content_type)`
        (and, given one, this `Content-MD5`, which the store then checks against the bytes): it
        writes only where no object is, and the client chooses no header the store keeps."""

    @abstractmethod
    def create_multipart_upload(self, name: str, content_type: str) -> str:
        """Start a multipart upload of an object with `object_headers(content_type)`; return
        its upload id."""

    @abstractmethod
    def presign_upload_part(
        self,
        name: str,
        upload_id: str,
        part_number: int,
        size: int,
        expires: int,
        content_md5: str | None = None,
    ) -> str:
        """A URL for the PUT of part `part_number`, of exactly `size` bytes (and `content_md5`)."""

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
        """The stored object's size, ETag and headers (as part 1), or None if there is none."""

    @abstractmethod
    def delete_object(self, name: str) -> None:
        """Remove the object; a missing object is not an error."""

    # What the system checks and the management commands need.

    @abstractmethod
    def with_timeout(self: _Backend, seconds: float) -> _Backend:
        """A backend for the same storage whose client waits at most `seconds` per request and
        never retries, so that a check of a store that is down returns quickly."""

    @abstractmethod
    def storage_name(self, key: str) -> str | None:
        """The storage name kept under bucket key `key`; None if the storage could not have
        written that key (outside its location, or not in its normal form)."""

    def key_prefix(self, name_prefix: str) -> str:
        """The bucket key prefix under which the storage keeps names starting with
        `name_prefix` (the storage's location included)."""
        # A sentinel character keeps a trailing "/" (or a partial last segment) through the
        # storage's normalisation, which would otherwise drop it.
        return self.bucket_key(name_prefix + "x")[:-1]

    @abstractmethod
    def presigning_problem(self) -> str | None:
        """Why presigned URLs would not be signed with Signature Version 4; None if they are.

        Must not touch the network.
        """

    @abstractmethod
    def check_bucket(self) -> None:
        """Read one key of the bucket: raises `CredentialsRefused`, `BucketNotFound`,
        `AccessDenied` (valid credentials without the right to list)..."""

    @abstractmethod
    def get_cors_rules(self) -> list[CorsRule] | None:
        """The bucket's CORS rules, in order; None if it has no CORS configuration."""

    @abstractmethod
    def put_cors_rules(self, rules: Sequence[CorsRule]) -> None:
        """Replace the bucket's CORS configuration with `rules`."""

    @abstractmethod
    def list_objects(self, name_prefix: str) -> Iterator[StoredObject]:
        """Every object whose storage name starts with `name_prefix`."""

    @abstractmethod
    def list_pending_uploads(self, name_prefix: str) -> Iterator[PendingUpload]:
        """Every unfinished multipart upload whose storage name starts with `name_prefix`."""

    @abstractmethod
    def delete_objects(self, names: Sequence[str]) -> dict[str, str]:
        """Remove these objects, in as few requests as the store allows; returns the names
        that could not be removed, with the store's reason."""

    @abstractmethod
    def describe(self) -> dict[str, str]:
        """Where the bucket is, for messages: `backend`, `endpoint` and `bucket`."""
