"""Pieces shared by the benchmark's two processes: ours, and django-s3-file-field 1.1.0's.

The 1.1.0 process runs in its own virtualenv (both libraries are imported as `s3_file_field`),
so this module depends on the standard library and botocore only, never on either library.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from botocore.awsrequest import AWSResponse

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

# The file sizes the prepare/finalize targets are stated for, in the order they are printed.
SIZES: dict[str, int] = {"1 KiB": KiB, "100 MiB": 100 * MiB, "10 GiB": 10 * GiB, "1 TiB": TiB}
# Sizes whose bytes this machine actually uploads; the others finalize against a faked store.
REAL_UPLOAD_SIZES = ("1 KiB", "100 MiB")

FIELD_NAME = "data.bin"
CONTENT_TYPE = "application/octet-stream"
S3_LIST_PARTS_PAGE = 1000  # what S3 returns per ListParts page by default (and at most)


def log(message: str) -> None:
    """Progress goes to stderr, so that stdout carries only figures (and the child's JSON)."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class Sample:
    """One timed request (or, for 1.1.0's finalize, the sum of the requests it takes)."""

    ms: float
    response_bytes: int
    request_bytes: int
    s3_ops: dict[str, int]
    # For a sample summed from several requests: milliseconds of each endpoint.
    split_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Measurement:
    """Every sample of one library / size / operation, as passed from the child as JSON."""

    library: str
    size: str
    op: str
    store: str  # "real" or "stubbed store"
    note: str = ""
    samples: list[Sample] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        samples = [Sample(**s) for s in data.pop("samples")]
        return cls(**data, samples=samples)

    @property
    def n(self) -> int:
        return len(self.samples)

    @property
    def median_ms(self) -> float:
        return statistics.median(s.ms for s in self.samples)

    @property
    def p95_ms(self) -> float:
        times = sorted(s.ms for s in self.samples)
        if len(times) < 2:
            return times[0]
        return statistics.quantiles(times, n=20, method="inclusive")[18]

    @property
    def response_bytes(self) -> int:
        # Signatures and keys differ a little from one call to the next; the median is typical.
        return int(statistics.median(s.response_bytes for s in self.samples))

    @property
    def request_bytes(self) -> int:
        return int(statistics.median(s.request_bytes for s in self.samples))

    @property
    def s3_calls(self) -> str:
        counts = sorted({sum(s.s3_ops.values()) for s in self.samples})
        return str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"

    @property
    def s3_ops(self) -> str:
        """The operations of the first sample, e.g. `ListParts x10, HeadObject`."""
        ops = self.samples[0].s3_ops if self.samples else {}
        return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in ops.items()) or "-"


class S3CallCounter:
    """Counts the S3 API operations a boto3 client performs.

    `before-call` fires once per API operation (not per retry) and never for presigning,
    which signs locally; it fires before any canned answer of `FakeStore` is used, so calls
    to the faked store are counted exactly like real ones.
    """

    def __init__(self, client: Any) -> None:
        self.ops: Counter[str] = Counter()
        # First, so that no other handler's answer can hide a call from us.
        client.meta.events.register_first("before-call.s3", self._on_call, "s3ff-bench-counter")

    def _on_call(self, event_name: str, **kwargs: Any) -> None:
        self.ops[event_name.rsplit(".", 1)[-1]] += 1

    def take(self) -> dict[str, int]:
        """The operations counted since the last call, and start again from zero."""
        ops, self.ops = dict(self.ops), Counter()
        return ops


class _Body:
    """The minimum of a urllib3 response that botocore reads a body from."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.data


def part_etag(upload_id: str, part_number: int) -> str:
    """A made-up but S3-shaped ETag, the same in the faked store and in the client's receipts."""
    return '"' + hashlib.md5(f"{upload_id}:{part_number}".encode()).hexdigest() + '"'


@dataclass(frozen=True)
class FakeUpload:
    key: str
    upload_id: str
    file_size: int
    part_size: int

    @property
    def part_count(self) -> int:
        return max(1, -(-self.file_size // self.part_size))

    def part_size_of(self, number: int) -> int:
        if number < self.part_count:
            return self.part_size
        return self.file_size - self.part_size * (self.part_count - 1)


class FakeStore:
    """Canned S3 answers for uploads too large to send here (10 GiB, 1 TiB).

    The answers are injected at `before-send`, i.e. after botocore has built and signed the
    request and before any byte goes out, and they are XML / headers shaped like S3's, so
    botocore still parses them: only the network and the server's own work are left out.
    Requests for uploads and keys not registered here go to the real store.
    """

    def __init__(self, client: Any) -> None:
        self.uploads: dict[str, FakeUpload] = {}
        self.objects: dict[str, int] = {}
        self._pages: dict[tuple[str, int, int], str] = {}
        client.meta.events.register("before-send.s3", self._on_send, "s3ff-bench-fake-store")

    def add_upload(self, upload: FakeUpload, completed: bool = True) -> None:
        """Parts of `upload` are held; its object is also there if `completed`."""
        self.uploads[upload.upload_id] = upload
        if completed:
            self.objects[upload.key] = upload.file_size

    def clear(self) -> None:
        self.uploads.clear()
        self.objects.clear()
        self._pages.clear()

    def _on_send(self, event_name: str, request: Any, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        # Path-style addressing: /<bucket>/<key>.
        key = unquote(url.path.lstrip("/").split("/", 1)[-1])
        upload = self.uploads.get(query.get("uploadId", ""))
        if operation == "ListParts" and upload is not None:
            marker = int(query.get("part-number-marker") or 0)
            limit = min(int(query.get("max-parts") or S3_LIST_PARTS_PAGE), S3_LIST_PARTS_PAGE)
            # Built once per page, so that the fake's own work stays out of the timings.
            page_key = (upload.upload_id, marker, limit)
            if page_key not in self._pages:
                self._pages[page_key] = _list_parts_xml(upload, marker, limit)
            return _xml(self._pages[page_key])
        if operation == "CompleteMultipartUpload" and upload is not None:
            return _xml(
                f"<CompleteMultipartUploadResult><Location>http://fake/{_esc(key)}</Location>"
                f"<Bucket>fake</Bucket><Key>{_esc(key)}</Key>"
                f'<ETag>"{"0" * 32}-{upload.part_count}"</ETag></CompleteMultipartUploadResult>'
            )
        if operation == "HeadObject" and key in self.objects:
            headers = {
                "Content-Length": str(self.objects[key]),
                "Content-Type": CONTENT_TYPE,
                # As the store keeps what the upload was started with (an octet-stream is
                # never shown inline); 1.1.0 reads neither.
                "Content-Disposition": "attachment",
                "ETag": f'"{"0" * 32}-1"',
                "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT",
            }
            return _response(request.url, headers, b"")
        return None


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml(body: str) -> AWSResponse:
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode()
    headers = {"Content-Type": "application/xml", "Content-Length": str(len(data))}
    return _response("http://fake", headers, data)


def _response(url: str, headers: Any, body: bytes) -> AWSResponse:
    # botocore's stubs want its own HTTPHeaders type; any mapping of str works at runtime.
    return AWSResponse(url, 200, headers, _Body(body))


def _list_parts_xml(upload: FakeUpload, marker: int, limit: int) -> str:
    last = min(upload.part_count, marker + limit)
    truncated = last < upload.part_count
    parts = "".join(
        f"<Part><PartNumber>{n}</PartNumber><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        f"<ETag>{part_etag(upload.upload_id, n)}</ETag><Size>{upload.part_size_of(n)}</Size></Part>"
        for n in range(marker + 1, last + 1)
    )
    return (
        '<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Bucket>fake</Bucket><Key>{_esc(upload.key)}</Key><UploadId>{upload.upload_id}</UploadId>"
        f"<PartNumberMarker>{marker}</PartNumberMarker><NextPartNumberMarker>{last}"
        f"</NextPartNumberMarker><MaxParts>{limit}</MaxParts>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{parts}</ListPartsResult>"
    )


@dataclass
class Budget:
    """How many repetitions to run: `reps`, but fewer (at least `min_reps`) for slow calls.

    Some calls take seconds (1.1.0 signs 10,000 URLs for a 1 TiB file); a wall-clock budget
    per measurement keeps the whole run within a few minutes on two cores.
    """

    reps: int = 30
    warmup: int = 3
    min_reps: int = 5
    seconds: float = 20.0

    def loop(self) -> Iterator[int]:
        started = time.perf_counter()
        for i in range(self.reps):
            if i >= self.min_reps and time.perf_counter() - started > self.seconds:
                return
            yield i


def combine(**samples: Sample) -> Sample:
    """One sample from several requests that together do one job (1.1.0's two-step finalize)."""
    ops: Counter[str] = Counter()
    for sample in samples.values():
        ops.update(sample.s3_ops)
    return Sample(
        ms=sum(s.ms for s in samples.values()),
        response_bytes=sum(s.response_bytes for s in samples.values()),
        request_bytes=sum(s.request_bytes for s in samples.values()),
        s3_ops=dict(ops),
        split_ms={name: s.ms for name, s in samples.items()},
    )


class ApiDriver:
    """Posts JSON to one library's upload API through Django's test client, in this process.

    The body is encoded before the clock starts, so that the time is the server's: URL
    resolution, middleware, DRF parsing and validation, the library's work and its S3 calls,
    and rendering the response (plus the test client's own small overhead, the same for both
    libraries).
    """

    def __init__(self, client: Any, counter: S3CallCounter, prefix: str) -> None:
        self.client = client
        self.counter = counter
        self.prefix = prefix

    def post(self, endpoint: str, body: dict[str, Any]) -> tuple[Any, Sample]:
        data = json.dumps(body).encode()
        path = f"{self.prefix}{endpoint}/"
        self.counter.take()  # forget calls made by untimed work in between
        started = time.perf_counter()
        response = self.client.post(path, data=data, content_type="application/json")
        ms = (time.perf_counter() - started) * 1000
        ops = self.counter.take()
        if response.status_code != 200:
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.content!r}")
        sample = Sample(ms, len(response.content), len(data), ops)
        return json.loads(response.content), sample


def run_samples(
    budget: Budget, one: Callable[[], Sample], warmup: int | None = None
) -> list[Sample]:
    """Warm up, then repeat `one` within the budget. Slow calls get one warm-up only."""
    first = one()
    extra = (budget.warmup if warmup is None else warmup) - 1
    if first.ms > 500:
        extra = 0
    for _ in range(max(0, extra)):
        one()
    return [one() for _ in budget.loop()]


def put_bytes(url: str, data: bytes, headers: dict[str, str] | None = None) -> str:
    """Send one part straight to the store, as a browser would; return the store's ETag."""
    response = requests.put(url, data=data, headers=headers or {}, timeout=300)
    if response.status_code != 200:
        raise RuntimeError(f"PUT of a part answered {response.status_code}: {response.text}")
    return str(response.headers["ETag"])
