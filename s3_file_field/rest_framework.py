"""The DRF serializer field for `S3FileField`, mapped automatically for `ModelSerializer`."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from rest_framework import serializers

from .attach import ALREADY_ATTACHED, AttachableName, held_elsewhere, uploader_refusal
from .middleware import current_request
from .registry import get_field
from .values import InvalidSignedValue, read_field_value


class S3FileSerializerField(serializers.FileField):
    """Accepts the `field_value` of a finalized upload; refuses files sent inline.

    The field id is found from the `ModelSerializer`'s model and the field's source, or given
    as `field_id="app_label.ModelName.field_name"` for a plain `Serializer`.
    """

    default_error_messages = {
        "inline_file": (
            "Files are not accepted inline here: upload the file to storage through the upload "
            "API and send the `field_value` that upload-finalize/ returns."
        ),
        "invalid_upload": "{reason}",
        "already_attached": ALREADY_ATTACHED,
        "other_uploader": "{reason}",
        "no_field_id": (
            "This serializer field does not know its model field: pass field_id="
            "'app_label.ModelName.field_name'."
        ),
    }

    def __init__(self, *, field_id: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("allow_empty_file", True)
        self.field_id = field_id
        super().__init__(**kwargs)

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        if self.field_id is None and self.source is not None:
            self.field_id = _model_field_id(parent, self.source)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, File):
            self.fail("inline_file")
        if self.field_id is None:
            self.fail("no_field_id")
        try:
            value = read_field_value(data, self.field_id)
        except InvalidSignedValue as error:
            self.fail("invalid_upload", reason=str(error))
        refusal = uploader_refusal(value.uploader, self.context.get("request", current_request()))
        if refusal:
            self.fail("other_uploader", reason=refusal)
        # The record being updated may hold it already: a retried PUT of the same record.
        instance = getattr(self.parent, "instance", None)
        field = get_field(self.field_id)
        if field is not None and held_elsewhere(field, value.name, getattr(instance, "pk", None)):
            self.fail("already_attached")
        if self.max_length is not None and len(value.name) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(value.name))
        # A string assigned to a FileField is taken as already stored; saving claims it.
        return AttachableName(value.name)


def _model_field_id(serializer: Any, source: str) -> str | None:
    from .fields import S3FileField

    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or "." in source:
        return None
    try:
        field = model._meta.get_field(source)
    except Exception:
        return None
    return field.id if isinstance(field, S3FileField) else None
