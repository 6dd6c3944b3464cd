"""The demo (scripts/demo, test_app/demo.py): a busy port fails before anything starts, every way
out stops what the demo started, the page is served after the system checks, a warm start
installs nothing, and test_app imports under any settings.

Each run gets its own port and state folder; what it started is found by the PIDs it prints.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from test_app import demo
from tests.harness.seaweedfs import StopWaiting, free_port, wait_until

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    # The session's own S3 settings (conftest.py) are not the demo's.
    return {name: value for name, value in os.environ.items() if not name.startswith("S3FF_")}


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # A zombie has exited; it waits only for a parent (maybe a PID 1 that never reaps) to reap it.
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _pids_naming(path: Path) -> list[int]:
    """Live processes whose command line names `path` (SeaweedFS names its data folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if os.fsencode(path) in command and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@dataclass
class Demo:
    process: subprocess.Popen[bytes]
    port: int
    state: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pid(self, name: str) -> int | None:
        found = re.search(rf"^{name}\b.*\(PID (\d+)", self.output(), re.MULTILINE)
        return int(found.group(1)) if found else None

    def wait_for_pid(self, name: str) -> int:
        def printed() -> int | None:
            self._running()
            return self.pid(name)

        return wait_until(printed, timeout=120, what=f"{name}'s PID")

    def wait_until_served(self) -> None:
        def served() -> bool | None:
            self._running()
            response = requests.get(f"http://127.0.0.1:{self.port}/", timeout=5)
            return response.status_code == 200 or None

        wait_until(served, timeout=120, what="the demo's page")

    def _running(self) -> None:
        if self.process.poll() is not None:
            raise StopWaiting(f"the demo exited ({self.process.returncode}):\n{self.output()}")

    def wait_for_exit(self) -> int:
        return self.process.wait(timeout=120)


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[Callable[..., Demo]]:
    started: list[Demo] = []

    def start(*python_options: str) -> Demo:
        number = len(started)
        state = tmp_path / f"state-{number}"
        log = tmp_path / f"demo-{number}.log"
        port = free_port()
        command = [sys.executable, *(python_options or ["-m", "test_app.demo"]), "--no-install"]
        command += ["--port", str(port), "--state-dir", str(state)]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(Demo(process, port, state, log))
        return started[-1]

    yield start
    # Whatever a failed test left behind, by the PIDs of this test's runs only.
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        leftovers = {run.pid("SeaweedFS"), run.pid("Django"), *_pids_naming(run.state)}
        for pid in leftovers:
            if pid is not None and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_busy_port_fails_before_anything_starts(tmp_path):
    state = tmp_path / "state"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert not demo.port_is_free(port)
        # Through scripts/demo, without --no-install: the check comes before any install.
        done = subprocess.run(
            [str(ROOT / "scripts" / "demo"), "--port", str(port), "--state-dir", str(state)],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert re.fullmatch(
        rf"port {port} is in use; choose another with scripts/demo --port \d+\n", done.stderr
    )
    assert done.stdout == ""
    assert not state.exists()
    assert _pids_naming(state) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_seaweedfs_and_django(start_demo, signum):
    run = start_demo()
    run.wait_until_served()
    started = [run.pid("SeaweedFS"), run.pid("Django")]
    run.process.send_signal(signum)
    assert run.wait_for_exit() == 0
    assert [pid for pid in started if pid is None or _alive(pid)] == []
    assert _pids_naming(run.state) == []
    assert "Stopping the demo" in run.output()


def test_the_page_is_served_after_the_system_checks(start_demo):
    run = start_demo()
    run.wait_until_served()
    output = run.output()
    # The library's checks included (its CORS checks look at the demo's own port's origins).
    assert "System check identified no issues" in output
    # Django 6 says "Starting WSGI development server", 5.2 "Starting development server".
    serving = re.search(r"Starting (WSGI )?development server", output)
    assert serving is not None, output
    assert output.index("System check identified") < serving.start()
    assert f"Demo at http://127.0.0.1:{run.port}/" in output
    run.process.send_signal(signal.SIGINT)
    assert run.wait_for_exit() == 0


def test_runserver_os_exit_still_stops_seaweedfs(start_demo):
    """runserver's bind error ends it with os._exit, past any `finally` of its own."""
    # Django sets up for a second or more before it binds: this test takes its port first,
    # and tries again with a new demo in the rare run where Django was quicker.
    for _ in range(3):
        run = start_demo()
        django = run.wait_for_pid("Django")
        seaweedfs = run.pid("SeaweedFS")
        with socket.socket() as taken:
            try:
                taken.bind(("127.0.0.1", run.port))
            except OSError:
                run.process.send_signal(signal.SIGINT)
                run.wait_for_exit()
                continue
            taken.listen()
            returncode = run.wait_for_exit()
        break
    else:
        pytest.fail("Django bound its port before this test could take it, three times")
    assert returncode == 1
    assert "That port is already in use" in run.output()
    assert [pid for pid in (django, seaweedfs) if pid is None or _alive(pid)] == []
    assert _pids_naming(run.state) == []


def test_seaweedfs_dying_stops_django(start_demo):
    run = start_demo()
    run.wait_until_served()
    django = run.pid("Django")
    seaweedfs = run.pid("SeaweedFS")
    assert django is not None
    assert seaweedfs is not None
    os.kill(seaweedfs, signal.SIGKILL)
    assert run.wait_for_exit() == 1
    assert "SeaweedFS exited" in run.output()
    assert not _alive(django)
    assert _pids_naming(run.state) == []


def test_a_crash_stops_seaweedfs(start_demo):
    crash = (
        "import runpy, tests.harness.seaweedfs as seaweedfs\n"
        "def fail(*args): raise RuntimeError('the CORS rule failed')\n"
        "seaweedfs.allow_browser_uploads = fail\n"
        "runpy.run_module('test_app.demo', run_name='__main__')\n"
    )
    run = start_demo("-c", crash)
    assert run.wait_for_exit() == 1
    assert "RuntimeError: the CORS rule failed" in run.output()
    seaweedfs = run.pid("SeaweedFS")
    assert seaweedfs is not None
    assert not _alive(seaweedfs)
    assert _pids_naming(run.state) == []


def test_test_app_imports_under_minimal_settings(tmp_path):
    (tmp_path / "minimal_settings.py").write_text(
        "INSTALLED_APPS = ['django.contrib.auth', 'django.contrib.contenttypes',"
        " 'rest_framework', 's3_file_field', 'test_app']\n"
    )
    env = _env() | {"DJANGO_SETTINGS_MODULE": "minimal_settings", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import test_app.models"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


class FakeInstall:
    """demo.prepare() on a fake checkout, its installers recorded instead of run."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.steps: list[str] = []
        client = root / "javascript-client"
        for folder in ("src", "widget", "examples", "node_modules"):
            (client / folder).mkdir(parents=True)
        (client / "src" / "index.ts").write_text("export {};\n")
        (client / "build.mjs").write_text("// build\n")
        (client / "package-lock.json").write_text("{}\n")
        (root / "pyproject.toml").write_text("[project]\n")
        (root / ".venv" / "bin").mkdir(parents=True)
        (root / ".venv" / "bin" / "python").write_text("")
        monkeypatch.setattr(demo, "ROOT", root)
        monkeypatch.setattr(demo, "VENV", root / ".venv")
        monkeypatch.setattr(demo, "VENV_PYTHON", root / ".venv" / "bin" / "python")
        monkeypatch.setattr(demo, "CLIENT", client)
        monkeypatch.setattr(
            demo, "BUILD_INPUTS", [client / name for name in ("src", "widget", "examples")]
        )
        monkeypatch.setattr(demo, "BUILD_OUTPUTS", [root / "widget.js", root / "spa-demo.js"])
        monkeypatch.setattr(demo, "_step", self._step)

    def _step(self, title: str, command: list[str], cwd: Path) -> None:
        name = "pip install" if "pip" in command else "npm ci" if "ci" in command else "npm build"
        self.steps.append(name)
        if name == "npm build":
            # Outputs a second newer than any input, whatever the file system's clock grain.
            newest = max(path.stat().st_mtime_ns for path in self._inputs())
            for output in demo.BUILD_OUTPUTS:
                output.write_text("built")
                os.utime(output, ns=(newest + 10**9, newest + 10**9))

    def _inputs(self) -> list[Path]:
        return [found for path in demo.BUILD_INPUTS for found in (path, *path.rglob("*"))]

    def touch_after_build(self, path: Path) -> None:
        later = demo.BUILD_OUTPUTS[0].stat().st_mtime_ns + 10**9
        os.utime(path, ns=(later, later))

    def prepare(self) -> list[str]:
        self.steps.clear()
        demo.prepare()
        return list(self.steps)


def test_a_warm_start_installs_nothing(tmp_path, monkeypatch):
    fake = FakeInstall(tmp_path, monkeypatch)
    client = tmp_path / "javascript-client"
    assert fake.prepare() == ["pip install", "npm ci", "npm build"]
    assert fake.prepare() == []
    fake.touch_after_build(client / "src" / "index.ts")
    assert fake.prepare() == ["npm build"]
    (client / "src" / "index.ts").unlink()
    fake.touch_after_build(client / "src")
    assert fake.prepare() == ["npm build"]
    (client / "package-lock.json").write_text('{"lockfileVersion": 3}\n')
    assert fake.prepare() == ["npm ci", "npm build"]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'changed'\n")
    assert fake.prepare() == ["pip install"]
    assert fake.prepare() == []
