"""The form field that accepts a finalized upload's signed value (or a plain upload)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .attach import AttachableName, uploader_refusal
from .filenames import is_accepted, parse_accept
from .middleware import current_request
from .values import InvalidSignedValue, read_field_value
from .widgets import AdminS3FileInput, S3FileInput, S3PlaceholderFile, SubmittedFieldValue


class S3FormFileField(forms.FileField):
    widget = S3FileInput
    default_error_messages = {
        "invalid_upload": _("%(reason)s"),
        "too_large": _("The file is too large (%(size)s); the limit is %(max_size)s."),
        "not_accepted": _("Files of this type are not accepted here (allowed: %(accept)s)."),
    }

    def __init__(
        self,
        *,
        model_field_id: str,
        max_size: int | None = None,
        accept: str | None = None,
        widget: type[forms.Widget] | forms.Widget | None = None,
        **kwargs: Any,
    ) -> None:
        self.model_field_id = model_field_id
        self.max_size = max_size
        self.accept = accept
        # 0-byte files are legal uploads.
        kwargs.setdefault("allow_empty_file", True)
        # The admin asks every FileField for its AdminFileWidget; give it the S3 one instead.
        if isinstance(widget, type) and issubclass(widget, AdminFileWidget):
            widget = AdminS3FileInput
        elif isinstance(widget, AdminFileWidget):
            widget = AdminS3FileInput(attrs=widget.attrs)
        super().__init__(widget=widget, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["data-field-id"] = self.model_field_id
        if self.accept:
            attrs["accept"] = self.accept
        if self.max_size is not None:
            attrs["data-max-size"] = str(self.max_size)
        return attrs

    def to_python(self, data: Any) -> Any:
        if isinstance(data, SubmittedFieldValue):
            try:
                value = read_field_value(str(data), self.model_field_id)
            except InvalidSignedValue as error:
                raise ValidationError(
                    self.error_messages["invalid_upload"],
                    code="invalid_upload",
                    params={"reason": str(error)},
                ) from None
            refusal = uploader_refusal(value.uploader, current_request())
            if refusal:
                raise ValidationError(
                    self.error_messages["invalid_upload"],
                    code="invalid_upload",
                    params={"reason": refusal},
                )
            # Whether another record holds it is the model field's to say (`validate`): it
            # knows which record is being saved.
            data = S3PlaceholderFile(AttachableName(value.name), value.size)
        result = super().to_python(data)
        if isinstance(data, UploadedFile):
            self._check_limits(data)
        return result

    def _check_limits(self, upload: UploadedFile[Any]) -> None:
        """The same limits the upload API enforces, for a plain upload through Django."""
        size = upload.size or 0
        if self.max_size is not None and size > self.max_size:
            raise ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"size": filesizeformat(size), "max_size": filesizeformat(self.max_size)},
            )
        accept = parse_accept(self.accept)
        if not is_accepted(accept, upload.name or "", upload.content_type or ""):
            raise ValidationError(
                self.error_messages["not_accepted"],
                code="not_accepted",
                params={"accept": ", ".join(accept)},
            )
