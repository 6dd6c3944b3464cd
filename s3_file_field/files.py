"""`S3PlaceholderFile`: a finished upload, as forms and validators see it before it is saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.files import File

if TYPE_CHECKING:
    from .checksums import ObjectChecksum
    from .fields import S3FileField


class S3PlaceholderFile(File):  # type: ignore[type-arg]
    """A file already in the bucket: its name and size are known without reading it, and
    opening it reads it from the field's storage (for a validator that looks inside)."""

    def __init__(
        self, field: S3FileField, name: str, size: int, checksum: ObjectChecksum | None = None
    ) -> None:
        super().__init__(None, name)
        self.field = field
        self._size = size
        # What the store computed of the bytes as it took them (`algorithm`, base64 `value`,
        # `type`), where the upload had a checksum algorithm.
        self.checksum = checksum

    @property
    def size(self) -> int:
        return self._size

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> S3PlaceholderFile:
        if self.closed:
            self.file = self.field.storage.open(str(self.name), mode or "rb")
        else:
            self.seek(0)
        return self

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            self.open()
        return bytes(self.file.read(size))  # type: ignore[union-attr]

    def chunks(self, chunk_size: int | None = None) -> Any:
        if self.closed:
            self.open()
        return super().chunks(chunk_size)
