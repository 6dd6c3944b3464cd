"""Anonymous clients start a bounded number of multipart uploads: each one is held (and its
parts billed) by the store until finished or aborted, whether a byte is sent or not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from .harness.driver import MiB, post

pytestmark = pytest.mark.django_db
FIELD = "test_app.Resource.blob"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def prepare(client: APIClient, size: int):
    body = {"field_id": FIELD, "file_name": "a.bin", "file_size": size}
    response = post(client, "upload-prepare", body)
    if response.status_code == 200:
        # Leave nothing pending at the store.
        post(client, "upload-abort", {"upload_signature": response.json()["upload_signature"]})
    return response


@override_settings(S3FF_PART_SIZE=5 * MiB, S3FF_ANONYMOUS_MULTIPART_RATE="2/hour")
def test_an_anonymous_client_starts_a_bounded_number_of_multipart_uploads():
    client = APIClient()
    assert [prepare(client, 6 * MiB).status_code for _ in range(2)] == [200, 200]
    refused = prepare(client, 6 * MiB)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    # A single PUT holds nothing at the store: not counted, not refused.
    assert prepare(client, 1000).status_code == 200
    # Nor are logged-in users, who answer for their own uploads.
    user = APIClient()
    user.force_authenticate(User.objects.create_user("someone"))
    assert prepare(user, 6 * MiB).status_code == 200


@override_settings(S3FF_PART_SIZE=5 * MiB, S3FF_ANONYMOUS_MULTIPART_RATE=None)
def test_none_turns_the_bound_off():
    client = APIClient()
    assert {prepare(client, 6 * MiB).status_code for _ in range(4)} == {200}


@pytest.mark.parametrize("rate", ["sixty", "60", "60/fortnight", 60])
def test_a_bad_rate_is_a_setting_error(rate):
    from s3_file_field.conf import setting_problems

    with override_settings(S3FF_ANONYMOUS_MULTIPART_RATE=rate):
        names = [problem.name for problem in setting_problems()]
    assert names == ["S3FF_ANONYMOUS_MULTIPART_RATE"]
