"""Finding `S3FileField`s by id. The app registry is the source of truth: nothing is cached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

if TYPE_CHECKING:
    from .fields import S3FileField


def get_field(field_id: str) -> S3FileField | None:
    """The field named `"<app_label>.<ModelName>.<field_name>"`, or None."""
    from .fields import S3FileField

    parts = field_id.split(".")
    if len(parts) != 3 or not all(parts):
        return None
    app_label, model_name, field_name = parts
    try:
        model = apps.get_model(app_label, model_name)
        field = model._meta.get_field(field_name)
    except (LookupError, ValueError, FieldDoesNotExist):
        return None
    # The id is canonical (exact case, the concrete model that declares the field).
    if isinstance(field, S3FileField) and field.id == field_id:
        return field
    return None


def iter_fields() -> Iterator[S3FileField]:
    """Every `S3FileField` of every installed concrete model."""
    from .fields import S3FileField

    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, S3FileField) and field.model is model:
                yield field


def is_attached(field_id: str, name: str, except_pk: Any = None) -> bool:
    """Whether a row other than the one whose primary key is `except_pk` references `name` in
    this field.

    A field value is a one-time ticket: replaying it (into another record, or a second time
    after a double submit) would make two rows share one object, and deleting one would
    orphan the other. The base manager sees every row, those a default manager hides
    (soft-deleted ones) too, as the cleanup does.
    """
    field = get_field(field_id)
    if field is None:
        return False
    rows = field.model._base_manager.filter(**{field.attname: name})
    if except_pk is not None:
        rows = rows.exclude(pk=except_pk)
    return bool(rows.exists())
