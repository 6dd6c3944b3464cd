"""Benchmark: what the TypeScript client's part transport costs Node, in CPU and memory.

    python benchmarks/client_cpu.py [--rounds 5] [--size-mib 256] [--concurrency 4,8]
                                    [--part-size-mib 16]

client_throughput.py measures whole uploads, on loopback, where Node, SeaweedFS and Django share
the machine's cores: there every CPU-second the client spends is taken from the store, and runs
vary by 15 % and more. This measures the client alone: Node sends one file of random bytes from
disk to a sink that reads and drops it (javascript-client/bench/sink.mjs), Node on one core, the
sink on another, a fresh process of each per run, interleaved round by round:

- raw PUT: the file piped into one PUT (fs.createReadStream, reads of 1 MiB; node:http): the
  baseline;
- ours @N: the file from the package's openFile (read 1 MiB at a time; again as a Blob of
  fs.openAsBlob, which reads 64 KiB at a time), in parts of `--part-size-mib`, N at once, through
  the client's node:http transport, each part read and hashed (CRC32) before it is sent, as an
  upload to a store that verifies CRC32 does by default; again hashed (MD5) from the bytes the
  transport passes, as to a store that verifies no CRC32; and without a checksum;
- MD5 alone: as many bytes hashed, from memory, sending nothing: what the hashing costs.

It prints medians of the CPU-seconds each sender spent per GiB sent (and the ratio to raw PUT's),
of its MB/s (on its own core, CPU-bound: the same figure seen as speed), of the sink's CPU per
GiB (how the bytes came: fewer, larger writes cost the reader less), and the sender's peak RSS.
Figures only; the exit code is non-zero on a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import GiB, MiB
from client_throughput import CLIENT_DIR, MB, build_client, log, pinned, write_random_file


@dataclass(frozen=True)
class Sender:
    kind: str  # raw, ours or md5
    concurrency: int = 1
    # crc32 (the default: each part hashed before it goes), md5-etag (a store without CRC32:
    # hashed from the bytes sent) or off.
    checksums: str = "crc32"
    # open-file (the package's openFile, 1 MiB reads) or open-as-blob (fs.openAsBlob).
    source: str = "open-file"

    @property
    def label(self) -> str:
        if self.kind == "raw":
            return "raw PUT"
        if self.kind == "md5":
            return "MD5 alone"
        suffix = {"crc32": "", "md5-etag": " (MD5/ETag)", "off": " (no checksum)"}
        source = " (openAsBlob)" if self.source == "open-as-blob" else ""
        return f"ours @{self.concurrency}{suffix[self.checksums]}{source}"


@dataclass(frozen=True)
class Run:
    sender: Sender
    bytes: int
    seconds: float
    cpu_seconds: float
    sink_cpu_seconds: float
    max_rss_bytes: int


def run_sender(sender: Sender, options: list[str], cores: set[int] | None) -> dict[str, Any]:
    """Runs bench/send.mjs once (on `cores` alone, if given); gives the JSON it printed."""
    done = subprocess.run(
        ["node", "bench/send.mjs", "--client", sender.kind, *options],
        cwd=CLIENT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=pinned(cores),
    )
    if done.returncode != 0:
        raise RuntimeError(f"{sender.label} failed:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def send_once(sender: Sender, data: Path, part_size_mib: int, cores: tuple[int, int] | None) -> Run:
    """One run of `sender`, to a sink of its own (MD5 alone sends nothing, so needs none)."""
    options = ["--file", str(data)]
    if sender.kind == "md5":
        result = run_sender(sender, options, cores and {cores[1]})
        sink_cpu = 0.0
    else:
        sink = subprocess.Popen(
            ["node", "bench/sink.mjs"],
            cwd=CLIENT_DIR,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinned(cores and {cores[0]}),
        )
        try:
            assert sink.stdout is not None
            options += ["--url", f"http://127.0.0.1:{json.loads(sink.stdout.readline())['port']}/k"]
            if sender.kind == "ours":
                options += ["--concurrency", str(sender.concurrency)]
                options += ["--part-size-mib", str(part_size_mib)]
                options += ["--checksums", sender.checksums, "--source", sender.source]
            result = run_sender(sender, options, cores and {cores[1]})
        finally:
            sink.terminate()
            remaining, _ = sink.communicate(timeout=30)
        sink_cpu = json.loads(remaining.strip().splitlines()[-1])["cpuSeconds"]
    return Run(
        sender,
        result["bytes"],
        result["seconds"],
        result["cpuSeconds"],
        sink_cpu,
        result["maxRssBytes"],
    )


def report(runs: list[Run], senders: list[Sender], args: argparse.Namespace) -> None:
    def per_gib(sender: Sender, value: str) -> float:
        """The median of a figure of `sender`'s runs, per GiB sent."""
        return statistics.median(
            float(getattr(r, value)) / (r.bytes / GiB) for r in runs if r.sender == sender
        )

    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    print(
        f"Node's cost of sending one {args.size_mib} MiB file from disk to a sink that drops it; "
        f"{args.rounds} rounds, interleaved; medians."
    )
    where = (
        f"Node on core {args.cores[1]}, the sink on core {args.cores[0]}"
        if args.cores
        else "Node and the sink unpinned"
    )
    print(
        f"Machine: {os.cpu_count()} cores ({where}); Node {node.stdout.strip()}; MB/s = 10^6 B/s."
    )
    print(f"ours: parts of {args.part_size_mib} MiB; raw PUT: the whole file in one PUT.")
    print()
    raw = senders[0]
    raw_cpu = per_gib(raw, "cpu_seconds")
    width = max(len(sender.label) for sender in senders) + 1
    print(
        f"   {'sender':{width}} {'CPU-s/GiB':>9} {'÷ raw':>6} {'MB/s':>7} "
        f"{'sink CPU-s/GiB':>14} {'peak RSS MiB':>12}"
    )
    for sender in senders:
        cpu = per_gib(sender, "cpu_seconds")
        mbps = statistics.median(r.bytes / r.seconds / MB for r in runs if r.sender == sender)
        rss = max(r.max_rss_bytes for r in runs if r.sender == sender) / MiB
        sink = "-" if sender.kind == "md5" else f"{per_gib(sender, 'sink_cpu_seconds'):.3f}"
        print(
            f"   {sender.label:{width}} {cpu:9.3f} {cpu / raw_cpu:6.2f} {mbps:7.1f} "
            f"{sink:>14} {rss:12.1f}"
        )
    print()
    print("Notes:")
    print("  * CPU is user + system of the sending process (its libuv threads, which read the")
    print("    file, too), from the send's start to its end; peak RSS is the most of all its runs.")
    print("  * MD5 alone sends nothing; its MB/s is the hashing's speed on one core.")


def concurrency_list(text: str) -> list[int]:
    values = [int(item) for item in text.split(",") if item.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("integers >= 1, comma-separated, e.g. 4,8")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--concurrency", type=concurrency_list, default=[4, 8])
    parser.add_argument("--part-size-mib", type=int, default=16)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.size_mib < 1 or args.part_size_mib < 1:
        parser.error("--rounds, --size-mib and --part-size-mib must be at least 1")
    cores = sorted(os.sched_getaffinity(0))
    # The sink on one core, Node on another, so that neither takes CPU from the other.
    args.cores = (cores[0], cores[1]) if len(cores) >= 2 else None
    senders = [Sender("raw")]
    # Node 20's fs.openAsBlob gives a file of 4 GiB or more the size modulo 2^32.
    blob_sizes_wrap = args.size_mib * MiB >= 4 * GiB
    if blob_sizes_wrap:
        log("no openAsBlob sender: Node's fs.openAsBlob wraps sizes of 4 GiB and more at 2^32")
    for concurrency in args.concurrency:
        senders += [
            Sender("ours", concurrency),
            Sender("ours", concurrency, checksums="md5-etag"),
            Sender("ours", concurrency, checksums="off"),
        ]
        if not blob_sizes_wrap:
            senders.append(Sender("ours", concurrency, source="open-as-blob"))
    senders.append(Sender("md5"))
    build_client()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="s3ff-client-cpu-") as tmp:
        data = Path(tmp) / "send.bin"
        write_random_file(data, args.size_mib * MiB)
        for sender in senders:
            send_once(sender, data, args.part_size_mib, args.cores)  # warm-up: the page cache
        for round_number in range(args.rounds):
            shift = round_number % len(senders)
            for sender in senders[shift:] + senders[:shift]:
                run = send_once(sender, data, args.part_size_mib, args.cores)
                runs.append(run)
                mbps = run.bytes / run.seconds / MB
                log(
                    f"round {round_number + 1} {sender.label:15} {run.cpu_seconds:6.3f} CPU-s  "
                    f"{mbps:7.1f} MB/s  RSS {run.max_rss_bytes / MiB:6.1f} MiB"
                )
    report(runs, senders, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
