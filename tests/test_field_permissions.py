"""A field's own `upload_permission_classes`: the loosest field no longer opens the others."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db.migrations.writer import MigrationWriter
from rest_framework.permissions import IsAdminUser
from rest_framework.test import APIClient

from s3_file_field import S3FileField
from s3_file_field.registry import get_field

from .harness.driver import Uploaded, post

pytestmark = pytest.mark.django_db
ADMIN_ONLY = "test_app.Resource.blob"
OPEN = "test_app.MultiResource.blob"


def body(field_id: str) -> dict[str, object]:
    return {"field_id": field_id, "file_name": "a.txt", "file_size": 1}


@pytest.fixture(autouse=True)
def admin_only(monkeypatch: pytest.MonkeyPatch) -> None:
    field = get_field(ADMIN_ONLY)
    assert field is not None
    monkeypatch.setattr(
        field, "upload_permission_classes", ["rest_framework.permissions.IsAdminUser"]
    )


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_anonymous_is_refused() -> None:
    response = post(client_for(None), "upload-prepare", body(ADMIN_ONLY))
    # 401 here: the test project's BasicAuthentication gives a WWW-Authenticate header.
    assert response.status_code in (401, 403)
    assert "credentials were not provided" in response.json()["detail"]


def test_plain_user_is_refused() -> None:
    user = User.objects.create_user("plain")
    response = post(client_for(user), "upload-prepare", body(ADMIN_ONLY))
    assert response.status_code == 403
    assert "permission" in response.json()["detail"]


def test_staff_user_is_allowed() -> None:
    staff = User.objects.create_user("staff", is_staff=True)
    response = post(client_for(staff), "upload-prepare", body(ADMIN_ONLY))
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("user", [None, "plain"])
def test_other_fields_stay_open(user: str | None) -> None:
    client = client_for(User.objects.create_user(user) if user else None)
    assert post(client, "upload-prepare", body(OPEN)).status_code == 200


def test_finalize_refuses_a_user_without_the_right(upload: Callable[..., Uploaded]) -> None:
    staff = User.objects.create_user("staff", is_staff=True)
    uploaded = upload(client_for(staff), ADMIN_ONLY, b"x", finalize=False)
    finalize = {"upload_signature": uploaded.prepare["upload_signature"], "parts": []}
    plain = client_for(User.objects.create_user("plain"))
    refused = post(plain, "upload-finalize", finalize)
    assert refused.status_code == 403
    # Nor can it have the part signed again.
    more = {"upload_signature": uploaded.prepare["upload_signature"], "part_numbers": [1]}
    assert post(plain, "upload-parts", more).status_code == 403
    assert post(client_for(staff), "upload-finalize", finalize).status_code == 200


def test_deconstruct_keeps_the_classes_for_migrations() -> None:
    field = S3FileField(upload_permission_classes=[IsAdminUser])
    assert field.deconstruct()[3]["upload_permission_classes"] == [IsAdminUser]
    assert "upload_permission_classes" not in S3FileField().deconstruct()[3]
    source, imports = MigrationWriter.serialize(field)
    assert "rest_framework.permissions.IsAdminUser" in source
    assert "import rest_framework.permissions" in imports
