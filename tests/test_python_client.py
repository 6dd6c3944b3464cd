"""The Python client and `s3ff` against the live stack: this Django (`live_server`), the
session's SeaweedFS, and tests/harness/faultproxy.py in between where faults are wanted."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from s3_file_field.client import (
    ApiCallError,
    DirectoryResumeStore,
    PartNetworkError,
    PartStalledError,
    S3FileFieldClient,
    UploadCancelledError,
)
from test_app.forms import ResourceForm
from test_app.models import Resource
from tests.harness.faultproxy import FaultProxy, Mode
from tests.harness.seaweedfs import wait_until

from .harness.driver import MiB
from .harness.storages import s3_storage

# The client does not depend on Django's version; the server's side has its own tests.
pytestmark = pytest.mark.once

FIELD = "test_app.Resource.blob"
PART = 5 * MiB
S3FF = Path(sys.executable).parent / "s3ff"


def api_url(live_server) -> str:
    return f"{live_server.url}/api/s3-upload/"


def saved(value: str) -> bytes:
    form = ResourceForm(data={"blob": value})
    assert form.is_valid(), form.errors
    resource = form.save()
    with resource.blob.open("rb") as stored:
        return bytes(stored.read())


def pattern(size: int, seed: int = 0) -> bytes:
    """Bytes that differ part from part, quick to make at any size."""
    block = hashlib.sha256(f"{seed}".encode()).digest() * (MiB // 32 + 1)
    whole, rest = divmod(size, MiB)
    return b"".join(bytes([index % 251]) + block[1:MiB] for index in range(whole)) + block[:rest]


class PartPuts(httpx.HTTPTransport):
    """The real transport, noting the part number of every PUT; raising a network error
    instead of sending once `fail_after` PUTs were stored."""

    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__()
        self.numbers: list[int] = []
        self.fail_after = fail_after
        self.headers: list[httpx.Headers] = []
        self.lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        with self.lock:
            if self.fail_after is not None and len(self.numbers) >= self.fail_after:
                raise httpx.ConnectError("injected by the test", request=request)
            self.numbers.append(int(query.get("partNumber", ["0"])[0]))
            self.headers.append(request.headers)
        return super().handle_request(request)


@pytest.fixture
def fault_proxy(seaweedfs, settings, monkeypatch):
    with FaultProxy(seaweedfs.endpoint_url) as proxy:
        monkeypatch.setattr(
            Resource._meta.get_field("blob"),
            "storage",
            s3_storage(proxy.url, settings.S3_BUCKET, file_overwrite=False),
        )
        yield proxy


@pytest.fixture
def part_size(settings):
    settings.S3FF_PART_SIZE = PART
    return PART


SIZES = {
    "0 B": 0,
    "1 B": 1,
    "one part": PART,
    "one part + 1": PART + 1,
    "many parts": 3 * PART + 7,
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("checksums", "offered"),
    [(True, None), (True, []), (False, None)],
    ids=["crc32 signed", "md5 by etag", "no checksums"],
)
def test_files_of_every_shape_upload_and_read_back(
    live_server, part_size, settings, tmp_path, checksums, offered
):
    if offered is not None:
        settings.S3FF_CHECKSUM_ALGORITHMS = offered
    with S3FileFieldClient(api_url(live_server), checksums=checksums, concurrency=3) as client:
        for index, (label, size) in enumerate(SIZES.items()):
            data = pattern(size, index)
            # Each input kind in turn: a path, a file object, bytes.
            if index % 3 == 0:
                path = tmp_path / f"{index}.bin"
                path.write_bytes(data)
                result = client.upload(path, FIELD)
            elif index % 3 == 1:
                result = client.upload(io.BytesIO(data), FIELD, file_name=f"{index}.bin")
            else:
                result = client.upload(data, FIELD, file_name=f"{index}.bin")
            assert result.file_size == size, label
            assert result.object_key.endswith(f"/{index}.bin"), label
            if checksums and offered is None and size:
                assert result.checksum is not None
                assert result.checksum["algorithm"] == "crc32", label
            assert saved(result.field_value) == data, label


@pytest.mark.django_db(transaction=True)
def test_a_server_requiring_checksums_gets_parts_signed_for_their_md5(
    live_server, part_size, settings
):
    settings.S3FF_CHECKSUM_ALGORITHMS = ["md5"]
    settings.S3FF_REQUIRE_CHECKSUMS = True
    paths: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: paths.append(request.url.path)]})
    with S3FileFieldClient(api_url(live_server), http_client=http) as client:
        for size in (1, 2 * PART + 3):
            data = pattern(size, size)
            result = client.upload(data, FIELD, file_name="required.bin")
            # MD5s are checked as the bytes come, and not kept with the object.
            assert result.checksum is None
            assert saved(result.field_value) == data
    prepares = [path for path in paths if path.endswith("/upload-prepare/")]
    # Asked for CRC32 first and refused; the client remembers, and asks for both from then on.
    assert len(prepares) == 3


@pytest.mark.django_db(transaction=True)
def test_part_urls_are_signed_in_rounds_not_one_call_each(live_server, part_size):
    paths: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: paths.append(request.url.path)]})
    data = pattern(6 * PART, 4)
    with S3FileFieldClient(api_url(live_server), http_client=http, concurrency=3) as client:
        result = client.upload(data, FIELD, file_name="rounds.bin")
    assert result.checksum is not None
    # Each part hashed and signed for its CRC32, three to a call (however the threads meet,
    # at most three calls; one a part would be six).
    assert 2 <= sum(path.endswith("/upload-parts/") for path in paths) <= 3
    assert saved(result.field_value) == data


@pytest.mark.django_db(transaction=True)
def test_a_fifth_of_part_puts_failing_still_completes(live_server, part_size, fault_proxy):
    fault_proxy.set_mode(Mode("fail", rate=0.2, seed=7, kinds=("500", "503", "reset")))
    waits: list[float] = []
    data = pattern(8 * PART + 3)
    with S3FileFieldClient(
        api_url(live_server), concurrency=3, retries=8, sleep=waits.append
    ) as client:
        result = client.upload(data, FIELD, file_name="faulty.bin")
    stats = fault_proxy.stats()
    assert sum(stats["faults"].values()) >= 2, stats
    assert len(waits) == sum(stats["faults"].values())
    assert saved(result.field_value) == data


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("offered", [None, []], ids=["crc32 signed", "md5 by etag"])
def test_parts_altered_on_the_way_are_sent_again(
    live_server, part_size, fault_proxy, settings, offered
):
    if offered is not None:
        settings.S3FF_CHECKSUM_ALGORITHMS = offered
    fault_proxy.set_mode(Mode("fail", rate=0.3, seed=3, kinds=("corrupt",)))
    data = pattern(4 * PART + 1, 5)
    with S3FileFieldClient(api_url(live_server), retries=8, sleep=lambda _: None) as client:
        result = client.upload(data, FIELD, file_name="altered.bin")
    assert fault_proxy.stats()["faults"].get("corrupt", 0) >= 1
    assert saved(result.field_value) == data


@pytest.mark.django_db(transaction=True)
def test_a_stalled_part_is_given_up_after_the_stall_timeout(live_server, part_size, fault_proxy):
    fault_proxy.set_mode(Mode("fail", rate=1.0, kinds=("stall",)))
    # The API's own client keeps a patient timeout: only the part's PUT may stall.
    api_http = httpx.Client(timeout=30)
    with (
        S3FileFieldClient(
            api_url(live_server), http_client=api_http, retries=0, stall_timeout=0.5
        ) as client,
        pytest.raises(PartStalledError) as raised,
    ):
        client.upload(pattern(PART + 1), FIELD, file_name="stalled.bin")
    assert "stalled, nothing moved for 0.5 s" in str(raised.value)
    assert raised.value.code == "network"


@pytest.mark.django_db(transaction=True)
def test_retry_after_of_a_429_is_honoured(live_server, part_size, settings):
    settings.S3FF_ANONYMOUS_MULTIPART_RATE = "1/hour"
    from django.core.cache import cache

    cache.clear()
    waits: list[float] = []
    with S3FileFieldClient(
        api_url(live_server), retries=1, retry_max_delay=7200, sleep=waits.append
    ) as client:
        client.upload(pattern(PART + 1), FIELD, file_name="first.bin")
        with pytest.raises(ApiCallError) as raised:
            client.upload(pattern(PART + 1), FIELD, file_name="second.bin")
    cache.clear()
    assert raised.value.status == 429
    assert raised.value.retry_after is not None
    assert raised.value.retry_after > 60
    # The one wait before the retry was at least what the server asked.
    assert len(waits) == 1
    assert waits[0] >= raised.value.retry_after - 1


@pytest.mark.django_db(transaction=True)
def test_api_refusals_are_typed_and_say_why(live_server):
    with S3FileFieldClient(api_url(live_server)) as client:
        with pytest.raises(ApiCallError) as raised:
            client.upload(b"x", "auth.User.password", file_name="a.bin")
        assert raised.value.status == 400
        assert raised.value.endpoint == "upload-prepare/"
        assert "field_id" in (raised.value.field_errors or {})
        with pytest.raises(ApiCallError) as too_big:
            client.upload(pattern(6 * MiB), "test_app.LimitedResource.image", file_name="a.png")
        assert too_big.value.status == 400
        assert "too large" in too_big.value.detail


def upload_broken_off(live_server, path: Path, store: DirectoryResumeStore, parts: int) -> None:
    """An upload whose network goes down once `parts` parts are stored, one part at a time."""
    broken = PartPuts(fail_after=parts)
    with (
        S3FileFieldClient(
            api_url(live_server),
            resume=store,
            retries=0,
            concurrency=1,
            store_client=httpx.Client(transport=broken),
        ) as client,
        pytest.raises(PartNetworkError),
    ):
        client.upload(path, FIELD)
    assert broken.numbers == list(range(1, parts + 1))


def upload_counting_parts(live_server, path: Path, store: DirectoryResumeStore):
    counting = PartPuts()
    with S3FileFieldClient(
        api_url(live_server), resume=store, store_client=httpx.Client(transport=counting)
    ) as client:
        return client.upload(path, FIELD), sorted(counting.numbers)


@pytest.mark.django_db(transaction=True)
def test_resume_sends_only_the_missing_parts(live_server, part_size, tmp_path):
    path = tmp_path / "resumed.bin"
    data = pattern(5 * PART + 9, 11)
    path.write_bytes(data)
    store = DirectoryResumeStore(tmp_path / "resume")
    upload_broken_off(live_server, path, store, parts=2)
    # A transient failure keeps the upload, on the store and in the resume store.
    assert len(list((tmp_path / "resume").glob("*.json"))) == 1
    result, sent = upload_counting_parts(live_server, path, store)
    assert sent == [3, 4, 5, 6]
    assert saved(result.field_value) == data
    assert list((tmp_path / "resume").glob("*.json")) == []


@pytest.mark.django_db(transaction=True)
def test_resume_of_another_file_under_the_same_name_starts_over(
    live_server, part_size, tmp_path, s3_client, settings
):
    path = tmp_path / "same-name.bin"
    path.write_bytes(pattern(2 * PART + 1, 1))
    store = DirectoryResumeStore(tmp_path / "resume")
    upload_broken_off(live_server, path, store, parts=1)
    # Another file of the same name, size and modification time: only its bytes differ.
    before = path.stat()
    other = pattern(2 * PART + 1, 2)
    path.write_bytes(other)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    result, sent = upload_counting_parts(live_server, path, store)
    assert sent == [1, 2, 3]
    assert saved(result.field_value) == other
    # The first file's upload was freed on the store.
    assert uploads_named(s3_client, settings.S3_BUCKET, "same-name.bin") == [result.object_key]


@pytest.mark.django_db(transaction=True)
def test_cancel_aborts_the_upload_on_the_store(live_server, part_size, s3_client, settings):
    cancel = threading.Event()

    def cancel_once_a_part_is_on_its_way(progress):
        if progress.sent >= MiB:
            cancel.set()

    with (
        S3FileFieldClient(api_url(live_server), concurrency=2) as client,
        pytest.raises(UploadCancelledError),
    ):
        client.upload(
            pattern(4 * PART),
            FIELD,
            file_name="cancelled.bin",
            on_progress=cancel_once_a_part_is_on_its_way,
            cancel=cancel,
        )
    assert uploads_named(s3_client, settings.S3_BUCKET, "cancelled.bin") == []


def uploads_named(s3_client, bucket: str, name: str) -> list[str]:
    listed = s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    objects = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return [entry["Key"] for entry in [*listed, *objects] if entry["Key"].endswith(f"/{name}")]


@pytest.mark.django_db(transaction=True)
def test_api_credentials_never_reach_the_store(live_server, part_size):
    seen = PartPuts()
    with S3FileFieldClient(
        api_url(live_server),
        token="secret-token",
        headers={"X-Api-Key": "secret-key"},
        cookies={"sessionid": "secret-session"},
        store_client=httpx.Client(transport=seen),
    ) as client:
        # The test project ignores these credentials: the upload goes on anonymously.
        client.upload(pattern(2 * PART), FIELD, file_name="private.bin")
    assert len(seen.headers) == 2
    for headers in seen.headers:
        assert "authorization" not in headers
        assert "x-api-key" not in headers
        assert "cookie" not in headers


# The command line.


def s3ff(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(S3FF), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.django_db(transaction=True)
def test_the_cli_uploads_files_prints_values_and_attaches_them(live_server, part_size, tmp_path):
    files = []
    for index, size in enumerate([1, PART + 1]):
        path = tmp_path / f"cli-{index}.bin"
        path.write_bytes(pattern(size, index))
        files.append(path)
    done = s3ff(
        "upload", *map(str, files), "--url", api_url(live_server), "--field", FIELD, "--json"
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [result["size"] for result in results] == [1, PART + 1]
    for path, result in zip(files, results, strict=True):
        assert saved(result["field_value"]) == path.read_bytes()
    # The progress bars went to stderr: bytes, speed.
    assert "cli-1.bin" in done.stderr
    assert "B/s" in done.stderr

    attached = s3ff(
        "upload",
        str(files[0]),
        "--url",
        api_url(live_server),
        "--field",
        FIELD,
        "--attach",
        f"{live_server.url}/api/resources/",
        "--quiet",
        "--json",
    )
    assert attached.returncode == 0, attached.stderr
    resource = Resource.objects.get(id=json.loads(attached.stdout)[0]["attached"]["id"])
    with resource.blob.open("rb") as stored:
        assert stored.read() == files[0].read_bytes()
    assert str(resource.blob.name).endswith("/cli-0.bin")


@pytest.mark.django_db(transaction=True)
def test_the_cli_exit_codes(live_server, tmp_path):
    missing = s3ff("upload", str(tmp_path / "nope.bin"), "--url", "http://x/", "--field", FIELD)
    assert missing.returncode == 2
    assert "nope.bin is not a readable file" in missing.stderr
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    refused = s3ff(
        "upload", str(path), "--url", api_url(live_server), "--field", "auth.User.password"
    )
    assert refused.returncode == 1
    assert "upload-prepare/ failed (HTTP 400)" in refused.stderr
    helped = s3ff("upload", "--help")
    assert helped.returncode == 0
    assert "exit codes:" in helped.stdout
    assert "S3FF_TOKEN" in helped.stdout


def interrupted_s3ff(
    proxy, path: Path, *args: str, parts_begun: int = 1
) -> subprocess.CompletedProcess[str]:
    """s3ff interrupted by SIGINT once PUTs of `parts_begun` parts reached the store's proxy."""
    process = subprocess.Popen(
        [str(S3FF), "upload", str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: True if len(proxy.stats()["part_puts"]) >= parts_begun else None,
            timeout=60,
            what=f"PUTs of {parts_begun} parts",
        )
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_leaves_no_multipart_upload(
    live_server, part_size, fault_proxy, s3_client, settings, tmp_path
):
    # A slow link, so that the upload is surely under way when the signal comes.
    fault_proxy.set_mode(Mode("throttle", bytes_per_second=2 * MiB))
    path = tmp_path / "interrupted.bin"
    path.write_bytes(pattern(6 * PART))
    done = interrupted_s3ff(fault_proxy, path, "--url", api_url(live_server), "--field", FIELD)
    assert done.returncode == 130, done.stderr
    assert "interrupted; the upload in progress was aborted" in done.stderr
    assert uploads_named(s3_client, settings.S3_BUCKET, "interrupted.bin") == []


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_with_resume_pauses_and_the_same_command_goes_on(
    live_server, part_size, fault_proxy, s3_client, settings, tmp_path
):
    fault_proxy.set_mode(Mode("throttle", bytes_per_second=4 * MiB))
    path = tmp_path / "paused.bin"
    data = pattern(4 * PART, 9)
    path.write_bytes(data)
    command = ["--url", api_url(live_server), "--field", FIELD, "--resume", str(tmp_path / "r")]
    # One part at a time: once part 2 is begun, part 1 is stored.
    done = interrupted_s3ff(fault_proxy, path, "--concurrency", "1", *command, parts_begun=2)
    assert done.returncode == 130, done.stderr
    assert "the same command goes on where this one stopped" in done.stderr
    # Kept on the store: the multipart upload is there, unfinished.
    assert uploads_named(s3_client, settings.S3_BUCKET, "paused.bin")
    fault_proxy.set_mode(Mode("pass"))
    fault_proxy.reset_stats()
    again = s3ff("upload", str(path), *command, "--json")
    assert again.returncode == 0, again.stderr
    (result,) = json.loads(again.stdout)
    assert saved(result["field_value"]) == data
    # Part 1 was stored before the signal: it does not go again. Part 2 was under way (it goes
    # again unless it landed meanwhile); the last part had not begun.
    sent = {int(number) for number in fault_proxy.stats()["part_puts"]}
    assert 1 not in sent
    assert 4 in sent
    assert sent <= {2, 3, 4}
