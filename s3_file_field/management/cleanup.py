"""What `manage.py s3ff_cleanup` may remove, and the guarantees that keep it safe.

An object is *abandoned* when its key is one only this library's uploads produce (the default
upload_to's `<uuid4>/<file name>`, in the storage of an `S3FileField`), no `FileField` row of
any model references it (the key its storage maps the row's name to), and it is older than any
signed value that could still attach it. The database is the source of truth: nothing is
recorded at upload time, so objects uploaded by earlier versions, by the form's plain-upload
fallback or by the fixtures are judged alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.apps import apps
from django.core.exceptions import SuspiciousOperation
from django.db import connections, models, router

from ..backends import get_backend
from ..backends.base import PendingUpload, StoredObject, UploadBackend
from ..buckets import StorageGroup
from ..conf import get_settings
from ..exceptions import UploadNotFound
from ..fields import S3FileField
from ..models import UploadClaim

# The default upload_to, `<uuid4>/<file name>`: str(uuid4()) has the version digit 4 and a
# variant digit of 8, 9, a or b; a file name never contains "/".
UUID_NAME = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/[^/]+"
# Rows are read from the database in chunks of this size.
SCAN_CHUNK = 2000


def not_cleaned(field: S3FileField) -> str | None:
    """Why the cleanup leaves the field's keys alone; None when they are the library's own:
    the default upload_to's, whose random segment no other writer picks."""
    upload_to = field.upload_to
    if upload_to == S3FileField.uuid_prefix_filename:
        return None
    why = (
        "its upload_to is a function other than the default"
        if callable(upload_to)
        else f"its upload_to {str(upload_to)!r} gives its keys no random segment"
    )
    return f"its keys cannot be told apart from other writers' ({why})"


def comparable(key: str) -> str:
    """`key` without empty segments: some stores (SeaweedFS) serve "/a/b" and "a//b" as "a/b",
    and comparing such keys alike can only keep more."""
    return "/".join(segment for segment in key.split("/") if segment)


def mapped_key(backend: UploadBackend, name: str) -> str | None:
    """The comparable key under which the backend's storage keeps `name`; None if it cannot
    keep it there: it refuses the name, or leaves a "." or ".." segment, which the minio
    client refuses and a store may resolve to another key."""
    try:
        key = backend.bucket_key(name)
    except (SuspiciousOperation, ValueError):
        return None
    if {".", ".."} & set(key.split("/")):
        return None
    return comparable(key)


def now() -> datetime:
    """The cleanup's clock, a function of its own so that tests can move it."""
    return datetime.now(UTC)


def parse_age(text: str) -> timedelta:
    """ "90s", "15m", "48h", "7d", "2w", or seconds ("3600")."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not an age like 90s, 15m, 48h, 7d or 2w.")
    seconds = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match[2]]
    return timedelta(seconds=float(match[1]) * seconds)


def format_age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def safe_upload_age() -> timedelta:
    """After this, no upload signature of an unfinished multipart upload is valid any more:
    it was signed when the upload started, and nobody can finish it."""
    return timedelta(seconds=get_settings().upload_signature_max_age)


def expired_claims() -> list[models.QuerySet[UploadClaim]]:
    """In each database that has the table, the claims whose field values have expired: the
    values they guard can no longer be presented, so they guard nothing."""
    cutoff = now() - timedelta(seconds=get_settings().field_value_max_age)
    return [
        UploadClaim.objects.using(alias).filter(claimed_at__lt=cutoff)
        for alias in connections
        if router.allow_migrate_model(alias, UploadClaim)
    ]


def safe_object_age() -> timedelta:
    """After this, no field value can attach the object any more: finalize can be repeated
    while the upload signature is valid, and its field value lives on after that."""
    config = get_settings()
    return timedelta(seconds=config.upload_signature_max_age + config.field_value_max_age)


@dataclass
class GroupPlan:
    """What the cleanup found in one bucket."""

    group: StorageGroup
    # Whether some field of the group writes the library's own keys, the only ones listed.
    cleaned: bool = False
    skipped: list[tuple[str, str]] = field(default_factory=list)
    uploads: list[tuple[PendingUpload, int]] = field(default_factory=list)
    objects: list[StoredObject] = field(default_factory=list)
    # Why no object of the bucket is removed: a row holds a name its storage cannot map.
    unmapped: str | None = None

    def matches(self, name: str) -> bool:
        return re.fullmatch(UUID_NAME, name) is not None

    def key(self, stored: StoredObject) -> str:
        return comparable(self.group.backend.bucket_key(stored.name))


def plan_group(group: StorageGroup) -> GroupPlan:
    plan = GroupPlan(group)
    for one_field in group.fields:
        reason = not_cleaned(one_field)
        if reason is None:
            plan.cleaned = True
        else:
            plan.skipped.append((one_field.id, reason))
    return plan


def find_pending_uploads(plan: GroupPlan, cutoff: datetime) -> None:
    """Fill `plan.uploads` with the unfinished uploads started before `cutoff`, each with the
    bytes its parts hold."""
    if not plan.cleaned:
        return
    backend = plan.group.backend
    for upload in backend.list_pending_uploads(""):
        if upload.initiated > cutoff or not plan.matches(upload.name):
            continue
        try:
            parts = backend.list_parts(upload.name, upload.upload_id)
        except UploadNotFound:
            continue  # finished or aborted since it was listed
        plan.uploads.append((upload, sum(part.size for part in parts)))


def find_old_objects(plan: GroupPlan, cutoff: datetime) -> None:
    """Fill `plan.objects` with the objects last written before `cutoff` under the library's
    own keys; whether a row references them is decided afterwards, for all buckets."""
    if not plan.cleaned:
        return
    for stored in plan.group.backend.list_objects(""):
        if stored.last_modified <= cutoff and plan.matches(stored.name):
            plan.objects.append(stored)


def file_fields() -> Iterable[tuple[type[models.Model], list[models.FileField]]]:
    """Every concrete model with its FileFields (S3FileField or not, any storage)."""
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or opts.swapped:
            continue
        fields = [f for f in opts.local_concrete_fields if isinstance(f, models.FileField)]
        if fields:
            yield model, fields


@dataclass
class References:
    """Which of the `candidates` (comparable keys) rows hold, and, by bucket, why a row's name
    makes every object of a bucket count as held."""

    candidates: set[str]
    # The storages being cleaned.
    backends: list[UploadBackend]
    keys: set[str] = field(default_factory=set)
    unmapped: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, backend: UploadBackend | None, name: str) -> None:
        """`name`, held by the field `field_id` whose storage `backend` drives (None: a storage
        of no supported family)."""
        if backend is not None:
            key = mapped_key(backend, name)
            if key is None:
                self.unmapped.setdefault(
                    backend.describe()["bucket"],
                    f"{field_id} holds {name!r}, which its storage cannot map to a key",
                )
            elif key in self.candidates:
                self.keys.add(key)
        # Names carry no location: one copied to another storage keeps its object in each.
        for other in self.backends:
            if other is backend:
                continue
            key = mapped_key(other, name)
            if key is not None and key in self.candidates:
                self.keys.add(key)


def referenced(plans: Sequence[GroupPlan]) -> References:
    """What the FileField rows of every model hold, of the objects the plans list.

    Every FileField counts, not only S3FileFields: a name copied to another field keeps its
    object. Each name is compared as the key its field's storage maps it to, and as the key
    each cleaned storage would. Rows are read with the base manager, so that a default manager
    which hides rows (soft deletion...) hides none of them. A database error propagates:
    nothing is removed.
    """
    found = References(
        {plan.key(stored) for plan in plans for stored in plan.objects},
        list(dict.fromkeys(plan.group.backend for plan in plans if plan.objects)),
    )
    if not found.candidates:
        return found
    for model, fields in file_fields():
        backends = [get_backend(one.storage) for one in fields]
        field_ids = [f"{model._meta.label}.{one.name}" for one in fields]
        for alias in {router.db_for_read(model), router.db_for_write(model)}:
            rows = model._base_manager.using(alias).values_list(*(one.attname for one in fields))
            for row in rows.iterator(chunk_size=SCAN_CHUNK):
                for field_id, backend, name in zip(field_ids, backends, row, strict=True):
                    if name:
                        found.add(field_id, backend, name)
    return found


def drop_referenced(plans: Iterable[GroupPlan]) -> None:
    """Keep in each plan only the objects that no row references: none in a bucket where a row
    holds a name its storage cannot map, as what that row refers to cannot be told."""
    plans = list(plans)
    found = referenced(plans)
    for plan in plans:
        plan.unmapped = found.unmapped.get(plan.group.backend.describe()["bucket"])
        if plan.unmapped is not None:
            plan.objects = []
        else:
            plan.objects = [stored for stored in plan.objects if plan.key(stored) not in found.keys]
