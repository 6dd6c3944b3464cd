"""Benchmark: how fast the Python client uploads, and in how much memory.

    python benchmarks/python_client.py [--rounds 5] [--size-mib 256] [--big-size-mib 4096]
                                       [--big-rounds 1] [--client-core 1]

One file of random bytes on disk is uploaded again and again, each time by a fresh Python
process (benchmarks/_python_upload.py) on the client's core alone, SeaweedFS, the Djangos and
the proxy on the other core (as when the store is another machine), interleaved round by round:

- loopback: ours (s3_file_field.client with its defaults: 8 parts at once, CRC32 checksums)
  against this repository's Django, and one presigned PUT of the whole file streamed by httpx,
  the same HTTP library, in reads of 1 MiB (signed here with boto3): the physical baseline;
  and the file's parts as 8 raw PUTs at once (below), what the store does with that many;
- capped: through tests/harness/faultproxy.py capping each connection at 20 MB/s with 40 ms
  more round trip: ours, and the django-s3-file-field-client 1.1.0 Python client against a
  1.1.0 Django (its own virtualenv under .bench/, as for prepare_finalize.py); and the ideal
  ours could reach there: the file's parts (of the server's part size) as presigned PUTs of
  objects of their own, 8 at a time, by httpx, with no API call at all ("raw-parallel"),
  which tells what the proxy and the store's core carry;
- memory: ours on loopback with a file of `--big-size-mib` (4 GiB), `--big-rounds` times: its
  peak RSS beside the one at `--size-mib`.

It prints median MB/s (10^6 bytes per second) with the spread, the ratios the targets are set
in (ours ÷ raw PUT ≥ 0.95 on loopback, ours ÷ 1.1.0 ≥ 3.5 capped), and the peak RSS of each
client process. Figures only: the exit code is non-zero only on a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from client_throughput import (
    BUCKET,
    FIELD_ID,
    LEGACY_BUCKET,
    LEGACY_FIELD_ID,
    MB,
    MINIO_BUCKET,
    REPO,
    MiB,
    _stop_on_sigterm,
    django_server,
    empty_buckets,
    legacy_env,
    log,
    ours_env,
    pinned,
    s3_client,
    settle,
    write_random_file,
)
from prepare_finalize import LEGACY_VENV, ensure_legacy_venv

CHILD = Path(__file__).resolve().parent / "_python_upload.py"
TARGET_RAW_RATIO = 0.95
TARGET_LEGACY_RATIO = 3.5


@dataclass(frozen=True)
class Run:
    client: str  # ours, raw or legacy
    scenario: str  # loopback, capped or memory
    seconds: float
    size: int
    max_rss_bytes: int

    @property
    def mbps(self) -> float:
        return self.size / self.seconds / MB


def upload(config: dict[str, object], cores: set[int] | None) -> Run:
    done = subprocess.run(
        [sys.executable, str(CHILD), json.dumps(config)],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=pinned(cores),
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if done.returncode != 0:
        raise RuntimeError(f"{config['kind']} failed:\n{done.stderr[-3000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(
        str(config.get("label", config["kind"])),
        str(config["scenario"]),
        measured["seconds"],
        measured["size"],
        measured["max_rss_bytes"],
    )


def variants(text: str) -> list[str]:
    return [item for item in text.split(",") if item]


def options(label: str) -> dict[str, object]:
    """`ours:concurrency=4` → {"concurrency": 4}; `ours:checksums=off` → {"checksums": False}."""
    name, _, value = label.removeprefix("ours:").partition("=")
    return {name: value != "off"} if name == "checksums" else {name: int(value)}


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} to {max(values):.1f}"


def report(runs: list[Run]) -> None:
    def of(client: str, scenario: str) -> list[Run]:
        return [run for run in runs if run.client == client and run.scenario == scenario]

    print("\n| client | scenario | MB/s median (spread, runs) | peak RSS median |")
    print("| --- | --- | --- | --- |")
    for client, scenario in dict.fromkeys((run.client, run.scenario) for run in runs):
        chosen = of(client, scenario)
        if not chosen:
            continue
        mbps = [run.mbps for run in chosen]
        rss = statistics.median(run.max_rss_bytes for run in chosen) / MiB
        print(
            f"| {client} | {scenario} ({chosen[0].size // MiB} MiB) | "
            f"{statistics.median(mbps):.1f} ({spread(mbps)}, {len(chosen)}) | {rss:.1f} MiB |"
        )

    def median(client: str, scenario: str) -> float:
        return statistics.median(run.mbps for run in of(client, scenario))

    raw_ratio = median("ours", "loopback") / median("raw", "loopback")
    legacy_ratio = median("ours", "capped") / median("legacy", "capped")
    ideal_ratio = median("ours", "capped") / median("raw-parallel", "capped")
    print(f"\nloopback: ours / one raw PUT = {raw_ratio:.3f} (target ≥ {TARGET_RAW_RATIO})")
    print(f"capped: ours / the 1.1.0 client = {legacy_ratio:.2f} (target ≥ {TARGET_LEGACY_RATIO})")
    print(f"capped: ours / its parts as 8 raw PUTs at once = {ideal_ratio:.3f}")
    if of("ours", "memory"):
        small = max(run.max_rss_bytes for run in of("ours", "loopback")) / MiB
        big = max(run.max_rss_bytes for run in of("ours", "memory")) / MiB
        print(f"peak RSS of ours: {small:.1f} MiB at the small file, {big:.1f} MiB at the big one")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--big-size-mib", type=int, default=4096, help="0: no memory scenario")
    parser.add_argument("--big-rounds", type=int, default=1)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument(
        "--variants",
        default="",
        help="also ours with other options, in both scenarios, e.g. concurrency=4,checksums=off",
    )
    parser.add_argument("--throttle-mbps", type=float, default=20.0, help="per connection")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="added round trip")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sys.path.insert(1, str(REPO))
    from s3_file_field.conf import DEFAULTS
    from tests.harness.faultproxy import FaultProxy, Mode
    from tests.harness.seaweedfs import SeaweedFS

    every = os.sched_getaffinity(0)
    client_cores = {args.client_core}
    if not client_cores < every:
        parser.error(f"--client-core must be one of {sorted(every)}, with at least one other")
    # The servers started below inherit this: the other cores.
    os.sched_setaffinity(0, every - client_cores)
    part_size = int(DEFAULTS["S3FF_PART_SIZE"])
    legacy_python = ensure_legacy_venv(LEGACY_VENV)
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="s3ff-python-client-") as tmp_name,
        SeaweedFS(buckets=[BUCKET, MINIO_BUCKET, LEGACY_BUCKET]) as store,
        FaultProxy(store.endpoint_url) as proxy,
    ):
        tmp = Path(tmp_name)
        proxy.set_mode(
            Mode("throttle", bytes_per_second=args.throttle_mbps * MB, latency_ms=args.latency_ms)
        )
        direct = s3_client(store.endpoint_url)
        assert store.process is not None
        store_pid = store.process.pid
        data = tmp / "bench.bin"
        write_random_file(data, args.size_mib * MiB)
        with (
            django_server("ours-loopback", Path(sys.executable), "test_app.settings",
                          ours_env(store.endpoint_url, tmp / "ours-1.sqlite3", part_size),
                          [str(REPO)], tmp) as ours_loopback,
            django_server("ours-capped", Path(sys.executable), "test_app.settings",
                          ours_env(proxy.url, tmp / "ours-2.sqlite3", part_size),
                          [str(REPO)], tmp) as ours_capped,
            django_server("legacy-capped", legacy_python, "legacy_app.settings",
                          legacy_env(proxy.url, tmp / "legacy-1.sqlite3"), [],
                          tmp) as legacy_capped,
        ):  # fmt: skip

            def raw_url() -> str:
                # ContentLength is signed, as the library signs it into its own URLs.
                return str(
                    direct.generate_presigned_url(
                        "put_object",
                        Params={
                            "Bucket": BUCKET,
                            "Key": "raw/bench.bin",
                            "ContentLength": data.stat().st_size,
                        },
                        ExpiresIn=3600,
                    )
                )

            signers = {"loopback": direct, "capped": s3_client(proxy.url)}

            def part_urls(file: Path, scenario: str) -> list[str]:
                count = -(-file.stat().st_size // part_size)
                return [
                    str(
                        signers[scenario].generate_presigned_url(
                            "put_object",
                            Params={
                                "Bucket": BUCKET,
                                "Key": f"raw/part-{index}",
                                "ContentLength": min(
                                    part_size, file.stat().st_size - index * part_size
                                ),
                            },
                            ExpiresIn=3600,
                        )
                    )
                    for index in range(count)
                ]

            def config(client: str, scenario: str, file: Path = data) -> dict[str, object]:
                if client == "raw-parallel":
                    return {"kind": client, "scenario": scenario, "file": str(file),
                            "urls": part_urls(file, scenario), "part_size": part_size,
                            "at_once": 8}  # fmt: skip
                if client.startswith("ours:"):
                    return {**config("ours", scenario, file), **options(client), "kind": "ours",
                            "label": client}  # fmt: skip
                if client == "raw":
                    return {
                        "kind": "raw",
                        "scenario": scenario,
                        "file": str(file),
                        "url": raw_url(),
                    }
                if client == "legacy":
                    url, field = legacy_capped, LEGACY_FIELD_ID
                else:
                    url = ours_capped if scenario == "capped" else ours_loopback
                    field = FIELD_ID
                return {
                    "kind": client,
                    "scenario": scenario,
                    "file": str(file),
                    "url": f"{url}/api/s3-upload/",
                    "field_id": field,
                }

            plan = [
                ("ours", "loopback"),
                ("raw", "loopback"),
                ("raw-parallel", "loopback"),
                ("ours", "capped"),
                ("legacy", "capped"),
                ("raw-parallel", "capped"),
            ]
            plan += [
                (f"ours:{variant}", scenario)
                for variant in variants(args.variants)
                for scenario in ("loopback", "capped")
            ]
            log("warm-up")
            for client, scenario in plan:
                upload(config(client, scenario), client_cores)
                empty_buckets(direct)
                settle(store_pid)
            for round_number in range(args.rounds):
                shift = round_number % len(plan)
                for client, scenario in plan[shift:] + plan[:shift]:
                    run = upload(config(client, scenario), client_cores)
                    runs.append(run)
                    empty_buckets(direct)
                    settle(store_pid)
                    log(
                        f"round {round_number + 1} {client:6} {scenario:8} {run.mbps:7.1f} MB/s "
                        f"RSS {run.max_rss_bytes / MiB:6.1f} MiB"
                    )
            if args.big_size_mib:
                big = tmp / "big.bin"
                write_random_file(big, args.big_size_mib * MiB)
                data.unlink()
                for _ in range(args.big_rounds):
                    run = upload(config("ours", "memory", big), client_cores)
                    runs.append(run)
                    empty_buckets(direct)
                    settle(store_pid)
                    log(f"memory ours {run.mbps:7.1f} MB/s RSS {run.max_rss_bytes / MiB:6.1f} MiB")
    report(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
