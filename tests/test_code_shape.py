"""scripts/code-shape: the package's modules import one another without a cycle, and only
app loading keeps imports inside functions; a planted cycle is found."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "code-shape"


def shape(package: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(package)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_package_has_no_import_cycle():
    result = shape(ROOT / "s3_file_field")
    assert result.returncode == 0, result.stdout
    assert "import cycles: 0" in result.stdout
    inner = result.stdout.split("inside functions: ")[1].splitlines()[1:]
    # Django's app loading only: ready(), the lazy package export, the model of the claims; and
    # the console script, which says so when the client extra is not installed.
    allowed = (
        "s3_file_field.apps.ready ",
        "s3_file_field.__getattr__ ",
        "s3_file_field.attach.",
        "s3_file_field.cli.main ",
    )
    assert [line for line in inner if not line.strip().startswith(allowed)] == []


def test_a_cycle_is_found(tmp_path):
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import thing\n")
    (package / "b.py").write_text("from typing import TYPE_CHECKING\nfrom . import c\nthing = 1\n")
    (package / "c.py").write_text("from .a import thing\n\ndef later():\n    from . import b\n")
    result = shape(package)
    assert result.returncode == 1
    assert "planted.a <-> planted.b <-> planted.c" in result.stdout
    assert "planted.c.later -> planted.b" in result.stdout
