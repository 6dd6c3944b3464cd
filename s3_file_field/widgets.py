"""The form widgets: a file input that the widget script turns into a direct uploader."""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.forms import ClearableFileInput
from django.forms.widgets import FILE_INPUT_CONTRADICTION, CheckboxInput
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext

from .attach import checked_field_value
from .conf import get_settings
from .context import current_request, was_stopped
from .exceptions import InvalidSignedValue, OtherUploader
from .values import FieldValue

# Built from javascript-client/ into the package's static files.
WIDGET_SCRIPT = "s3_file_field/widget.js"
WIDGET_STYLESHEET = "s3_file_field/widget.css"


class StoppedUpload:
    """What the widget gives for a file whose reading `MaxSizeUploadHandler` cut off."""


class SubmittedFieldValue(str):
    """A string the browser submitted for an S3 file input, not yet checked.

    The form field checks it (signature, age, field), so the error lands on the right field.
    """

    __slots__ = ()


def upload_api_base_url() -> str | None:
    """The URL path under which `s3_file_field.urls` is mounted, or None if it is not."""
    try:
        prepare_url = reverse("s3_file_field:upload-prepare")
    except NoReverseMatch:
        return None
    return posixpath.dirname(prepare_url.rstrip("/")) + "/"


def widget_messages() -> dict[str, str]:
    """The widget script's texts, translated here so that the script holds no language."""
    return {
        "choose": gettext("Choose a file"),
        "dropHere": gettext("or drop it here"),
        "preparing": gettext("Preparing the upload of %(name)s…"),
        "uploading": gettext("Uploading %(name)s: %(percent)s%%"),
        "progress": gettext(
            "%(percent)s%% — %(uploaded)s of %(total)s at %(speed)s, %(remaining)s left"
        ),
        "finalizing": gettext("Finishing the upload…"),
        "done": gettext("Uploaded %(name)s (%(size)s)."),
        "cancel": gettext("Cancel upload"),
        "retry": gettext("Retry"),
        "cancelled": gettext("Upload cancelled."),
        "failed": gettext("The upload of %(name)s failed: %(reason)s"),
        "tooLarge": gettext("%(name)s is too large (%(size)s); the limit is %(max)s."),
        "notAccepted": gettext("%(name)s is not an accepted kind of file (accepted: %(accept)s)."),
        "waitForUpload": gettext(
            "The upload is still running: the form will be sent as soon as it finishes."
        ),
        "progressLabel": gettext("Upload progress"),
        "kept": gettext("%(name)s (%(size)s) is uploaded and will be saved with the form."),
        "remove": gettext("Remove"),
        "notUploaded": gettext(
            "%(name)s is not uploaded: retry, choose another file, or remove it to send the "
            "form without it."
        ),
        "resumable": gettext(
            "The upload of %(name)s stopped at %(percent)s%%: choose the same file again to send "
            "the rest."
        ),
        "discard": gettext("Discard"),
        "tooMany": gettext("%(name)s is not added: at most %(max)s files can be sent here."),
        "tooLargeTogether": gettext(
            "%(name)s is not added: the files together would pass %(max)s."
        ),
        "noMoreRows": gettext("No more rows can be added here; not added: %(names)s."),
        "resizing": gettext("Resizing %(name)s…"),
        "resume": gettext("Resume"),
    }


def kept_upload(value: Any, field_id: str | None) -> FieldValue | None:
    """The upload a re-rendered form shows again (its errors are elsewhere): a submitted value
    signed for this field, not expired, and the requester's own; None for anything else, whose
    error the form field reports."""
    if not isinstance(value, SubmittedFieldValue) or not field_id:
        return None
    try:
        return checked_field_value(str(value), field_id, current_request())
    except (InvalidSignedValue, OtherUploader):
        return None


@dataclass(frozen=True)
class ImageResize:
    """How the widget shrinks an image before uploading it (`S3FileInput(resize=...)`): to fit
    `max_width` x `max_height` pixels (None: no bound), keeping its proportions and the
    orientation its EXIF data gives, encoded as `type` ("image/jpeg", "image/webp",
    "image/png"; None: the file's own) at `quality` (0 to 1, for JPEG and WebP). Done in a
    Worker, in the browser; an image already within the bounds and of that type is sent as it
    is, and anything that is not an image is never touched. The server checks what arrives, as
    it checks any upload.
    """

    max_width: int | None = None
    max_height: int | None = None
    quality: float = 0.9
    type: str | None = None

    def __post_init__(self) -> None:
        for bound in (self.max_width, self.max_height):
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int) or bound < 1
            ):
                raise ValueError("max_width and max_height are whole numbers of pixels, at least 1")
        if not 0 < self.quality <= 1:
            raise ValueError("quality is a number above 0 and at most 1")
        if self.type is not None and not self.type.startswith("image/"):
            raise ValueError('type is an image type, e.g. "image/jpeg"')

    def as_json(self) -> str:
        return json.dumps(
            {
                "maxWidth": self.max_width,
                "maxHeight": self.max_height,
                "quality": self.quality,
                "type": self.type,
            }
        )


class S3FileInput(ClearableFileInput):
    """A clearable file input carrying what the upload script needs in `data-*` attributes;
    with `resize`, images are shrunk in the browser before they are uploaded; with
    `keep_file_handles`, Chromium picks the file through its File System Access picker and keeps
    its handle, so that an upload a reload cut short resumes with one click, the file not asked
    for again."""

    class Media:
        js = [WIDGET_SCRIPT]
        css = {"all": [WIDGET_STYLESHEET]}

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        resize: ImageResize | None = None,
        keep_file_handles: bool = False,
    ) -> None:
        super().__init__(attrs)
        self.resize = resize
        self.keep_file_handles = keep_file_handles

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        base_url = upload_api_base_url()
        if base_url is not None:
            # The `data-s3fileinput` attribute with the API's base URL is what 1.x scripts read;
            # without it (API not mounted) the script leaves the input a plain file input.
            widget_attrs = context["widget"]["attrs"]
            widget_attrs["data-s3fileinput"] = base_url
            widget_attrs["data-s3ff-messages"] = json.dumps(widget_messages())
            # How long an unfinished upload can still be finished: older ones are not offered.
            widget_attrs["data-s3ff-resume-max-age"] = str(get_settings().upload_signature_max_age)
            if self.resize is not None:
                widget_attrs["data-s3ff-resize"] = self.resize.as_json()
            if self.keep_file_handles:
                widget_attrs["data-s3ff-keep-handle"] = ""
            kept = kept_upload(value, widget_attrs.get("data-field-id"))
            if kept is not None:
                # The signed value, never a bare key: sent again, it is checked again.
                widget_attrs["data-s3ff-kept-value"] = str(value)
                widget_attrs["data-s3ff-kept-name"] = posixpath.basename(kept.name)
                widget_attrs["data-s3ff-kept-size"] = str(kept.size)
        return context

    def value_from_datadict(
        self, data: Mapping[str, Any], files: Mapping[str, Any], name: str
    ) -> Any:
        upload: Any
        if name in data and data[name] != "":
            upload = SubmittedFieldValue(data[name])
        elif was_stopped(current_request(), name):
            upload = StoppedUpload()
        elif name in files:
            # The script did not run (JavaScript off): an ordinary upload through Django.
            upload = super().value_from_datadict(data, files, name)  # type: ignore[arg-type]
            if upload is FILE_INPUT_CONTRADICTION or upload is False:
                return upload
        else:
            upload = None

        if not self.is_required and CheckboxInput().value_from_datadict(
            data,
            files,  # type: ignore[arg-type]
            self.clear_checkbox_name(name),
        ):
            return FILE_INPUT_CONTRADICTION if upload else False
        return upload

    def value_omitted_from_data(
        self, data: Mapping[str, Any], files: Mapping[str, Any], name: str
    ) -> bool:
        return name not in data and name not in files and self.clear_checkbox_name(name) not in data


class S3MultipleFileInput(S3FileInput):
    """Several files for one field: the script uploads each, and each finished upload's signed
    value goes with the form under the field's name."""

    allow_multiple_selected = True

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, None, attrs)
        widget_attrs = context["widget"]["attrs"]
        if "data-s3fileinput" in widget_attrs and isinstance(value, list):
            kept = [
                (item, upload)
                for item in value
                if (upload := kept_upload(item, widget_attrs.get("data-field-id"))) is not None
            ]
            if kept:
                widget_attrs["data-s3ff-kept-values"] = json.dumps(
                    [
                        {
                            "value": str(item),
                            "name": posixpath.basename(upload.name),
                            "size": upload.size,
                        }
                        for item, upload in kept
                    ]
                )
        return context

    def value_from_datadict(
        self, data: Mapping[str, Any], files: Mapping[str, Any], name: str
    ) -> Any:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist is not None else [data.get(name)]
        submitted: list[Any] = [
            SubmittedFieldValue(item) for item in values if isinstance(item, str) and item
        ]
        # Files sent with the form (JavaScript off), or cut off at a limit: the field refuses them.
        file_list = getattr(files, "getlist", None)
        sent = file_list(name) if file_list is not None else []
        if was_stopped(current_request(), name):
            sent = [StoppedUpload()]
        return submitted + list(sent)

    def value_omitted_from_data(
        self, data: Mapping[str, Any], files: Mapping[str, Any], name: str
    ) -> bool:
        return name not in data and name not in files


class AdminS3FileInput(S3FileInput):
    """The same widget with the admin's file input template."""

    template_name = "admin/widgets/clearable_file_input.html"
