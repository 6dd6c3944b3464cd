"""A field value attaches to one record, once, whoever races; only its uploader may use it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.test import APIClient

from s3_file_field.exceptions import UploadAlreadyAttached
from s3_file_field.models import UploadClaim
from s3_file_field.values import FIELD_VALUE_SALT
from test_app.api import ResourceSerializer
from test_app.forms import ResourceForm
from test_app.models import Resource

from .harness.driver import post

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


def signed_in(name: str) -> APIClient:
    client = APIClient()
    client.force_login(User.objects.create_user(name))
    return client


def value_of(client: APIClient, upload: Any, data: bytes = b"mine") -> str:
    response = upload(client, FIELD, data).finalize
    assert response.status_code == 200, response.json()
    return str(response.json()["field_value"])


def test_two_forms_that_both_passed_validation_do_not_both_attach(api_client, upload):
    value = value_of(api_client, upload)
    first, second = ResourceForm(data={"blob": value}), ResourceForm(data={"blob": value})
    # Both validated before either saved: the window a check-then-insert leaves open.
    assert first.is_valid()
    assert second.is_valid()
    kept = first.save()
    with pytest.raises(UploadAlreadyAttached), transaction.atomic():
        second.save()
    assert list(Resource.objects.values_list("pk", "blob")) == [(kept.pk, kept.blob.name)]


def test_two_serializers_that_both_passed_validation_do_not_both_attach(api_client, upload):
    value = value_of(api_client, upload)
    first, second = (
        ResourceSerializer(data={"blob": value}),
        ResourceSerializer(data={"blob": value}),
    )
    assert first.is_valid()
    assert second.is_valid()
    first.save()
    with pytest.raises(UploadAlreadyAttached), transaction.atomic():
        second.save()
    assert Resource.objects.count() == 1


# Each request commits on its own, as in production without ATOMIC_REQUESTS.
@pytest.mark.django_db(transaction=True)
def test_the_request_that_loses_the_race_gets_400_and_saves_nothing(
    api_client, upload, monkeypatch
):
    value = value_of(api_client, upload)
    assert api_client.post("/api/resources/", {"blob": value}, format="json").status_code == 201
    # The second request is validated as if the first had not committed yet.
    monkeypatch.setattr("s3_file_field.rest_framework.held_elsewhere", lambda *args: False)
    monkeypatch.setattr("s3_file_field.fields.held_elsewhere", lambda *args: False)
    raced = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert raced.status_code == 400
    page = Client().post("/resources/new/", {"blob": value})
    assert page.status_code == 400
    assert Resource.objects.count() == 1


def test_a_value_does_not_come_back_when_its_record_lets_go(api_client, upload):
    value = value_of(api_client, upload)
    created = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert created.status_code == 201
    Resource.objects.all().delete()
    replay = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert replay.status_code == 400
    assert "already attached" in replay.json()["blob"][0]
    form = ResourceForm(data={"blob": value})
    assert not form.is_valid()
    assert "already attached" in form.errors["blob"][0]
    assert UploadClaim.objects.count() == 1


def test_the_form_of_the_record_holding_the_value_can_be_sent_again(api_client, upload):
    value = value_of(api_client, upload)
    record = ResourceForm(data={"blob": value})
    assert record.is_valid()
    saved = record.save()
    # A double submit of the edit page, or a resubmitted form after a lost response.
    again = ResourceForm(data={"blob": value}, instance=Resource.objects.get(pk=saved.pk))
    assert again.is_valid(), again.errors
    again.save()
    assert list(Resource.objects.values_list("blob", flat=True)) == [saved.blob.name]
    page = Client().post(f"/resources/{saved.pk}/edit/", {"blob": value})
    assert page.status_code == 302
    assert Resource.objects.count() == 1


def test_a_value_made_by_a_user_is_refused_from_another_user(upload):
    alice, bob = signed_in("alice"), signed_in("bob")
    value = value_of(alice, upload)
    taken = bob.post("/api/resources/", {"blob": value}, format="json")
    assert taken.status_code == 400
    assert "another user" in taken.json()["blob"][0]
    bob_page = Client()
    bob_page.force_login(User.objects.get(username="bob"))
    form_page = bob_page.post("/resources/new/", {"blob": value})
    assert form_page.status_code == 200
    assert "another user" in form_page.content.decode()
    assert Resource.objects.count() == 0
    assert alice.post("/api/resources/", {"blob": value}, format="json").status_code == 201


def test_a_users_value_sent_by_an_anonymous_client_is_refused(upload):
    value = value_of(signed_in("alice"), upload)
    response = APIClient().post("/api/resources/", {"blob": value}, format="json")
    assert response.status_code == 400
    assert "another user" in response.json()["blob"][0]


def test_a_form_that_cannot_tell_who_submits_refuses_a_users_value(upload):
    value = value_of(signed_in("alice"), upload)
    # No request (a form built outside a view, or a site without the middleware).
    form = ResourceForm(data={"blob": value})
    assert not form.is_valid()
    assert "cannot tell who" in form.errors["blob"][0]


@override_settings(S3FF_VALUES_BOUND_TO_UPLOADER=False)
def test_binding_to_the_uploader_can_be_turned_off(upload):
    value = value_of(signed_in("alice"), upload)
    assert ResourceForm(data={"blob": value}).is_valid()
    taken = signed_in("bob").post("/api/resources/", {"blob": value}, format="json")
    assert taken.status_code == 201


def test_an_anonymous_upload_is_anyones(api_client, upload):
    value = value_of(api_client, upload)
    assert (
        signed_in("bob").post("/api/resources/", {"blob": value}, format="json").status_code == 201
    )


@pytest.mark.parametrize(
    "endpoint", ["upload-parts", "upload-status", "upload-finalize", "upload-abort"]
)
def test_another_user_cannot_continue_someones_upload(endpoint, upload):
    alice = signed_in("alice")
    prepared = upload(alice, FIELD, b"0123", finalize=False).prepare
    body: dict[str, Any] = {"upload_signature": prepared["upload_signature"]}
    if endpoint == "upload-parts":
        body["part_numbers"] = [1]
    refused = post(signed_in("bob"), endpoint, body)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This upload was prepared by another user."
    assert post(alice, "upload-status", body | {"part_numbers": None}).status_code in (200, 400)
    done = post(alice, "upload-finalize", {"upload_signature": prepared["upload_signature"]})
    assert done.status_code == 200


def test_the_uploader_is_in_the_signed_value(upload):
    alice = signed_in("alice")
    value = value_of(alice, upload)
    payload = signing.loads(value, salt=FIELD_VALUE_SALT)
    assert payload["o"] == str(User.objects.get(username="alice").pk)


def test_a_site_without_the_middleware_is_told_what_forms_will_refuse(settings):
    from s3_file_field import checks

    assert checks.check_middleware() == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != checks.UPLOADER_MIDDLEWARE]
    [warning] = checks.check_middleware()
    assert warning.id == "s3_file_field.W019"
    assert checks.UPLOADER_MIDDLEWARE in str(warning.hint)
    settings.S3FF_VALUES_BOUND_TO_UPLOADER = False
    assert checks.check_middleware() == []


def test_cleanup_forgets_only_the_claims_whose_values_have_expired(api_client, upload, monkeypatch):
    import io
    from datetime import timedelta

    from django.core.management import call_command

    from s3_file_field.management import cleanup

    old, young = value_of(api_client, upload, b"old"), value_of(api_client, upload, b"young")
    for value in (old, young):
        assert api_client.post("/api/resources/", {"blob": value}, format="json").status_code == 201
    Resource.objects.all().delete()
    clock = cleanup.now()
    UploadClaim.objects.update(claimed_at=clock - timedelta(days=1, seconds=1))
    UploadClaim.objects.filter(pk=UploadClaim.objects.order_by("pk")[0].pk).update(
        claimed_at=clock - timedelta(hours=23)
    )
    monkeypatch.setattr(cleanup, "now", lambda: clock)
    out = io.StringIO()
    call_command("s3ff_cleanup", stdout=out)
    assert "Records of attached uploads whose values have expired: 1" in out.getvalue()
    assert UploadClaim.objects.count() == 2
    call_command("s3ff_cleanup", "--delete", stdout=io.StringIO())
    assert UploadClaim.objects.filter(claimed_at__gt=clock - timedelta(days=1)).count() == 1
    assert UploadClaim.objects.count() == 1
