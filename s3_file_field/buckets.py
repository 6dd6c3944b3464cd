"""The buckets behind the installed `S3FileField`s, each with the fields that upload to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.apps import AppConfig

from .backends.base import UploadBackend
from .fields import S3FileField
from .registry import iter_fields


@dataclass
class StorageGroup:
    """One bucket (as one storage reaches it) and the fields that upload to it."""

    backend: UploadBackend
    fields: list[S3FileField]

    @property
    def label(self) -> str:
        where = self.backend.describe()
        return f"bucket '{where['bucket']}' ({where['backend']} at {where['endpoint']})"

    @property
    def field_ids(self) -> str:
        ids = [field.id for field in self.fields]
        return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


def storage_groups(app_configs: Sequence[AppConfig] | None = None) -> list[StorageGroup]:
    """The supported storages of the installed `S3FileField`s, one group per bucket."""
    groups: dict[tuple[tuple[str, str], ...], StorageGroup] = {}
    for field in iter_fields():
        if app_configs is not None and field.model._meta.app_config not in app_configs:
            continue
        backend = field.upload_backend
        if backend is None:
            continue
        # Fields whose storages are distinct objects for the same bucket and location (a
        # storage callable makes one per field) share one group.
        key = (*sorted(backend.describe().items()), ("location", backend.key_prefix("")))
        if key in groups:
            groups[key].fields.append(field)
        else:
            groups[key] = StorageGroup(backend, [field])
    return list(groups.values())
