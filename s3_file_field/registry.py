"""Finding `S3FileField`s by id. The app registry is the source of truth: nothing is cached."""

from __future__ import annotations

from collections.abc import Iterator

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from .fields import S3FileField


def get_field(field_id: str) -> S3FileField | None:
    """The field named `"<app_label>.<ModelName>.<field_name>"`, or None."""
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
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, S3FileField) and field.model is model:
                yield field
