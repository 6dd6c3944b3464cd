"""The small interface every storage family implements for direct uploads."""

from __future__ import annotations

import base64
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, TypeVar

import urllib3
from django.core.files.storage import Storage

from ..checksums import ALGORITHMS, ChecksumAlgorithm, ObjectChecksum, PartChecksum
from ..conf import S3_MAX_OBJECT_SIZE
from ..cors import CORS_REQUEST_HEADERS, CorsRule
from ..exceptions import StorageError
from ..headers import object_headers, single_put_headers


@dataclass(frozen=True)
class StoredPart:
    """A part the store holds for an unfinished multipart upload (or a whole object)."""

    part_number: int
    size: int
    etag: str
    # What the store serves a whole object with, by lower-case header name (`stat_object`).
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The checksum the store keeps with a whole object, if any (`stat_object`).
    checksum: ObjectChecksum | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PartReceipt:
    """What the client reports of a part it sent: the number, the store's ETag and, for an
    upload with a checksum algorithm, the part's checksum (the store checks it again)."""

    part_number: int
    etag: str
    checksum: str | None = None


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
    # The checksums the store verifies as it takes a PUT, unless S3FF_CHECKSUM_ALGORITHMS says.
    verified_checksums: ClassVar[tuple[str, ...]] = tuple(ALGORITHMS)

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
    def presign(
        self,
        name: str,
        headers: dict[str, str],
        expires: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        """A URL for one PUT of `name` that must carry exactly these `headers` (signed), with
        the operation's `query` parameters in their order, living `expires` seconds."""

    def stored_headers(
        self, name: str, content_type: str, download_name: str | None = None
    ) -> dict[str, str]:
        """The headers `name` is to be stored with, as the storage would store it on save (its
        object parameters: cache headers, metadata, ACL, encryption...), with the type the
        upload was checked for and the disposition the library chooses (`object_headers`).
        `NotSupported` when the storage asks for what a direct upload cannot honour."""
        return object_headers(content_type, download_name)

    def unhonoured_settings(self) -> list[tuple[str, str]]:
        """What the storage does on save that a direct upload cannot do the same way: (what,
        and what to do about it), for `manage.py check`."""
        return []

    def cors_request_headers(self) -> tuple[str, ...]:
        """The headers a browser's PUT sends to this storage's bucket: every client's, and
        those the storage's own object parameters add to a single PUT (ACL, metadata...)."""
        try:
            stored = self.stored_headers("s3ff-cors", "application/octet-stream")
        except StorageError:
            stored = {}
        known = {header.lower() for header in CORS_REQUEST_HEADERS}
        return (*CORS_REQUEST_HEADERS, *(h for h in stored if h.lower() not in known))

    def presign_put(
        self,
        name: str,
        size: int,
        content_type: str,
        expires: int,
        checksum: PartChecksum | None = None,
        download_name: str | None = None,
    ) -> str:
        """A URL for one PUT of exactly `size` bytes with `single_put_headers` of the object's
        `stored_headers` (and, given one, this checksum's header, which the store then checks
        against the bytes): it writes only where no object is, and the client chooses no
        header the store keeps."""
        stored = self.stored_headers(name, content_type, download_name)
        headers = {"Content-Length": str(size), **single_put_headers(stored)}
        return self.presign(name, {**headers, **(checksum.header() if checksum else {})}, expires)

    @abstractmethod
    def create_multipart_upload(
        self,
        name: str,
        content_type: str,
        checksum: ChecksumAlgorithm | None = None,
        download_name: str | None = None,
    ) -> str:
        """Start a multipart upload of an object with its `stored_headers` (whose every part
        then carries a `checksum` of this algorithm, if given: the object gets a checksum the
        store computed); return its upload id."""

    def presign_upload_part(
        self,
        name: str,
        upload_id: str,
        part_number: int,
        size: int,
        expires: int,
        checksum: PartChecksum | None = None,
    ) -> str:
        """A URL for the PUT of part `part_number`, of exactly `size` bytes (and `checksum`)."""
        headers = {"Content-Length": str(size), **(checksum.header() if checksum else {})}
        # In botocore's order: the S3 backend's URLs are botocore's, byte for byte.
        query = [("uploadId", upload_id), ("partNumber", str(part_number))]
        return self.presign(name, headers, expires, query)

    @abstractmethod
    def list_parts(self, name: str, upload_id: str) -> list[StoredPart]:
        """Every part the store holds for this upload, by part number."""

    @abstractmethod
    def complete_multipart_upload(
        self,
        name: str,
        upload_id: str,
        parts: Sequence[PartReceipt],
        checksum: ChecksumAlgorithm | None = None,
    ) -> None:
        """Assemble the object from `parts` (whose checksums are of `checksum`, the upload's
        algorithm)."""

    @abstractmethod
    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        """Free the parts of an unfinished upload; unknown uploads are not an error."""

    @abstractmethod
    def stat_object(self, name: str) -> StoredPart | None:
        """The stored object's size, ETag, headers and checksum (as part 1), or None if there
        is none."""

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

    def offered_checksums(self, configured: Sequence[str] | None) -> tuple[str, ...]:
        """The checksum algorithms to offer clients: those the project configured
        (`S3FF_CHECKSUM_ALGORITHMS`), or those this store verifies."""
        return tuple(configured) if configured is not None else self.verified_checksums

    def takes_wrong_checksum(self, name: str, algorithm: str, timeout: float) -> bool | None:
        """Whether the store stores a PUT whose `algorithm` checksum does not match its bytes
        (then it verifies nothing of that kind, and the object is removed); None if its answer
        tells neither (an error, no answer)."""
        body = b"s3-file-field checksum probe"
        # No digest of these bytes is all zeros.
        wrong = PartChecksum(
            ALGORITHMS[algorithm],
            base64.b64encode(bytes(ALGORITHMS[algorithm].digest_bytes)).decode(),
        )
        content_type = "application/octet-stream"
        try:
            url = self.presign_put(name, len(body), content_type, 60, wrong)
            # A pool of its own: `urllib3.request` is urllib3 2's alone.
            answer = urllib3.PoolManager().request(
                "PUT",
                url,
                body=body,
                headers={
                    **single_put_headers(self.stored_headers(name, content_type)),
                    **wrong.header(),
                },
                timeout=timeout,
                retries=False,
            )
        except (StorageError, urllib3.exceptions.HTTPError):
            return None
        if 200 <= answer.status < 300:
            self.delete_object(name)
            return True
        return False if answer.status == 400 else None

    @abstractmethod
    def describe(self) -> dict[str, str]:
        """Where the bucket is, for messages: `backend`, `endpoint` and `bucket`."""
