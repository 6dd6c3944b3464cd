"""The API under load and across processes: gunicorn workers, concurrent uploads, a worker
killed mid-upload. Real bytes through SeaweedFS, read back and compared."""

from __future__ import annotations

import hashlib
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.harness.driver import (
    ApiCall,
    MiB,
    call_ok,
    finalize_body,
    over_http,
    prepare_and_send,
)
from tests.harness.seaweedfs import StopWaiting, free_port, wait_until

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[1]
FIELD = "test_app.Resource.blob"


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen[bytes]


def start_gunicorn(workers: int, tmp_path: Path, seaweedfs) -> Gunicorn:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "test_app.settings",
        "S3FF_TEST_S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3FF_TEST_DATABASE": str(tmp_path / "gunicorn.sqlite3"),
        "DJANGO_DEBUG": "0",
        "S3FF_PART_SIZE": str(5 * MiB),
    }
    log = (tmp_path / f"gunicorn-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            "8",
            "--timeout",
            "120",
            # Longer than any pause between one upload's API calls: a kept-alive connection
            # that gunicorn closes (after 2 s by default) just as the client reuses it would
            # fail the client's POST, a race of the test's HTTP client, not of the API.
            "--keep-alive",
            "120",
            "test_app.wsgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise StopWaiting(f"gunicorn exited with status {process.returncode}")
        requests.get(f"{url}/", timeout=2)
        return True

    try:
        wait_until(answers, timeout=30, what=f"gunicorn at {url}", interval=0.2)
    except (TimeoutError, StopWaiting) as error:
        process.kill()
        log_text = (tmp_path / f"gunicorn-{port}.log").read_text()
        raise RuntimeError(f"gunicorn did not start: {error}\n{log_text}") from error
    return Gunicorn(url, process)


def stop(server: Gunicorn) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=30)


@pytest.fixture
def gunicorn_3(tmp_path, seaweedfs) -> Iterator[Gunicorn]:
    server = start_gunicorn(3, tmp_path, seaweedfs)
    yield server
    stop(server)


@dataclass
class Timings:
    prepare: float
    finalize: float


def timed(api: ApiCall, seconds: dict[str, float]) -> ApiCall:
    """The same calls, each endpoint's last duration kept in `seconds`."""

    def call(endpoint: str, body: dict[str, Any]) -> tuple[int, Any]:
        started = time.perf_counter()
        try:
            return api(endpoint, body)
        finally:
            seconds[endpoint] = time.perf_counter() - started

    return call


def one_upload(base: str, data: bytes, index: int) -> tuple[str, Timings]:
    seconds: dict[str, float] = {}
    with requests.Session() as session:
        api = timed(over_http(base, session), seconds)
        prepared, receipts = prepare_and_send(
            api, FIELD, data, f"load-{index}.bin", put=session_put(session)
        )
        done = call_ok(api, "upload-finalize", finalize_body(prepared, receipts))
    assert done["file_size"] == len(data)
    return done["object_key"], Timings(seconds["upload-prepare"], seconds["upload-finalize"])


def session_put(session: requests.Session) -> Callable[..., requests.Response]:
    """Part PUTs on the upload's own kept-alive session, as a client sends them."""

    def put(url: str, data: bytes, headers: dict[str, str]) -> requests.Response:
        return session.put(url, data=data, headers=headers, timeout=120)

    return put


def warm_up(base: str) -> None:
    """A server that has run a while: every worker thread has its S3 client (the storage makes
    one per thread, which costs far more than a request)."""

    def prepare_and_abort(index: int) -> None:
        with requests.Session() as session:
            api = over_http(base, session)
            body = {"field_id": FIELD, "file_name": f"warm-{index}", "file_size": 6 * MiB}
            prepared = call_ok(api, "upload-prepare", body)
            status, _ = api("upload-abort", {"upload_signature": prepared["upload_signature"]})
            assert status == 204

    with ThreadPoolExecutor(max_workers=24) as pool:
        list(pool.map(prepare_and_abort, range(48)))


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def test_50_concurrent_uploads_through_3_gunicorn_workers(gunicorn_3, s3_client, capsys):
    # 0 B to 50 MiB, mostly small as real traffic is: 0, 1 B, then doubling sizes, and 50 MiB.
    sizes = [0, 1, *[int(50 * MiB * (index / 47) ** 3) for index in range(1, 48)], 50 * MiB]
    # Made before the clock starts, so that the figures are the server's, not this process's.
    payloads = [os.urandom(size) for size in sizes]
    warm_up(gunicorn_3.url)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(
            pool.map(
                lambda args: one_upload(gunicorn_3.url, *args),
                zip(payloads, range(50), strict=True),
            )
        )
    elapsed = time.perf_counter() - started
    assert len(results) == 50
    for (key, _), data in zip(results, payloads, strict=True):
        body = s3_client.get_object(Bucket="s3ff-test", Key=key)["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), key
    prepares = [timings.prepare * 1000 for _, timings in results]
    finalizes = [timings.finalize * 1000 for _, timings in results]
    with capsys.disabled():
        print(
            f"\nload: 50 uploads ({sum(sizes) / MiB:.0f} MiB) through gunicorn -w 3 in {elapsed:.2f} s: "
            f"{50 / elapsed:.1f} uploads/s; prepare p95 {p95(prepares):.1f} ms "
            f"(median {statistics.median(prepares):.1f}); finalize p95 {p95(finalizes):.1f} ms "
            f"(median {statistics.median(finalizes):.1f}); 0 errors"
        )


def test_a_killed_worker_does_not_lose_the_upload(tmp_path, seaweedfs, s3_client):
    """Prepare on one server, kill it, finalize on another: nothing lives in a process."""
    first = start_gunicorn(1, tmp_path, seaweedfs)
    second = start_gunicorn(1, tmp_path, seaweedfs)
    try:
        data = os.urandom(11 * MiB)
        with requests.Session() as session:
            on_first, on_second = over_http(first.url, session), over_http(second.url, session)
            prepared, receipts = prepare_and_send(on_first, FIELD, data, "survivor.bin")
            assert prepared["upload_id"] is not None
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
            signature = {"upload_signature": prepared["upload_signature"]}
            status = call_ok(on_second, "upload-status", signature)
            assert [p["part_number"] for p in status["parts"]] == [1, 2, 3]
            done = call_ok(on_second, "upload-finalize", finalize_body(prepared, receipts))
        stored = s3_client.get_object(Bucket="s3ff-test", Key=done["object_key"])["Body"].read()
        assert stored == data
    finally:
        stop(first)
        stop(second)
