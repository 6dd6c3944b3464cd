"""The upload protocol, driven as a client drives it, for the tests: each call, and a whole
upload (prepare, PUT every part, finalize), in process (DRF's APIClient) or over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from rest_framework.test import APIClient

MiB = 1024 * 1024

# One API call: (endpoint without slashes, JSON body) -> (status, JSON answer).
ApiCall = Callable[[str, dict[str, Any]], tuple[int, Any]]


def post(client: APIClient, endpoint: str, body: Any) -> Any:
    return client.post(f"/api/s3-upload/{endpoint}/", body, format="json")


def put_part(url: str, data: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.put(url, data=data, headers=headers or {}, timeout=60)


def in_process(client: APIClient) -> ApiCall:
    def call(endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = post(client, endpoint, body)
        return response.status_code, response.json() if response.content else None

    return call


def over_http(base_url: str, session: requests.Session) -> ApiCall:
    """Calls to a server at `base_url` (e.g. gunicorn), on one kept-alive session."""

    def call(endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
        response = session.post(f"{base_url}/api/s3-upload/{endpoint}/", json=body, timeout=60)
        return response.status_code, response.json() if response.content else None

    return call


def call_ok(api: ApiCall, endpoint: str, body: dict[str, Any]) -> Any:
    status, answer = api(endpoint, body)
    assert status == 200, (endpoint, status, answer)
    return answer


@dataclass
class Uploaded:
    prepare: dict[str, Any]
    finalize: Any


def send_parts(
    api: ApiCall,
    prepared: dict[str, Any],
    data: bytes,
    put: Callable[..., requests.Response] = put_part,
) -> list[dict[str, Any]]:
    """PUTs every part of a prepared upload (signing those beyond the first batch); the
    receipts finalize takes."""
    parts = {p["part_number"]: p for p in prepared["parts"]}
    missing = [n for n in range(1, prepared["part_count"] + 1) if n not in parts]
    if missing:
        body = {"upload_signature": prepared["upload_signature"], "part_numbers": missing}
        parts.update({p["part_number"]: p for p in call_ok(api, "upload-parts", body)["parts"]})
    receipts = []
    offset = 0
    for number in range(1, prepared["part_count"] + 1):
        part = parts[number]
        chunk = data[offset : offset + part["size"]]
        offset += part["size"]
        stored = put(part["upload_url"], chunk, prepared["part_headers"])
        assert stored.status_code == 200, stored.text
        receipts.append({"part_number": number, "etag": stored.headers["ETag"]})
    assert offset == len(data)
    return receipts


def prepare_and_send(
    api: ApiCall,
    field_id: str,
    data: bytes,
    file_name: str = "data.bin",
    content_type: str | None = None,
    put: Callable[..., requests.Response] = put_part,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Prepare and PUT every part, as a client does: the prepare answer and the receipts."""
    body: dict[str, Any] = {"field_id": field_id, "file_name": file_name, "file_size": len(data)}
    if content_type is not None:
        body["content_type"] = content_type
    prepared = call_ok(api, "upload-prepare", body)
    return prepared, send_parts(api, prepared, data, put)


def finalize_body(prepared: dict[str, Any], receipts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "upload_signature": prepared["upload_signature"],
        "parts": receipts if prepared["upload_id"] else [],
    }


def upload_bytes(
    client: APIClient,
    field_id: str,
    data: bytes,
    file_name: str = "data.bin",
    content_type: str | None = None,
    finalize: bool = True,
) -> Uploaded:
    """The whole protocol in process: prepare, PUT every part, finalize. `finalize` holds
    Django's response to finalize, or the parts' receipts when told not to finalize."""
    prepared, receipts = prepare_and_send(
        in_process(client), field_id, data, file_name, content_type
    )
    if not finalize:
        return Uploaded(prepared, receipts)
    return Uploaded(prepared, post(client, "upload-finalize", finalize_body(prepared, receipts)))
