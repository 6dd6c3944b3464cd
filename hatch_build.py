"""Builds the widget's script, its Worker and its stylesheet from javascript-client/ into the
package.

They are build outputs, not tracked by git. From a checkout, every sdist and wheel build runs
the client's build (Node and npm needed); the sdist carries the result, so a wheel built from
the sdist (which has no javascript-client/) needs no Node, only the files it already holds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

WIDGET_FILES = (
    "widget.js",
    "widget.js.map",
    "widget.css",
    "resize-worker.js",
    "resize-worker.js.map",
)
STATIC_DIR = Path("s3_file_field") / "static" / "s3_file_field"
CLIENT_DIR = Path("javascript-client")


class WidgetBuildError(RuntimeError):
    pass


class WidgetBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        if (root / CLIENT_DIR / "package.json").exists():
            build_widget(root / CLIENT_DIR)
        missing = [name for name in WIDGET_FILES if not (root / STATIC_DIR / name).is_file()]
        if missing:
            raise WidgetBuildError(
                f"s3-file-field: {', '.join(missing)} missing from {STATIC_DIR}/. Build from a "
                "checkout that has javascript-client/ (with Node 20+ and npm), or from the "
                "sdist, which carries them."
            )


def build_widget(client_dir: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise WidgetBuildError(
            "s3-file-field: building from a checkout needs Node 20+ and npm, to build the "
            "widget from javascript-client/ (or build the wheel from the sdist, which needs no "
            "Node)."
        )
    steps = [] if (client_dir / "node_modules").is_dir() else [["ci", "--no-audit", "--no-fund"]]
    steps.append(["run", "--silent", "build"])
    for args in steps:
        done = subprocess.run([npm, *args], cwd=client_dir, check=False)
        if done.returncode != 0:
            raise WidgetBuildError(
                f"s3-file-field: `npm {' '.join(args)}` in {client_dir} failed "
                f"(exit {done.returncode}); its output is above."
            )
