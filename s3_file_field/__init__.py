"""Direct browser-to-S3 uploads for Django `FileField`s."""

from .fields import S3FileField

__all__ = ["S3FileField"]
