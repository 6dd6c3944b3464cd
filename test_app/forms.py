from typing import Any

from django import forms
from django.db import transaction

from s3_file_field.forms import S3MultipleFileField
from s3_file_field.widgets import ImageResize, S3FileInput
from test_app.models import Attachment, LimitedResource, MultiResource, Report, Resource

MiB = 1024 * 1024


class ResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Resource
        fields = ["blob"]


class ResourceWithAttachmentsForm(forms.ModelForm):  # type: ignore[type-arg]
    """A resource and any number of attachments, each saved as an `Attachment` row."""

    attachments = S3MultipleFileField(
        model_field_id="test_app.Attachment.file",
        max_files=5,
        max_total_size=60 * MiB,
        required=False,
    )

    class Meta:
        model = Resource
        fields = ["blob"]

    def save(self, commit: bool = True) -> Any:
        with transaction.atomic():
            resource = super().save(commit=commit)
            for file in self.cleaned_data["attachments"]:
                Attachment.objects.create(resource=resource, file=file)
        return resource


class ReportForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Report
        fields = ["title", "file"]
        # Chromium keeps the picked file's handle: a reload resumes the upload with one click.
        widgets = {"file": S3FileInput(keep_file_handles=True)}


class LimitedResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = LimitedResource
        fields = ["image", "document"]
        # Photos are shrunk in the browser: a camera's 20 MB fits the 5 MB limit.
        widgets = {
            "image": S3FileInput(
                resize=ImageResize(max_width=1600, max_height=1600, type="image/jpeg", quality=0.85)
            )
        }


class MultiResourceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = MultiResource
        fields = ["blob", "optional_blob"]
