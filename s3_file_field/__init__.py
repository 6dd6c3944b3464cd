"""Direct browser-to-S3 uploads for Django `FileField`s."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fields import S3FileField

__all__ = ["S3FileField"]


def __getattr__(name: str) -> Any:
    # Imported when asked for: the package is imported before Django's settings exist (by the
    # pytest plugin, by Django loading this app), and the field's modules need them.
    if name == "S3FileField":
        from .fields import S3FileField

        return S3FileField
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
