"""The model field: ids, migrations, defaults, checks, and storages it does not support."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps

from s3_file_field import S3FileField
from s3_file_field.backends.minio import MinioBackend
from s3_file_field.backends.s3 import S3Backend
from s3_file_field.registry import get_field, iter_fields
from test_app.models import LimitedResource, MinioResource, MultiResource, Resource


def test_field_id_and_registry():
    field = Resource._meta.get_field("blob")
    assert field.id == field.field_id == "test_app.Resource.blob"
    assert get_field("test_app.Resource.blob") is field
    assert get_field("test_app.MultiResource.optional_blob") is MultiResource._meta.get_field(
        "optional_blob"
    )
    assert {f.id for f in iter_fields()} >= {
        "test_app.Resource.blob",
        "test_app.MultiResource.blob",
        "test_app.MultiResource.optional_blob",
        "test_app.LimitedResource.image",
        "test_app.MinioResource.blob",
    }


def test_backends_by_storage_family():
    assert isinstance(Resource._meta.get_field("blob").upload_backend, S3Backend)
    assert isinstance(MinioResource._meta.get_field("blob").upload_backend, MinioBackend)
    # One backend per storage, reused.
    assert (
        Resource._meta.get_field("blob").upload_backend
        is MultiResource._meta.get_field("blob").upload_backend
    )


def test_default_upload_to_is_uuid_slash_name():
    name = Resource._meta.get_field("blob").generate_filename(None, "a file.txt")  # type: ignore[arg-type]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}/a_file\.txt", name
    )


def test_deconstruct_keeps_migrations_clean():
    _, path, _, kwargs = S3FileField().deconstruct()
    assert path == "s3_file_field.fields.S3FileField"
    assert kwargs == {}
    field = LimitedResource._meta.get_field("image")
    assert field.deconstruct()[3] == {"max_size": 5 * 1024 * 1024, "accept": "image/*"}
    kwargs = S3FileField(max_length=300, upload_to="files/").deconstruct()[3]
    assert kwargs == {"max_length": 300, "upload_to": "files/"}


@pytest.mark.django_db
def test_no_missing_migrations():
    call_command("makemigrations", "test_app", "--check", "--dry-run", verbosity=0)


@isolate_apps("test_app")
def test_unsupported_storage_is_a_plain_file_field_and_a_warning():
    class LocalModel(models.Model):
        blob = S3FileField(storage=FileSystemStorage())

        class Meta:
            app_label = "test_app"

    field = LocalModel._meta.get_field("blob")
    assert field.upload_backend is None
    formfield = field.formfield()
    assert type(formfield) is forms.FileField
    assert [m.id for m in field.check()] == ["s3_file_field.W001"]


@isolate_apps("test_app")
def test_invalid_options_are_reported():
    class BadModel(models.Model):
        size = S3FileField(max_size=-1)
        kind = S3FileField(accept="images, .pdf")

        class Meta:
            app_label = "test_app"

    assert [m.id for m in BadModel._meta.get_field("size").check()] == ["s3_file_field.E002"]
    messages = BadModel._meta.get_field("kind").check()
    assert [m.id for m in messages] == ["s3_file_field.E003"]
    assert "'images'" in messages[0].msg
