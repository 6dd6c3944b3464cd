"""The DRF serializer field for `S3FileField`, mapped automatically for `ModelSerializer`."""

from __future__ import annotations

from typing import Any

from django.core.files import File
from rest_framework import serializers

from .attach import ALREADY_ATTACHED, AttachableName, checked_field_value, held_elsewhere
from .context import current_request
from .exceptions import InvalidSignedValue, OtherUploader
from .fields import S3FileField
from .registry import get_field


class S3FileSerializerField(serializers.FileField):
    """Accepts the `field_value` of a finalized upload; refuses files sent inline.

    The model field is found from the `ModelSerializer`'s model and the field's source, or
    given for a plain `Serializer`: `model_field=Model._meta.get_field("name")`, or as in 1.x
    `field_id="app_label.ModelName.field_name"`.
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

    def __init__(
        self,
        *,
        model_field: S3FileField | None = None,
        field_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("allow_empty_file", True)
        self.model_field = model_field
        self._field_id = field_id
        super().__init__(**kwargs)

    @property
    def field_id(self) -> str | None:
        return self.model_field.id if self.model_field is not None else self._field_id

    def bind(self, field_name: str, parent: Any) -> None:
        super().bind(field_name, parent)
        if self.model_field is None and self._field_id is not None:
            self.model_field = get_field(self._field_id)
        if self.model_field is None and self.source is not None:
            self.model_field = _model_field(parent, self.source)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, File):
            self.fail("inline_file")
        field = self.model_field
        if field is None:
            self.fail("no_field_id")
        request = self.context.get("request", current_request())
        try:
            value = checked_field_value(data, field.id, request)
        except InvalidSignedValue as error:
            self.fail("invalid_upload", reason=str(error))
        except OtherUploader as error:
            self.fail("other_uploader", reason=str(error))
        # The record being updated may hold it already: a retried PUT of the same record.
        instance = getattr(self.parent, "instance", None)
        if held_elsewhere(field, value.name, getattr(instance, "pk", None)):
            self.fail("already_attached")
        if self.max_length is not None and len(value.name) > self.max_length:
            self.fail("max_length", max_length=self.max_length, length=len(value.name))
        # A string assigned to a FileField is taken as already stored; saving claims it.
        return AttachableName(value.name)


def _model_field(serializer: Any, source: str) -> S3FileField | None:
    """The S3FileField named `source` on the ModelSerializer's model, if it has one."""
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or "." in source:
        return None
    field = {f.name: f for f in model._meta.get_fields()}.get(source)
    return field if isinstance(field, S3FileField) else None
