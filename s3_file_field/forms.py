"""The form field that accepts a finalized upload's signed value (or a plain upload)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.apps import apps
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .attach import AttachableName, checked_field_value
from .context import current_request
from .exceptions import InvalidSignedValue, OtherUploader, PlainUploadRefused
from .fallback import plain_uploads_allowed, store_plain_upload
from .filenames import is_accepted, parse_accept
from .files import S3PlaceholderFile
from .widgets import (
    AdminS3FileInput,
    S3FileInput,
    S3MultipleFileInput,
    StoppedUpload,
    SubmittedFieldValue,
    upload_api_base_url,
)

if TYPE_CHECKING:
    from .fields import S3FileField

# Without S3FileFieldMiddleware a form cannot run the upload API's policy for a plain upload.
UNKNOWN_SUBMITTER_OF_FILE = (
    "This site cannot check who may upload here; upload the file with JavaScript on."
)


class S3FormFileField(forms.FileField):
    widget = S3FileInput
    default_error_messages = {
        "needs_javascript": _(
            "This form uploads files with JavaScript; turn it on and choose the file again."
        ),
        "too_large_sent": _("The file is too large; the limit is %(max_size)s."),
        "invalid_upload": _("%(reason)s"),
        "too_large": _("The file is too large (%(size)s); the limit is %(max_size)s."),
        "not_accepted": _("Files of this type are not accepted here (allowed: %(accept)s)."),
    }

    def __init__(
        self,
        *,
        model_field: S3FileField | None = None,
        model_field_id: str | None = None,
        max_size: int | None = None,
        accept: str | None = None,
        widget: type[forms.Widget] | forms.Widget | None = None,
        **kwargs: Any,
    ) -> None:
        if model_field is None and model_field_id is None:
            raise TypeError("S3FormFileField needs model_field (or, as in 1.x, model_field_id).")
        self._model_field = model_field
        # 1.x forms name the field by id; it is looked up when first needed (apps are ready).
        self._model_field_id = model_field_id
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

    @property
    def model_field(self) -> S3FileField:
        if self._model_field is None:
            assert self._model_field_id is not None
            app_label, model_name, name = self._model_field_id.split(".")
            field: Any = apps.get_model(app_label, model_name)._meta.get_field(name)
            self._model_field = field
        return self._model_field

    @property
    def model_field_id(self) -> str:
        return self._model_field_id or self.model_field.id

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["data-field-id"] = self.model_field_id
        if self.accept:
            attrs["accept"] = self.accept
        if self.max_size is not None:
            attrs["data-max-size"] = str(self.max_size)
        return attrs

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Django renders a file field with its initial file only (a file cannot be sent back);
        # a signed value can, so a form with errors elsewhere keeps the finished upload.
        if isinstance(data, SubmittedFieldValue):
            return data
        return super().bound_data(data, initial)

    def to_python(self, data: Any) -> Any:
        if isinstance(data, SubmittedFieldValue):
            try:
                value = checked_field_value(str(data), self.model_field_id, current_request())
            except (InvalidSignedValue, OtherUploader) as error:
                raise self._invalid(str(error)) from None
            # Whether another record holds it is the model field's to say (`validate`): it
            # knows which record is being saved.
            data = S3PlaceholderFile(
                self.model_field, AttachableName(value.name), value.size, value.checksum
            )
        elif isinstance(data, StoppedUpload):
            if not plain_uploads_allowed() or self.max_size is None:
                raise ValidationError(
                    self.error_messages["needs_javascript"], code="needs_javascript"
                )
            raise ValidationError(
                self.error_messages["too_large_sent"],
                code="too_large",
                params={"max_size": filesizeformat(self.max_size)},
            )
        elif isinstance(data, UploadedFile):
            data = self._plain_upload(data)
        return super().to_python(data)

    def _plain_upload(self, upload: UploadedFile[Any]) -> Any:
        """A file sent with the form (JavaScript off): refused, unless plain uploads are on;
        then it is checked and stored under the upload API's policy."""
        if not plain_uploads_allowed():
            raise ValidationError(self.error_messages["needs_javascript"], code="needs_javascript")
        self._check_limits(upload)
        if upload_api_base_url() is None:
            return upload  # a plain FileField: Django saves it through the storage
        request = current_request()
        if request is None:
            raise self._invalid(UNKNOWN_SUBMITTER_OF_FILE)
        try:
            name = store_plain_upload(self.model_field, upload, request)
        except PlainUploadRefused as error:
            raise self._invalid(str(error)) from None
        return S3PlaceholderFile(self.model_field, name, upload.size or 0)

    def _invalid(self, reason: str) -> ValidationError:
        return ValidationError(
            self.error_messages["invalid_upload"], code="invalid_upload", params={"reason": reason}
        )

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


class S3MultipleFileField(forms.Field):
    """Several uploads for one `S3FileField`, each to be saved on a record of its own (a list
    of attachments): cleans to a list of files, in the order chosen, each checked as
    `S3FormFileField` checks one. `max_files` and `max_total_size` (bytes) bound the list; the
    widget checks them before any upload, and this field again.
    """

    widget = S3MultipleFileInput
    default_error_messages = {
        "too_many": _("At most %(max_files)s files can be sent here; %(count)s were."),
        "too_large_total": _(
            "These files together are too large (%(size)s); the limit is %(max_total_size)s."
        ),
    }

    def __init__(
        self,
        *,
        model_field: S3FileField | None = None,
        model_field_id: str | None = None,
        max_files: int | None = None,
        max_total_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        # Each file is checked by the one-file field: signature, field, uploader, size, type.
        self.file_field = S3FormFileField(
            model_field=model_field, model_field_id=model_field_id, required=False
        )
        self.max_files = max_files
        self.max_total_size = max_total_size
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs["data-field-id"] = self.file_field.model_field_id
        model_field = self.file_field.model_field
        if model_field.accept:
            attrs["accept"] = model_field.accept
        if model_field.max_size is not None:
            attrs["data-max-size"] = str(model_field.max_size)
        if self.max_files is not None:
            attrs["data-max-files"] = str(self.max_files)
        if self.max_total_size is not None:
            attrs["data-max-total-size"] = str(self.max_total_size)
        return attrs

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Rendered back after errors elsewhere: each finished upload stays (see S3FileInput).
        return data

    def to_python(self, data: Any) -> list[Any]:
        if not data:
            return []
        # Counted before any value is read: a long list costs one message, not one check each.
        self._check_count(len(data))
        files: list[Any] = []
        errors: list[ValidationError] = []
        for item in data:
            try:
                if not isinstance(item, SubmittedFieldValue):
                    # One field's plain uploads, many files each a record: not taken here.
                    raise ValidationError(
                        self.file_field.error_messages["needs_javascript"], code="needs_javascript"
                    )
                files.append(self.file_field.to_python(item))
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return files

    def _check_count(self, count: int) -> None:
        if self.max_files is not None and count > self.max_files:
            raise ValidationError(
                self.error_messages["too_many"],
                code="too_many",
                params={"max_files": self.max_files, "count": count},
            )

    def validate(self, value: Any) -> None:
        super().validate(value)
        total = sum(file.size or 0 for file in value)
        if self.max_total_size is not None and total > self.max_total_size:
            raise ValidationError(
                self.error_messages["too_large_total"],
                code="too_large_total",
                params={
                    "size": filesizeformat(total),
                    "max_total_size": filesizeformat(self.max_total_size),
                },
            )
