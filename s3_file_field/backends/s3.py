"""django-storages' `S3Storage`, driven through the boto3 client the storage already holds."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from django.core.files.storage import Storage

from .._sigv4 import presign_url, uri_encode
from ..checksums import ChecksumAlgorithm, object_checksum
from ..conf import get_settings
from ..cors import CorsRule
from ..exceptions import (
    CredentialsRefused,
    NoCorsConfiguration,
    NotSupported,
    ObjectMissing,
    StorageError,
    StorageUnavailable,
    UploadNotFound,
    store_error,
)
from ..headers import CONDITIONAL_PUT_HEADERS, object_headers
from .base import (
    STORE_ATTEMPTS,
    STORE_CONNECT_TIMEOUT,
    PartReceipt,
    PendingUpload,
    StoredObject,
    StoredPart,
    UploadBackend,
    quoted_etag,
)

try:
    from botocore.config import Config
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.serialize import create_serializer
    from storages.backends.s3 import S3Storage
    from storages.utils import clean_name
except ImportError:  # pragma: no cover - django-storages or boto3 not installed
    S3Storage = None

if TYPE_CHECKING:
    from botocore.credentials import Credentials
    from mypy_boto3_s3 import S3Client


# S3 refuses a DeleteObjects request of more keys than this.
DELETE_BATCH = 1000

# The checksums that S3-compatible stores of other vendors verify on a PUT, by the end of their
# endpoints' host names, from their documentation (the README's store table): only Content-MD5.
# AWS (no endpoint, or amazonaws.com) verifies all of S3's; anything else is asked of the store
# by `manage.py check` (s3_file_field.W020), and S3FF_CHECKSUM_ALGORITHMS overrides both.
MD5_ONLY_HOSTS = (
    "backblazeb2.com",
    "storage.googleapis.com",
    "digitaloceanspaces.com",
    "wasabisys.com",
)


@dataclass(frozen=True)
class _PresignTarget:
    """Where botocore sends an object's requests for this bucket: resolved once, so that each
    presign is only the library's own signer's work."""

    scheme: str
    netloc: str
    # The path before the URI-encoded key: "/bucket/" (path style) or "/" (virtual host).
    key_prefix: str
    region: str

    def url(self, key: str, query: Sequence[tuple[str, str]] = ()) -> SplitResult:
        encoded = "&".join(f"{uri_encode(k)}={uri_encode(v)}" for k, v in query)
        return SplitResult(
            self.scheme, self.netloc, self.key_prefix + uri_encode(key, safe="/"), encoded, ""
        )


# A key botocore presigns once to show where the bucket's keys are.
_TARGET_PROBE_KEY = "s3ff-presign-target"


class S3Backend(UploadBackend):
    def __init__(
        self,
        storage: Storage,
        client: S3Client | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__(storage)
        self._client = client
        self._credentials = credentials

    @classmethod
    def supports(cls, storage: Storage) -> bool:
        return S3Storage is not None and isinstance(storage, S3Storage)

    @property
    def client(self) -> S3Client:
        if self._client is None:
            # Built once (boto3 clients are thread-safe), unlike the storage's, one per thread.
            configured = self.storage.client_config.connect_timeout  # type: ignore[attr-defined]
            self._client = self._client_with(
                Config(
                    connect_timeout=STORE_CONNECT_TIMEOUT
                    if configured is None
                    else min(configured, STORE_CONNECT_TIMEOUT),
                    # Standard mode retries a refused connection at once; the legacy mode an
                    # environment may choose (AWS_RETRY_MODE) makes 5 attempts with waits of up
                    # to 15 s in all, and a custom `retries` may make any number.
                    retries={"mode": "standard", "total_max_attempts": STORE_ATTEMPTS},
                )
            )
        return self._client

    def _client_with(self, config: Config) -> S3Client:
        """A client built as the storage builds its own (session, endpoint, client settings),
        with `config` overriding those settings; the session's credentials are kept to
        presign with."""
        storage: Any = self.storage
        session = storage._create_session()
        self._credentials = session.get_credentials()
        client: S3Client = session.client(
            "s3",
            region_name=storage.region_name,
            use_ssl=storage.use_ssl,
            endpoint_url=storage.endpoint_url,
            config=storage.client_config.merge(config),
            verify=storage.verify,
        )
        return client

    @property
    def bucket(self) -> str:
        return str(self.storage.bucket_name)  # type: ignore[attr-defined]

    @cached_property
    def _presign_target(self) -> _PresignTarget:
        """Botocore's endpoint for this bucket (path or virtual-host style, a custom endpoint,
        acceleration, dual-stack), read off one URL it presigns."""
        with _translated_errors():
            probe = urlsplit(
                self.client.generate_presigned_url(
                    "put_object", Params={"Bucket": self.bucket, "Key": _TARGET_PROBE_KEY}
                )
            )
        assert probe.path.endswith(_TARGET_PROBE_KEY)
        return _PresignTarget(
            probe.scheme,
            probe.netloc,
            probe.path[: -len(_TARGET_PROBE_KEY)],
            self.client.meta.region_name or "us-east-1",
        )

    def _public_target(self, endpoint: str | None) -> _PresignTarget:
        """Botocore's target, at the address clients reach the store by when it differs from
        the storage's (S3FF_PRESIGN_ENDPOINT_URL): the bucket stays where botocore put it, in
        the path or before the host."""
        target = self._presign_target
        if endpoint is None:
            return target
        public = urlsplit(endpoint)
        virtual_host = target.netloc.startswith(f"{self.bucket}.")
        netloc = f"{self.bucket}.{public.netloc}" if virtual_host else public.netloc
        return replace(target, scheme=public.scheme, netloc=netloc)

    def presign(
        self,
        name: str,
        headers: dict[str, str],
        expires: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        """With the library's signer: botocore's URL, without its per-call cost
        (tests/test_sigv4.py compares them byte for byte)."""
        # Resolving the target builds the client, which finds the credentials.
        target = self._public_target(get_settings().presign_endpoint_url)
        # Frozen each time: credentials that expire (a role's) are refreshed when due.
        credentials = self._credentials and self._credentials.get_frozen_credentials()
        if credentials is None or not credentials.access_key or not credentials.secret_key:
            raise CredentialsRefused("The storage has no credentials to sign with.")
        return presign_url(
            method="PUT",
            url=target.url(self.bucket_key(name), query),
            headers=headers,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            session_token=credentials.token,
            region=target.region,
            expires=expires,
        )

    def bucket_key(self, name: str) -> str:
        return str(self.storage._normalize_name(clean_name(name)))  # type: ignore[attr-defined]

    def object_parameters(
        self, name: str, content_type: str, download_name: str | None = None
    ) -> dict[str, Any]:
        """What `S3Storage._save` would send boto3 for `name` (`get_object_parameters`, its
        `default_acl`), with the type the upload was checked for (whatever the parameters say)
        and the library's disposition where they set none (a field's download name wins)."""
        storage: Any = self.storage
        params: dict[str, Any] = dict(storage.get_object_parameters(self.bucket_key(name)))
        if "ACL" not in params and storage.default_acl:
            params["ACL"] = storage.default_acl
        customer_keys = sorted(key for key in params if key.startswith("SSECustomer"))
        if customer_keys:
            raise NotSupported(
                f"The storage encrypts with a customer-provided key ({', '.join(customer_keys)}):"
                " a direct upload would have to give that key to every client."
            )
        params["ContentType"] = content_type
        if download_name is not None or "ContentDisposition" not in params:
            params["ContentDisposition"] = object_headers(params["ContentType"], download_name)[
                "Content-Disposition"
            ]
        return params

    def unhonoured_settings(self) -> list[tuple[str, str]]:
        storage: Any = self.storage
        found = []
        if storage.gzip:
            found.append(
                (
                    "The storage gzips files of its gzip_content_types on save (AWS_IS_GZIPPED):"
                    " direct uploads are stored as the client sent them, uncompressed.",
                    "Compress before uploading (and set ContentEncoding in the storage's "
                    "object parameters), or set AWS_IS_GZIPPED = False.",
                )
            )
        if "ContentType" in storage.get_object_parameters("s3ff-check"):
            found.append(
                (
                    "The storage's object parameters set ContentType: direct uploads keep the "
                    "type the client declared, as checked against the field's accept.",
                    "Remove ContentType from AWS_S3_OBJECT_PARAMETERS, or limit what the field "
                    "accepts to that type (S3FileField(accept=...)).",
                )
            )
        return found

    def stored_headers(
        self, name: str, content_type: str, download_name: str | None = None
    ) -> dict[str, str]:
        params = self.object_parameters(name, content_type, download_name)
        # Serialized by botocore as its PutObject would send them: Metadata as x-amz-meta-*,
        # dates as HTTP dates, booleans as "true"...
        request = self._put_object_serializer.serialize_to_request(
            {"Bucket": self.bucket, "Key": self.bucket_key(name), **params},
            self._put_object_model,
        )
        return {str(header): str(value) for header, value in request["headers"].items()}

    @cached_property
    def _put_object_model(self) -> Any:
        return self.client.meta.service_model.operation_model("PutObject")

    @cached_property
    def _put_object_serializer(self) -> Any:
        return create_serializer(self._put_object_model.metadata["protocol"])

    def create_multipart_upload(
        self,
        name: str,
        content_type: str,
        checksum: ChecksumAlgorithm | None = None,
        download_name: str | None = None,
    ) -> str:
        params = self.object_parameters(name, content_type, download_name)
        if checksum is not None and checksum.s3_name is not None:
            params["ChecksumAlgorithm"] = checksum.s3_name
            if checksum.full_object:
                params["ChecksumType"] = "FULL_OBJECT"
        with _translated_errors():
            response = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.bucket_key(name), **params
            )
        return response["UploadId"]

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
        self,
        name: str,
        upload_id: str,
        parts: Sequence[PartReceipt],
        checksum: ChecksumAlgorithm | None = None,
    ) -> None:
        named = checksum is not None and checksum.s3_name is not None
        listed: list[dict[str, Any]] = []
        for part in parts:
            item: dict[str, Any] = {"PartNumber": part.part_number, "ETag": part.etag}
            if named and part.checksum is not None:
                item[f"Checksum{checksum.s3_name}"] = part.checksum  # type: ignore[union-attr]
            listed.append(item)
        with _translated_errors():
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.bucket_key(name),
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},  # type: ignore[typeddict-item]
                IfNoneMatch=CONDITIONAL_PUT_HEADERS["If-None-Match"],
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
                head = self.client.head_object(
                    Bucket=self.bucket, Key=self.bucket_key(name), ChecksumMode="ENABLED"
                )
        except ObjectMissing:
            return None
        served = head.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        headers = {name.lower(): str(value) for name, value in served.items()}
        return StoredPart(
            1,
            int(head["ContentLength"]),
            quoted_etag(head.get("ETag", "")),
            headers,
            object_checksum(headers),
        )

    def delete_object(self, name: str) -> None:
        with _translated_errors():
            self.client.delete_object(Bucket=self.bucket, Key=self.bucket_key(name))

    def with_timeout(self, seconds: float) -> S3Backend:
        config = Config(
            connect_timeout=seconds, read_timeout=seconds, retries={"total_max_attempts": 1}
        )
        client = self._client_with(config)
        return S3Backend(self.storage, client, self._credentials)

    def storage_name(self, key: str) -> str | None:
        location = str(self.storage.location).strip("/")  # type: ignore[attr-defined]
        if location:
            if not key.startswith(location + "/"):
                return None
            name = key[len(location) + 1 :]
        else:
            name = key
        return name if name and self.bucket_key(name) == key else None

    def presigning_problem(self) -> str | None:
        # The library's own signer: Signature Version 4 whatever the storage's setting.
        try:
            self.presign_put("s3ff-signature-check", 0, "application/octet-stream", 60)
        except CredentialsRefused as error:
            return str(error)
        return None

    def check_bucket(self) -> None:
        # ListObjectsV2 rather than HeadBucket: a refused HEAD has no body, so it cannot tell
        # a wrong key from missing rights.
        with _translated_errors():
            self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1, Prefix=self.key_prefix(""))

    def get_cors_rules(self) -> list[CorsRule] | None:
        try:
            with _translated_errors():
                response = self.client.get_bucket_cors(Bucket=self.bucket)
        except NoCorsConfiguration:
            return None
        return [CorsRule.from_s3(rule) for rule in response.get("CORSRules", [])]

    def put_cors_rules(self, rules: Sequence[CorsRule]) -> None:
        with _translated_errors():
            self.client.put_bucket_cors(
                Bucket=self.bucket,
                CORSConfiguration={"CORSRules": [rule.as_s3() for rule in rules]},  # type: ignore[misc]
            )

    def list_objects(self, name_prefix: str) -> Iterator[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        with _translated_errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key_prefix(name_prefix)):
                for item in page.get("Contents", []):
                    name = self.storage_name(item["Key"])
                    if name is not None:
                        yield StoredObject(name, int(item["Size"]), item["LastModified"])

    def list_pending_uploads(self, name_prefix: str) -> Iterator[PendingUpload]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        with _translated_errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key_prefix(name_prefix)):
                for upload in page.get("Uploads", []):
                    name = self.storage_name(upload["Key"])
                    if name is not None:
                        yield PendingUpload(name, upload["UploadId"], upload["Initiated"])

    def delete_objects(self, names: Sequence[str]) -> dict[str, str]:
        failed: dict[str, str] = {}
        for start in range(0, len(names), DELETE_BATCH):
            by_key = {self.bucket_key(name): name for name in names[start : start + DELETE_BATCH]}
            with _translated_errors():
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in by_key], "Quiet": True},
                )
            for error in response.get("Errors", []):
                name = by_key.get(error.get("Key", ""), error.get("Key", ""))
                failed[name] = f"{error.get('Code', '')}: {error.get('Message', '')}"
        return failed

    def offered_checksums(self, configured: Sequence[str] | None) -> tuple[str, ...]:
        if configured is None:
            host = urlsplit(getattr(self.storage, "endpoint_url", None) or "").hostname or ""
            if host.endswith(MD5_ONLY_HOSTS):
                return ("md5",)
        return super().offered_checksums(configured)

    def describe(self) -> dict[str, str]:
        storage: Any = self.storage
        return {
            "backend": type(storage).__name__,
            "endpoint": storage.endpoint_url
            or f"AWS S3 ({storage.region_name or 'default region'})",
            "bucket": self.bucket,
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
        raise store_error(code, status, message) from error
    except (HTTPClientError, BotoConnectionError) as error:
        raise StorageUnavailable(str(error)) from error
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CredentialsRefused(str(error)) from error
    except BotoCoreError as error:
        raise StorageError(str(error)) from error
