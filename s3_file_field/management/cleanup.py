"""What `manage.py s3ff_cleanup` may remove, and the guarantees that keep it safe.

An object is *abandoned* when it lies where an `S3FileField` writes, no `FileField` row of any
model references it, and it is older than any signed value that could still attach it. The
database is the source of truth: nothing is recorded at upload time, so objects uploaded by
earlier versions, by the form's plain-upload fallback or by the fixtures are judged alike.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.apps import apps
from django.db import models, router

from ..backends.base import PendingUpload, StoredObject, UploadNotFound
from ..checks import StorageGroup
from ..conf import get_settings
from ..fields import S3FileField

# The default upload_to, `<uuid4>/<file name>`: str(uuid4()) has the version digit 4 and a
# variant digit of 8, 9, a or b; a file name never contains "/".
UUID_NAME = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/[^/]+"
# strftime directives that expand to digits alone, so that a string upload_to using them still
# describes its keys exactly.
DIGIT_DIRECTIVES = {
    "Y": r"\d{4}",
    "y": r"\d{2}",
    "m": r"\d{2}",
    "d": r"\d{2}",
    "H": r"\d{2}",
    "M": r"\d{2}",
    "S": r"\d{2}",
    "j": r"\d{3}",
    "U": r"\d{2}",
    "W": r"\d{2}",
}
# Rows are read from the database in chunks of this size.
SCAN_CHUNK = 2000


@dataclass(frozen=True)
class KeySpace:
    """The storage names one field can write: listed under `prefix`, matched by `pattern`."""

    prefix: str
    pattern: str


def key_space(field: S3FileField) -> KeySpace | str:
    """Where the field writes, or why that cannot be told (the field is then skipped)."""
    upload_to = field.upload_to
    if upload_to == S3FileField.uuid_prefix_filename:
        return KeySpace("", UUID_NAME)
    if callable(upload_to):
        return "its upload_to is a function: its keys cannot be told from other objects"
    # As FileField.generate_filename: strftime(upload_to), joined to the name, normalised.
    template = posixpath.normpath(str(upload_to)).strip("/")
    if template in ("", "."):
        return "its upload_to is empty: it writes at the top of the storage, among anything"
    prefix, regex, static = "", "", True
    for piece in re.split(r"(%.)", template):
        if len(piece) == 2 and piece.startswith("%") and piece[1] in DIGIT_DIRECTIVES:
            regex += DIGIT_DIRECTIVES[piece[1]]
            static = False
            continue
        if "%" in piece.replace("%%", ""):
            return f"its upload_to {str(upload_to)!r} uses a date directive other than digits"
        literal = piece.replace("%%", "%")
        regex += re.escape(literal)
        if static:
            prefix += literal
    return KeySpace(prefix + "/" if static else prefix, regex + "/[^/]+")


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


def safe_object_age() -> timedelta:
    """After this, no field value can attach the object any more: finalize can be repeated
    while the upload signature is valid, and its field value lives on after that."""
    config = get_settings()
    return timedelta(seconds=config.upload_signature_max_age + config.field_value_max_age)


@dataclass
class GroupPlan:
    """What the cleanup found in one bucket."""

    group: StorageGroup
    spaces: list[KeySpace] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    uploads: list[tuple[PendingUpload, int]] = field(default_factory=list)
    objects: list[StoredObject] = field(default_factory=list)

    def matches(self, name: str) -> bool:
        return any(re.fullmatch(space.pattern, name) for space in self.spaces)

    def list_prefixes(self) -> list[str]:
        """The fewest prefixes to list: one that another one starts with is covered by it."""
        prefixes = sorted({space.prefix for space in self.spaces})
        return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def plan_group(group: StorageGroup) -> GroupPlan:
    plan = GroupPlan(group)
    for one_field in group.fields:
        space = key_space(one_field)
        if isinstance(space, str):
            plan.skipped.append((one_field.id, space))
        elif space not in plan.spaces:
            plan.spaces.append(space)
    return plan


def find_pending_uploads(plan: GroupPlan, cutoff: datetime) -> None:
    """Fill `plan.uploads` with the unfinished uploads started before `cutoff`, each with the
    bytes its parts hold."""
    backend = plan.group.backend
    for prefix in plan.list_prefixes():
        for upload in backend.list_pending_uploads(prefix):
            if upload.initiated > cutoff or not plan.matches(upload.name):
                continue
            try:
                parts = backend.list_parts(upload.name, upload.upload_id)
            except UploadNotFound:
                continue  # finished or aborted since it was listed
            plan.uploads.append((upload, sum(part.size for part in parts)))


def find_old_objects(plan: GroupPlan, cutoff: datetime) -> None:
    """Fill `plan.objects` with the objects last written before `cutoff` where the group's
    fields write; whether a row references them is decided afterwards, for all buckets."""
    seen: set[str] = set()
    for prefix in plan.list_prefixes():
        for stored in plan.group.backend.list_objects(prefix):
            if stored.name in seen or stored.last_modified > cutoff:
                continue
            if plan.matches(stored.name):
                seen.add(stored.name)
                plan.objects.append(stored)


def file_columns() -> Iterable[tuple[type[models.Model], list[str]]]:
    """Every concrete model with its FileField columns (S3FileField or not, any storage)."""
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or opts.swapped:
            continue
        columns = [f.attname for f in opts.local_concrete_fields if isinstance(f, models.FileField)]
        if columns:
            yield model, columns


def referenced(names: set[str]) -> set[str]:
    """The names among `names` that some FileField row of some model holds.

    Every FileField counts, not only S3FileFields: a name copied to another field keeps its
    object. Rows are read with the base manager, so that a default manager which hides rows
    (soft deletion...) hides none of them. A database error propagates: nothing is removed.
    """
    found: set[str] = set()
    if not names:
        return found
    for model, columns in file_columns():
        for alias in {router.db_for_read(model), router.db_for_write(model)}:
            rows = model._base_manager.using(alias).values_list(*columns)
            for row in rows.iterator(chunk_size=SCAN_CHUNK):
                for value in row:
                    if not value:
                        continue
                    for candidate in (value, posixpath.normpath(value)):
                        if candidate in names:
                            found.add(candidate)
    return found


def drop_referenced(plans: Iterable[GroupPlan]) -> None:
    """Keep in each plan only the objects that no row references."""
    plans = list(plans)
    attached = referenced({stored.name for plan in plans for stored in plan.objects})
    for plan in plans:
        plan.objects = [stored for stored in plan.objects if stored.name not in attached]
