"""The upload API's own DRF classes: permissions, authentication (with CSRF) and throttles."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from .harness.driver import post

pytestmark = pytest.mark.django_db
BODY = {"field_id": "test_app.Resource.blob", "file_name": "a.txt", "file_size": 1}


@override_settings(S3FF_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
def test_permission_classes_setting(api_client):
    response = post(api_client, "upload-prepare", BODY)
    assert response.status_code == 403
    assert "credentials were not provided" in response.json()["detail"]
    api_client.force_authenticate(User.objects.create_user("u"))
    assert post(api_client, "upload-prepare", BODY).status_code == 200


@override_settings(S3FF_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
def test_session_authentication_enforces_csrf():
    User.objects.create_user("u", password="pw")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="u", password="pw")
    response = post(client, "upload-prepare", BODY)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    client.get("/resources/new/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/s3-upload/upload-prepare/", BODY, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200


@override_settings(S3FF_THROTTLE_CLASSES=["rest_framework.throttling.AnonRateThrottle"])
def test_throttle_classes_setting(api_client, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    # DRF reads the rates into the class when it is imported; give it the overridden ones.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    cache.clear()
    statuses = [post(api_client, "upload-prepare", BODY).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_one_settings_table_names_every_setting_once():
    """`Settings` has an attribute per row of the table, and the README's table a row each."""
    from dataclasses import fields
    from pathlib import Path

    from s3_file_field.conf import TABLE, Settings

    assert [field.name for field in fields(Settings)] == [row.attribute for row in TABLE]
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    documented = [line.split("`")[1] for line in readme.splitlines() if line.startswith("| `S3FF_")]
    assert sorted(documented) == sorted(row.name for row in TABLE)


@override_settings(S3FF_MAX_PART_URLS_PER_REQUEST=7)
def test_prepare_tells_how_many_part_urls_one_call_may_ask_for(api_client):
    response = api_client.post(
        "/api/s3-upload/upload-prepare/",
        {"field_id": "test_app.Resource.blob", "file_name": "a.bin", "file_size": 1},
        format="json",
    )
    assert response.json()["max_part_urls"] == 7
