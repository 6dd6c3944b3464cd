"""The two receivers of the README's Signals section, word for word, at work on real uploads.

The README connects them with `@receiver(...)`; here they are connected for each test only, so
that they do not refuse the anonymous uploads of the other tests.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import filesizeformat

from s3_file_field.signals import s3_file_field_upload_finalize, s3_file_field_upload_prepare

from .harness.driver import post

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"

# The audit log, as in the README.

audit_log = logging.getLogger("myproject.uploads")


def audit_prepare(request, field_id, object_key, file_name, file_size, content_type, **kwargs):
    audit_log.info(
        "prepare user=%s ip=%s field=%s key=%s name=%r size=%d type=%s",
        request.user.pk,
        request.META.get("REMOTE_ADDR"),
        field_id,
        object_key,
        file_name,
        file_size,
        content_type,
    )


def audit_finalize(request, field_id, object_key, file_size, status, reason, **kwargs):
    audit_log.log(
        logging.INFO if status == "completed" else logging.WARNING,
        "finalize %s user=%s field=%s key=%s size=%d %s",
        status,
        request.user.pk,
        field_id,
        object_key,
        file_size,
        reason,
    )


# The per-user quota, as in the README.

UPLOAD_QUOTA = 100 * 1024 * 1024  # bytes per user


def enforce_upload_quota(request, file_size, **kwargs):
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("Log in to upload files.")
    used = cache.get(f"upload-quota:{user.pk}", 0)
    if used + file_size > UPLOAD_QUOTA:
        raise ValidationError(
            f"This file ({filesizeformat(file_size)}) would exceed your upload quota: "
            f"{filesizeformat(max(UPLOAD_QUOTA - used, 0))} left."
        )


def count_upload_quota(request, object_key, file_size, status, **kwargs):
    # A retried finalize sends "completed" again: count each object once.
    if status != "completed" or not request.user.is_authenticated:
        return
    if cache.add(f"upload-quota-counted:{object_key}", True, timeout=None):
        key = f"upload-quota:{request.user.pk}"
        cache.add(key, 0, timeout=None)
        cache.incr(key, file_size)


@pytest.fixture
def connected():
    """Connect receivers for one test, as `@receiver` would for good."""
    pairs = []

    def connect(signal, function):
        signal.connect(function)
        pairs.append((signal, function))

    yield connect
    for signal, function in pairs:
        signal.disconnect(function)


@pytest.fixture
def user_client(api_client):
    user = User.objects.create_user("uploader")
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_the_audit_log_records_each_prepare_and_finalize(user_client, upload, connected, caplog):
    connected(s3_file_field_upload_prepare, audit_prepare)
    connected(s3_file_field_upload_finalize, audit_finalize)
    caplog.set_level(logging.INFO, logger="myproject.uploads")

    done = upload(user_client, FIELD, b"audited", file_name="a.txt", content_type="text/plain")
    assert done.finalize.status_code == 200
    failed = post(
        user_client, "upload-prepare", {"field_id": FIELD, "file_name": "b.txt", "file_size": 3}
    ).json()
    post(user_client, "upload-finalize", {"upload_signature": failed["upload_signature"]})

    key, user = done.prepare["object_key"], user_client.user.pk
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "myproject.uploads"]
    assert lines[:2] == [
        (
            "INFO",
            f"prepare user={user} ip=127.0.0.1 field={FIELD} key={key} name='a.txt' size=7 "
            "type=text/plain",
        ),
        ("INFO", f"finalize completed user={user} field={FIELD} key={key} size=7 "),
    ]
    level, message = lines[-1]
    assert level == "WARNING"
    assert message.startswith(f"finalize failed user={user} field={FIELD}")
    assert "has not arrived" in message


@pytest.fixture
def quota(connected, monkeypatch):
    cache.clear()
    connected(s3_file_field_upload_prepare, enforce_upload_quota)
    connected(s3_file_field_upload_finalize, count_upload_quota)
    monkeypatch.setattr(f"{__name__}.UPLOAD_QUOTA", 10)
    yield
    cache.clear()


def prepare(client, size):
    return post(
        client, "upload-prepare", {"field_id": FIELD, "file_name": "q.bin", "file_size": size}
    )


def test_the_quota_counts_finished_uploads_and_vetoes_a_prepare(user_client, upload, quota):
    done = upload(user_client, FIELD, b"sixsix")
    assert done.finalize.status_code == 200
    # A retried finalize is counted once.
    again = post(
        user_client,
        "upload-finalize",
        {"upload_signature": done.prepare["upload_signature"], "parts": []},
    )
    assert again.status_code == 200
    assert cache.get(f"upload-quota:{user_client.user.pk}") == 6

    refused = prepare(user_client, 5)
    assert refused.status_code == 400
    assert "would exceed your upload quota" in str(refused.json())
    assert prepare(user_client, 4).status_code == 200


def test_the_quota_refuses_anonymous_users(api_client, quota):
    response = prepare(api_client, 1)
    assert response.status_code == 403
    assert response.json() == {"detail": "Log in to upload files."}


def test_a_prepared_but_unfinished_upload_is_not_counted(user_client, quota):
    assert prepare(user_client, 8).status_code == 200
    assert prepare(user_client, 8).status_code == 200
    assert cache.get(f"upload-quota:{user_client.user.pk}") is None
