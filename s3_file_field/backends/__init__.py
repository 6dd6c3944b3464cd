"""Pick the upload backend for a storage: one module per storage family."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from django.core.files.storage import Storage
from django.utils.functional import LazyObject, empty

from .base import UploadBackend
from .minio import MinioBackend
from .s3 import S3Backend

BACKEND_CLASSES: tuple[type[UploadBackend], ...] = (S3Backend, MinioBackend)

_backends: WeakKeyDictionary[Storage, UploadBackend] = WeakKeyDictionary()


def _unwrap(storage: Storage) -> Storage:
    if isinstance(storage, LazyObject):
        if storage._wrapped is empty:
            storage._setup()
        wrapped: Storage = storage._wrapped
        return wrapped
    return storage


def get_backend(storage: Storage) -> UploadBackend | None:
    """The backend that drives `storage`, or None if the storage is of no supported family."""
    storage = _unwrap(storage)
    backend = _backends.get(storage)
    if backend is None:
        backend_class = next((cls for cls in BACKEND_CLASSES if cls.supports(storage)), None)
        if backend_class is None:
            return None
        backend = _backends[storage] = backend_class(storage)
    return backend
