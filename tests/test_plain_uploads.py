"""The no-JavaScript path: off by default, and when on, under the upload API's policy
(issue #13, item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client, override_settings

from s3_file_field.registry import get_field
from s3_file_field.signals import s3_file_field_upload_finalize, s3_file_field_upload_prepare
from test_app.models import LimitedResource, Resource

from .harness.driver import MiB

pytestmark = pytest.mark.django_db
PLAIN_UPLOADS = override_settings(S3FF_PLAIN_UPLOADS=True)


def file_of(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def bytes_spooled(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bytes of uploaded files Django's own handlers keep (in memory or on disk)."""
    received: list[int] = []
    for handler in (MemoryFileUploadHandler, TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def spy(self: Any, raw_data: bytes, start: int, original: Any = original) -> Any:
            # The memory handler passes on, unkept, a file too large for it.
            if getattr(self, "activated", True):
                received.append(len(raw_data))
            return original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    return received


@pytest.fixture
def signals() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    sent: list[tuple[str, dict[str, Any]]] = []

    def on_prepare(**kwargs: Any) -> None:
        sent.append(("prepare", kwargs))

    def on_finalize(**kwargs: Any) -> None:
        sent.append(("finalize", kwargs))

    s3_file_field_upload_prepare.connect(on_prepare, dispatch_uid="plain-test")
    s3_file_field_upload_finalize.connect(on_finalize, dispatch_uid="plain-test")
    yield sent
    s3_file_field_upload_prepare.disconnect(dispatch_uid="plain-test")
    s3_file_field_upload_finalize.disconnect(dispatch_uid="plain-test")


def objects_in(s3_client: Any) -> set[str]:
    listed = s3_client.list_objects_v2(Bucket="s3ff-test")
    return {item["Key"] for item in listed.get("Contents", [])}


def test_by_default_a_file_sent_with_the_form_is_refused_unread(s3_client, bytes_spooled):
    before = objects_in(s3_client)
    page = Client().post("/resources/new/", {"blob": file_of("a.bin", b"x" * MiB)})
    assert page.status_code == 200
    assert "turn it on and choose the file again" in page.content.decode()
    assert Resource.objects.count() == 0
    assert sum(bytes_spooled) == 0
    assert objects_in(s3_client) == before


@PLAIN_UPLOADS
def test_a_plain_upload_is_stored_under_a_key_of_its_own(s3_client, signals):
    page = Client().post("/resources/new/", {"blob": file_of("plain.txt", b"no javascript")})
    assert page.status_code == 302
    name = str(Resource.objects.get().blob.name)
    assert name.endswith("/plain.txt")
    assert s3_client.get_object(Bucket="s3ff-test", Key=name)["Body"].read() == b"no javascript"
    assert [kind for kind, _ in signals] == ["prepare", "finalize"]
    finalize = signals[1][1]
    assert (finalize["object_key"], finalize["status"], finalize["file_size"]) == (
        name,
        "completed",
        13,
    )
    assert finalize["field_id"] == "test_app.Resource.blob"


@PLAIN_UPLOADS
def test_a_plain_upload_is_claimed_like_a_field_value(s3_client):
    from s3_file_field.models import UploadClaim

    assert Client().post("/resources/new/", {"blob": file_of("a.txt", b"one")}).status_code == 302
    assert UploadClaim.objects.count() == 1


@PLAIN_UPLOADS
@override_settings(S3FF_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
def test_the_apis_permission_classes_apply(s3_client):
    before = objects_in(s3_client)
    page = Client().post("/resources/new/", {"blob": file_of("a.txt", b"anon")})
    assert page.status_code == 200
    assert "credentials were not provided" in page.content.decode()
    assert objects_in(s3_client) == before
    signed_in = Client()
    signed_in.force_login(User.objects.create_user("u"))
    assert signed_in.post("/resources/new/", {"blob": file_of("a.txt", b"mine")}).status_code == 302


@PLAIN_UPLOADS
def test_the_fields_own_permission_classes_apply(s3_client, monkeypatch):
    field = get_field("test_app.Resource.blob")
    monkeypatch.setattr(
        field, "upload_permission_classes", ["rest_framework.permissions.IsAdminUser"]
    )
    signed_in = Client()
    signed_in.force_login(User.objects.create_user("plain"))
    page = signed_in.post("/resources/new/", {"blob": file_of("a.txt", b"no")})
    assert page.status_code == 200
    assert "permission" in page.content.decode()
    assert Resource.objects.count() == 0


@PLAIN_UPLOADS
@override_settings(S3FF_THROTTLE_CLASSES=["rest_framework.throttling.AnonRateThrottle"])
def test_the_apis_throttles_apply(s3_client, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import AnonRateThrottle

    # DRF reads the rates once, into the class.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "1/hour"})
    cache.clear()
    client = Client()
    assert client.post("/resources/new/", {"blob": file_of("a.txt", b"1")}).status_code == 302
    page = client.post("/resources/new/", {"blob": file_of("b.txt", b"2")})
    assert page.status_code == 200
    assert "throttled" in page.content.decode()
    assert Resource.objects.count() == 1
    cache.clear()


@PLAIN_UPLOADS
@pytest.mark.parametrize("signal", ["prepare", "finalize"])
def test_a_receiver_refuses_and_nothing_is_kept(signal, s3_client):
    def refuse(**kwargs: Any) -> None:
        if signal == "prepare":
            raise PermissionDenied("Quota exceeded.")
        raise ValidationError("Malware found.")

    chosen = s3_file_field_upload_prepare if signal == "prepare" else s3_file_field_upload_finalize
    chosen.connect(refuse, dispatch_uid="refuse")
    before = objects_in(s3_client)
    try:
        page = Client().post("/resources/new/", {"blob": file_of("a.txt", b"bad")})
    finally:
        chosen.disconnect(dispatch_uid="refuse")
    assert page.status_code == 200
    assert ("Quota exceeded." if signal == "prepare" else "Malware found.") in page.content.decode()
    assert objects_in(s3_client) == before
    assert Resource.objects.count() == 0


@PLAIN_UPLOADS
def test_reading_stops_as_soon_as_a_file_passes_max_size(bytes_spooled):
    limit = 5 * MiB  # LimitedResource.image
    page = Client().post("/limited/new/", {"image": file_of("big.png", b"x" * (limit + 3 * MiB))})
    assert page.status_code == 200
    assert "too large" in page.content.decode()
    assert sum(bytes_spooled) <= limit
    assert LimitedResource.objects.count() == 0


@PLAIN_UPLOADS
def test_without_the_middleware_a_plain_upload_is_refused(settings):
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "S3FileFieldMiddleware" not in m]
    page = Client().post("/resources/new/", {"blob": file_of("a.txt", b"x")})
    assert page.status_code == 200
    assert "cannot check who may upload" in page.content.decode()
    assert Resource.objects.count() == 0


@PLAIN_UPLOADS
@pytest.mark.parametrize(
    ("file_name", "message"),
    [
        ("...", "more than dots and spaces"),
        # The storage keeps letters, digits, "-", "_" and "." of a name: nothing of this one.
        ("***", "no character a storage key can keep"),
    ],
)
def test_a_file_name_that_names_nothing_is_refused_and_nothing_stored(
    file_name, message, s3_client
):
    before = objects_in(s3_client)
    page = Client().post("/resources/new/", {"blob": file_of(file_name, b"x")})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert objects_in(s3_client) == before
    assert Resource.objects.count() == 0


@PLAIN_UPLOADS
def test_two_plain_uploads_of_one_name_get_two_keys(s3_client):
    for data in (b"first", b"second"):
        assert (
            Client().post("/resources/new/", {"blob": file_of("same.txt", data)}).status_code == 302
        )
    first, second = (str(r.blob.name) for r in Resource.objects.order_by("pk"))
    assert first != second
    assert s3_client.get_object(Bucket="s3ff-test", Key=first)["Body"].read() == b"first"
