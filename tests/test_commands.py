"""`manage.py s3ff_cors` and `manage.py s3ff_cleanup`, against a SeaweedFS of their own."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
import requests
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.test import override_settings

from s3_file_field.backends import get_backend
from s3_file_field.backends.s3 import S3Backend
from s3_file_field.checks import check_store
from s3_file_field.cors import CORS_RULE_ID, CorsRule
from s3_file_field.headers import object_headers, single_put_headers
from s3_file_field.management import cleanup
from s3_file_field.registry import iter_fields
from test_app.models import Attachment, MultiResource, Resource
from tests.harness.seaweedfs import SeaweedFS

from .test_checks import minio_storage, s3_storage

pytestmark = pytest.mark.django_db
BUCKET = "s3ff-commands"
ORIGIN = "https://app.example"
FAMILIES = {
    "s3storage": lambda endpoint: s3_storage(endpoint, bucket=BUCKET),
    "miniostorage": lambda endpoint: minio_storage(endpoint, bucket=BUCKET),
}


@pytest.fixture(scope="module")
def store():
    """Its own store, which refuses CORS to any origin unless the bucket's rules allow it."""
    with SeaweedFS(buckets=[BUCKET], cors_allowed_origins="http://nowhere.invalid") as server:
        yield server


@pytest.fixture
def admin(store):
    """A backend on the bucket, independent of the fields, that empties it after the test."""
    backend = S3Backend(s3_storage(store.endpoint_url, bucket=BUCKET))
    yield backend
    for upload in backend.list_pending_uploads(""):
        backend.abort_multipart_upload(upload.name, upload.upload_id)
    backend.delete_objects([stored.name for stored in backend.list_objects("")])
    backend.client.delete_bucket_cors(Bucket=BUCKET)


@pytest.fixture(params=sorted(FAMILIES))
def storage(request, store, admin, monkeypatch):
    """Every S3FileField on one storage of the family, on the bucket of this module."""
    storage = FAMILIES[request.param](store.endpoint_url)
    for field in iter_fields():
        monkeypatch.setattr(field, "storage", storage)
    return storage


def backend_of(storage):
    backend = get_backend(storage)
    assert backend is not None
    return backend


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def preflight(store, origin):
    return requests.options(
        f"{store.endpoint_url}/{BUCKET}/some/key",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,content-md5,if-none-match",
        },
        timeout=10,
    )


# s3ff_cors


def test_cors_shows_the_rules_and_the_verdict(storage):
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        out, _ = run("s3ff_cors")
    assert f"bucket '{BUCKET}'" in out
    assert "CORS rules: none (no CORS configuration)" in out
    assert f"{ORIGIN}: cannot upload: no rule lets it PUT" in out
    assert "--apply would write this rule first" in out
    assert '"ExposeHeaders": [\n          "ETag"\n        ]' in out


def test_cors_apply_lets_a_browser_upload_and_keeps_other_rules(store, storage, admin):
    unrelated = CorsRule(("https://static.example",), ("GET",), id="static-files")
    admin.put_cors_rules([unrelated])
    assert preflight(store, ORIGIN).status_code == 403

    out, _ = run("s3ff_cors", "--apply", "--origin", ORIGIN)

    assert f"Wrote rule '{CORS_RULE_ID}' for {ORIGIN}; kept 1 other rule." in out
    assert f"{ORIGIN}: can upload" in out
    rules = admin.get_cors_rules()
    assert [rule.id for rule in rules] == [CORS_RULE_ID, "static-files"]
    assert (rules[1].allowed_origins, rules[1].allowed_methods) == (
        ("https://static.example",),
        ("GET",),
    )
    # What a browser does: the preflight, then the PUT whose ETag it must read.
    allowed = preflight(store, ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
    url = backend_of(storage).presign_put("cors/probe.txt", 2, "text/plain", 60)
    headers = {"Origin": ORIGIN, **single_put_headers(object_headers("text/plain"))}
    put = requests.put(url, data=b"hi", headers=headers, timeout=10)
    assert put.status_code == 200
    assert "ETag" in put.headers["Access-Control-Expose-Headers"]
    # And the system check agrees.
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        assert check_store() == []


def test_cors_apply_replaces_its_own_rule(storage, admin):
    run("s3ff_cors", "--apply", "--origin", "https://old.example")
    run("s3ff_cors", "--apply", "--origin", ORIGIN, "--origin", "http://localhost:8000")
    rules = admin.get_cors_rules()
    assert [rule.id for rule in rules] == [CORS_RULE_ID]
    assert rules[0].allowed_origins == (ORIGIN, "http://localhost:8000")


def test_cors_apply_fixes_a_rule_that_hides_etag(storage, admin):
    admin.put_cors_rules([CorsRule((ORIGIN,), ("PUT",), ("*",))])
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        before, _ = run("s3ff_cors")
        run("s3ff_cors", "--apply")
        after, _ = run("s3ff_cors")
    assert "does not expose ETag" in before
    assert "--apply would write this rule first" in before
    assert f"{ORIGIN}: can upload" in after
    assert "Every origin can upload: nothing to apply." in after
    assert len(admin.get_cors_rules()) == 2


def test_cors_apply_needs_origins(storage):
    with override_settings(S3FF_CORS_ORIGINS=[]), pytest.raises(CommandError, match="--origin"):
        run("s3ff_cors", "--apply")


def test_cors_refuses_a_malformed_origin(storage):
    with pytest.raises(CommandError, match="not an origin"):
        run("s3ff_cors", "--apply", "--origin", "https://app.example/")


# s3ff_cleanup


def uuid_name(file_name):
    return f"{uuid.uuid4()}/{file_name}"


def put(storage, name, data=b"data"):
    return storage.save(name, ContentFile(data))


def pending_upload(storage, name, data=b"0123456789"):
    """Start a multipart upload and send one part of `data`, as a client would."""
    backend = backend_of(storage)
    upload_id = backend.create_multipart_upload(name, "application/octet-stream")
    url = backend.presign_upload_part(name, upload_id, 1, len(data), 60)
    assert requests.put(url, data=data, timeout=10).status_code == 200
    return upload_id


def names_in(storage):
    return {stored.name for stored in backend_of(storage).list_objects("")}


def uploads_in(storage):
    return {upload.name for upload in backend_of(storage).list_pending_uploads("")}


@pytest.fixture
def bucket_content(storage):
    """Old-enough objects (any age passes `--older-than 0s`) of every kind."""
    referenced = put(storage, uuid_name("kept.txt"))
    Resource.objects.create(blob=referenced)
    in_blob, in_optional = put(storage, uuid_name("multi.txt")), put(storage, uuid_name("opt.txt"))
    MultiResource.objects.create(blob=in_blob, optional_blob=in_optional)
    content = {
        "referenced": {referenced, in_blob, in_optional},
        "abandoned": put(storage, uuid_name("abandoned.bin"), b"x" * 2048),
        # Objects the fields could not have written: never touched.
        "foreign": {
            put(storage, "static/app.css"),
            put(storage, "media/x.txt"),
            put(storage, f"{uuid.uuid4()}/nested/deeper.txt"),
            put(storage, "not-a-uuid/file.txt"),
            put(storage, f"{str(uuid.uuid4()).upper()}/shouting.txt"),
        },
        "abandoned_upload": uuid_name("big.bin"),
        "foreign_upload": "backups/dump.sql",
    }
    pending_upload(storage, content["abandoned_upload"])
    pending_upload(storage, content["foreign_upload"])
    return content


def test_cleanup_dry_run_lists_with_sizes_and_removes_nothing(storage, bucket_content):
    before = names_in(storage)
    out, err = run("s3ff_cleanup", "--older-than", "0s")
    assert "younger than signed values live" in err
    assert f"would delete  {bucket_content['abandoned']}" in out
    assert "2.0 KiB" in out
    assert f"would abort  {bucket_content['abandoned_upload']}" in out
    assert "10 bytes" in out
    assert (
        "Dry run: would abort and remove 1 unfinished upload (10 bytes) and 1 unreferenced object (2.0 KiB)"
        in out
    )
    for name in bucket_content["referenced"] | bucket_content["foreign"]:
        assert name not in out
    assert bucket_content["foreign_upload"] not in out
    assert names_in(storage) == before
    assert uploads_in(storage) == {
        bucket_content["abandoned_upload"],
        bucket_content["foreign_upload"],
    }


def test_cleanup_delete_removes_only_the_abandoned(storage, bucket_content):
    before = names_in(storage)
    out, _ = run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    assert "Aborted and removed 1 unfinished upload (10 bytes) and 1 unreferenced object" in out
    assert names_in(storage) == before - {bucket_content["abandoned"]}
    assert bucket_content["referenced"] <= names_in(storage)
    assert bucket_content["foreign"] <= names_in(storage)
    assert uploads_in(storage) == {bucket_content["foreign_upload"]}


def test_cleanup_keeps_what_is_younger_than_the_age(storage, bucket_content):
    before = names_in(storage)
    out, _ = run("s3ff_cleanup", "--older-than", "1h", "--delete", "--force")
    assert "Aborted and removed 0 unfinished uploads (0 bytes) and 0 unreferenced objects" in out
    assert names_in(storage) == before
    assert bucket_content["abandoned_upload"] in uploads_in(storage)


def test_cleanup_refuses_a_young_age_without_force(storage, bucket_content):
    with pytest.raises(CommandError, match="--force"):
        run("s3ff_cleanup", "--older-than", "10m", "--delete")
    assert bucket_content["abandoned"] in names_in(storage)


def test_cleanup_default_age_follows_the_signed_values(storage, bucket_content, monkeypatch):
    # With the default age, nothing a valid signature could still finish or attach is removed...
    out, _ = run("s3ff_cleanup", "--delete")
    assert "more than 1d ago: 0" in out
    assert "older than 2d that no row references: 0" in out
    assert bucket_content["abandoned"] in names_in(storage)
    # ...and once those signatures have expired, no --force is needed: upload signatures live
    # an hour here, and a field value an hour after its upload signature.
    started = cleanup.now()
    with override_settings(S3FF_UPLOAD_SIGNATURE_MAX_AGE=3600, S3FF_FIELD_VALUE_MAX_AGE=3600):
        monkeypatch.setattr(cleanup, "now", lambda: started + timedelta(hours=1, minutes=1))
        out, _ = run("s3ff_cleanup", "--delete")
        assert "more than 1h ago: 1" in out
        assert bucket_content["abandoned_upload"] not in uploads_in(storage)
        # An object is kept while a field value signed in the last hour could still attach it.
        assert bucket_content["abandoned"] in names_in(storage)
        monkeypatch.setattr(cleanup, "now", lambda: started + timedelta(hours=2, minutes=1))
        out, _ = run("s3ff_cleanup", "--delete")
        assert "older than 2h that no row references: 1" in out
    assert bucket_content["abandoned"] not in names_in(storage)
    assert bucket_content["referenced"] <= names_in(storage)
    assert bucket_content["foreign"] <= names_in(storage)


def test_cleanup_leaves_alone_the_fields_without_the_default_upload_to(storage, monkeypatch):
    monkeypatch.setattr(MultiResource._meta.get_field("optional_blob"), "upload_to", "docs/%Y/%m/")
    monkeypatch.setattr(Attachment._meta.get_field("file"), "upload_to", lambda i, n: n)
    # Saved by other code where the dated field writes, in the very shape of its keys.
    other_writers = put(storage, "docs/2024/05/report.pdf")
    abandoned = put(storage, uuid_name("gone.bin"))
    out, _ = run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    assert other_writers in names_in(storage)
    assert abandoned not in names_in(storage)
    assert (
        "test_app.MultiResource.optional_blob not cleaned: its keys cannot be told apart from "
        "other writers' (its upload_to 'docs/%Y/%m/' gives its keys no random segment)." in out
    )
    assert (
        "test_app.Attachment.file not cleaned: its keys cannot be told apart from other "
        "writers' (its upload_to is a function other than the default)." in out
    )


def test_cleanup_compares_names_as_the_keys_the_storage_uses(storage):
    names = [uuid_name(f"{number}.bin") for number in range(3)]
    # Spellings the storage (and the store) serve from the same key as the name itself.
    spelled = [f"/{names[0]}", names[1].replace("/", "\\"), names[2].replace("/", "//")]
    for name, spelling in zip(names, spelled, strict=True):
        put(storage, name)
        Resource.objects.create(blob=spelling)
        with storage.open(spelling) as served:
            assert served.read() == b"data"
    abandoned = put(storage, uuid_name("gone.bin"))
    out, _ = run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    assert set(names) <= names_in(storage)
    assert abandoned not in names_in(storage)
    assert "Aborted and removed 0 unfinished uploads (0 bytes) and 1 unreferenced object" in out


# Storages that refuse some name: S3Storage one that climbs out of its location, MinioStorage
# (through the minio client) one that keeps a ".." segment.
REFUSING = {
    "s3storage": lambda endpoint: s3_storage(endpoint, bucket=BUCKET, location="media"),
    "miniostorage": lambda endpoint: minio_storage(endpoint, bucket=BUCKET),
}


@pytest.mark.parametrize("family", sorted(REFUSING))
def test_cleanup_keeps_a_bucket_where_a_row_name_cannot_be_mapped(
    family, store, admin, monkeypatch
):
    storage = REFUSING[family](store.endpoint_url)
    for field in iter_fields():
        monkeypatch.setattr(field, "storage", storage)
    abandoned = put(storage, uuid_name("gone.bin"))
    unmappable = f"../{uuid_name('elsewhere.bin')}"
    Resource.objects.create(blob=unmappable)
    with pytest.raises((SuspiciousOperation, ValueError)):
        storage.open(unmappable).read()
    out, _ = run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    assert abandoned in names_in(storage)
    assert (
        f"none is removed, because test_app.Resource.blob holds {unmappable!r}, which its "
        "storage cannot map to a key: what it refers to cannot be told." in out
    )
    assert "and 0 unreferenced objects" in out


def test_cleanup_fails_closed_when_the_rows_cannot_be_read(storage, bucket_content, monkeypatch):
    def broken(plans):
        raise DatabaseError("no such table: app_thing")

    monkeypatch.setattr(cleanup, "referenced", broken)
    with pytest.raises(CommandError, match="Nothing was removed"):
        run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    assert bucket_content["abandoned"] in names_in(storage)
    assert bucket_content["abandoned_upload"] in uploads_in(storage)


def test_cleanup_respects_the_storage_location(store, admin, monkeypatch):
    located = s3_storage(store.endpoint_url, bucket=BUCKET, location="media")
    for field in iter_fields():
        monkeypatch.setattr(field, "storage", located)
    referenced = put(located, uuid_name("kept.txt"))
    Resource.objects.create(blob=referenced)
    abandoned = put(located, uuid_name("gone.txt"))
    outside = uuid_name("outside-the-location.txt")
    admin.client.put_object(Bucket=BUCKET, Key=outside, Body=b"x")
    run("s3ff_cleanup", "--older-than", "0s", "--delete", "--force")
    keys = {stored.name for stored in admin.list_objects("")}
    assert keys == {f"media/{referenced}", outside}
    assert abandoned not in keys


def test_cleanup_keeps_two_locations_of_one_bucket_apart(store, admin, monkeypatch):
    root = s3_storage(store.endpoint_url, bucket=BUCKET)
    media = s3_storage(store.endpoint_url, bucket=BUCKET, location="media")
    for field in iter_fields():
        monkeypatch.setattr(field, "storage", media if field.model is Resource else root)
    kept_in_media = put(media, uuid_name("kept.txt"))
    Resource.objects.create(blob=kept_in_media)
    # The same name under the other location is another object, and no row holds it there...
    admin.client.put_object(Bucket=BUCKET, Key=kept_in_media, Body=b"x")
    gone_in_media = put(media, uuid_name("gone.txt"))
    out, _ = run("s3ff_cleanup", "--older-than", "0s")
    assert out.count(f"bucket '{BUCKET}'") == 2
    assert f"would delete  {gone_in_media}" in out
    # ...but a name any row holds is kept wherever it lies: names carry no location.
    assert f"would delete  {kept_in_media}" not in out


# The cleanup's parts.


@pytest.mark.parametrize(
    "upload_to",
    [
        "files/",
        "docs/%Y/%m/",
        "%Y/%m/%d/",
        "",
        "0b28db65-365f-414e-93fb-4b9dcb04280b/",
        lambda i, n: n,
    ],
)
def test_only_the_default_upload_to_is_cleaned(upload_to):
    field = Resource._meta.get_field("blob").clone()
    assert cleanup.not_cleaned(field) is None
    field.upload_to = upload_to
    reason = cleanup.not_cleaned(field)
    assert reason is not None
    assert reason.startswith("its keys cannot be told apart from other writers'")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("90", 90), ("15m", 900), ("48h", 172800), ("7d", 604800), ("2w", 1209600)],
)
def test_parse_age(text, seconds):
    assert cleanup.parse_age(text) == timedelta(seconds=seconds)


def test_a_bad_age_is_a_usage_error():
    with pytest.raises(CommandError, match="not an age"):
        run("s3ff_cleanup", "--older-than", "soon")
