"""Benchmark: the form widget uploading in Chromium, against one XHR PUT of the same file.

    python benchmarks/browser_upload.py [--rounds 3] [--size-mib 256] [--browser-core N]

Debian's chromium (through Playwright) on one core, SeaweedFS and Django on the others, as when
the store is another machine. Each round loads the ModelForm page (`/resources/new/`) twice,
in alternating order: once the widget uploads the file (every part hashed in the page and
signed for its checksum, as by default), once the page sends the same file in one XHR PUT to a
URL presigned here (the least a browser can do). A `longtask` PerformanceObserver in the page
records every task of the main thread longer than 50 ms while it uploads. It prints the medians
(and min-max) of MB/s (10^6 bytes/s), the ratio, and the longest task; figures only, the exit
code is not a verdict.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import MiB
from client_throughput import (
    BUCKET,
    MB,
    MINIO_BUCKET,
    REPO,
    build_client,
    django_server,
    log,
    ours_env,
    s3_client,
    write_random_file,
)

sys.path.insert(0, str(REPO))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# Installed before the page's scripts: every long task, from the first.
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]);
}).observe({ type: 'longtask', buffered: true });
"""
# One XHR PUT of the chosen file; resolves to [start, end] in the page's clock.
XHR_PUT = """
async ([url]) => {
  const file = document.querySelector('#bench-file').files[0];
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.onload = () => (xhr.status === 200 ? resolve() : reject(new Error(`HTTP ${xhr.status}`)));
    xhr.onerror = () => reject(new Error('network error'));
    xhr.send(file);
  });
  return [started, performance.now()];
}
"""


@dataclass(frozen=True)
class Run:
    sender: str  # widget or xhr
    seconds: float
    longest_task_ms: float
    long_tasks: int


def _long_tasks(page: Any, started: float, ended: float) -> list[float]:
    tasks = page.evaluate("window.__longTasks")
    return [duration for start, duration in tasks if start + duration >= started and start <= ended]


def check_observer(browser: Any, site: str) -> None:
    """The page's observer does see a long task: 0 long tasks must mean none, not a deaf one."""
    page = browser.new_page()
    page.add_init_script(LONG_TASKS)
    page.goto(f"{site}/resources/new/")
    # From a timer: a task of the page's own, as the widget's are (DevTools' are not counted).
    page.evaluate(
        "() => { setTimeout(() => { const end = performance.now() + 120;"
        " while (performance.now() < end); }, 0); }"
    )
    page.wait_for_timeout(400)
    seen = [duration for _, duration in page.evaluate("window.__longTasks")]
    page.close()
    if not any(duration >= 100 for duration in seen):
        raise RuntimeError(f"the longtask observer missed a 120 ms task (saw {seen})")


def widget_upload(browser: Any, site: str, path: Path) -> Run:
    page = browser.new_page()
    page.add_init_script(LONG_TASKS)
    page.goto(f"{site}/resources/new/")
    page.evaluate(
        """() => {
          window.__upload = {};
          const input = document.querySelector('#id_blob');
          input.addEventListener('change', () => { window.__upload.started = performance.now(); });
          input.addEventListener('s3-file-field:upload-complete', () => {
            window.__upload.ended = performance.now();
          });
        }"""
    )
    page.set_input_files("#id_blob", str(path))
    # A locator, not wait_for_function: the page's CSP refuses the eval that one needs.
    settled = page.locator(".s3ff[data-state=done], .s3ff[data-state=error]")
    settled.wait_for(state="attached", timeout=600_000)
    if settled.get_attribute("data-state") == "error":
        raise RuntimeError(f"the widget failed: {page.locator('.s3ff-status').text_content()}")
    started, ended = page.evaluate("[window.__upload.started, window.__upload.ended]")
    tasks = _long_tasks(page, started, ended)
    page.close()
    return Run("widget", (ended - started) / 1000, max(tasks, default=0.0), len(tasks))


def xhr_upload(browser: Any, site: str, path: Path, url: str) -> Run:
    page = browser.new_page()
    page.add_init_script(LONG_TASKS)
    page.goto(f"{site}/resources/new/")
    page.evaluate(
        "() => { const input = document.createElement('input'); input.type = 'file';"
        " input.id = 'bench-file'; document.body.append(input); }"
    )
    page.set_input_files("#bench-file", str(path))
    started, ended = page.evaluate(XHR_PUT, [url])
    tasks = _long_tasks(page, started, ended)
    page.close()
    return Run("xhr", (ended - started) / 1000, max(tasks, default=0.0), len(tasks))


def report(runs: list[Run], size: int, rounds: int) -> None:
    def figures(sender: str) -> tuple[float, float, float, float, int]:
        mine = [run for run in runs if run.sender == sender]
        speeds = [size / run.seconds / MB for run in mine]
        longest = max(run.longest_task_ms for run in mine)
        count = max(run.long_tasks for run in mine)
        return statistics.median(speeds), min(speeds), max(speeds), longest, count

    print(
        f"A {size // MiB} MiB file from Chromium; {rounds} rounds, interleaved; medians (min-max)."
    )
    print("   sender                     MB/s (min-max)        longest task  long tasks")
    for sender, label in (("xhr", "one XHR PUT"), ("widget", "the widget (ModelForm)")):
        median, low, high, longest, count = figures(sender)
        print(f"   {label:26} {median:6.1f} ({low:.1f}-{high:.1f})   {longest:8.0f} ms  {count:6}")
    ratio = figures("widget")[0] / figures("xhr")[0]
    print(f"widget / one XHR PUT: {ratio:.2f}")
    print("Notes:")
    print("  * Long tasks: main-thread tasks over 50 ms while the file uploads, from a longtask")
    print("    PerformanceObserver; 'longest' is the longest of all rounds, 0 when there was none.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--browser-core", type=int, default=None)
    args = parser.parse_args(argv)
    every = os.sched_getaffinity(0)
    browser_cores = {args.browser_core if args.browser_core is not None else max(every)}
    server_cores = (every - browser_cores) or every
    # The servers started here inherit this; the browser is moved to its own core below.
    os.sched_setaffinity(0, server_cores)
    from playwright.sync_api import sync_playwright

    from tests.harness.seaweedfs import SeaweedFS, allow_browser_uploads

    build_client()
    size = args.size_mib * MiB
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="s3ff-browser-") as tmp_name,
        SeaweedFS(buckets=[BUCKET, MINIO_BUCKET]) as store,
    ):
        tmp = Path(tmp_name)
        data = tmp / "bench.bin"
        write_random_file(data, size)
        env = {
            **ours_env(store.endpoint_url, tmp / "ours.sqlite3", 16 * MiB),
            "S3FF_BENCH_SERVE_STATIC": "1",
        }
        with django_server(
            "ours", Path(sys.executable), "test_app.settings", env, [str(REPO)], tmp
        ) as site:
            allow_browser_uploads(store, [site])
            signer = s3_client(store.endpoint_url)
            os.sched_setaffinity(0, browser_cores)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                log(f"Chromium on {sorted(browser_cores)}, the servers on {sorted(server_cores)}")
                check_observer(browser, site)
                for round_number in range(args.rounds + 1):
                    order = ("widget", "xhr") if round_number % 2 else ("xhr", "widget")
                    for sender in order:
                        if sender == "widget":
                            run = widget_upload(browser, site, data)
                        else:
                            url = signer.generate_presigned_url(
                                "put_object",
                                Params={"Bucket": BUCKET, "Key": f"raw/{round_number}.bin"},
                                ExpiresIn=3600,
                            )
                            run = xhr_upload(browser, site, data, url)
                        label = "warm-up" if round_number == 0 else f"round {round_number}"
                        log(
                            f"{label} {sender:6} {size / run.seconds / MB:7.1f} MB/s, longest task "
                            f"{run.longest_task_ms:.0f} ms ({run.long_tasks} over 50 ms)"
                        )
                        if round_number > 0:
                            runs.append(run)
                browser.close()
    report(runs, size, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
