"""The pytest fixtures that tests written for django-s3-file-field 1.x rely on."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
from django.core.files.storage import default_storage

from test_app.api import MultiResourceSerializer, ResourceSerializer
from test_app.forms import ResourceForm
from test_app.models import MultiResource, Resource

pytestmark = pytest.mark.django_db


def test_fixtures_are_registered_by_entry_point():
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("s3_file_field") == "s3_file_field.fixtures"


def test_stored_file_object(stored_file_object):
    assert default_storage.exists(stored_file_object.name)
    assert stored_file_object.size == len(b"test content")
    assert stored_file_object.read() == b"test content"


def test_s3ff_field_value_in_a_form(s3ff_field_value, stored_file_object):
    form = ResourceForm(data={"blob": s3ff_field_value})
    assert form.is_valid(), form.errors
    assert form.save().blob.name == stored_file_object.name


def test_s3ff_field_value_in_a_serializer(s3ff_field_value):
    serializer = ResourceSerializer(data={"blob": s3ff_field_value})
    assert serializer.is_valid(), serializer.errors
    assert serializer.save().blob.read() == b"test content"


def test_factory_binds_to_a_field_when_given_one(s3ff_field_value_factory, stored_file_object):
    field = Resource._meta.get_field("blob")
    bound = s3ff_field_value_factory(stored_file_object, field)
    assert ResourceSerializer(data={"blob": bound}).is_valid()
    other = MultiResourceSerializer(data={"blob": bound})
    assert not other.is_valid()
    assert "another field" in other.errors["blob"][0]
    by_id = s3ff_field_value_factory(stored_file_object, "test_app.MultiResource.blob")
    assert MultiResourceSerializer(data={"blob": by_id}).is_valid()
    assert MultiResource.objects.count() == 0
