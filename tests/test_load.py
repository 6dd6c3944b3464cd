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
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.harness.seaweedfs import StopWaiting, free_port, wait_until

pytestmark = pytest.mark.once

MiB = 1024 * 1024
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


def api(base: str, endpoint: str, body: dict, session: requests.Session) -> dict:
    response = session.post(f"{base}/api/s3-upload/{endpoint}/", json=body, timeout=60)
    assert response.status_code == 200, (endpoint, response.status_code, response.text)
    return response.json()


def prepare_and_send(
    base: str, data: bytes, name: str, session: requests.Session
) -> tuple[dict, list, float]:
    started = time.perf_counter()
    prepared = api(
        base,
        "upload-prepare",
        {"field_id": FIELD, "file_name": name, "file_size": len(data)},
        session,
    )
    prepare_seconds = time.perf_counter() - started
    parts = {p["part_number"]: p for p in prepared["parts"]}
    missing = [n for n in range(1, prepared["part_count"] + 1) if n not in parts]
    if missing:
        more = api(
            base,
            "upload-parts",
            {"upload_signature": prepared["upload_signature"], "part_numbers": missing},
            session,
        )
        parts.update({p["part_number"]: p for p in more["parts"]})
    receipts = []
    offset = 0
    for number in range(1, prepared["part_count"] + 1):
        part = parts[number]
        response = session.put(
            part["upload_url"],
            data=data[offset : offset + part["size"]],
            headers=prepared["part_headers"],
            timeout=120,
        )
        assert response.status_code == 200, response.text
        offset += part["size"]
        receipts.append({"part_number": number, "etag": response.headers["ETag"]})
    return prepared, receipts, prepare_seconds


def one_upload(base: str, data: bytes, index: int) -> tuple[str, Timings]:
    with requests.Session() as session:
        prepared, receipts, prepare_seconds = prepare_and_send(
            base, data, f"load-{index}.bin", session
        )
        started = time.perf_counter()
        body = {
            "upload_signature": prepared["upload_signature"],
            "parts": receipts if prepared["upload_id"] else [],
        }
        done = api(base, "upload-finalize", body, session)
        finalize_seconds = time.perf_counter() - started
    assert done["file_size"] == len(data)
    return done["object_key"], Timings(prepare_seconds, finalize_seconds)


def warm_up(base: str) -> None:
    """A server that has run a while: every worker thread has its S3 client (the storage makes
    one per thread, which costs far more than a request)."""

    def prepare_and_abort(index: int) -> None:
        with requests.Session() as session:
            body = {"field_id": FIELD, "file_name": f"warm-{index}", "file_size": 6 * MiB}
            prepared = api(base, "upload-prepare", body, session)
            signature = {"upload_signature": prepared["upload_signature"]}
            assert session.post(f"{base}/api/s3-upload/upload-abort/", json=signature).ok

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
            prepared, receipts, _ = prepare_and_send(first.url, data, "survivor.bin", session)
            assert prepared["upload_id"] is not None
            first.process.send_signal(signal.SIGKILL)
            first.process.wait(timeout=10)
            status = api(
                second.url,
                "upload-status",
                {"upload_signature": prepared["upload_signature"]},
                session,
            )
            assert [p["part_number"] for p in status["parts"]] == [1, 2, 3]
            body = {"upload_signature": prepared["upload_signature"], "parts": receipts}
            done = api(second.url, "upload-finalize", body, session)
        stored = s3_client.get_object(Bucket="s3ff-test", Key=done["object_key"])["Body"].read()
        assert stored == data
    finally:
        stop(first)
        stop(second)
