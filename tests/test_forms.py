"""ModelForm and admin: the widget, field values, clearing, and the plain-upload fallback."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from typing import Any
from unittest.mock import patch

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.forms.widgets import FILE_INPUT_CONTRADICTION
from django.test import RequestFactory, override_settings
from django.utils.datastructures import MultiValueDict

from s3_file_field.context import answering
from s3_file_field.exceptions import UploadAlreadyAttached
from s3_file_field.files import S3PlaceholderFile
from s3_file_field.forms import S3FormFileField
from s3_file_field.values import sign_field_value
from s3_file_field.widgets import AdminS3FileInput, ImageResize, S3FileInput
from test_app.forms import (
    LimitedResourceForm,
    ReportForm,
    ResourceForm,
    ResourceWithAttachmentsForm,
)
from test_app.models import Attachment, MultiResource, Resource

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


def test_model_form_uses_the_s3_field_and_widget():
    field = ResourceForm().fields["blob"]
    assert isinstance(field, S3FormFileField)
    assert isinstance(field.widget, S3FileInput)
    assert field.model_field_id == FIELD


def test_widget_renders_what_the_client_needs():
    html = str(LimitedResourceForm()["image"])
    assert 'type="file"' in html
    assert 'data-field-id="test_app.LimitedResource.image"' in html
    assert 'data-s3fileinput="/api/s3-upload/"' in html
    assert 'accept="image/*"' in html
    assert 'data-max-size="5242880"' in html


def test_form_accepts_a_field_value(upload, api_client):
    result = upload(api_client, FIELD, b"hello form")
    value = result.finalize.json()["field_value"]
    form = ResourceForm(data={"blob": value})
    assert form.is_valid(), form.errors
    resource = form.save()
    resource.refresh_from_db()
    assert resource.blob.name == result.finalize.json()["object_key"]
    assert resource.blob.read() == b"hello form"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("garbage", "not valid"),
        (sign_field_value("test_app.MultiResource.blob", "x/y", 1), "another field"),
    ],
)
def test_form_refuses_bad_values_on_the_field(value, message):
    form = ResourceForm(data={"blob": value})
    assert not form.is_valid()
    assert message in form.errors["blob"][0]


def kept_attrs(html: str) -> dict[str, str]:
    """The data-s3ff-kept-* attributes of a rendered file input."""
    return {
        name: unescape(value) for name, value in re.findall(r'data-s3ff-kept-(\w+)="([^"]*)"', html)
    }


def report_form(value: str, title: str = "") -> ReportForm:
    form = ReportForm(data={"title": title, "file": value})
    assert not form.is_valid()
    return form


def test_a_form_sent_back_with_errors_renders_a_valid_upload_again():
    value = sign_field_value("test_app.Report.file", "reports/abc/q3 final.pdf", 123_456)
    form = report_form(value)
    assert list(form.errors) == ["title"]
    assert kept_attrs(str(form["file"])) == {
        "value": value,
        "name": "q3 final.pdf",
        "size": "123456",
    }
    # Sent again as rendered, it is accepted: no second upload.
    again = ReportForm(data={"title": "Q3", "file": kept_attrs(str(form["file"]))["value"]})
    assert again.is_valid(), again.errors


def test_a_value_that_expired_meanwhile_is_not_rendered_and_says_so():
    with patch("django.core.signing.time.time", return_value=time.time() - 400 * 24 * 3600):
        value = sign_field_value("test_app.Report.file", "reports/abc/old.pdf", 10)
    form = report_form(value, title="Q3")
    assert kept_attrs(str(form["file"])) == {}
    assert "has expired; upload the file again" in form.errors["file"][0]


@pytest.mark.parametrize(
    "value",
    [
        sign_field_value("test_app.Resource.blob", "x/other-field.pdf", 10),
        sign_field_value("test_app.Report.file", "x/tampered.pdf", 10)[:-2] + "xx",
        "reports/abc/raw-key.pdf",
    ],
    ids=["another field", "tampered", "a raw key"],
)
def test_values_the_field_would_refuse_are_not_rendered(value):
    form = report_form(value)
    assert kept_attrs(str(form["file"])) == {}
    assert "file" in form.errors


def test_an_upload_of_another_user_is_not_rendered_to_this_one():
    mine = User.objects.create_user("mine")
    value = sign_field_value("test_app.Report.file", "reports/abc/theirs.pdf", 10, uploader="999")
    request = RequestFactory().post("/reports/new/")
    request.user = mine
    with answering(request):
        form = report_form(value)
        assert kept_attrs(str(form["file"])) == {}
        assert "another user" in form.errors["file"][0]
        own = sign_field_value("test_app.Report.file", "reports/abc/mine.pdf", 10, str(mine.pk))
        assert kept_attrs(str(report_form(own)["file"]))["name"] == "mine.pdf"


def test_empty_value_keeps_the_current_file():
    resource = Resource.objects.create(blob="kept/file.txt")
    form = ResourceForm(data={"blob": ""}, instance=resource)
    assert form.is_valid(), form.errors
    assert form.save().blob.name == "kept/file.txt"
    form = ResourceForm(data={}, instance=resource)
    assert form.is_valid(), form.errors
    assert form.save().blob.name == "kept/file.txt"


def test_required_field_without_a_file():
    form = ResourceForm(data={"blob": ""})
    assert not form.is_valid()
    assert form.errors["blob"] == ["This field is required."]


def test_clear_checkbox_and_contradiction():
    from django.forms import modelform_factory

    form_class = modelform_factory(MultiResource, fields=["blob", "optional_blob"])
    instance = MultiResource.objects.create(blob="a/b.txt", optional_blob="c/d.txt")
    form = form_class(data={"optional_blob-clear": "on"}, instance=instance)
    assert form.is_valid(), form.errors
    assert not form.save().optional_blob

    value = sign_field_value("test_app.MultiResource.optional_blob", "e/f.txt", 3)
    widget = form_class().fields["optional_blob"].widget
    data = {"optional_blob": value, "optional_blob-clear": "on"}
    assert widget.value_from_datadict(data, {}, "optional_blob") is FILE_INPUT_CONTRADICTION
    form = form_class(data={"blob": "", **data}, instance=instance)
    assert not form.is_valid()
    assert "check the clear checkbox" in form.errors["optional_blob"][0]


def test_plain_upload_without_javascript_is_refused_by_default():
    upload = SimpleUploadedFile("plain.txt", b"no javascript here", content_type="text/plain")
    form = ResourceForm(data={}, files=MultiValueDict({"blob": [upload]}))
    assert not form.is_valid()
    assert "turn it on" in form.errors["blob"][0]


@override_settings(S3FF_PLAIN_UPLOADS=True)
def test_plain_upload_obeys_max_size_and_accept():
    too_big = SimpleUploadedFile("a.png", b"x" * (5 * 1024 * 1024 + 1), content_type="image/png")
    form = LimitedResourceForm(data={}, files=MultiValueDict({"image": [too_big]}))
    assert not form.is_valid()
    assert "too large" in form.errors["image"][0]
    wrong_type = SimpleUploadedFile("a.txt", b"x", content_type="text/plain")
    form = LimitedResourceForm(data={}, files=MultiValueDict({"image": [wrong_type]}))
    assert not form.is_valid()
    assert "not accepted" in form.errors["image"][0]


def test_zero_byte_files_are_legal():
    value = sign_field_value(FIELD, "empty/file.txt", 0)
    form = ResourceForm(data={"blob": value})
    assert form.is_valid(), form.errors


def test_a_validator_can_read_inside_an_upload(upload, api_client):
    """The form's file is the stored object, read from the storage when opened."""
    value = upload(api_client, FIELD, b"%PDF-1.7 pretend").finalize.json()["field_value"]
    seen: list[bytes] = []

    def looks_like_pdf(file: S3PlaceholderFile) -> None:
        seen.append(file.read(5))
        if seen[-1] != b"%PDF-":
            raise ValidationError("Not a PDF.")

    form = ResourceForm(data={"blob": value})
    form.fields["blob"].validators.append(looks_like_pdf)
    assert form.is_valid(), form.errors
    placeholder = form.cleaned_data["blob"]
    assert isinstance(placeholder, S3PlaceholderFile)
    assert placeholder.size == 16
    assert seen == [b"%PDF-"]
    assert b"".join(placeholder.chunks()) == b"%PDF-1.7 pretend"


@pytest.fixture
def admin_client(client):
    user = User.objects.create_superuser("admin", "admin@example.com", "password")
    client.force_login(user)
    return client


def test_admin_add_page_uses_the_admin_widget(admin_client):
    from django.contrib import admin

    form_class = admin.site._registry[Resource].get_form(RequestFactory().get("/"))
    assert isinstance(form_class.base_fields["blob"].widget, AdminS3FileInput)
    page = admin_client.get("/admin/test_app/resource/add/").content.decode()
    assert 'data-field-id="test_app.Resource.blob"' in page
    assert 'data-field-id="test_app.Attachment.file"' in page


def test_admin_saves_a_field_value_with_an_inline(admin_client, upload, api_client):
    blob = upload(api_client, FIELD, b"admin bytes").finalize.json()["field_value"]
    attachment = upload(api_client, "test_app.Attachment.file", b"inline").finalize.json()[
        "field_value"
    ]
    response = admin_client.post(
        "/admin/test_app/resource/add/",
        {
            "blob": blob,
            "attachments-TOTAL_FORMS": "1",
            "attachments-INITIAL_FORMS": "0",
            "attachments-0-file": attachment,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get()
    assert resource.blob.read() == b"admin bytes"
    assert resource.attachments.get().file.read() == b"inline"


def test_widget_texts_come_from_the_server():
    import json
    from pathlib import Path

    from django.utils import translation

    from s3_file_field.widgets import widget_messages

    html = str(ResourceForm()["blob"])
    match = re.search(r'data-s3ff-messages="([^"]*)"', html)
    assert match is not None
    assert json.loads(unescape(match.group(1))) == widget_messages()
    with translation.override("en"):
        english = widget_messages()
    # The built script holds none of these texts: every language is the server's.
    script = Path(__file__).resolve().parents[1] / "s3_file_field/static/s3_file_field/widget.js"
    built = script.read_text()
    # (Single words such as "Retry" also name things in the code, e.g. the Retry-After header.)
    for text in english.values():
        words = max(re.split(r"%\(\w+\)s", text), key=len).strip(" .:…")
        if " " in words:
            assert words not in built, text
    for static in ("s3_file_field/widget.js", "s3_file_field/widget.css"):
        assert static in str(ResourceForm().media)


def attachment_value(name: str, size: int = 10) -> str:
    return sign_field_value("test_app.Attachment.file", f"attachments/abc/{name}", size)


def attachments_form(values: list[str], blob: str | None = None) -> ResourceWithAttachmentsForm:
    data = MultiValueDict({"blob": [blob or sign_field_value(FIELD, "x/main.bin", 1)]})
    data.setlist("attachments", values)
    return ResourceWithAttachmentsForm(data=data)


def test_many_files_for_one_field_are_saved_each_on_its_own_row():
    form = attachments_form([attachment_value("a.pdf"), attachment_value("b.pdf")])
    assert form.is_valid(), form.errors
    resource = form.save()
    names = sorted(attachment.file.name for attachment in resource.attachments.all())
    assert names == ["attachments/abc/a.pdf", "attachments/abc/b.pdf"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([attachment_value(f"{n}.pdf") for n in range(6)], "At most 5 files can be sent here; 6"),
        (
            [
                attachment_value("a.pdf", 40 * 1024 * 1024),
                attachment_value("b.pdf", 30 * 1024 * 1024),
            ],
            "These files together are too large (70.0\xa0MB); the limit is 60.0\xa0MB.",
        ),
        ([attachment_value("a.pdf"), sign_field_value(FIELD, "x/other.pdf", 1)], "another field"),
    ],
    ids=["too many", "too large together", "one for another field"],
)
def test_many_files_are_bounded_and_each_checked(values, message):
    form = attachments_form(values)
    assert not form.is_valid()
    assert message in " ".join(str(error) for error in form.errors["attachments"])
    assert not Attachment.objects.exists()


def test_many_files_sent_without_javascript_are_refused():
    data = MultiValueDict({"blob": [sign_field_value(FIELD, "x/main.bin", 1)]})
    files: MultiValueDict[str, UploadedFile[Any]] = MultiValueDict(
        {"attachments": [SimpleUploadedFile("a.txt", b"a")]}
    )
    form = ResourceWithAttachmentsForm(data=data, files=files)
    assert not form.is_valid()
    assert "uploads files with JavaScript" in form.errors["attachments"][0]


def test_many_files_render_back_after_an_error_elsewhere():
    kept = [attachment_value("a.pdf"), attachment_value("b.pdf", 2048)]
    form = attachments_form([*kept, "forged"], blob="not a value")
    assert not form.is_valid()
    html = str(form["attachments"])
    assert "multiple" in html
    match = re.search(r'data-s3ff-kept-values="([^"]*)"', html)
    assert match is not None
    assert json.loads(unescape(match.group(1))) == [
        {"value": kept[0], "name": "a.pdf", "size": 10},
        {"value": kept[1], "name": "b.pdf", "size": 2048},
    ]


def test_an_upload_assigned_in_code_is_saved_by_name_and_attaches_once():
    form = attachments_form([attachment_value("a.pdf")])
    assert form.is_valid(), form.errors
    resource = Resource.objects.create(blob="x/main.bin")
    [upload] = form.cleaned_data["attachments"]
    # Not read from the bucket to be stored again: the object is not even there.
    attachment = Attachment.objects.create(resource=resource, file=upload)
    attachment.refresh_from_db()
    assert attachment.file.name == "attachments/abc/a.pdf"
    with pytest.raises(UploadAlreadyAttached):
        Attachment.objects.create(resource=resource, file=upload)


def test_a_resizing_widget_renders_its_rule():
    html = str(LimitedResourceForm()["image"])
    match = re.search(r'data-s3ff-resize="([^"]*)"', html)
    assert match is not None
    assert json.loads(unescape(match.group(1))) == {
        "maxWidth": 1600,
        "maxHeight": 1600,
        "quality": 0.85,
        "type": "image/jpeg",
    }
    assert "data-s3ff-resize" not in str(LimitedResourceForm()["document"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_width": 0}, "whole numbers of pixels"),
        ({"max_height": 1.5}, "whole numbers of pixels"),
        ({"max_width": True}, "whole numbers of pixels"),
        ({"quality": 0}, "quality is a number above 0"),
        ({"type": "text/plain"}, "type is an image type"),
    ],
)
def test_a_resize_rule_that_makes_no_sense_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        ImageResize(**options)


def test_too_many_values_are_refused_before_any_is_read():
    form = attachments_form(["forged"] * 900)
    assert not form.is_valid()
    # One message: the values were not each checked and reported.
    assert form.errors["attachments"] == ["At most 5 files can be sent here; 900 were."]
