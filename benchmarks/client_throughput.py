"""Benchmark: how fast the TypeScript client uploads, and in how much memory.

    python benchmarks/client_throughput.py [--rounds 3] [--size-mib 256] [--concurrency 4,6,8]
                                           [--fetch-transport] [--without-checksums]
                                           [--part-size-mib N] [--scenarios loopback,throttled]
                                           [--client-core N]

One file of random bytes on disk is uploaded again and again by a fresh Node process each time
(javascript-client/bench/upload.mjs), with these clients, interleaved round by round:

- ours: this repository's client (its build in dist/, with its defaults: in Node, parts and API
  calls over node:http) against this repository's Django, once per `--concurrency` given (parts
  sent at once; without the option, the client's own default);
- raw PUT: one presigned PUT of the whole file, signed here with boto3, piped from disk in reads
  of 1 MiB: the physical baseline;
- 1.1.0 client: the django-s3-file-field@1.1.0 npm client against a 1.1.0 Django (its own
  virtualenv under .bench/, as for prepare_finalize.py; the npm package under .bench/ too);
- with `--fetch-transport`, also ours with its parts sent by fetch (`createFetchTransport`), at
  the first concurrency: what Node's fetch costs;
- with `--without-checksums`, also ours with checksums off, at the first concurrency: what
  hashing each part costs (ours hashes each part as it sends it, by default);
- with `--all-at-once`, also ours sending as many parts at once as its concurrency from the
  start, not finding how many help (the adaptive rule, its default);

in three settings (or those given with `--scenarios`): on loopback straight to SeaweedFS;
through tests/harness/faultproxy.py capping each TCP connection at 20 MB/s with 40 ms more round
trip (Django's calls to the store go through it too); and, ours only, through a second proxy with
the same round trip and no cap ("lifted"): what this machine carries with that many connections,
the other bound of the capped link's ideal (the lesser of connections x cap and that), all of
them at once. It prints median MB/s (10^6 bytes per second, like the proxy's cap), the ratios
the README's targets are set in, and the peak RSS of each uploading Node process; and, to tell
what set the pace, the CPU-seconds of Node, SeaweedFS and the proxy per upload, how busy each
core was meanwhile, and how long ours spent preparing, sending parts and finalizing. Figures
only: the exit code is not a verdict on the targets, but is non-zero on a crash.

With `--client-core N`, each uploading Node process runs on core N alone and everything else
(SeaweedFS, the proxy, the Djangos) on the other cores, as if the store were another machine:
on a small machine the store otherwise takes CPU from the client, and the client from the store.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

from prepare_finalize import LEGACY_VENV, ensure_legacy_venv

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CLIENT_DIR = REPO / "javascript-client"
NPM_LEGACY_DIR = REPO / ".bench" / "npm-django-s3-file-field-1.1.0"
NPM_LEGACY_MODULE = NPM_LEGACY_DIR / "node_modules" / "django-s3-file-field" / "dist" / "client.js"
BUCKET = "s3ff-throughput"
MINIO_BUCKET = "s3ff-throughput-minio"  # test_app's second storage wants one; unused here
LEGACY_BUCKET = "s3ff-throughput-legacy"
FIELD_ID = "test_app.Resource.blob"
LEGACY_FIELD_ID = "legacy_app.Resource.blob"
MiB = 1024 * 1024
MB = 1_000_000
SCENARIOS = ("loopback", "throttled", "lifted")
# 1.1.0's fixed part size, sent one at a time.
LEGACY_PART_SIZE = 64 * MiB
# The targets this benchmark judges the client by.
TARGET_RAW_RATIO = 0.95
TARGET_LEGACY_RATIO = 3.5
TARGET_IDEAL_RATIO = 0.85
TARGET_RSS = 100 * MiB
# A run starts once the whole machine is at most this busy (the servers idle, nothing else).
QUIET_BUSY = 0.15


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Client:
    """One row of the results: a client, and for ours its concurrency and part transport."""

    kind: str  # ours, raw or legacy
    concurrency: int | None = None  # ours: parts at once; None: the client's default
    transport: str | None = None  # ours: None for the default, or "fetch"
    checksums: bool = True  # ours: each part checked against its checksum (the default)
    adaptive: bool = True  # ours: connections found while uploading (the default), or all at once

    @property
    def label(self) -> str:
        if self.kind == "raw":
            return "raw PUT"
        if self.kind == "legacy":
            return "1.1.0 client"
        at = "" if self.concurrency is None else f" @{self.concurrency}"
        notes = [
            note
            for note in (
                self.transport,
                None if self.checksums else "no checksum",
                None if self.adaptive else "all at once",
            )
            if note
        ]
        return f"ours{at}" + (f" ({', '.join(notes)})" if notes else "")


@dataclass(frozen=True)
class Run:
    client: Client
    scenario: str
    bytes: int
    seconds: float
    max_rss_bytes: int
    concurrency: int | None  # ours: as the upload reported it
    node_cpu_seconds: float  # the uploading process's, user + system, during the upload
    store_cpu_seconds: float = 0.0  # SeaweedFS's, from its start to its end (set by the caller)
    # This process's, the proxy's thread included, over the same span (set by the caller)
    proxy_cpu_seconds: float = 0.0
    # Each core's share of time busy during the upload: near 1 on all, the CPU set the pace
    core_busy: tuple[float, ...] = ()
    # ours: seconds in each state its upload reported (preparing, uploading, finalizing, done)
    phase_seconds: tuple[tuple[str, float], ...] = ()

    @property
    def mbps(self) -> float:
        return self.bytes / self.seconds / MB


# --- what the clients need -------------------------------------------------------------------


def ensure_npm_legacy() -> Path:
    """The 1.1.0 npm client, installed once beside 1.1.0's virtualenv."""
    package = NPM_LEGACY_MODULE.parents[1] / "package.json"
    if package.exists() and json.loads(package.read_text())["version"] == "1.1.0":
        return NPM_LEGACY_MODULE
    log(f"installing django-s3-file-field@1.1.0 from npm into {NPM_LEGACY_DIR} (once)")
    NPM_LEGACY_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
         str(NPM_LEGACY_DIR), "django-s3-file-field@1.1.0"],
        check=True,
    )  # fmt: skip
    return NPM_LEGACY_MODULE


def build_client() -> None:
    if not (CLIENT_DIR / "node_modules").exists():
        raise RuntimeError("javascript-client/node_modules is missing: run `npm ci` there first")
    log("building the TypeScript client (npm run build)")
    subprocess.run(["npm", "run", "--silent", "build"], cwd=CLIENT_DIR, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def write_random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for offset in range(0, size, 8 * MiB):
            out.write(os.urandom(min(8 * MiB, size - offset)))


# --- servers ---------------------------------------------------------------------------------


@contextmanager
def django_server(
    name: str, python: Path, settings: str, env: dict[str, str], paths: list[str], tmp: Path
) -> Iterator[str]:
    """A Django project served by _django_server.py; yields its base URL, stops it by PID."""
    from tests.harness.seaweedfs import StopWaiting, free_port, stop_process_group, wait_until

    port = free_port()
    log_path = tmp / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [str(python), str(BENCH_DIR / "_django_server.py"), settings, str(port), *paths],
            env=env,
            cwd=tmp,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"

        def serves() -> bool:
            if process.poll() is not None:
                raise StopWaiting(f"{name} exited early:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    pass
            except urllib.error.HTTPError:
                pass  # any HTTP answer (a 404 here) means it serves
            return True

        wait_until(serves, timeout=60, what=name, interval=0.2)
        yield url
    finally:
        stop_process_group(process)


def ours_env(endpoint: str, database: Path, part_size: int) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "S3FF_TEST_S3_ENDPOINT_URL": endpoint,
        "S3FF_TEST_S3_BUCKET": BUCKET,
        "S3FF_TEST_MINIO_BUCKET": MINIO_BUCKET,
        "S3FF_TEST_DATABASE": str(database),
        # test_app's settings take it from here.
        "S3FF_PART_SIZE": str(part_size),
    }


def legacy_env(endpoint: str, database: Path) -> dict[str, str]:
    from tests.harness.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY

    # Nothing of this repository's environment: 1.1.0 runs from its own virtualenv.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith(("S3FF_", "DJANGO_"))
    }
    env.update(
        S3FF_BENCH_ENDPOINT_URL=endpoint,
        S3FF_BENCH_BUCKET=LEGACY_BUCKET,
        S3FF_BENCH_ACCESS_KEY=ACCESS_KEY,
        S3FF_BENCH_SECRET_KEY=SECRET_KEY,
        S3FF_BENCH_REGION=REGION,
        S3FF_BENCH_DATABASE=str(database),
    )
    return env


def s3_client(endpoint: str) -> Any:
    from tests.harness.seaweedfs import admin_client

    return admin_client(endpoint)


def empty_buckets(s3: Any) -> None:
    """Remove every upload of the last run, so the store's disk does not fill up."""
    for bucket in (BUCKET, LEGACY_BUCKET):
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        for listed in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=listed["Key"])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy(seconds: float) -> float:
    """The share of all cores' time spent busy over the next `seconds` (Linux)."""

    def totals() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    all_before, idle_before = totals()
    time.sleep(seconds)
    all_after, idle_after = totals()
    return 1 - (idle_after - idle_before) / max(1, all_after - all_before)


def settle(
    pid: int, least: float = 1.5, timeout: float = 10.0, quiet_timeout: float = 120.0
) -> float:
    """Wait `least` seconds, then until the store is idle, then the machine; gives the seconds.

    Deleting the last run's 256 MiB sets SeaweedFS to work in the background for a second or
    two, which made the next run up to twice as slow, whichever client it was. On 2 cores the
    uploads are CPU-bound, so anything else running (a test suite) skews a run as much.
    """
    started = time.monotonic()
    time.sleep(least)
    last = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(0.25)
        now = cpu_seconds(pid)
        if now - last < 0.02:  # under 8 % of a core over the last quarter second
            break
        last = now
    quiet_since = time.monotonic()
    while (busy := machine_busy(0.5)) > QUIET_BUSY:
        if time.monotonic() - quiet_since > quiet_timeout:
            log(f"the machine stays {busy:.0%} busy: measuring anyway")
            break
    return time.monotonic() - started


# --- measuring -------------------------------------------------------------------------------


def pinned(cores: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn that runs the child on `cores` alone (None: anywhere)."""
    return None if cores is None else (lambda: os.sched_setaffinity(0, cores))


def run_node(
    client: Client, scenario: str, options: list[str], cores: set[int] | None = None
) -> Run:
    done = subprocess.run(
        ["node", "bench/upload.mjs", "--client", client.kind, *options],
        cwd=CLIENT_DIR,
        preexec_fn=pinned(cores),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{client.label} upload ({scenario}) failed:\n{done.stdout}\n{done.stderr}"
        )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return Run(
        client,
        scenario,
        result["bytes"],
        result["seconds"],
        result["maxRssBytes"],
        result.get("concurrency"),
        result["cpuSeconds"],
        phase_seconds=tuple((result.get("phaseSeconds") or {}).items()),
        core_busy=tuple(result.get("coreBusy") or ()),
    )


def runs_in(client: Client, scenario: str) -> bool:
    """Whether `client` is measured in `scenario`: the lifted cap is ours' alone."""
    return scenario != "lifted" or (client.kind == "ours" and client.adaptive)


def median_mbps(runs: list[Run], client: Client, scenario: str) -> float:
    return statistics.median(r.mbps for r in runs if r.client == client and r.scenario == scenario)


def verdict(holds: bool) -> str:
    return "holds" if holds else "MISSED"


def report(runs: list[Run], clients: list[Client], size: int, part_size: int, args: Any) -> None:
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    our_parts = max(1, math.ceil(size / part_size))
    legacy_parts = max(1, math.ceil(size / LEGACY_PART_SIZE))
    ours = [client for client in clients if client.kind == "ours"]
    raw, legacy = Client("raw"), Client("legacy")
    # The concurrency each of ours ran with, as its uploads reported it (the default, if unset).
    concurrency = {
        client: next(r.concurrency for r in runs if r.client == client and r.concurrency)
        for client in ours
    }
    print(
        f"Upload throughput: one {size // MiB} MiB file ({size:,} B) of random bytes on disk, "
        f"{args.rounds} rounds, clients interleaved (order rotated each round); medians."
    )
    print(
        f"Machine: {os.cpu_count()} cores; Node {node.stdout.strip()}; SeaweedFS on 127.0.0.1; "
        "MB/s = 10^6 bytes/s."
    )
    print(
        f"ours: {our_parts} parts of {part_size // MiB} MiB, "
        f"{' / '.join(str(concurrency[c]) for c in ours)} at a time; "
        f"1.1.0 client: {legacy_parts} parts of {LEGACY_PART_SIZE // MiB} MiB, one at a time; "
        "raw PUT: the whole file in one presigned PUT."
    )
    cap = args.throttle_mbps
    titles = {
        "loopback": "1. Loopback: Node -> SeaweedFS (and Django) on 127.0.0.1",
        "throttled": (
            f"2. Through tests/harness/faultproxy.py: {cap:g} MB/s per TCP connection, "
            f"+{args.latency_ms:g} ms round trip"
        ),
        "lifted": (
            f"2b. Through a second proxy, +{args.latency_ms:g} ms round trip and no cap: what this "
            "machine carries with as many connections (ours only)"
        ),
    }
    lifted = "lifted" in args.scenarios
    width = max(len(client.label) for client in clients) + 1
    for scenario in args.scenarios:
        print()
        print(titles[scenario])
        header = f"{'median MB/s':>11}  {'each run, MB/s':32} {'peak RSS MiB':>12}"
        print(f"   {'client':{width}} {header}")
        for client in clients:
            if not runs_in(client, scenario):
                continue
            these = [r for r in runs if r.client == client and r.scenario == scenario]
            each = ", ".join(f"{r.mbps:.1f}" for r in these)
            rss_mib = max(r.max_rss_bytes for r in these) / MiB
            print(
                f"   {client.label:{width}} {median_mbps(runs, client, scenario):11.1f}  "
                f"{each:32} {rss_mib:12.1f}"
            )
        if scenario == "lifted":
            continue
        raw_mbps = median_mbps(runs, raw, scenario)
        legacy_mbps = median_mbps(runs, legacy, scenario)
        for client in ours:
            mine = median_mbps(runs, client, scenario)
            if scenario == "loopback":
                print(
                    f"   {client.label} / raw PUT = {mine / raw_mbps:.3f} (target >= "
                    f"{TARGET_RAW_RATIO}: {verdict(mine / raw_mbps >= TARGET_RAW_RATIO)}); "
                    f"{client.label} / 1.1.0 = {mine / legacy_mbps:.2f}"
                )
            else:
                ideal = min(concurrency[client], our_parts) * cap
                if lifted:
                    ideal = min(ideal, median_mbps(runs, replace(client, adaptive=True), "lifted"))
                faster = mine / legacy_mbps
                print(
                    f"   {client.label} / 1.1.0 = {faster:.2f} (target >= "
                    f"{TARGET_LEGACY_RATIO}: {verdict(faster >= TARGET_LEGACY_RATIO)}); "
                    f"{client.label} / ideal = {mine / ideal:.3f} (target >= "
                    f"{TARGET_IDEAL_RATIO}: {verdict(mine / ideal >= TARGET_IDEAL_RATIO)})"
                )
        if scenario == "throttled":
            for client in ours:
                at_once = min(concurrency[client], our_parts)
                waves = math.ceil(our_parts / at_once)
                # Parts are sent whole, so the last round of parts may leave connections idle.
                whole = size / (waves * part_size / (cap * MB)) / MB
                carried = (
                    f", and {median_mbps(runs, replace(client, adaptive=True), 'lifted'):.1f} MB/s "
                    "with the cap lifted "
                    "(2b): the lesser is the ideal"
                    if lifted
                    else " (run --scenarios ...,lifted for the other bound)"
                )
                print(
                    f"   ideal for {client.label}: min({concurrency[client]} at a time, "
                    f"{our_parts} parts) x {cap:g} MB/s = {at_once * cap:g} MB/s{carried}; with "
                    f"whole parts (rounds of at most {at_once}: {waves}) at most {whole:.1f} MB/s"
                )
            print(f"   raw PUT and 1.1.0 use one connection: at most {cap:g} MB/s")
    print()
    print(
        "CPU seconds per upload, medians: the uploading Node process / SeaweedFS "
        "(/ the proxy, throttled); how busy each core was meanwhile"
    )
    for client in clients:
        cells = []
        for scenario in args.scenarios:
            if not runs_in(client, scenario):
                continue
            these = [r for r in runs if r.client == client and r.scenario == scenario]
            node_cpu = statistics.median(r.node_cpu_seconds for r in these)
            store_cpu = statistics.median(r.store_cpu_seconds for r in these)
            cell = f"{scenario} {node_cpu:4.2f} / {store_cpu:4.2f}"
            if scenario != "loopback":
                cell += f" / {statistics.median(r.proxy_cpu_seconds for r in these):4.2f}"
            each_core = zip(*(r.core_busy for r in these), strict=True)
            busy = [statistics.median(core) for core in each_core]
            cells.append(f"{cell}, cores {' / '.join(f'{share:.0%}' for share in busy)} busy")
        print(f"   {client.label:{width}} {';   '.join(cells)}")
    print()
    print("Where ours spends its time, medians in ms: preparing / uploading the parts / finalizing")
    for client in ours:
        cells = []
        for scenario in args.scenarios:
            if not runs_in(client, scenario):
                continue
            timed = [
                dict(r.phase_seconds) for r in runs if r.client == client and r.scenario == scenario
            ]
            spans = [
                statistics.median(phases.get(state, 0.0) for phases in timed) * 1000
                for state in ("preparing", "uploading", "finalizing")
            ]
            cells.append(f"{scenario} " + " / ".join(f"{span:4.0f}" for span in spans))
        print(f"   {client.label:{width}} {';   '.join(cells)}")
    print()
    print(
        "3. Peak RSS of the uploading Node process, all timed runs "
        f"(target <= {TARGET_RSS // MiB} MiB)"
    )
    for client in clients:
        peaks = [r.max_rss_bytes for r in runs if r.client == client]
        peak = max(peaks)
        target = f": {verdict(peak <= TARGET_RSS)}" if client.kind == "ours" else ""
        print(
            f"   {client.label:{width}} max {peak / MiB:6.1f} MiB, median "
            f"{statistics.median(peaks) / MiB:6.1f} MiB{target}"
        )
    print()
    print("Notes:")
    print("  * Time runs from the upload call to its result inside the Node process: Node's own")
    print("    start is left out; each client's calls to its Django (prepare/initialize, parts,")
    print("    finalize) are in. Each upload is a fresh Node process; peak RSS is its VmHWM (its")
    print("    ru_maxrss would include the RSS of this Python process, which forked it).")
    print("  * One untimed warm-up upload per client on loopback comes first (page cache, store).")
    print("  * After each run its objects are deleted and the store left to go idle (its")
    print("    background work after a delete slowed whichever run came next); each run starts")
    print(f"    once the machine is at most {QUIET_BUSY:.0%} busy.")
    print("  * Both Djangos run Django's development server with a pool of reused threads")
    print("    (_django_server.py), DEBUG off: a thread per connection would make every fresh")
    print("    Node process pay django-storages' per-thread boto3 set-up (~100 ms).")
    print("  * Node's own baseline RSS (an idle process with the file opened) is about 41 MiB.")


def concurrency_list(text: str) -> list[int | None]:
    values = [int(item) for item in text.split(",") if item.strip()]
    if not values or min(values) < 1 or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError("distinct integers >= 1, comma-separated, e.g. 4,6,8")
    return list(values)


def scenario_list(text: str) -> list[str]:
    values = [item.strip() for item in text.split(",") if item.strip()]
    if not values or any(value not in SCENARIOS for value in values):
        raise argparse.ArgumentTypeError(f"a comma-separated choice of {', '.join(SCENARIOS)}")
    return values


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so that the `with` blocks stop the servers.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (>= 3 for medians)")
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument(
        "--concurrency",
        type=concurrency_list,
        default=[None],
        help="ours: parts at once, e.g. 4,6,8 (a row each); default: the client's own default",
    )
    parser.add_argument(
        "--fetch-transport",
        action="store_true",
        help="also ours with parts sent by fetch (undici), at the first concurrency",
    )
    parser.add_argument(
        "--without-checksums",
        action="store_true",
        help="also ours without Content-MD5 checksums, at the first concurrency",
    )
    parser.add_argument(
        "--all-at-once",
        action="store_true",
        help="also ours sending all its parts at once (not adaptive), at the first concurrency",
    )
    parser.add_argument(
        "--part-size-mib",
        type=int,
        default=None,
        help="ours: S3FF_PART_SIZE of its Django (a server setting); default: the library's",
    )
    parser.add_argument(
        "--scenarios",
        type=scenario_list,
        default=list(SCENARIOS),
        help="which settings to measure, e.g. loopback (default: loopback,throttled)",
    )
    parser.add_argument(
        "--client-core",
        type=int,
        default=None,
        help="run each uploading Node process on this core alone, the servers on the others",
    )
    parser.add_argument("--throttle-mbps", type=float, default=20.0, help="per connection")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="added round trip")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    clients = [Client("ours", concurrency) for concurrency in args.concurrency]
    if args.fetch_transport:
        clients.append(Client("ours", args.concurrency[0], "fetch"))
    if args.without_checksums:
        clients.append(Client("ours", args.concurrency[0], checksums=False))
    if args.all_at_once:
        clients.append(Client("ours", args.concurrency[0], adaptive=False))
    clients += [Client("raw"), Client("legacy")]
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise RuntimeError("node and npm are needed")
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    # test_app lives at the repository root, which is not on sys.path when a script is run.
    sys.path.insert(1, str(REPO))
    from s3_file_field.conf import DEFAULTS
    from tests.harness.faultproxy import FaultProxy, Mode
    from tests.harness.seaweedfs import SeaweedFS

    client_cores: set[int] | None = None
    if args.client_core is not None:
        every = os.sched_getaffinity(0)
        client_cores = {args.client_core}
        if not client_cores < every:
            parser.error(f"--client-core must be one of {sorted(every)}, with at least one other")
        # The servers started below inherit this: the rest of the cores.
        os.sched_setaffinity(0, every - client_cores)
    part_size = args.part_size_mib * MiB if args.part_size_mib else int(DEFAULTS["S3FF_PART_SIZE"])
    size = args.size_mib * MiB
    legacy_python = ensure_legacy_venv(LEGACY_VENV)
    legacy_module = ensure_npm_legacy()
    build_client()
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="s3ff-throughput-") as tmp_name,
        SeaweedFS(buckets=[BUCKET, MINIO_BUCKET, LEGACY_BUCKET]) as store,
        FaultProxy(store.endpoint_url) as proxy,
        FaultProxy(store.endpoint_url) as lifted_proxy,
    ):
        tmp = Path(tmp_name)
        proxy.set_mode(
            Mode(
                name="throttle",
                bytes_per_second=args.throttle_mbps * MB,
                latency_ms=args.latency_ms,
            )
        )
        lifted_proxy.set_mode(Mode(name="throttle", latency_ms=args.latency_ms))
        endpoints = {
            "loopback": store.endpoint_url,
            "throttled": proxy.url,
            "lifted": lifted_proxy.url,
        }
        direct = s3_client(store.endpoint_url)
        assert store.process is not None
        store_pid = store.process.pid
        log(f"SeaweedFS at {store.endpoint_url}, throttling proxy at {proxy.url}")
        data = tmp / "bench.bin"
        write_random_file(data, size)
        with (
            django_server("ours-loopback", Path(sys.executable), "test_app.settings",
                          ours_env(endpoints["loopback"], tmp / "ours-1.sqlite3", part_size),
                          [str(REPO)], tmp) as ours_loopback,
            django_server("ours-throttled", Path(sys.executable), "test_app.settings",
                          ours_env(endpoints["throttled"], tmp / "ours-2.sqlite3", part_size),
                          [str(REPO)], tmp) as ours_throttled,
            django_server("ours-lifted", Path(sys.executable), "test_app.settings",
                          ours_env(endpoints["lifted"], tmp / "ours-3.sqlite3", part_size),
                          [str(REPO)], tmp) as ours_lifted,
            django_server("legacy-loopback", legacy_python, "legacy_app.settings",
                          legacy_env(endpoints["loopback"], tmp / "legacy-1.sqlite3"), [],
                          tmp) as legacy_loopback,
            django_server("legacy-throttled", legacy_python, "legacy_app.settings",
                          legacy_env(endpoints["throttled"], tmp / "legacy-2.sqlite3"), [],
                          tmp) as legacy_throttled,
        ):  # fmt: skip
            django = {
                ("ours", "loopback"): ours_loopback,
                ("ours", "throttled"): ours_throttled,
                ("ours", "lifted"): ours_lifted,
                ("legacy", "loopback"): legacy_loopback,
                ("legacy", "throttled"): legacy_throttled,
            }
            signers = {scenario: s3_client(url) for scenario, url in endpoints.items()}

            def options(client: Client, scenario: str) -> list[str]:
                common = ["--file", str(data)]
                if client.kind == "raw":
                    # ContentLength is signed, as the library signs it into its own URLs.
                    url = signers[scenario].generate_presigned_url(
                        "put_object",
                        Params={"Bucket": BUCKET, "Key": "raw/bench.bin", "ContentLength": size},
                        ExpiresIn=3600,
                    )
                    return [*common, "--url", url]
                base = django[(client.kind, scenario)] + "/api/s3-upload/"
                if client.kind == "ours":
                    extra = []
                    if client.concurrency is not None:
                        extra += ["--concurrency", str(client.concurrency)]
                    if client.transport:
                        extra += ["--transport", client.transport]
                    if not client.checksums:
                        extra += ["--checksums", "off"]
                    # With the cap lifted, what as many connections carry: all of them at once.
                    if not client.adaptive or scenario == "lifted":
                        extra += ["--adaptive", "off"]
                    return [*common, "--base-url", base, "--field-id", FIELD_ID, *extra]
                return [*common, "--base-url", base, "--field-id", LEGACY_FIELD_ID,
                        "--legacy-module", str(legacy_module)]  # fmt: skip

            for client in clients:
                warm = run_node(client, "loopback", options(client, "loopback"), client_cores)
                log(f"warm-up {client.label:15} loopback  {warm.mbps:7.1f} MB/s")
                empty_buckets(direct)
                settle(store_pid)
            for round_number in range(args.rounds):
                shift = round_number % len(clients)
                order = clients[shift:] + clients[:shift]
                for scenario in args.scenarios:
                    for client in order:
                        if not runs_in(client, scenario):
                            continue
                        store_cpu = cpu_seconds(store_pid)
                        # The proxy serves from a thread of this process, idle but for it.
                        proxy_cpu = cpu_seconds(os.getpid())
                        run = run_node(client, scenario, options(client, scenario), client_cores)
                        # Node's start and end are in, but the store is idle then.
                        run = replace(
                            run,
                            store_cpu_seconds=cpu_seconds(store_pid) - store_cpu,
                            proxy_cpu_seconds=cpu_seconds(os.getpid()) - proxy_cpu,
                        )
                        runs.append(run)
                        empty_buckets(direct)
                        waited = settle(store_pid)
                        log(
                            f"round {round_number + 1} {client.label:15} {scenario:9} "
                            f"{run.mbps:7.1f} MB/s  {run.seconds:6.2f} s  "
                            f"RSS {run.max_rss_bytes / MiB:6.1f} MiB  (store idle after "
                            f"{waited:.1f} s)"
                        )
    report(runs, clients, size, part_size, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
