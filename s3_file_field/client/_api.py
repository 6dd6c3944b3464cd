"""The five calls of the upload protocol (docs/protocol.md), each with its retries."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._retry import RetryInfo, RetryPolicy, StopFlag, retry_after_seconds, run_with_retries
from .errors import ApiCallError, ApiNetworkError, ProtocolError, is_transient

# A client of a server that does not say how many part URLs one call may ask for assumes this.
DEFAULT_MAX_PART_URLS = 100


class UploadApi:
    """POSTs JSON to the API's endpoints with the caller's authentication; never to the store."""

    def __init__(
        self,
        base_url: str,
        http: httpx.Client,
        policy: RetryPolicy,
        csrf_cookie_name: str,
        on_retry: Callable[[RetryInfo], None] | None,
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
        self.http = http
        self.policy = policy
        self.csrf_cookie_name = csrf_cookie_name
        self.on_retry = on_retry

    def prepare(
        self,
        stop: StopFlag,
        *,
        field_id: str,
        file_name: str,
        file_size: int,
        content_type: str | None,
        checksum_algorithms: list[str] | None,
        part_checksums: Mapping[int, str],
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "field_id": field_id,
            "file_name": file_name,
            "file_size": file_size,
        }
        if content_type:
            body["content_type"] = content_type
        if checksum_algorithms:
            body["checksum_algorithms"] = checksum_algorithms
        if part_checksums:
            body["part_checksums"] = _checksum_list(part_checksums)
        answer: dict[str, Any] = self._post("upload-prepare/", body, stop)
        _require(answer, "upload-prepare/", upload_signature=str, part_size=int, part_count=int)
        _require_parts(answer.get("parts"), "upload-prepare/")
        return answer

    def sign_parts(
        self,
        stop: StopFlag,
        signature: str,
        part_numbers: list[int],
        checksums: Mapping[int, str] | None = None,
    ) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"upload_signature": signature, "part_numbers": part_numbers}
        if checksums:
            body["part_checksums"] = _checksum_list(checksums)
        parts = self._post("upload-parts/", body, stop).get("parts")
        return _require_parts(parts, "upload-parts/")

    def status(self, stop: StopFlag, signature: str) -> list[dict[str, Any]]:
        parts = self._post("upload-status/", {"upload_signature": signature}, stop).get("parts")
        if not isinstance(parts, list) or not all(
            isinstance(part, dict)
            and isinstance(part.get("part_number"), int)
            and isinstance(part.get("size"), int)
            and isinstance(part.get("etag"), str)
            for part in parts
        ):
            raise ProtocolError("upload-status/ answered without a list of parts")
        return parts

    def finalize(
        self, stop: StopFlag, signature: str, parts: list[dict[str, Any]]
    ) -> dict[str, Any]:
        body = {"upload_signature": signature, "parts": parts}
        answer: dict[str, Any] = self._post("upload-finalize/", body, stop)
        _require(answer, "upload-finalize/", field_value=str, object_key=str, file_size=int)
        return answer

    def abort(self, signature: str) -> None:
        """Once, without retries: a store's lifecycle rule clears an upload whose abort is lost."""
        with contextlib.suppress(ApiCallError, ApiNetworkError, ProtocolError):
            self._post_once("upload-abort/", {"upload_signature": signature})

    def _post(self, endpoint: str, body: dict[str, Any], stop: StopFlag) -> Any:
        return run_with_retries(
            endpoint,
            self.policy,
            stop,
            lambda: self._post_once(endpoint, body),
            is_transient,
            self.on_retry,
        )

    def _post_once(self, endpoint: str, body: dict[str, Any]) -> Any:
        try:
            response = self.http.post(
                f"{self.base_url}{endpoint}", content=json.dumps(body), headers=self._headers()
            )
        except httpx.HTTPError as error:
            raise ApiNetworkError(endpoint, error) from error
        if response.status_code == 204:
            return {}
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.is_success:
            if not isinstance(answer, dict):
                raise ProtocolError(f"{endpoint} answered HTTP {response.status_code} without JSON")
            return answer
        detail, field_errors = _read_drf_error(answer, response)
        raise ApiCallError(
            endpoint,
            response.status_code,
            detail,
            field_errors,
            retry_after_seconds(response.headers.get("Retry-After")),
        )

    def _headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **csrf_headers(self.http, self.base_url, self.csrf_cookie_name),
        }


def csrf_headers(http: httpx.Client, url: str, cookie_name: str) -> dict[str, str]:
    """What Django's session authentication wants of an unsafe request to `url`: the CSRF
    cookie's value back in a header and, over HTTPS, a Referer of the same origin."""
    headers = {}
    token = http.cookies.get(cookie_name)
    if token and "X-CSRFToken" not in http.headers:
        headers["X-CSRFToken"] = token
    if urlsplit(url).scheme == "https" and "Referer" not in http.headers:
        headers["Referer"] = url
    return headers


def _checksum_list(checksums: Mapping[int, str]) -> list[dict[str, Any]]:
    return [{"part_number": number, "checksum": value} for number, value in checksums.items()]


def _read_drf_error(
    answer: Any, response: httpx.Response
) -> tuple[str, dict[str, list[str]] | None]:
    """DRF's `{"detail": ...}` or `{"field": ["message"]}`, as one line and the field errors."""
    if isinstance(answer, dict):
        if isinstance(answer.get("detail"), str):
            return answer["detail"], None
        field_errors = {
            str(name): [str(message) for message in messages]
            for name, messages in answer.items()
            if isinstance(messages, list)
        }
        if field_errors:
            joined = "; ".join(f"{name}: {' '.join(texts)}" for name, texts in field_errors.items())
            return joined, field_errors
    return response.reason_phrase or "no details", None


def _require(answer: dict[str, Any], endpoint: str, **types: type) -> None:
    for key, kind in types.items():
        value = answer.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ProtocolError(f"{endpoint} answered without {key} ({kind.__name__})")


def _require_parts(parts: Any, endpoint: str) -> list[dict[str, Any]]:
    if not isinstance(parts, list):
        raise ProtocolError(f"{endpoint} answered without a list of parts")
    for part in parts:
        if not isinstance(part, dict):
            raise ProtocolError(f"{endpoint} answered a part that is not an object")
        _require(part, endpoint, part_number=int, size=int, upload_url=str)
        if not isinstance(part.get("headers", {}), dict):
            raise ProtocolError(f"{endpoint} answered a part whose headers are not an object")
    return parts
