"""The demo: SeaweedFS, a migrated database, a superuser, and Django on http://127.0.0.1:8000.

Run through `scripts/demo`. State (bucket contents, database) is kept in `.demo/` between runs.
Each start installs and builds only what changed since the last one, after checking its port.
Django runs in a child process, so that whichever way the demo ends (Ctrl+C, SIGTERM, SIGHUP,
an exception, or runserver's own `os._exit`), this process stops Django and SeaweedFS by PID;
only a SIGKILL of this process leaves them running.

Only the standard library is imported at the top: the first start runs under the system's
Python, before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.harness.seaweedfs import SeaweedFS

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
VENV_PYTHON = VENV / "bin" / "python"
CLIENT = ROOT / "javascript-client"
# What `npm run build` reads, and the two bundles it writes that the demo serves.
BUILD_INPUTS = [CLIENT / "src", CLIENT / "widget", CLIENT / "examples", CLIENT / "build.mjs"]
BUILD_OUTPUTS = [
    ROOT / "s3_file_field" / "static" / "s3_file_field" / "widget.js",
    ROOT / "test_app" / "static" / "test_app" / "spa-demo.js",
]
STAMP_NAME = ".s3ff-demo-stamp"
BUCKETS = ["s3ff-test", "s3ff-minio-test"]
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"  # a local demo account on 127.0.0.1 only
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main() -> int:
    args = _parser().parse_args()
    if args.serve:
        _serve(args.port)
        return 0
    _stop_on_signals()
    if not port_is_free(args.port):
        print(
            f"port {args.port} is in use; choose another with "
            f"scripts/demo --port {_free_port_after(args.port)}",
            file=sys.stderr,
        )
        return 1
    if not args.no_install:
        try:
            prepare()
        except KeyboardInterrupt:
            return 130
        if Path(sys.prefix).resolve() != VENV.resolve():
            # Nothing is running yet: go on in the virtualenv that prepare() made.
            command = [str(VENV_PYTHON), "-m", "test_app.demo", *sys.argv[1:]]
            os.execv(VENV_PYTHON, command)  # noqa: S606
    return _run(args.port, args.state_dir.resolve())


def _stop_on_signals() -> None:
    """Ctrl+C, `kill` and a closed terminal all raise KeyboardInterrupt, to stop what started."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    # Under nohup a closed terminal is meant to leave the demo running.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description="SeaweedFS, then the test_app project migrated and checked, with the "
        "superuser admin / admin, on Django's development server. Ctrl+C stops both.",
    )
    parser.add_argument("--port", type=_port, default=8000, help="Django's port (default 8000)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=ROOT / ".demo",
        help="where the database and SeaweedFS's data are kept (default .demo/)",
    )
    parser.add_argument(
        "--no-install",
        action="store_true",
        help="run with the current Python and static files, installing and building nothing",
    )
    # Internal: the child process that runs Django (see _run).
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return parser


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (1-65535)")
    return port


def port_is_free(port: int) -> bool:
    """True when runserver could bind 127.0.0.1:`port` (it sets SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def _free_port_after(port: int) -> int:
    for candidate in range(port + 1, min(port + 100, 65536)):
        if port_is_free(candidate):
            return candidate
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Installing and building, each step only when its inputs changed.


def prepare() -> None:
    """Make the virtualenv, install the packages and build the client, each only if stale."""
    if not VENV_PYTHON.exists():
        _step("Making the virtualenv .venv", [sys.executable, "-m", "venv", str(VENV)], ROOT)
    pyproject = digest(ROOT / "pyproject.toml")
    python_stamp = VENV / STAMP_NAME
    if not stamped(python_stamp, pyproject):
        command = [str(VENV_PYTHON), "-m", "pip", "install", "--quiet"]
        command += ["--disable-pip-version-check", "-e", ".[dev]"]
        _step("Installing the Python packages", command, ROOT)
        python_stamp.write_text(pyproject)
    lockfile = digest(CLIENT / "package-lock.json")
    node_stamp = CLIENT / "node_modules" / STAMP_NAME
    installed = stamped(node_stamp, lockfile)
    if not installed:
        command = ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        _step("Installing the client's npm packages", command, CLIENT)
        node_stamp.write_text(lockfile)
    # New packages (esbuild's version among them) can change the bundles, hence `installed`.
    if not installed or not newer(BUILD_OUTPUTS, than=BUILD_INPUTS):
        _step("Building the client", ["npm", "run", "--silent", "build"], CLIENT)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stamped(stamp: Path, expected: str) -> bool:
    try:
        return stamp.read_text() == expected
    except FileNotFoundError:
        return False


def newer(outputs: list[Path], than: list[Path]) -> bool:
    """True when every output exists and is newer than every file and folder under `than`.

    Folders count too: a folder's time changes when a file in it is added, removed or renamed.
    """
    try:
        oldest = min(path.stat().st_mtime_ns for path in outputs)
    except FileNotFoundError:
        return False
    inputs = [found for path in than for found in (path, *path.rglob("*"))]
    return all(path.stat().st_mtime_ns < oldest for path in inputs)


def _step(title: str, command: list[str], cwd: Path) -> None:
    if shutil.which(command[0]) is None:
        sys.exit(f"{title}: `{command[0]}` is not on PATH")
    print(f"{title}…", flush=True)
    returncode = subprocess.run(command, cwd=cwd, check=False).returncode
    if returncode != 0:
        sys.exit(f"{title} failed (exit status {returncode})")


# Running: SeaweedFS and the Django child, both stopped on every way out.


def _run(port: int, state: Path) -> int:
    # Imported here: on the first start, prepare() has only just installed what they need.
    from tests.harness.seaweedfs import SeaweedFS, allow_browser_uploads, stop_process_group

    state.mkdir(parents=True, exist_ok=True)
    server = SeaweedFS(buckets=BUCKETS, data_dir=state / "seaweedfs")
    django: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        assert server.process is not None
        print(
            f"SeaweedFS S3 at {server.endpoint_url} (PID {server.process.pid}, "
            f"data in {server.data_dir})",
            flush=True,
        )
        origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
        allow_browser_uploads(server, origins)
        env = dict(os.environ)
        env["S3FF_TEST_S3_ENDPOINT_URL"] = server.endpoint_url
        env["S3FF_TEST_CORS_ORIGINS"] = ",".join(origins)
        env["S3FF_TEST_DATABASE"] = str(state / "db.sqlite3")
        env.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
        django = subprocess.Popen(
            [sys.executable, "-u", "-m", "test_app.demo", "--serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            # Its own process group: signals reach it from this process only, in the finally.
            start_new_session=True,
        )
        print(f"Django (PID {django.pid}): migrating, checking, then serving", flush=True)
        return _supervise(django, server)
    except KeyboardInterrupt:
        print("\nStopping the demo…", flush=True)
        return 0
    finally:
        # A second Ctrl+C must not cut this short; each stop below has its own time limit.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        if django is not None:
            stop_process_group(django)
        server.stop()


def _supervise(django: subprocess.Popen[bytes], server: SeaweedFS) -> int:
    """Wait for Django to end, or SeaweedFS to die under it; return the demo's exit status."""
    assert server.process is not None
    while True:
        try:
            returncode = django.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if server.process.poll() is not None:
                print(f"SeaweedFS exited; see {server.log_path}", file=sys.stderr, flush=True)
                return 1
            continue
        # runserver ends on its own only on an error, such as a port taken since the check.
        print(f"Django exited (status {returncode}); stopping SeaweedFS", file=sys.stderr)
        return returncode if returncode >= 0 else 1


def _serve(port: int) -> None:
    """The child process: migrate, show the system checks, then serve until stopped."""
    import django
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    django.setup()
    call_command("migrate", verbosity=0)
    _ensure_superuser()
    try:
        # Warnings are printed and the demo goes on; errors stop it, as they stop runserver.
        call_command("check")
    except SystemCheckError as error:
        sys.exit(str(error))
    origin = f"http://127.0.0.1:{port}"
    print(f"\nDemo at {origin}/ — the admin at {origin}/admin/")
    print(f"Admin user: {ADMIN_USERNAME} / {ADMIN_PASSWORD}\n")
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)


def _ensure_superuser() -> None:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    if not user_model.objects.filter(username=ADMIN_USERNAME).exists():
        user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)


if __name__ == "__main__":
    sys.exit(main())
