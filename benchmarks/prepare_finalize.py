"""Benchmark: the in-process cost of prepare and finalize, ours beside 1.1.0.

    python benchmarks/prepare_finalize.py [--reps 30] [--big-reps 10] [--budget-seconds 15]

For files of 1 KiB, 100 MiB, 10 GiB and 1 TiB it prints the median and p95 milliseconds, the
response bytes and the S3 calls of one prepare and one finalize, for this repository's
`s3_file_field` and for django-s3-file-field 1.1.0 from PyPI (run in a virtualenv of its own,
made on first use under .bench/, because both libraries are imported as `s3_file_field`).

Everything talks to a SeaweedFS S3 server started here, except the finalize of 10 GiB and 1 TiB
files: their bytes cannot be uploaded on this machine, so the store's answers to
ListParts / CompleteMultipartUpload / HeadObject are faked at botocore's `before-send` (see
`_common.FakeStore`) and those rows say "stubbed store". Figures only: the exit code is not a
verdict on the targets, but is non-zero on a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from functools import partial
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import Any

from _common import (
    CONTENT_TYPE,
    FIELD_NAME,
    REAL_UPLOAD_SIZES,
    SIZES,
    ApiDriver,
    Budget,
    FakeStore,
    FakeUpload,
    KiB,
    Measurement,
    S3CallCounter,
    Sample,
    log,
    part_etag,
    put_bytes,
    run_samples,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
LEGACY_VENV = REPO / ".bench" / "venv-s3ff-1.1.0"
BUCKET = "s3ff-bench"
MINIO_BUCKET = "s3ff-bench-minio"  # test_app's second storage wants one; unused here
LEGACY_BUCKET = "s3ff-bench-legacy"
FIELD_ID = "test_app.Resource.blob"
OURS = "ours"
LEGACY = "1.1.0"
# The targets this benchmark judges prepare and finalize by. "64 KB" is read as 64 KiB; the
# byte count is printed to judge either way.
TARGET_PREPARE_MS = 5.0
TARGET_SMALL_PREPARE_MS = 1.0
TARGET_PREPARE_BYTES = 64 * KiB


# --- django-s3-file-field 1.1.0 in its own virtualenv --------------------------------------


def legacy_requirements() -> list[str]:
    """1.1.0 with the same Django, DRF, django-storages and boto3 as ours, so that only the
    library differs between the two columns."""
    pins = ["django", "djangorestframework", "django-storages", "boto3", "botocore", "requests"]
    exact = {name: version(name) for name in pins}
    exact["django-storages[s3]"] = exact.pop("django-storages")
    return ["django-s3-file-field==1.1.0", *(f"{name}=={v}" for name, v in exact.items())]


def ensure_legacy_venv(path: Path) -> Path:
    python = path / "bin" / "python"
    wanted = "\n".join(legacy_requirements())
    marker = path / "bench-requirements.txt"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if path.exists():
        if not (path / "pyvenv.cfg").exists():
            raise RuntimeError(f"{path} exists and is not a virtualenv; move it away")
        shutil.rmtree(path)  # a stale virtualenv of this script's own making
    log(f"creating {path} with django-s3-file-field 1.1.0 (once)")
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    pinned = subprocess.run([*pip, *wanted.split("\n")], check=False)
    if pinned.returncode != 0:
        # The index may lack one of our exact versions: the nearest available will do.
        log("pinned versions unavailable; installing the latest compatible ones")
        loose = [
            "django-s3-file-field==1.1.0",
            "django<6",
            "djangorestframework",
            "django-storages[s3]",
            "boto3",
            "requests",
        ]
        subprocess.run([*pip, *loose], check=True)
    marker.write_text(wanted)
    return python


def measure_legacy(
    python: Path, endpoint_url: str, tmp: Path, budget: Budget, big_reps: int
) -> tuple[dict[str, str], list[Measurement]]:
    from tests.harness.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("S3FF_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="legacy_app.settings",
        S3FF_BENCH_ENDPOINT_URL=endpoint_url,
        S3FF_BENCH_BUCKET=LEGACY_BUCKET,
        S3FF_BENCH_ACCESS_KEY=ACCESS_KEY,
        S3FF_BENCH_SECRET_KEY=SECRET_KEY,
        S3FF_BENCH_REGION=REGION,
        S3FF_BENCH_DATABASE=str(tmp / "legacy.sqlite3"),
    )
    config = {"budget": asdict(budget), "big_reps": big_reps}
    # The child's sys.path starts with benchmarks/ (its own folder), never the repository root,
    # so `s3_file_field` there is 1.1.0 from its virtualenv; it checks this too.
    done = subprocess.run(
        [str(python), str(BENCH_DIR / "_legacy_child.py")],
        input=json.dumps(config).encode(),
        stdout=subprocess.PIPE,
        env=env,
        cwd=tmp,
        timeout=1800,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the 1.1.0 benchmark failed (exit {done.returncode})")
    result = json.loads(done.stdout)
    return result["versions"], [Measurement.from_json(m) for m in result["measurements"]]


# --- this repository's library, in this process ----------------------------------------------


class Ours:
    def __init__(self, api: ApiDriver, s3: Any, bucket: str, fake: FakeStore) -> None:
        self.api = api
        self.s3 = s3
        self.bucket = bucket
        self.fake = fake

    def prepare(self, size: int) -> tuple[dict[str, Any], Sample]:
        body = {
            "field_id": FIELD_ID,
            "file_name": FIELD_NAME,
            "file_size": size,
            "content_type": CONTENT_TYPE,
        }
        return self.api.post("upload-prepare", body)

    def abort(self, prepared: dict[str, Any]) -> None:
        """Free a multipart upload left open by a prepare-only measurement (untimed)."""
        if prepared["upload_id"] is not None:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=prepared["object_key"], UploadId=prepared["upload_id"]
            )

    def upload(self, size: int, payload: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Prepare and PUT every part, as the TypeScript client does; nothing here is timed."""
        prepared, _ = self.prepare(size)
        if len(prepared["parts"]) != prepared["part_count"]:
            raise RuntimeError("100 MiB should fit the first batch of part URLs")
        receipts = []
        offset = 0
        for part in prepared["parts"]:
            chunk = payload[offset : offset + part["size"]]
            offset += part["size"]
            etag = put_bytes(part["upload_url"], chunk, prepared["part_headers"])
            receipts.append({"part_number": part["part_number"], "etag": etag})
        return prepared, receipts

    def finalize(self, prepared: dict[str, Any], receipts: list[dict[str, Any]]) -> Sample:
        body = {
            "upload_signature": prepared["upload_signature"],
            "parts": receipts if prepared["upload_id"] is not None else [],
        }
        finalized, sample = self.api.post("upload-finalize", body)
        if not finalized.get("field_value"):
            raise RuntimeError(f"upload-finalize/ gave no field_value: {finalized}")
        return sample


def measure_ours(
    endpoint_url: str, tmp: Path, budget: Budget, big_reps: int
) -> tuple[dict[str, str], list[Measurement]]:
    # test_app.settings reads these when Django loads it, so they are set before setup().
    os.environ.update(
        DJANGO_SETTINGS_MODULE="test_app.settings",
        DJANGO_DEBUG="0",  # as in production, and as in the 1.1.0 project
        S3FF_TEST_S3_ENDPOINT_URL=endpoint_url,
        S3FF_TEST_S3_BUCKET=BUCKET,
        S3FF_TEST_MINIO_BUCKET=MINIO_BUCKET,
        S3FF_TEST_DATABASE=str(tmp / "ours.sqlite3"),
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.conf import settings

    # The benchmark prepares hundreds of multipart uploads as one anonymous client.
    settings.S3FF_ANONYMOUS_MULTIPART_RATE = None

    from rest_framework.test import APIClient

    import s3_file_field
    from s3_file_field.registry import get_field

    if REPO not in Path(s3_file_field.__file__).resolve().parents:
        raise RuntimeError(f"s3_file_field imported from {s3_file_field.__file__}, not {REPO}")
    # The library's own client, which its store calls go through (not the storage's).
    backend = get_field(FIELD_ID).upload_backend  # type: ignore[union-attr]
    s3 = backend.client  # type: ignore[union-attr]
    api = ApiDriver(APIClient(), S3CallCounter(s3), "/api/s3-upload/")
    fake = FakeStore(s3)
    ours = Ours(api, s3, BUCKET, fake)
    big_budget = Budget(**{**asdict(budget), "reps": big_reps})
    payload = os.urandom(SIZES["100 MiB"])
    results: list[Measurement] = []

    for label, size in SIZES.items():
        log(f"[ours] prepare {label}")

        def prepare_once(size: int = size) -> Sample:
            prepared, sample = ours.prepare(size)
            ours.abort(prepared)
            return sample

        results.append(
            Measurement(
                OURS, label, "prepare", "real", "upload-prepare/", run_samples(budget, prepare_once)
            )
        )

        if label in REAL_UPLOAD_SIZES:
            log(f"[ours] finalize {label}, fresh uploads")
            data = payload[:size]

            def first_finalize(size: int = size, data: bytes = data) -> Sample:
                return ours.finalize(*ours.upload(size, data))

            reps = big_budget if size > SIZES["1 KiB"] else budget
            results.append(
                Measurement(
                    OURS,
                    label,
                    "finalize",
                    "real",
                    "upload-finalize/",
                    run_samples(reps, first_finalize, warmup=1),
                )
            )

            log(f"[ours] finalize (repeat) {label}")
            uploaded = ours.upload(size, data)
            ours.finalize(*uploaded)
            results.append(
                Measurement(
                    OURS,
                    label,
                    "finalize (repeat)",
                    "real",
                    "same upload finalized again (idempotent retry)",
                    run_samples(budget, partial(ours.finalize, *uploaded)),
                )
            )
        else:
            log(f"[ours] finalize {label} against canned S3 answers")
            # A real prepare (a real multipart upload id), then the parts are made up.
            prepared, _ = ours.prepare(size)
            upload = FakeUpload(
                prepared["object_key"], prepared["upload_id"], size, prepared["part_size"]
            )
            fake.add_upload(upload)
            receipts = [
                {"part_number": n, "etag": part_etag(upload.upload_id, n)}
                for n in range(1, upload.part_count + 1)
            ]
            samples = run_samples(budget, partial(ours.finalize, prepared, receipts))
            fake.clear()
            ours.abort(prepared)
            results.append(
                Measurement(
                    OURS,
                    label,
                    "finalize",
                    "stubbed store",
                    "upload-finalize/; ListParts, CompleteMultipartUpload "
                    "and HeadObject answered by FakeStore",
                    samples,
                )
            )

    versions = {
        name: version(name)
        for name in (
            "s3-file-field",
            "django",
            "djangorestframework",
            "django-storages",
            "boto3",
            "botocore",
        )
    }
    versions["python"] = sys.version.split()[0]
    return versions, results


# --- the report ----------------------------------------------------------------------------


def _ratio(ours: float, theirs: float) -> str:
    # Three significant digits: some ratios are in the thousandths.
    return f"{ours / theirs:.3g}" if theirs else "-"


def report(
    ours: list[Measurement], legacy: list[Measurement], versions: dict[str, dict[str, str]]
) -> None:
    for library, v in versions.items():
        print(f"{library:6}: " + ", ".join(f"{k} {val}" for k, val in v.items()))
    print()
    legacy_by_key = {(m.size, m.op): m for m in legacy}
    header = (
        f"{'size':8} {'operation':18} {'store':13} | "
        f"{'ours ms':>8} {'p95':>8} {'resp B':>9} {'S3':>3} | "
        f"{'1.1.0 ms':>8} {'p95':>8} {'resp B':>9} {'S3':>3} | "
        f"{'ms ratio':>8} {'B ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for m in ours:
        other = legacy_by_key.get((m.size, m.op))
        theirs = (
            f"{other.median_ms:8.2f} {other.p95_ms:8.2f} {other.response_bytes:9,} "
            f"{other.s3_calls:>3}"
            if other
            else f"{'-':>8} {'-':>8} {'-':>9} {'-':>3}"
        )
        store = m.store if other is None or other.store == m.store else f"{m.store}*"
        ratios = (
            f"{_ratio(m.median_ms, other.median_ms):>8} "
            f"{_ratio(m.response_bytes, other.response_bytes):>8}"
            if other
            else f"{'-':>8} {'-':>8}"
        )
        print(
            f"{m.size:8} {m.op:18} {store:13} | "
            f"{m.median_ms:8.2f} {m.p95_ms:8.2f} {m.response_bytes:9,} {m.s3_calls:>3} | "
            f"{theirs} | {ratios}"
        )
    print()
    print("Details (n = timed repetitions after warm-up; req B = JSON request body bytes):")
    for m in [*ours, *legacy]:
        split = ""
        if m.samples and m.samples[0].split_ms:
            names = m.samples[0].split_ms
            medians = {
                name: sorted(s.split_ms[name] for s in m.samples)[len(m.samples) // 2]
                for name in names
            }
            split = " = " + " + ".join(f"{name} {ms:.2f} ms" for name, ms in medians.items())
        print(
            f"  {m.library:5} {m.size:8} {m.op:18} n={m.n:<3} req B={m.request_bytes:<9,} "
            f"S3: {m.s3_ops}{split}"
        )
        print(f"        {m.note}")
    print()
    by_key = {(m.size, m.op): m for m in ours}
    small = by_key[("1 KiB", "prepare")]
    huge = by_key[("1 TiB", "prepare")]
    print("Targets (ours):")
    print(
        f"  1 KiB prepare makes 0 S3 calls: {small.s3_calls} call(s) -> "
        f"{'holds' if small.s3_calls == '0' else 'MISSED'}"
    )
    print(
        f"  1 KiB prepare median <= {TARGET_SMALL_PREPARE_MS:g} ms: {small.median_ms:.2f} ms -> "
        f"{'holds' if small.median_ms <= TARGET_SMALL_PREPARE_MS else 'MISSED'}"
    )
    print(
        f"  1 TiB prepare median <= {TARGET_PREPARE_MS:g} ms: {huge.median_ms:.2f} ms -> "
        f"{'holds' if huge.median_ms <= TARGET_PREPARE_MS else 'MISSED'}"
    )
    print(
        f"  1 TiB prepare response <= 64 KB (65,536 B): {huge.response_bytes:,} B -> "
        f"{'holds' if huge.response_bytes <= TARGET_PREPARE_BYTES else 'MISSED'}"
    )
    print()
    print("Notes:")
    print("  * Times are in-process (Django test client, DEBUG off): URL routing, middleware,")
    print("    DRF, the library, its S3 round trips to a local SeaweedFS, and the JSON response.")
    print("  * S3 = S3 API operations made by the library's boto3 client, counted at botocore's")
    print("    before-call (presigning is local and not counted).")
    print("  * 'stubbed store': 10 GiB and 1 TiB are not uploaded; for finalize the store's")
    print("    answers are canned XML/headers injected at botocore's before-send, so botocore")
    print("    builds, signs and parses as usual but no network or server time is included.")
    print("    Their prepares are real (a real CreateMultipartUpload where the library makes one).")
    print(
        "  * 1.1.0 'finalize' = upload-complete/ + finalize/, summed; the CompleteMultipartUpload"
    )
    print("    that 1.1.0's client then sends to S3 itself is neither timed nor counted.")
    print("  * 'finalize' uses a fresh upload per repetition; 'finalize (repeat)' finalizes one")
    print("    already-finalized upload again (a retry after a lost response).")


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that the `with` blocks below stop SeaweedFS.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions per figure")
    parser.add_argument(
        "--big-reps",
        type=int,
        default=10,
        help="timed repetitions of a first finalize of 100 MiB (each uploads it)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=15.0,
        help="stop repeating a figure after this long (at least 5 repetitions)",
    )
    parser.add_argument("--legacy-venv", type=Path, default=LEGACY_VENV)
    args = parser.parse_args(argv)
    if args.reps < 1 or args.big_reps < 1:
        parser.error("--reps and --big-reps must be at least 1")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    # test_app lives at the repository root, which is not on sys.path when a script is run.
    sys.path.insert(1, str(REPO))
    from tests.harness.seaweedfs import SeaweedFS

    budget = Budget(reps=args.reps, seconds=args.budget_seconds)
    python = ensure_legacy_venv(args.legacy_venv.resolve())
    with (
        tempfile.TemporaryDirectory(prefix="s3ff-bench-") as tmp_name,
        SeaweedFS(buckets=[BUCKET, MINIO_BUCKET, LEGACY_BUCKET]) as server,
    ):
        tmp = Path(tmp_name)
        log(f"SeaweedFS at {server.endpoint_url}")
        ours_versions, ours = measure_ours(server.endpoint_url, tmp, budget, args.big_reps)
        legacy_versions, legacy = measure_legacy(
            python, server.endpoint_url, tmp, budget, args.big_reps
        )
    report(ours, legacy, {OURS: ours_versions, LEGACY: legacy_versions})
    return 0


if __name__ == "__main__":
    sys.exit(main())
