"""One upload by one Python client, in a process of its own: prints its seconds and peak RSS.

    python benchmarks/_python_upload.py '{"kind": "ours", "file": ..., "url": ..., ...}'

Run by python_client.py (pinned to the client's core); the time excludes the interpreter's
start and the imports, which are the same for every kind.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import requests
from s3_file_field_client import S3FileFieldClient as LegacyClient

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from s3_file_field.client import S3FileFieldClient

MiB = 1024 * 1024


def chunks(path: str, offset: int = 0, size: int | None = None) -> Iterator[bytes]:
    with open(path, "rb") as file:
        file.seek(offset)
        left = os.path.getsize(path) - offset if size is None else size
        while left > 0 and (chunk := file.read(min(MiB, left))):
            left -= len(chunk)
            yield chunk


def raw_parallel(path: str, urls: list[str], part_size: int, at_once: int) -> None:
    """Each part its own presigned PUT (of an object of its own), `at_once` at a time."""
    size = os.path.getsize(path)
    limits = httpx.Limits(max_connections=at_once)
    with httpx.Client(timeout=60, limits=limits) as client:

        def put(index: int) -> None:
            offset = index * part_size
            length = min(part_size, size - offset)
            headers = {"Content-Length": str(length)}
            answer = client.put(urls[index], content=chunks(path, offset, length), headers=headers)
            answer.raise_for_status()

        with concurrent.futures.ThreadPoolExecutor(at_once) as pool:
            list(pool.map(put, range(len(urls))))


def peak_rss_bytes() -> int:
    """VmHWM: this process's own peak (ru_maxrss counts the parent's pages from before exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> int:
    config = json.loads(sys.argv[1])
    path, size = config["file"], os.path.getsize(config["file"])
    started = time.perf_counter()
    if config["kind"] == "ours":
        options = {key: config[key] for key in ("checksums", "concurrency") if key in config}
        with S3FileFieldClient(config["url"], **options) as client:
            client.upload(path, config["field_id"])
    elif config["kind"] == "raw-parallel":
        raw_parallel(path, config["urls"], config["part_size"], config["at_once"])
    elif config["kind"] == "raw":
        # One presigned PUT of the whole file, streamed by the same HTTP library as ours.
        with httpx.Client(timeout=60) as client:
            answer = client.put(
                config["url"], content=chunks(path), headers={"Content-Length": str(size)}
            )
            answer.raise_for_status()
    else:
        legacy = LegacyClient(config["url"], requests.Session())
        with open(path, "rb") as file:
            legacy.upload_file(
                file_stream=file,
                file_name="bench.bin",
                file_content_type="application/octet-stream",
                field_id=config["field_id"],
            )
    seconds = time.perf_counter() - started
    peak = peak_rss_bytes()
    print(json.dumps({"seconds": seconds, "max_rss_bytes": peak, "size": size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
