"""A small HTTP/1.1-aware TCP proxy in front of the S3 server, for tests and benchmarks.

Presigned URLs sign the `Host` header, so a storage whose `endpoint_url` is the proxy's address
sends everything through it: Django's own S3 calls and its clients' presigned `PUT`s alike.

Modes, switched from Python (`FaultProxy.set_mode`) or by any HTTP client (see Control):

- `pass`: everything goes through untouched (and is counted).
- `fail`: each presigned `PUT` (a client's part or single-object upload: a `PUT` with
  `X-Amz-Signature` in its query) fails with probability `rate`, drawn from a RNG seeded with
  `seed` when the mode is set: it is answered `500` with an S3-style XML error after its body
  was read (`"500"`), or `503 SlowDown` (`"503"`), or the connection is reset halfway through
  its body (`"reset"`), or half the body is read and then nothing happens until the client
  gives up (`"stall"`), or it goes to the store with one byte of its body changed
  (`"corrupt"`; an empty body passes untouched), or it is answered `200` with the MD5 of its
  body as ETag and never reaches the store, as by a store that verifies no checksum
  (`"accept"`), as chosen among `kinds`. Django's own S3
  calls (signed in headers) always pass, so the faults hit the client alone.
- `throttle`: each connection is capped at `bytes_per_second` in each direction, and every byte
  waits `latency_ms / 2` each way, i.e. `latency_ms` more round trip, as on a slow far link.

Requests are parsed (head, and body framing by `Content-Length` or chunked) so that a fault hits
one whole request; responses are relayed as bytes. That is enough because HTTP/1.1 answers in
order and the clients used here (undici, urllib3) never pipeline: once the next request's head
arrives, the answer to the previous one has been relayed whole, so the proxy may answer one
itself.

Control: requests whose path starts with `/__faultproxy__/` are answered by the proxy:

    GET  /__faultproxy__/stats    the counters, as JSON
    POST /__faultproxy__/mode     {"mode": "fail", "rate": 0.3, "seed": 1, "kinds": ["500"]}
    POST /__faultproxy__/reset    zero the counters

Run it alone with `python -m tests.harness.faultproxy --upstream http://127.0.0.1:8333`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import random
import signal
import socket
import struct
import sys
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

ModeName = Literal["pass", "fail", "throttle"]
FaultKind = Literal["500", "503", "reset", "stall", "corrupt", "accept"]
MODE_NAMES: tuple[ModeName, ...] = ("pass", "fail", "throttle")
# What `fail` draws from unless told otherwise; the other kinds are asked for by name.
FAULT_KINDS: tuple[FaultKind, ...] = ("500", "reset")
ALL_FAULT_KINDS: tuple[FaultKind, ...] = ("500", "503", "reset", "stall", "corrupt", "accept")
# A stalled request is held this long (or until the client gives up), then dropped.
STALL_SECONDS = 120.0
CONTROL_PREFIX = "/__faultproxy__/"
# Small enough to shape traffic smoothly, large enough to cost little.
CHUNK = 64 * 1024
# Bytes waiting in each direction of a connection: a bound on memory, and far more than a
# throttled link holds in flight (20 MB/s x 20 ms one way = 0.4 MB), so that the latency does
# not lower the rate.
PIPE_BYTES = 4 * 1024 * 1024
MAX_HEAD = 64 * 1024

INJECTED_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code>'
    b"<Message>We encountered an internal error. Please try again. (injected by faultproxy)"
    b"</Message></Error>"
)


@dataclass(frozen=True)
class Mode:
    name: ModeName = "pass"
    # fail: the share of presigned PUTs that fail, how, and the seed of the draw.
    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = FAULT_KINDS
    seed: int = 0
    # throttle: the cap of each connection in each direction (0: none), and the added round trip.
    bytes_per_second: float = 0.0
    latency_ms: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Mode:
        """A mode from a control request; unknown keys or bad values raise ValueError."""
        unknown = set(data) - {"mode", "rate", "kinds", "seed", "bytes_per_second", "latency_ms"}
        if unknown:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        name = data.get("mode", "pass")
        if name not in MODE_NAMES:
            raise ValueError(f"mode must be one of {MODE_NAMES}")
        kinds = tuple(data.get("kinds", FAULT_KINDS))
        if not kinds or any(kind not in ALL_FAULT_KINDS for kind in kinds):
            raise ValueError(f"kinds must be a non-empty list of {ALL_FAULT_KINDS}")
        mode = cls(
            name=cast(ModeName, name),
            rate=float(data.get("rate", 0.0)),
            kinds=cast(tuple[FaultKind, ...], kinds),
            seed=int(data.get("seed", 0)),
            bytes_per_second=float(data.get("bytes_per_second", 0.0)),
            latency_ms=float(data.get("latency_ms", 0.0)),
        )
        if not 0.0 <= mode.rate <= 1.0 or mode.bytes_per_second < 0 or mode.latency_ms < 0:
            raise ValueError("rate must be in [0, 1]; bytes_per_second and latency_ms >= 0")
        return mode

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["mode"] = data.pop("name")
        data["kinds"] = list(self.kinds)
        return data


@dataclass
class Stats:
    """What the proxy saw since it started or was last reset."""

    connections: int = 0
    requests: int = 0
    # S3 operations, told apart by method and query (see `_operation`).
    operations: Counter[str] = field(default_factory=Counter)
    # Presigned PUT attempts per part number (a single-object PUT counts as part 0).
    part_puts: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    fault_parts: Counter[int] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "requests": self.requests,
            "operations": dict(self.operations),
            # JSON keys are strings; sorted for a readable dump.
            "part_puts": {str(n): c for n, c in sorted(self.part_puts.items())},
            "faults": dict(self.faults),
            "fault_parts": {str(n): c for n, c in sorted(self.fault_parts.items())},
        }


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]]
    head: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.header("Transfer-Encoding") or "").lower()

    @property
    def content_length(self) -> int:
        return int(self.header("Content-Length") or 0)

    @property
    def wants_close(self) -> bool:
        return (self.header("Connection") or "").lower() == "close"

    @property
    def presigned_put(self) -> bool:
        return self.method == "PUT" and "X-Amz-Signature" in self.query


class ProtocolError(Exception):
    """A request the proxy cannot frame: the connection is dropped."""


class Reset(Exception):
    """An injected reset: the connection is dropped with a TCP RST."""


def parse_head(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError:
        raise ProtocolError(f"bad request line {lines[0]!r}") from None
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return Request(method, target, headers, head)


def _operation(request: Request) -> str:
    """The S3 operation a request most likely is, for counting (path-style addressing)."""
    query = request.query
    if request.method == "PUT":
        if "partNumber" in query:
            return "UploadPart"
        return "PutObject (presigned)" if request.presigned_put else "PutObject"
    if request.method == "POST":
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return "CompleteMultipartUpload"
    if request.method == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
    if request.method == "GET":
        if "uploadId" in query:
            return "ListParts"
        if "uploads" in query:
            return "ListMultipartUploads"
        return "GetObject"
    if request.method == "HEAD":
        return "HeadObject"
    return request.method


def http_response(status: int, reason: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nX-Faultproxy: 1\r\n\r\n"
    )
    return head.encode("latin-1") + body


# What S3 answers when it has a bad moment; clients retry it.
INJECTED_500 = http_response(500, "Internal Server Error", INJECTED_ERROR, "application/xml")
INJECTED_503 = http_response(
    503,
    "Service Unavailable",
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate. (injected by faultproxy)</Message></Error>",
    "application/xml",
)


def json_response(status: int, data: Any) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "")
    return http_response(status, reason, json.dumps(data).encode(), "application/json")


class Pipe:
    """One direction of a connection: sends chunks in order, shaped by the proxy's mode.

    A queue decouples reading from sending, so that latency delays bytes without slowing the
    reader (a pipe full of delayed bytes, like a long link), and its bound in bytes gives
    backpressure. A send error is kept and raised to whoever writes next.
    """

    def __init__(self, writer: asyncio.StreamWriter, mode: Callable[[], Mode]) -> None:
        self.writer = writer
        self._mode = mode
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._queued_bytes = 0
        self._room = asyncio.Event()
        self._error: BaseException | None = None
        self._next_free = 0.0  # when the cap lets the next byte go
        self._task = asyncio.create_task(self._send())

    def _raise_if_broken(self) -> None:
        if self._error is not None:
            raise ConnectionError("the other side went away") from self._error

    async def put(self, data: bytes) -> None:
        self._raise_if_broken()
        if not data:
            return
        while self._queued_bytes >= PIPE_BYTES:
            self._room.clear()
            await self._room.wait()
            self._raise_if_broken()
        self._queued_bytes += len(data)
        self._queue.put_nowait((self._loop.time(), data))

    async def flush(self) -> None:
        """Wait until everything put so far was handed to the socket."""
        await self._queue.join()
        self._raise_if_broken()

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _send(self) -> None:
        while True:
            arrived, data = await self._queue.get()
            try:
                if self._error is not None:
                    continue  # after an error, only drain the queue
                mode = self._mode()
                if mode.name == "throttle":
                    # A schedule in virtual time: a chunk goes when its latency has passed and
                    # the cap allows. A late wake-up is made up by the next chunks instead of
                    # lowering the rate, as a real link's clock would.
                    start = max(arrived + mode.latency_ms / 2000, self._next_free)
                    delay = start - self._loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    rate = mode.bytes_per_second
                    self._next_free = start + len(data) / rate if rate > 0 else 0.0
                self.writer.write(data)
                await self.writer.drain()
            except (OSError, RuntimeError) as error:
                self._error = error
            finally:
                self._queued_bytes -= len(data)
                self._room.set()
                self._queue.task_done()


class FaultProxy:
    """The proxy, serving from a thread of its own (`start`/`stop`, or `with`)."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.host = host
        self.port = port
        self._lock = threading.Lock()
        self._mode = Mode()
        self._rng = random.Random(0)
        self._stats = Stats()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def control_url(self) -> str:
        return self.url + CONTROL_PREFIX

    # --- from any thread ----------------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        with self._lock:
            self._mode = mode
            self._rng = random.Random(mode.seed)

    def mode(self) -> Mode:
        with self._lock:
            return self._mode

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return self._stats.as_json()

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = Stats()

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._startup_error is not None:
            raise RuntimeError("the fault proxy did not start") from self._startup_error
        if not self._ready.is_set():
            raise RuntimeError("the fault proxy did not start in 10 s")
        return self

    def stop(self) -> None:
        loop, stopping, thread = self._loop, self._stopping, self._thread
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended by itself
                loop.call_soon_threadsafe(stopping.set)
        if thread is not None:
            thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- in the proxy's thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as error:
            self._startup_error = error
            self._ready.set()

    async def serve(self, on_ready: Callable[[], Awaitable[None]] | None = None) -> None:
        """Serve until `stop()` (or until cancelled, when run by `main`)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        server = await asyncio.start_server(self._connection, self.host, self.port, limit=MAX_HEAD)
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        try:
            if on_ready is not None:
                await on_ready()
            await self._stopping.wait()
        finally:
            server.close()
            for task in list(self._handlers):
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(cast("asyncio.Task[None]", task))
        with self._lock:
            self._stats.connections += 1
        upstream_writer: asyncio.StreamWriter | None = None
        pipes: list[Pipe] = []
        reset = False
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
            to_client = Pipe(writer, self.mode)
            to_upstream = Pipe(upstream_writer, self.mode)
            pipes = [to_client, to_upstream]
            requests = asyncio.create_task(self._requests(reader, to_upstream, to_client))
            relay = asyncio.create_task(_relay(upstream_reader, to_client))
            try:
                await asyncio.wait({requests, relay}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                requests.cancel()
                relay.cancel()
                results = await asyncio.gather(requests, relay, return_exceptions=True)
            reset = any(isinstance(result, Reset) for result in results)
            if not reset:
                # Whoever ended first, what was already on its way is still delivered.
                with contextlib.suppress(ConnectionError):
                    await to_client.flush()
        except (OSError, ProtocolError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only stop() cancels a connection. Ending quietly spares asyncio's stream callback
            # of Python 3.11, which calls exception() on the task, a traceback on stderr.
            pass
        finally:
            for pipe in pipes:
                await pipe.close()
            for side in (writer, upstream_writer):
                if side is not None:
                    _close(side, reset)
            self._handlers.discard(cast("asyncio.Task[None]", task))

    async def _requests(self, reader: asyncio.StreamReader, upstream: Pipe, client: Pipe) -> None:
        """Read the client's requests one by one: answer, fail or forward each."""
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as error:
                if error.partial:
                    raise ProtocolError("the connection closed inside a request head") from None
                return  # the client closed between requests
            except asyncio.LimitOverrunError:
                raise ProtocolError("request head too large") from None
            request = parse_head(head)
            if request.path.startswith(CONTROL_PREFIX):
                body = bytearray()
                await _body(reader, request, _collect(body))
                await client.put(self._control(request, bytes(body)))
            else:
                fault = self._count_and_draw(request)
                if fault in ("500", "503"):
                    if (request.header("Expect") or "").lower() == "100-continue":
                        await client.put(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await _body(reader, request, _discard)
                    await client.put(INJECTED_500 if fault == "500" else INJECTED_503)
                elif fault == "stall":
                    await _body(reader, request, _discard, stop_after=request.content_length // 2)
                    # The client's own timeout must end this; a closing proxy cancels it.
                    await asyncio.sleep(STALL_SECONDS)
                    raise Reset
                elif fault == "accept":
                    body = bytearray()
                    await _body(reader, request, _collect(body))
                    await client.put(_accepted(bytes(body)))
                elif fault == "corrupt":
                    await upstream.put(head)
                    await _body(
                        reader, request, _flip_byte_at(request.content_length // 2, upstream.put)
                    )
                elif fault == "reset":
                    # Half of an empty body is the whole request: the store would answer it,
                    # and that answer could reach the client before the reset does.
                    if request.content_length > 0:
                        await upstream.put(head)
                        half = request.content_length // 2
                        await _body(reader, request, upstream.put, stop_after=half)
                        await upstream.flush()
                    raise Reset
                else:
                    await upstream.put(head)
                    await _body(reader, request, upstream.put)
            if request.wants_close:
                await client.flush()
                return

    def _count_and_draw(self, request: Request) -> FaultKind | None:
        with self._lock:
            stats, mode = self._stats, self._mode
            stats.requests += 1
            stats.operations[_operation(request)] += 1
            if not request.presigned_put:
                return None
            part = int(request.query.get("partNumber", ["0"])[0])
            stats.part_puts[part] += 1
            if mode.name != "fail" or self._rng.random() >= mode.rate:
                return None
            kind = self._rng.choice(mode.kinds)
            if kind == "corrupt" and request.content_length == 0:
                return None  # no byte to change: the request passes, and is no fault
            stats.faults[kind] += 1
            stats.fault_parts[part] += 1
            return kind

    def _control(self, request: Request, body: bytes) -> bytes:
        action = request.path[len(CONTROL_PREFIX) :].strip("/")
        if request.method == "GET" and action == "stats":
            return json_response(200, self.stats())
        if request.method == "POST" and action == "reset":
            self.reset_stats()
            return json_response(200, self.stats())
        if request.method == "POST" and action == "mode":
            try:
                data = json.loads(body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("the body must be a JSON object")
                mode = Mode.from_json(data)
            except ValueError as error:
                return json_response(400, {"detail": str(error)})
            self.set_mode(mode)
            return json_response(200, mode.as_json())
        return json_response(404, {"detail": f"no control action {request.method} {action!r}"})


def _accepted(body: bytes) -> bytes:
    etag = hashlib.md5(body).hexdigest()  # an ETag as S3 makes it, not security
    return (f'HTTP/1.1 200 OK\r\nETag: "{etag}"\r\nContent-Length: 0\r\n\r\n').encode()


async def _relay(reader: asyncio.StreamReader, to: Pipe) -> None:
    while data := await reader.read(CHUNK):
        await to.put(data)


async def _discard(data: bytes) -> None:
    pass


def _flip_byte_at(
    offset: int, sink: Callable[[bytes], Awaitable[None]]
) -> Callable[[bytes], Awaitable[None]]:
    """`sink`, fed a body whose byte at `offset` is inverted (bytes corrupted on the way)."""
    seen = 0

    async def flip(data: bytes) -> None:
        nonlocal seen
        if seen <= offset < seen + len(data):
            changed = bytearray(data)
            changed[offset - seen] ^= 0xFF
            data = bytes(changed)
        seen += len(data)
        await sink(data)

    return flip


def _collect(into: bytearray) -> Callable[[bytes], Awaitable[None]]:
    async def collect(data: bytes) -> None:
        into.extend(data)

    return collect


async def _body(
    reader: asyncio.StreamReader,
    request: Request,
    sink: Callable[[bytes], Awaitable[None]],
    stop_after: int | None = None,
) -> None:
    """Pass a request's body (framing included) to `sink`; stop early after `stop_after` bytes."""
    sent = 0

    async def take(count: int) -> bool:
        nonlocal sent
        while count > 0:
            if stop_after is not None and sent >= stop_after:
                return False
            # Never past `stop_after`: a small body comes in one read, and passed whole it
            # would have the store answer a request meant to be cut.
            limit = count if stop_after is None else min(count, stop_after - sent)
            data = await reader.read(min(limit, CHUNK))
            if not data:
                raise ProtocolError("the connection closed inside a request body")
            count -= len(data)
            sent += len(data)
            await sink(data)
        return True

    if request.chunked:
        while True:
            line = await reader.readuntil(b"\r\n")
            await sink(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    await sink(trailer)
                await sink(b"\r\n")
                return
            if not await take(size + 2):  # the data and its CRLF
                return
    else:
        await take(request.content_length)


def _close(writer: asyncio.StreamWriter, reset: bool) -> None:
    if reset:
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:8333")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--mode", choices=MODE_NAMES, default="pass")
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bytes-per-second", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    proxy = FaultProxy(args.upstream, args.host, args.port)
    proxy.set_mode(
        Mode.from_json(
            {
                "mode": args.mode,
                "rate": args.rate,
                "seed": args.seed,
                "bytes_per_second": args.bytes_per_second,
                "latency_ms": args.latency_ms,
            }
        )
    )

    async def announce() -> None:
        # One line on stdout, for a parent process to read the address from.
        print(f"faultproxy listening on {proxy.url} -> {args.upstream}", flush=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, proxy.stop)

    asyncio.run(proxy.serve(announce))
    return 0


if __name__ == "__main__":
    sys.exit(main())
