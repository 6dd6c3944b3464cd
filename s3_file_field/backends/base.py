"""The small interface every storage family implements for direct uploads."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from django.core.files.storage import Storage

from ..conf import S3_MAX_OBJECT_SIZE
from ..filenames import content_disposition


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


def _glob_match(pattern: str, value: str) -> bool:
    """S3's CORS matching: `*` stands for any run of characters, everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class CorsRule:
    """One rule of a bucket's CORS configuration, in S3's terms."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def covers_origin(self, origin: str | None) -> bool:
        """Whether every origin `origin` stands for matches the rule; None stands for "some"."""
        if origin is None:
            return bool(self.allowed_origins)
        # An origin given with a wildcard ("https://*.example.com") is covered when the rule's
        # pattern matches the pattern itself: the rule's `*` then matches whatever ours does.
        return any(_glob_match(allowed, origin) for allowed in self.allowed_origins)

    def answers(self, origin: str | None, method: str, request_headers: Sequence[str]) -> bool:
        """Whether S3 would pick this rule for such a request (or its preflight)."""
        return (
            self.covers_origin(origin)
            and method.upper() in (m.upper() for m in self.allowed_methods)
            and all(
                any(
                    _glob_match(allowed.lower(), header.lower()) for allowed in self.allowed_headers
                )
                for header in request_headers
            )
        )

    def exposes(self, header: str) -> bool:
        return any(exposed.lower() in (header.lower(), "*") for exposed in self.expose_headers)

    def as_s3(self) -> dict[str, Any]:
        """The rule as S3's JSON (boto3's `CORSRules` items, and the AWS console) writes it."""
        rule: dict[str, Any] = {}
        if self.id:
            rule["ID"] = self.id
        rule["AllowedOrigins"] = list(self.allowed_origins)
        rule["AllowedMethods"] = list(self.allowed_methods)
        if self.allowed_headers:
            rule["AllowedHeaders"] = list(self.allowed_headers)
        if self.expose_headers:
            rule["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age_seconds is not None:
            rule["MaxAgeSeconds"] = self.max_age_seconds
        return rule

    @classmethod
    def from_s3(cls, rule: Any) -> CorsRule:
        max_age = rule.get("MaxAgeSeconds")
        return cls(
            allowed_origins=tuple(rule.get("AllowedOrigins", ())),
            allowed_methods=tuple(rule.get("AllowedMethods", ())),
            allowed_headers=tuple(rule.get("AllowedHeaders", ())),
            expose_headers=tuple(rule.get("ExposeHeaders", ())),
            max_age_seconds=None if max_age is None else int(max_age),
            id=rule.get("ID") or None,
        )


def quoted_etag(etag: str) -> str:
    """An ETag as the store sends it in the `ETag` header: in double quotes."""
    etag = etag.strip()
    return etag if etag.startswith('"') or not etag else f'"{etag}"'


class StorageError(Exception):
    """The store answered with an error that retrying with the same input will not fix."""


class StorageUnavailable(StorageError):
    """The store could not be reached, or timed out."""


class CredentialsRefused(StorageError):
    """The store does not accept the credentials (unknown key, wrong secret, expired token...),
    or there are none to sign with."""


class AccessDenied(StorageError):
    """The credentials are valid but lack the right to do this."""


class BucketNotFound(StorageError):
    """The bucket does not exist."""


class NotSupported(StorageError):
    """The store does not implement this operation (MinIO has no per-bucket CORS, for one)."""


# S3 error codes that mean the request's credentials, not its rights, are refused.
CREDENTIALS_ERROR_CODES = (
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "TokenRefreshRequired",
    "InvalidSecurity",
    "AuthorizationHeaderMalformed",
    "AccountProblem",
    "AllAccessDisabled",
)


class UploadNotFound(StorageError):
    """The multipart upload id is unknown to the store (never existed, completed or aborted)."""


class ObjectExists(StorageError):
    """A conditional write was refused: an object is already at the key."""


class InvalidParts(StorageError):
    """The store refused to complete the upload from the parts given (missing, wrong ETag...)."""


_Backend = TypeVar("_Backend", bound="UploadBackend")

# Signed into every single PUT, and sent with every multipart completion where the backend can:
# the store writes only where no object is, so no URL (not even a fresh one from upload-parts/)
# can rewrite a file after finalize.
CONDITIONAL_PUT_HEADERS = {"If-None-Match": "*"}
# Headers the store would keep from a single PUT's request and serve with the object: signed
# empty, so that a client can set none of them (the store refuses a request whose signed
# header differs, and keeps nothing for an empty one).
UNSET_PUT_HEADERS = {
    "Cache-Control": "",
    "Content-Encoding": "",
    "Content-Language": "",
    "Expires": "",
}


def object_headers(content_type: str) -> dict[str, str]:
    """The headers an uploaded object is stored with: its type, and a disposition that makes a
    browser download anything not known to be safe to show from the bucket's origin."""
    return {"Content-Type": content_type, "Content-Disposition": content_disposition(content_type)}


def single_put_headers(content_type: str) -> dict[str, str]:
    """Every header a single PUT is signed for and must send, exactly so."""
    return {**object_headers(content_type), **CONDITIONAL_PUT_HEADERS, **UNSET_PUT_HEADERS}


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
