"""The Python client of s3-file-field: uploads files straight to the store through a Django
server's upload API (docs/protocol.md). Install it with `pip install "s3-file-field[client]"`.

    with S3FileFieldClient("https://example.com/api/s3-upload/", token="...") as client:
        value = client.upload("scan.tif", "imaging.Scan.image").field_value

It needs no Django settings: it speaks to the API over HTTP with httpx (connection pools,
timeouts per socket operation, streamed request bodies, a sync API that threads share).
"""

from __future__ import annotations

import mimetypes
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, BinaryIO

import httpx

from ._api import UploadApi
from ._retry import RetryInfo, RetryPolicy
from ._slots import PartSlots
from ._source import UploadFile, open_source
from ._upload import Engine, Progress, ServerTraits, UploadResult, UploadRun
from .errors import (
    ApiCallError,
    ApiNetworkError,
    InvalidInputError,
    MissingEtagError,
    PartChecksumError,
    PartNetworkError,
    PartStalledError,
    PartUploadError,
    ProtocolError,
    S3FileFieldClientError,
    UploadCancelledError,
)
from .resume import DirectoryResumeStore, ResumeStore


@dataclass(frozen=True)
class ClientDefaults:
    """Every default of the client, in one place (the README's client options table)."""

    # Part PUTs at once, over all of a client's uploads.
    concurrency: int = 8
    # Retries of each request after a network error, 5xx or 429.
    retries: int = 5
    # Backoff: the first wait is up to `retry_base_delay` seconds, doubling, capped.
    retry_base_delay: float = 1.0
    retry_max_delay: float = 30.0
    # Make sure each part is stored as it was read (CRC32 signed into its URL, or MD5s).
    checksums: bool = True
    # A request that moves no byte for this many seconds is given up (and retried).
    stall_timeout: float = 30.0
    # Django's CSRF cookie, sent back as X-CSRFToken with session authentication.
    csrf_cookie_name: str = "csrftoken"


DEFAULTS = ClientDefaults()


class S3FileFieldClient:
    """Uploads files through one server's upload API. Threads may share it.

    Authentication: `token` (DRF's `Authorization: Token ...`), any `headers`, `cookies` of a
    signed-in session (its CSRF cookie is sent back as Django asks), or your own `http_client`
    (an `httpx.Client` with whatever auth it has). None of it is ever sent to the store.
    """

    def __init__(
        self,
        base_url: str,
        api_session: Any = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        concurrency: int = DEFAULTS.concurrency,
        retries: int = DEFAULTS.retries,
        retry_base_delay: float = DEFAULTS.retry_base_delay,
        retry_max_delay: float = DEFAULTS.retry_max_delay,
        checksums: bool = DEFAULTS.checksums,
        stall_timeout: float = DEFAULTS.stall_timeout,
        resume: bool | ResumeStore = False,
        csrf_cookie_name: str = DEFAULTS.csrf_cookie_name,
        on_retry: Callable[[RetryInfo], None] | None = None,
        store_client: httpx.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if concurrency < 1 or retries < 0 or stall_timeout <= 0:
            raise InvalidInputError("concurrency ≥ 1, retries ≥ 0 and stall_timeout > 0")
        timeout = httpx.Timeout(stall_timeout, pool=None)
        self._owned: list[httpx.Client] = []
        if http_client is None:
            http_client = httpx.Client(timeout=timeout, follow_redirects=False)
            self._owned.append(http_client)
        if api_session is not None:
            _adopt_requests_session(http_client, api_session)
        if token is not None:
            http_client.headers["Authorization"] = f"Token {token}"
        http_client.headers.update(dict(headers or {}))
        for name, value in (cookies or {}).items():
            http_client.cookies.set(name, value)
        if store_client is None:
            # The store gets nothing of the API's authentication: a client of its own.
            limits = httpx.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            )
            store_client = httpx.Client(timeout=timeout, limits=limits, follow_redirects=False)
            self._owned.append(store_client)
        policy = RetryPolicy(retries, retry_base_delay, retry_max_delay, jitter, sleep)
        self._engine = Engine(
            api=UploadApi(base_url, http_client, policy, csrf_cookie_name, on_retry),
            store=store_client,
            policy=policy,
            concurrency=concurrency,
            part_slots=PartSlots(concurrency),
            checksums=checksums,
            stall_timeout=stall_timeout,
            resume_store=DirectoryResumeStore() if resume is True else resume or None,
            traits=ServerTraits(),
            on_retry=on_retry,
        )

    def upload(
        self,
        file: UploadFile,
        field_id: str,
        *,
        file_name: str | None = None,
        content_type: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        keep_on_cancel: bool = False,
    ) -> UploadResult:
        """Uploads a path, a binary file object (from its position) or bytes for the
        `S3FileField` named `field_id` ("app_label.Model.field"). `cancel`, when set, stops
        the upload and frees it on the store (as Ctrl+C does), raising UploadCancelledError;
        with `keep_on_cancel` and `resume`, it is kept instead, for the next upload of the
        same file to go on with.
        """
        source = open_source(file)
        try:
            name = file_name or source.name
            if not name:
                raise InvalidInputError("file_name is needed for bytes or an unnamed file object")
            content_type = content_type or mimetypes.guess_type(name)[0]
            run = UploadRun(
                self._engine,
                source,
                field_id,
                name,
                content_type or "application/octet-stream",
                on_progress,
                cancel,
                keep_on_cancel,
            )
            return run.run()
        finally:
            source.close()

    def upload_file(
        self, *, file_stream: BinaryIO, file_name: str, file_content_type: str, field_id: str
    ) -> str:
        """django-s3-file-field-client 1.x's call, for scripts written for it: the field value."""
        return self.upload(
            file_stream, field_id, file_name=file_name, content_type=file_content_type
        ).field_value

    def close(self) -> None:
        for client in self._owned:
            client.close()

    def __enter__(self) -> S3FileFieldClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


# What requests sets on every session: not the caller's, and httpx sets its own.
_REQUESTS_DEFAULT_HEADERS = {"user-agent", "accept-encoding", "accept", "connection"}


def _adopt_requests_session(http: httpx.Client, session: Any) -> None:
    """The authentication of a `requests.Session`, as 1.x's client took it: its headers, its
    cookies, and its `auth` where that is a (user, password) pair."""
    headers, cookies, auth = (
        getattr(session, name, None) for name in ("headers", "cookies", "auth")
    )
    if headers is None or cookies is None:
        raise InvalidInputError("api_session must be a requests.Session (or use http_client)")
    for name, value in headers.items():
        if name.lower() not in _REQUESTS_DEFAULT_HEADERS:
            http.headers[name] = value
    for cookie in cookies:
        http.cookies.jar.set_cookie(cookie)
    if isinstance(auth, tuple) and len(auth) == 2:
        http.auth = httpx.BasicAuth(*auth)
    elif auth is not None:
        raise InvalidInputError("api_session.auth other than (user, password): use http_client")


__all__ = [
    "DEFAULTS",
    "ApiCallError",
    "ApiNetworkError",
    "DirectoryResumeStore",
    "InvalidInputError",
    "MissingEtagError",
    "PartChecksumError",
    "PartNetworkError",
    "PartStalledError",
    "PartUploadError",
    "Progress",
    "ProtocolError",
    "ResumeStore",
    "RetryInfo",
    "S3FileFieldClient",
    "S3FileFieldClientError",
    "UploadCancelledError",
    "UploadResult",
]
