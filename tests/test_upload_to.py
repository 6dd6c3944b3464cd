"""A callable `upload_to` that reads the model instance: direct uploads have none yet.

Before the fix, Django's own example (`instance.user.id`) made every prepare a 500.
"""

from __future__ import annotations

import re

import pytest

from s3_file_field import checks
from s3_file_field.registry import get_field

from .harness.driver import post

pytestmark = pytest.mark.django_db
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"


def user_directory_path(instance, filename):
    # Django's documentation's example of a callable upload_to.
    return f"user_{instance.user.id}/{filename}"


def dated_or_owned(instance, filename):
    owner = f"user_{instance.user_id}" if instance is not None else "pending"
    return f"{owner}/{filename}"


@pytest.fixture
def upload_to(monkeypatch, store_case):
    field = get_field(store_case.field_id)
    assert field is not None

    def use(function) -> None:
        monkeypatch.setattr(field, "upload_to", function)

    return use


def prepare(api_client, store_case):
    body = {"field_id": store_case.field_id, "file_name": "a.txt", "file_size": 3}
    return post(api_client, "upload-prepare", body)


def test_an_upload_to_that_needs_the_instance_is_a_clear_400(api_client, store_case, upload_to):
    upload_to(user_directory_path)
    response = prepare(api_client, store_case)
    assert response.status_code == 400, response.content
    assert "cannot take direct uploads" in response.json()["field_id"][0]
    warnings = [m for m in checks.check_upload_to() if m.id == "s3_file_field.W018"]
    assert len(warnings) == 1
    assert store_case.field_id in warnings[0].msg
    assert "AttributeError" in warnings[0].msg


def test_an_upload_to_that_does_without_the_instance_works(api_client, store_case, upload_to):
    upload_to(dated_or_owned)
    response = prepare(api_client, store_case)
    assert response.status_code == 200, response.content
    # With a random folder of its own: upload_to names no random part.
    assert re.fullmatch(rf"(.*/)?pending/{UUID}/a\.txt", response.json()["object_key"])
    assert checks.check_upload_to() == []


def test_the_default_upload_to_passes_the_check():
    assert checks.check_upload_to() == []
