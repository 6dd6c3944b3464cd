"""pytest fixtures for projects that use `S3FileField`, registered through a `pytest11` entry point.

The names and behaviour match django-s3-file-field 1.x, so tests written for it keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from .values import ANY_FIELD, sign_field_value


def _field_id(field: Any) -> str:
    if field is None:
        return ANY_FIELD
    if isinstance(field, str):
        return field
    return str(field.id)


@pytest.fixture
def stored_file_object() -> Generator[File[bytes], None, None]:
    """A file with the content b"test content", saved in the default storage, removed after."""
    key = default_storage.get_alternative_name("test_key", "")
    key = default_storage.save(key, ContentFile(b"test content"))
    with default_storage.open(key) as file_object:
        yield file_object
    default_storage.delete(key)


@pytest.fixture
def s3ff_field_value_factory() -> Callable[..., str]:
    """Make a field value for a stored File: `factory(file, field=None)`.

    With `field` (an S3FileField or its id) the value is bound to that field, as the API's are;
    without it, any S3FileField accepts it (the 1.x behaviour).
    """

    def s3ff_field_value_factory(file_object: File[bytes], field: Any = None) -> str:
        assert file_object.name is not None
        return sign_field_value(_field_id(field), file_object.name, int(file_object.size))

    return s3ff_field_value_factory


@pytest.fixture
def s3ff_field_value(
    s3ff_field_value_factory: Callable[..., str], stored_file_object: File[bytes]
) -> str:
    """A field value for `stored_file_object`, accepted by any S3FileField."""
    return s3ff_field_value_factory(stored_file_object)
