"""The Python client's rules where a real store cannot be made to answer so: a scripted API and
store behind httpx's MockTransport (the live stack is in test_python_client.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from s3_file_field.client import (
    ApiCallError,
    InvalidInputError,
    MissingEtagError,
    PartUploadError,
    ProtocolError,
    S3FileFieldClient,
)
from s3_file_field.client._retry import retry_after_seconds

pytestmark = pytest.mark.once

API = "http://api.test/api/s3-upload/"
PART = 8


class Scripted:
    """An API preparing a multipart upload of PART-byte parts, and a store answering each part
    PUT from `store_answers` (the part number and attempt → a response)."""

    def __init__(
        self, store_answer: Callable[[int, int], httpx.Response], **prepare: object
    ) -> None:
        self.store_answer = store_answer
        self.prepare_extra = prepare
        self.calls: list[str] = []
        self.puts: list[tuple[int, int]] = []
        self.signatures = 0
        self.api_requests: list[httpx.Request] = []

    def api(self, request: httpx.Request) -> httpx.Response:
        endpoint = request.url.path.rsplit("/", 2)[-2] + "/"
        self.calls.append(endpoint)
        self.api_requests.append(request)
        body = json.loads(request.content or b"{}")
        if endpoint == "upload-prepare/":
            count = -(-body["file_size"] // PART)
            return httpx.Response(
                200,
                json={
                    "upload_signature": "sig",
                    "object_key": "k/a.bin",
                    "upload_id": "u",
                    "part_size": PART,
                    "part_count": count,
                    "parts": [],
                    "part_headers": {},
                    "checksum": None,
                    "checksum_algorithms": [],
                    **self.prepare_extra,
                },
            )
        if endpoint == "upload-parts/":
            self.signatures += 1
            return httpx.Response(
                200,
                json={
                    "parts": [
                        {
                            "part_number": number,
                            "size": PART,
                            "upload_url": f"http://store.test/k?partNumber={number}"
                            f"&signed={self.signatures}",
                        }
                        for number in body["part_numbers"]
                    ]
                },
            )
        if endpoint == "upload-finalize/":
            return httpx.Response(
                200, json={"field_value": "v", "object_key": "k/a.bin", "file_size": 2 * PART}
            )
        return httpx.Response(204)

    def store(self, request: httpx.Request) -> httpx.Response:
        number = int(parse_qs(urlsplit(str(request.url)).query)["partNumber"][0])
        request.read()
        attempt = sum(1 for put, _ in self.puts if put == number) + 1
        self.puts.append((number, attempt))
        return self.store_answer(number, attempt)

    def client(self, **options: object) -> S3FileFieldClient:
        return S3FileFieldClient(
            API,
            http_client=httpx.Client(transport=httpx.MockTransport(self.api)),
            store_client=httpx.Client(transport=httpx.MockTransport(self.store)),
            checksums=False,
            **options,  # type: ignore[arg-type]
        )


def stored(number: int) -> httpx.Response:
    return httpx.Response(200, headers={"ETag": f'"etag-{number}"'})


def s3_error(status: int, code: str, **headers: str) -> httpx.Response:
    body = f"<Error><Code>{code}</Code><Message>said &amp; done</Message></Error>"
    return httpx.Response(status, text=body, headers=headers)


def test_an_expired_url_is_signed_again_once():
    scripted = Scripted(
        lambda number, attempt: s3_error(403, "AccessDenied") if attempt == 1 else stored(number)
    )
    with scripted.client(concurrency=1) as client:
        assert client.upload(b"x" * 2 * PART, "a.B.c", file_name="a.bin").field_value == "v"
    assert scripted.puts == [(1, 1), (1, 2), (2, 1), (2, 2)]
    # One batch of URLs for both parts, then each part's again after its 403.
    assert scripted.calls.count("upload-parts/") == 3


def test_a_url_refused_when_fresh_too_is_a_real_refusal():
    scripted = Scripted(lambda number, attempt: s3_error(403, "AccessDenied"))
    with scripted.client(concurrency=1) as client, pytest.raises(PartUploadError) as raised:
        client.upload(b"x" * 2 * PART, "a.B.c", file_name="a.bin")
    assert raised.value.status == 403
    assert raised.value.store_code == "AccessDenied"
    assert raised.value.store_message == "said & done"
    assert "upload-abort/" in scripted.calls


def test_the_stores_retry_after_is_waited_out():
    waits: list[float] = []
    scripted = Scripted(
        lambda number, attempt: (
            s3_error(503, "SlowDown", **{"Retry-After": "7"}) if attempt == 1 else stored(number)
        )
    )
    with scripted.client(concurrency=1, sleep=waits.append, jitter=lambda: 0.0) as client:
        client.upload(b"x" * 2 * PART, "a.B.c", file_name="a.bin")
    assert waits == [7.0, 7.0]


def test_backoff_is_full_jitter_doubling_up_to_the_cap():
    waits: list[float] = []
    scripted = Scripted(lambda number, attempt: s3_error(500, "InternalError"))
    with (
        scripted.client(
            concurrency=1,
            retries=5,
            retry_base_delay=1.0,
            retry_max_delay=10.0,
            sleep=waits.append,
            jitter=lambda: 0.5,
        ) as client,
        pytest.raises(PartUploadError) as raised,
    ):
        client.upload(b"x" * PART, "a.B.c", file_name="a.bin")
    assert raised.value.status == 500
    assert waits == [0.5, 1.0, 2.0, 4.0, 5.0]


def test_a_refusal_is_not_retried():
    waits: list[float] = []
    scripted = Scripted(lambda number, attempt: s3_error(400, "EntityTooSmall"))
    with (
        scripted.client(sleep=waits.append) as client,
        pytest.raises(PartUploadError),
    ):
        client.upload(b"x" * PART, "a.B.c", file_name="a.bin")
    assert waits == []
    assert scripted.puts == [(1, 1)]


def test_a_stored_part_without_etag_says_so():
    scripted = Scripted(lambda number, attempt: httpx.Response(200))
    with scripted.client() as client, pytest.raises(MissingEtagError) as raised:
        client.upload(b"x" * PART, "a.B.c", file_name="a.bin")
    assert raised.value.code == "missing-etag"


@pytest.mark.parametrize(
    "answer",
    [{"part_count": 10**9, "part_size": 1}, {"part_size": 0}, {"upload_signature": 5}],
    ids=["a billion parts", "no part size", "no signature"],
)
def test_a_server_answering_nonsense_is_a_protocol_error(answer):
    scripted = Scripted(lambda number, attempt: stored(number), **answer)
    with scripted.client() as client, pytest.raises(ProtocolError):
        client.upload(b"x" * 2 * PART, "a.B.c", file_name="a.bin")


def test_api_errors_carry_drf_messages_and_retry_after():
    def api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, json={"detail": "Request was throttled."}, headers={"Retry-After": "3"}
        )

    waits: list[float] = []
    with (
        S3FileFieldClient(
            API,
            http_client=httpx.Client(transport=httpx.MockTransport(api)),
            retries=2,
            sleep=waits.append,
            jitter=lambda: 0.0,
        ) as client,
        pytest.raises(ApiCallError) as raised,
    ):
        client.upload(b"x", "a.B.c", file_name="a.bin")
    assert raised.value.detail == "Request was throttled."
    assert raised.value.retry_after == 3
    assert waits == [3.0, 3.0]


def test_a_session_cookie_gets_its_csrf_header_and_a_requests_session_is_adopted():
    scripted = Scripted(lambda number, attempt: stored(number))
    session = requests.Session()
    session.cookies.set("csrftoken", "t0ken")
    session.cookies.set("sessionid", "s")
    session.headers["X-Custom"] = "kept"
    session.auth = ("user", "password")
    http = httpx.Client(transport=httpx.MockTransport(scripted.api))
    with S3FileFieldClient(
        API,
        session,
        http_client=http,
        store_client=httpx.Client(transport=httpx.MockTransport(scripted.store)),
        checksums=False,
    ) as client:
        value = client.upload_file(
            file_stream=io.BytesIO(b"x" * PART),
            file_name="a.bin",
            file_content_type="application/octet-stream",
            field_id="a.B.c",
        )
    assert value == "v"
    sent = scripted.api_requests[0]
    assert sent.headers["X-CSRFToken"] == "t0ken"
    assert sent.headers["X-Custom"] == "kept"
    assert sent.headers["Authorization"].startswith("Basic ")
    assert "sessionid=s" in sent.headers["Cookie"]


def test_inputs_that_cannot_be_uploaded_are_refused_clearly(tmp_path):
    with S3FileFieldClient(API) as client:
        with pytest.raises(InvalidInputError, match="file_name is needed"):
            client.upload(b"x", "a.B.c")
        with pytest.raises(InvalidInputError, match="binary mode"):
            client.upload(io.StringIO("x"), "a.B.c", file_name="a.txt")  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match="cannot read"):
            client.upload(tmp_path / "missing.bin", "a.B.c")
        with pytest.raises(InvalidInputError, match="not a regular file"):
            client.upload(tmp_path, "a.B.c")


def test_a_file_object_is_read_from_its_position(tmp_path):
    scripted = Scripted(lambda number, attempt: stored(number))
    bodies: list[bytes] = []

    def store(request: httpx.Request) -> httpx.Response:
        bodies.append(request.read())
        return scripted.store(request)

    path = tmp_path / "a.bin"
    path.write_bytes(b"HEADER" + b"y" * PART)
    with (
        S3FileFieldClient(
            API,
            http_client=httpx.Client(transport=httpx.MockTransport(scripted.api)),
            store_client=httpx.Client(transport=httpx.MockTransport(store)),
            checksums=False,
        ) as client,
        path.open("rb") as file,
    ):
        file.seek(6)
        client.upload(file, "a.B.c")
    assert bodies == [b"y" * PART]


def test_retry_after_reads_seconds_and_dates():
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
