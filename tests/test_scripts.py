"""The helpers of scripts/test: apt-get-waiting waits for the apt lock instead of failing;
find-python finds the interpreters the Django versions need, on PATH or under pyenv."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.once

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "apt-get-waiting"


def fake_apt_get(folder: Path, answers: list[tuple[int, str]]) -> Path:
    """An apt-get that gives `answers` in turn (exit code, stderr), recording each call."""
    calls = folder / "calls"
    lines = [f'n=$(wc -l < "{calls}" 2>/dev/null || echo 0); echo "$*" >> "{calls}"']
    for index, (code, said) in enumerate(answers):
        lines.append(f'if [ "$n" -eq {index} ]; then echo "{said}" >&2; exit {code}; fi')
    (folder / "apt-get").write_text("#!/bin/sh\n" + "\n".join(lines) + "\nexit 0\n")
    (folder / "apt-get").chmod(0o755)
    return calls


def run(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}", "S3FF_APT_LOCK_POLL": "0"}
    return subprocess.run(
        [str(SCRIPT), "install", "-y", "chromium"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_waits_while_the_lock_is_held(tmp_path):
    held = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt)"
    calls = fake_apt_get(tmp_path, [(100, held), (100, held)])
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == ["install -y chromium"] * 3
    assert done.stderr.count("holds the lock; waiting for it") == 1


def test_other_failures_fail_at_once(tmp_path):
    calls = fake_apt_get(tmp_path, [(100, "E: Unable to locate package chromium")])
    done = run(tmp_path)
    assert done.returncode == 1
    assert "Unable to locate package chromium" in done.stderr
    assert len(calls.read_text().splitlines()) == 1


FIND_PYTHON = SCRIPT.parent / "find-python"


def fake_python(path: Path, works: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\nexit 0\n" if works else "#!/bin/sh\necho 'pyenv: not here' >&2\nexit 127\n"
    )
    path.chmod(0o755)


def find_python(tmp_path: Path, *versions: str) -> subprocess.CompletedProcess[str]:
    # A pyenv whose root is tmp_path/pyenv, and a PATH with nothing else of Python's.
    fake_python(tmp_path / "bin" / "pyenv", works=True)
    (tmp_path / "bin" / "pyenv").write_text(f"#!/bin/sh\necho {tmp_path / 'pyenv'}\n")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"}
    return subprocess.run(
        [str(FIND_PYTHON), *versions], env=env, capture_output=True, text=True, check=False
    )


def test_finds_a_working_python_on_path_before_pyenv(tmp_path):
    fake_python(tmp_path / "bin" / "python3.12", works=True)
    fake_python(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12", works=True)
    found = find_python(tmp_path, "3.12")
    assert found.stdout.strip() == str(tmp_path / "bin" / "python3.12")


def test_skips_a_shim_that_does_not_run_and_takes_pyenv_newest(tmp_path):
    # pyenv's shims are on PATH but fail for a version that is not selected.
    fake_python(tmp_path / "bin" / "python3.13", works=False)
    for patch in ("3.13.0", "3.13.10", "3.13.2"):
        fake_python(tmp_path / "pyenv" / "versions" / patch / "bin" / "python3.13", works=True)
    found = find_python(tmp_path, "3.13", "3.12")
    assert found.returncode == 0
    assert found.stdout.strip() == str(tmp_path / "pyenv/versions/3.13.10/bin/python3.13")


def test_none_found_fails(tmp_path):
    fake_python(tmp_path / "pyenv" / "versions" / "3.11.7" / "bin" / "python3.11", works=True)
    found = find_python(tmp_path, "3.12", "3.13")
    assert found.returncode == 1
    assert found.stdout == ""
