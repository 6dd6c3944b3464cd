"""The upload protocol, driven as a client drives it, for the tests: each call, and a whole
upload (prepare, PUT every part, finalize)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from rest_framework.test import APIClient

MiB = 1024 * 1024


def post(client: APIClient, endpoint: str, body: Any) -> Any:
    return client.post(f"/api/s3-upload/{endpoint}/", body, format="json")


def put_part(url: str, data: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.put(url, data=data, headers=headers or {}, timeout=60)


@dataclass
class Uploaded:
    prepare: dict[str, Any]
    finalize: Any


def upload_bytes(
    client: APIClient,
    field_id: str,
    data: bytes,
    file_name: str = "data.bin",
    content_type: str | None = None,
    finalize: bool = True,
) -> Uploaded:
    """The whole protocol, as a client does it: prepare, PUT every part, finalize."""
    body: dict[str, Any] = {"field_id": field_id, "file_name": file_name, "file_size": len(data)}
    if content_type is not None:
        body["content_type"] = content_type
    response = post(client, "upload-prepare", body)
    assert response.status_code == 200, response.json()
    prepared = response.json()
    parts = {p["part_number"]: p for p in prepared["parts"]}
    missing = [n for n in range(1, prepared["part_count"] + 1) if n not in parts]
    if missing:
        more = post(
            client,
            "upload-parts",
            {"upload_signature": prepared["upload_signature"], "part_numbers": missing},
        )
        assert more.status_code == 200, more.json()
        parts.update({p["part_number"]: p for p in more.json()["parts"]})
    receipts = []
    offset = 0
    for number in range(1, prepared["part_count"] + 1):
        part = parts[number]
        chunk = data[offset : offset + part["size"]]
        offset += part["size"]
        stored = put_part(part["upload_url"], chunk, prepared["part_headers"])
        assert stored.status_code == 200, stored.text
        receipts.append({"part_number": number, "etag": stored.headers["ETag"]})
    assert offset == len(data)
    if not finalize:
        return Uploaded(prepared, receipts)
    done = post(
        client,
        "upload-finalize",
        {
            "upload_signature": prepared["upload_signature"],
            "parts": receipts if prepared["upload_id"] else [],
        },
    )
    return Uploaded(prepared, done)
