"""What an attacker might try with the signed values and the presigned URLs."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.test import override_settings

from test_app.forms import ResourceForm
from test_app.models import Resource

from .harness.driver import MiB, post, put_part

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


def test_field_value_replayed_into_another_instance_is_refused(api_client, upload):
    value = upload(api_client, FIELD, b"mine").finalize.json()["field_value"]
    first = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert first.status_code == 201
    replay = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert replay.status_code == 400
    assert "already attached" in replay.json()["blob"][0]
    other = Resource.objects.create(blob="someone/else.txt")
    patch = api_client.patch(f"/api/resources/{other.pk}/", {"blob": value}, format="json")
    assert patch.status_code == 400
    form = ResourceForm(data={"blob": value}, instance=other)
    assert not form.is_valid()
    assert "already attached" in form.errors["blob"][0]
    assert Resource.objects.count() == 2
    other.refresh_from_db()
    assert other.blob.name == "someone/else.txt"


def test_field_value_replayed_into_another_field_is_refused(api_client, upload):
    value = upload(api_client, FIELD, b"mine").finalize.json()["field_value"]
    response = api_client.post("/api/multi-resources/", {"blob": value}, format="json")
    assert response.status_code == 400
    assert "another field" in response.json()["blob"][0]


def test_single_put_url_is_bound_to_its_key_and_size(api_client, s3_client):
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": FIELD, "file_name": "a.txt", "file_size": 4, "content_type": "text/plain"},
    ).json()
    url = prepared["parts"][0]["upload_url"]
    headers = prepared["part_headers"]
    other_key = f"/s3ff-test/{uuid.uuid4()}/evil.txt"
    assert put_part(with_path(url, other_key), b"evil", headers).status_code == 403
    assert put_part(url, b"toolong", headers).status_code == 403
    assert put_part(url, b"sho", headers).status_code == 403
    assert (
        put_part(with_query(url, **{"X-Amz-Expires": "604800"}), b"good", headers).status_code
        == 403
    )
    listed = s3_client.list_objects_v2(Bucket="s3ff-test", Prefix=other_key.split("/")[2])
    assert "Contents" not in listed
    assert put_part(url, b"good", headers).status_code == 200


@override_settings(S3FF_PART_SIZE=5 * MiB)
def test_part_url_is_bound_to_its_key_part_upload_and_size(api_client, s3_client):
    prepared = post(
        api_client,
        "upload-prepare",
        {"field_id": FIELD, "file_name": "m.bin", "file_size": 6 * MiB},
    ).json()
    first, last = prepared["parts"]
    other = post(
        api_client,
        "upload-prepare",
        {"field_id": FIELD, "file_name": "n.bin", "file_size": 6 * MiB},
    ).json()
    tail = b"x" * MiB
    # Part 2's URL, pointed at part 1, at another upload, at another key, or with other bytes.
    assert put_part(with_query(last["upload_url"], partNumber="1"), tail).status_code == 403
    assert (
        put_part(with_query(last["upload_url"], uploadId=other["upload_id"]), tail).status_code
        == 403
    )
    other_path = urlsplit(other["parts"][1]["upload_url"]).path
    assert put_part(with_path(last["upload_url"], other_path), tail).status_code == 403
    assert put_part(last["upload_url"], tail + b"x").status_code == 403
    assert put_part(last["upload_url"], tail[:-1]).status_code == 403
    assert put_part(first["upload_url"], b"x" * (5 * MiB + 1)).status_code == 403
    parts = s3_client.list_parts(
        Bucket="s3ff-test", Key=prepared["object_key"], UploadId=prepared["upload_id"]
    )
    assert parts.get("Parts", []) == []
    for upload in (prepared, other):
        post(api_client, "upload-abort", {"upload_signature": upload["upload_signature"]})


def test_object_keys_are_not_guessable(api_client):
    keys = [
        post(
            api_client,
            "upload-prepare",
            {"field_id": FIELD, "file_name": "same.txt", "file_size": 1},
        ).json()["object_key"]
        for _ in range(200)
    ]
    assert len(set(keys)) == 200
    prefixes = [uuid.UUID(key.split("/")[0]) for key in keys]
    # Version-4 UUIDs: 122 random bits from the OS's generator, no clock, no counter.
    assert {prefix.version for prefix in prefixes} == {4}
    assert all(re.fullmatch(r"[0-9a-f-]{36}/same\.txt", key) for key in keys)


def test_a_retried_put_of_the_record_holding_the_value_is_accepted(api_client, upload):
    value = upload(api_client, FIELD, b"mine").finalize.json()["field_value"]
    created = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert created.status_code == 201
    # The client's answer was lost; it sends the same record again.
    url = f"/api/resources/{created.json()['id']}/"
    again = api_client.put(url, {"blob": value}, format="json")
    assert again.status_code == 200, again.json()
    assert Resource.objects.count() == 1


def test_a_row_the_default_manager_hides_still_holds_its_value(api_client, upload, monkeypatch):
    """A soft-deleted row (hidden by the default manager) keeps its object: no replay."""
    from django.db import models

    value = upload(api_client, FIELD, b"mine").finalize.json()["field_value"]
    assert api_client.post("/api/resources/", {"blob": value}, format="json").status_code == 201

    class HidingEverything(models.Manager):
        def get_queryset(self):
            return super().get_queryset().none()

    hiding: models.Manager = HidingEverything()
    hiding.model = Resource
    monkeypatch.setattr(Resource._meta, "default_manager", hiding)
    replay = api_client.post("/api/resources/", {"blob": value}, format="json")
    assert replay.status_code == 400
    assert "already attached" in replay.json()["blob"][0]
