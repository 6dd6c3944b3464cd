"""Where the Python client remembers unfinished uploads, to resume them (opt-in)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol


class ResumeStore(Protocol):
    """Unfinished uploads by key. Records are JSON-able dicts; part URLs are never kept."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, record: dict[str, Any]) -> None: ...

    def delete(self, key: str) -> None: ...


def default_resume_directory() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "s3-file-field" / "uploads"


class DirectoryResumeStore:
    """One JSON file per upload in a directory only its owner may read (the records hold
    upload signatures, which let whoever has them go on with the upload)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_resume_directory()

    def _path(self, key: str) -> Path:
        return self.directory / f"{hashlib.sha256(key.encode()).hexdigest()}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self._path(key).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        return record

    def set(self, key: str, record: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written whole, then renamed: a crash leaves the old record or the new one.
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as file:
                json.dump({**record, "key": key}, file)
            os.replace(temporary, self._path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
