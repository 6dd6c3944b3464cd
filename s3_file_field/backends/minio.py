"""django-minio-storage's `MinioStorage`, driven through the minio client the storage holds."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from xml.etree import ElementTree

from django.core.files.storage import Storage

from .._sigv4 import presign_url
from ..checksums import ChecksumAlgorithm, object_checksum
from ..conf import get_settings
from ..cors import CorsRule
from ..exceptions import (
    NoCorsConfiguration,
    ObjectMissing,
    StorageError,
    StorageUnavailable,
    UploadNotFound,
    store_error,
)
from ..headers import object_headers
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
    import urllib3
    import urllib3.exceptions
    from minio import Minio
    from minio.datatypes import Part
    from minio.deleteobjects import DeleteObject
    from minio.error import InvalidResponseError, S3Error, ServerError
    from minio.helpers import normalize_headers
    from minio_storage.storage import MinioStorage

    from .minio_sdk import MinioSdk, read_timeout, storage_key
except ImportError:  # pragma: no cover - django-minio-storage not installed
    MinioStorage = None  # type: ignore[assignment,misc]

_Params = dict[str, str | list[str] | tuple[str]]
S3_XML_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
# The minio SDK has no call for bucket CORS (MinIO itself has none), but the stores it is
# pointed at often do; these are S3's element names.
_CORS_LISTS = {
    "AllowedOrigin": "allowed_origins",
    "AllowedMethod": "allowed_methods",
    "AllowedHeader": "allowed_headers",
    "ExposeHeader": "expose_headers",
}


class MinioBackend(UploadBackend):
    # Not the SHAs: their objects' checksums are of the parts' checksums, which the minio SDK's
    # completion cannot list.
    verified_checksums = ("crc32", "crc32c", "crc64nvme", "md5")

    def __init__(self, storage: Storage, client: Minio | None = None) -> None:
        super().__init__(storage)
        self._client = client
        # The storage's client and our bounded copy of it, rebuilt if the storage's changes.
        self._bounded: tuple[Minio, Minio] | None = None
        # Clients for S3FF_PRESIGN_ENDPOINT_URL, by its value.
        self._public_clients: dict[str, Minio] = {}

    @classmethod
    def supports(cls, storage: Storage) -> bool:
        return MinioStorage is not None and isinstance(storage, MinioStorage)

    @property
    def storage_client(self) -> Minio:
        return self.storage.client  # type: ignore[attr-defined,no-any-return]

    @property
    def client(self) -> Minio:
        if self._client is not None:
            return self._client
        source, bounded = self.storage_client, self._bounded
        if bounded is None or bounded[0] is not source:
            # The SDK's own pool waits 5 minutes to connect and retries 5 times with backoff:
            # 6 s per call when the store refuses connections, 30 minutes when it drops them.
            source_pool = MinioSdk(source).pool
            pool = _pool_like(
                source_pool,
                _bounded_timeout(_pool_timeout(source_pool)),
                urllib3.Retry(
                    total=STORE_ATTEMPTS - 1,
                    status_forcelist=(500, 502, 503, 504),
                    # A Retry-After of minutes would hold the API request that long.
                    respect_retry_after_header=False,
                ),
            )
            bounded = self._bounded = (source, MinioSdk(source).over(pool))
        return bounded[1]

    @property
    def sdk(self) -> MinioSdk:
        return MinioSdk(self.client)

    @property
    def presign_client(self) -> Minio:
        # The address clients reach the store by, when it is not the storage's: the setting,
        # or the storage's public `base_url` (it keeps a second client for it). Presigned URLs
        # must name that host, because the host is signed.
        endpoint = get_settings().presign_endpoint_url
        if endpoint is None:
            client: Minio = getattr(self.storage, "base_url_client", self.client)
            return client
        if endpoint not in self._public_clients:
            self._public_clients[endpoint] = MinioStorage._create_base_url_client(
                self.client, self.bucket, endpoint
            )
        return self._public_clients[endpoint]

    @property
    def bucket(self) -> str:
        return str(self.storage.bucket_name)  # type: ignore[attr-defined]

    def bucket_key(self, name: str) -> str:
        return storage_key(self.storage, name)  # type: ignore[arg-type]

    def presign(
        self,
        name: str,
        headers: dict[str, str],
        expires: int,
        query: Sequence[tuple[str, str]] = (),
    ) -> str:
        sdk = MinioSdk(self.presign_client)
        with _translated_errors():
            region = sdk.region(self.bucket)
            credentials = sdk.credentials()
        if credentials is None:
            raise StorageError("The minio client has no credentials to sign with.")
        url = sdk.object_url("PUT", region, self.bucket, self.bucket_key(name), dict(query))
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

    def stored_headers(
        self, name: str, content_type: str, download_name: str | None = None
    ) -> dict[str, str]:
        """The storage's `object_metadata` (MINIO_STORAGE_MEDIA_OBJECT_METADATA) as its client
        sends them on save (user metadata as x-amz-meta-*), with the checked type and the
        library's disposition where the metadata sets none."""
        metadata = normalize_headers(getattr(self.storage, "object_metadata", None) or {})
        stored = {
            str(header): ", ".join(value) if isinstance(value, list | tuple) else str(value)
            for header, value in metadata.items()
        }
        named = {header.lower(): header for header in stored}
        ours = object_headers(content_type, download_name)
        stored.pop(named.get("content-type", "Content-Type"), None)
        if download_name is not None:
            stored.pop(named.get("content-disposition", "Content-Disposition"), None)
        elif "content-disposition" in named:
            del ours["Content-Disposition"]
        return {**stored, **ours}

    def create_multipart_upload(
        self,
        name: str,
        content_type: str,
        checksum: ChecksumAlgorithm | None = None,
        download_name: str | None = None,
    ) -> str:
        headers: dict[str, str | list[str] | tuple[str]] = {
            **self.stored_headers(name, content_type, download_name)
        }
        if checksum is not None and checksum.s3_name is not None:
            headers["x-amz-checksum-algorithm"] = checksum.s3_name
            if checksum.full_object:
                headers["x-amz-checksum-type"] = "FULL_OBJECT"
        with _translated_errors():
            return self.sdk.create_multipart_upload(self.bucket, self.bucket_key(name), headers)

    def list_parts(self, name: str, upload_id: str) -> list[StoredPart]:
        parts: list[StoredPart] = []
        marker: str | None = None
        with _translated_errors():
            while True:
                page = self.sdk.list_parts(self.bucket, self.bucket_key(name), upload_id, marker)
                parts.extend(
                    StoredPart(p.part_number, p.size or 0, quoted_etag(p.etag)) for p in page.parts
                )
                if not page.is_truncated:
                    return parts
                marker = str(page.next_part_number_marker)

    def complete_multipart_upload(
        self,
        name: str,
        upload_id: str,
        parts: Sequence[PartReceipt],
        checksum: ChecksumAlgorithm | None = None,
    ) -> None:
        # The minio SDK lists parts by ETag alone: a full-object CRC upload needs no more, and
        # the store checked every part's checksum as it took it.
        with _translated_errors():
            self.sdk.complete_multipart_upload(
                self.bucket,
                self.bucket_key(name),
                upload_id,
                [Part(p.part_number, p.etag) for p in parts],
            )

    def abort_multipart_upload(self, name: str, upload_id: str) -> None:
        try:
            with _translated_errors():
                self.sdk.abort_multipart_upload(self.bucket, self.bucket_key(name), upload_id)
        except UploadNotFound:
            pass

    def stat_object(self, name: str) -> StoredPart | None:
        try:
            with _translated_errors():
                stat = self.client.stat_object(
                    self.bucket,
                    self.bucket_key(name),
                    extra_headers={"x-amz-checksum-mode": "ENABLED"},
                )
        except ObjectMissing:
            return None
        served = stat.metadata or {}
        headers = {name.lower(): str(value) for name, value in served.items()}
        return StoredPart(
            1, int(stat.size or 0), quoted_etag(stat.etag or ""), headers, object_checksum(headers)
        )

    def delete_object(self, name: str) -> None:
        with _translated_errors():
            self.client.remove_object(self.bucket, self.bucket_key(name))

    def with_timeout(self, seconds: float) -> MinioBackend:
        source = self.storage_client
        sdk = MinioSdk(source)
        pool = _pool_like(sdk.pool, urllib3.Timeout(connect=seconds, read=seconds), retries=False)
        return MinioBackend(self.storage, sdk.over(pool))

    def storage_name(self, key: str) -> str | None:
        return key if key and self.bucket_key(key) == key else None

    def presigning_problem(self) -> str | None:
        # This library signs minio URLs itself, always with Signature Version 4.
        if MinioSdk(self.presign_client).credentials() is None:
            return "the minio client has no credentials to sign with"
        return None

    def check_bucket(self) -> None:
        query: _Params = {"list-type": "2", "max-keys": "1", "prefix": self.key_prefix("")}
        with _translated_errors():
            self.sdk.execute("GET", self.bucket, query_params=query)

    def get_cors_rules(self) -> list[CorsRule] | None:
        try:
            with _translated_errors():
                response = self.sdk.execute("GET", self.bucket, query_params={"cors": ""})
        except NoCorsConfiguration:
            return None
        # The store's own answer to our signed request; expat refuses external entities.
        root = ElementTree.fromstring(response.data)  # noqa: S314
        return [_cors_rule(element) for element in root if _local(element.tag) == "CORSRule"]

    def put_cors_rules(self, rules: Sequence[CorsRule]) -> None:
        body = _cors_xml(rules)
        headers: _Params = {
            # S3 requires a checksum of a CORS configuration; MD5 is what every store accepts.
            "Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode(),  # noqa: S324
            "Content-Type": "application/xml",
        }
        with _translated_errors():
            self.sdk.execute(
                "PUT", self.bucket, body=body, headers=headers, query_params={"cors": ""}
            )

    def list_objects(self, name_prefix: str) -> Iterator[StoredObject]:
        with _translated_errors():
            for item in self.client.list_objects(
                self.bucket, prefix=self.key_prefix(name_prefix), recursive=True
            ):
                name = self.storage_name(str(item.object_name))
                if name is not None and not item.is_dir and item.last_modified is not None:
                    yield StoredObject(name, int(item.size or 0), item.last_modified)

    def list_pending_uploads(self, name_prefix: str) -> Iterator[PendingUpload]:
        key_marker: str | None = None
        upload_id_marker: str | None = None
        with _translated_errors():
            while True:
                page = self.sdk.list_multipart_uploads(
                    self.bucket, self.key_prefix(name_prefix), key_marker, upload_id_marker
                )
                for upload in page.uploads:
                    name = self.storage_name(upload.object_name)
                    if name is not None and upload.upload_id and upload.initiated_time:
                        yield PendingUpload(name, upload.upload_id, upload.initiated_time)
                if not page.is_truncated or not page.uploads:
                    return
                # The SDK loses NextUploadIdMarker; S3 defines it as the page's last upload.
                key_marker = page.next_key_marker or page.uploads[-1].object_name
                upload_id_marker = page.uploads[-1].upload_id

    def delete_objects(self, names: Sequence[str]) -> dict[str, str]:
        by_key = {self.bucket_key(name): name for name in names}
        failed: dict[str, str] = {}
        with _translated_errors():
            # The SDK sends batches of 1,000 and yields the errors lazily: read them all.
            for error in self.client.remove_objects(
                self.bucket, [DeleteObject(key) for key in by_key]
            ):
                key = str(error.name or "")
                failed[by_key.get(key, key)] = f"{error.code}: {error.message or ''}"
        return failed

    def describe(self) -> dict[str, str]:
        return {
            "backend": type(self.storage).__name__,
            "endpoint": self.sdk.endpoint(),
            "bucket": self.bucket,
        }


def _pool_like(
    pool: urllib3.PoolManager, timeout: urllib3.Timeout, retries: urllib3.Retry | bool
) -> urllib3.PoolManager:
    """A pool like `pool` (TLS options, proxy) with these timeouts and retries."""
    options = {
        name: value
        for name, value in pool.connection_pool_kw.items()
        if not name.startswith("_proxy")
    }
    options.update(timeout=timeout, retries=retries)
    if isinstance(pool, urllib3.ProxyManager) and pool.proxy is not None:
        return urllib3.ProxyManager(pool.proxy.url, proxy_headers=pool.proxy_headers, **options)
    return urllib3.PoolManager(**options)


def _pool_timeout(pool: urllib3.PoolManager) -> urllib3.Timeout:
    timeout = pool.connection_pool_kw.get("timeout", urllib3.Timeout.DEFAULT_TIMEOUT)
    return timeout if isinstance(timeout, urllib3.Timeout) else urllib3.Timeout.from_float(timeout)


def _bounded_timeout(timeout: urllib3.Timeout) -> urllib3.Timeout:
    """`timeout` with its connect part at most STORE_CONNECT_TIMEOUT; the read part is kept."""
    connect = timeout.connect_timeout
    if isinstance(connect, int | float):
        connect = min(connect, STORE_CONNECT_TIMEOUT)
    else:  # None or unset: only the OS's own limit, which is minutes
        connect = STORE_CONNECT_TIMEOUT
    return urllib3.Timeout(total=timeout.total, connect=connect, read=read_timeout(timeout))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _cors_rule(element: ElementTree.Element) -> CorsRule:
    lists: dict[str, list[str]] = {attribute: [] for attribute in _CORS_LISTS.values()}
    rule_id: str | None = None
    max_age: int | None = None
    for child in element:
        tag, text = _local(child.tag), (child.text or "").strip()
        if tag in _CORS_LISTS:
            lists[_CORS_LISTS[tag]].append(text)
        elif tag == "ID":
            rule_id = text or None
        elif tag == "MaxAgeSeconds" and text.isdigit():
            max_age = int(text)
    return CorsRule(
        allowed_origins=tuple(lists["allowed_origins"]),
        allowed_methods=tuple(lists["allowed_methods"]),
        allowed_headers=tuple(lists["allowed_headers"]),
        expose_headers=tuple(lists["expose_headers"]),
        max_age_seconds=max_age,
        id=rule_id,
    )


def _cors_xml(rules: Sequence[CorsRule]) -> bytes:
    root = ElementTree.Element("CORSConfiguration", xmlns=S3_XML_NAMESPACE)
    for rule in rules:
        element = ElementTree.SubElement(root, "CORSRule")
        if rule.id:
            ElementTree.SubElement(element, "ID").text = rule.id
        for tag, attribute in _CORS_LISTS.items():
            for value in getattr(rule, attribute):
                ElementTree.SubElement(element, tag).text = value
        if rule.max_age_seconds is not None:
            ElementTree.SubElement(element, "MaxAgeSeconds").text = str(rule.max_age_seconds)
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn the minio SDK's exceptions into the backend's, keeping the store's own message."""
    try:
        yield
    except S3Error as error:
        code = str(error.code)
        message = f"{code}: {error.message}"
        status: Any = getattr(error.response, "status", 0)
        raise store_error(code, int(status or 0), message) from error
    except ServerError as error:
        raise StorageUnavailable(str(error)) from error
    except InvalidResponseError as error:
        raise StorageError(str(error)) from error
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise StorageUnavailable(str(error)) from error
