"""What the client uploads: a path, a file object or bytes, read at any offset from any thread."""

from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path
from typing import BinaryIO

from .errors import InvalidInputError

UploadFile = str | os.PathLike[str] | BinaryIO | bytes | bytearray | memoryview


class Source:
    """A file's bytes: `read(offset, size)` from any thread, nothing held but what is read."""

    size: int
    # Its name and modification time where it has them (a path, a file object with a name).
    name: str | None = None
    modified_ns: int | None = None

    def read(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        """Closes what the source opened itself."""


class _Descriptor(Source):
    """A regular file: positioned reads (`os.pread`), which threads share without a lock."""

    def __init__(self, fd: int, owned: bool, name: str | None) -> None:
        info = os.fstat(fd)
        self.fd, self.owned, self.name = fd, owned, name
        self.size, self.modified_ns = info.st_size, info.st_mtime_ns

    def read(self, offset: int, size: int) -> bytes:
        data = os.pread(self.fd, size, offset)
        if len(data) != size:
            raise InvalidInputError(f"the file shrank while it was uploaded (at byte {offset})")
        return data

    def close(self) -> None:
        if self.owned:
            os.close(self.fd)


class _Seekable(Source):
    """Any other seekable binary file object (BytesIO, a spooled temporary file...)."""

    def __init__(self, file: BinaryIO, name: str | None) -> None:
        self.file, self.name, self.lock = file, name, threading.Lock()
        self.start = file.tell()
        self.size = file.seek(0, io.SEEK_END) - self.start

    def read(self, offset: int, size: int) -> bytes:
        with self.lock:
            self.file.seek(self.start + offset)
            data = self.file.read(size)
        if len(data) != size:
            raise InvalidInputError(f"the file shrank while it was uploaded (at byte {offset})")
        return data


class _Bytes(Source):
    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self.view = memoryview(data).cast("B")
        self.size = len(self.view)

    def read(self, offset: int, size: int) -> bytes:
        return bytes(self.view[offset : offset + size])


def open_source(file: UploadFile) -> Source:
    """A Source for a path, a binary file object (read from its current position) or bytes."""
    if isinstance(file, bytes | bytearray | memoryview):
        return _Bytes(file)
    if isinstance(file, str | os.PathLike):
        path = Path(file)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as error:
            raise InvalidInputError(f"cannot read {path}: {error.strerror}") from error
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise InvalidInputError(f"{path} is not a regular file")
        return _Descriptor(fd, owned=True, name=path.name)
    if isinstance(file, io.TextIOBase):
        raise InvalidInputError("a file object to upload must be opened in binary mode ('rb')")
    name = getattr(file, "name", None)
    name = Path(name).name if isinstance(name, str) else None
    regular = _regular_file_descriptor(file)
    if regular is not None and file.tell() == 0:
        return _Descriptor(regular, owned=False, name=name)
    if not file.seekable():
        raise InvalidInputError(
            "a file object to upload must be seekable: its size goes first, and a part that "
            "fails is read again"
        )
    return _Seekable(file, name)


def _regular_file_descriptor(file: BinaryIO) -> int | None:
    try:
        fd = file.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
