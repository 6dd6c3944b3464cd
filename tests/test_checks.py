"""The system checks, each against a real misconfiguration of a real SeaweedFS where it needs one."""

from __future__ import annotations

import functools
import sys
import threading
import types
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import checks as django_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django.urls import include, path

from s3_file_field import checks
from s3_file_field import cors as cors_model
from s3_file_field.backends import get_backend
from s3_file_field.backends.s3 import S3Backend
from s3_file_field.cors import CorsRule
from s3_file_field.exceptions import NotSupported
from s3_file_field.registry import iter_fields
from tests.harness.seaweedfs import (
    READER_ACCESS_KEY,
    READER_SECRET_KEY,
    SeaweedFS,
)

from .harness import storages as harness_storages
from .harness.faultproxy import FaultProxy, Mode

BUCKET = "s3ff-checks"
ORIGIN = "https://app.example"
GOOD_RULE = CorsRule((ORIGIN,), ("PUT",), cors_model.CORS_REQUEST_HEADERS, ("ETag",))


def s3_storage(endpoint, bucket=BUCKET, **options):
    return harness_storages.s3_storage(endpoint, bucket, **options)


def minio_storage(endpoint, bucket=BUCKET, **options):
    return harness_storages.minio_storage(endpoint, bucket, **options)


FAMILIES = {"s3storage": s3_storage, "miniostorage": minio_storage}


@pytest.fixture(scope="module")
def store():
    """A store of our own: its CORS is changed here, and it refuses CORS by default."""
    with SeaweedFS(
        buckets=[BUCKET], cors_allowed_origins="http://nowhere.invalid", reader_identity=True
    ) as server:
        yield server


@pytest.fixture(scope="module")
def stopped_endpoint():
    """The address of a store that ran and was stopped."""
    server = SeaweedFS(buckets=["s3ff-stopped"])
    server.start()
    endpoint = server.endpoint_url
    server.stop()
    return endpoint


@pytest.fixture(params=sorted(FAMILIES))
def make_storage(request):
    return FAMILIES[request.param]


@pytest.fixture
def all_fields_on(monkeypatch):
    """Put every S3FileField on one storage, so that the checks see one bucket only."""

    def use(storage):
        for field in iter_fields():
            monkeypatch.setattr(field, "storage", storage)
        return storage

    return use


@pytest.fixture
def cors(store):
    """Set the bucket's CORS rules for a test, and remove them after."""
    backend = S3Backend(s3_storage(store.endpoint_url))

    def put(*rules):
        backend.put_cors_rules(list(rules))

    yield put
    backend.client.delete_bucket_cors(Bucket=BUCKET)


def ids(messages):
    return [message.id for message in messages]


# Settings.


def test_the_test_settings_pass():
    assert checks.check_settings() == []


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("S3FF_PART_SIZE", 1024 * 1024, "between 5,242,880 and 5,368,709,120"),
        ("S3FF_PART_SIZE", 6 * 1024**3, "between 5,242,880"),
        ("S3FF_PART_SIZE", "16777216", "must be an int, not str"),
        ("S3FF_PART_URL_BATCH", 0, "between 1 and 10,000"),
        ("S3FF_MAX_PART_URLS_PER_REQUEST", True, "must be an int, not bool"),
        ("S3FF_PRESIGNED_URL_EXPIRES", 0, "between 1 and 604,800"),
        ("S3FF_PRESIGNED_URL_EXPIRES", 8 * 24 * 3600, "between 1 and 604,800"),
        ("S3FF_UPLOAD_SIGNATURE_MAX_AGE", 0, "at least 1"),
        ("S3FF_FIELD_VALUE_MAX_AGE", -5, "at least 1"),
        ("S3FF_PERMISSION_CLASSES", "rest_framework.permissions.IsAuthenticated", "a list"),
        ("S3FF_THROTTLE_CLASSES", ["rest_framework.throttling.NoSuchThrottle"], "imported"),
        ("S3FF_CORS_ORIGINS", ["https://example.com/"], "not an origin"),
        ("S3FF_CORS_ORIGINS", ["example.com"], "not an origin"),
        ("S3FF_CORS_ORIGINS", "https://example.com", "list of origins"),
        ("S3FF_CHECK_STORAGE", "yes", "True or False"),
    ],
)
def test_invalid_settings(name, value, words):
    with override_settings(**{name: value}):
        messages = checks.check_settings()
    assert ids(messages) == ["s3_file_field.E004"]
    assert messages[0].msg.startswith(name)
    assert words in messages[0].msg
    assert messages[0].hint


@override_settings(
    S3FF_CORS_ORIGINS=["https://example.com", "https://*.example.com", "http://localhost:8000"],
    S3FF_PERMISSION_CLASSES=("rest_framework.permissions.IsAuthenticated",),
    S3FF_PART_SIZE=5 * 1024 * 1024,
)
def test_valid_non_default_settings_pass():
    assert checks.check_settings() == []


def test_a_misspelt_setting_is_reported_with_the_likely_name():
    with override_settings(S3FF_PERMISION_CLASSES=[], S3FF_SOMETHING_ELSE=1):
        messages = checks.check_settings()
    assert ids(messages) == ["s3_file_field.W005", "s3_file_field.W005"]
    by_name = {message.msg.split()[0]: message for message in messages}
    assert by_name["S3FF_PERMISION_CLASSES"].hint == "Did you mean S3FF_PERMISSION_CLASSES?"
    assert "README" in str(by_name["S3FF_SOMETHING_ELSE"].hint)


# The project: URLs, DRF, presigning.


def urlconf(monkeypatch, *patterns):
    module = types.ModuleType("s3ff_check_urls")
    module.__dict__["urlpatterns"] = list(patterns)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def test_api_not_in_the_urlconf(monkeypatch):
    with override_settings(ROOT_URLCONF=urlconf(monkeypatch)):
        messages = checks.check_project()
    assert ids(messages) == ["s3_file_field.W006"]
    assert "test_app.Resource.blob" in messages[0].msg
    assert 'include("s3_file_field.urls")' in str(messages[0].hint)


def test_api_inside_another_namespace_is_not_reachable(monkeypatch):
    inner = urlconf(monkeypatch, path("s3/", include("s3_file_field.urls")))
    outer = types.ModuleType("s3ff_check_outer_urls")
    outer.__dict__["urlpatterns"] = [path("api/", include((inner, "api"), namespace="api"))]
    monkeypatch.setitem(sys.modules, outer.__name__, outer)
    with override_settings(ROOT_URLCONF=outer.__name__):
        assert ids(checks.check_project()) == ["s3_file_field.W006"]


def test_api_mounted_elsewhere_is_found(monkeypatch):
    mounted = urlconf(monkeypatch, path("uploads/", include("s3_file_field.urls")))
    with override_settings(ROOT_URLCONF=mounted):
        assert checks.check_project() == []


def test_rest_framework_not_installed(monkeypatch):
    from django.apps import apps

    real = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "rest_framework" and real(name))
    assert ids(checks.check_project()) == ["s3_file_field.W008"]


def test_no_checks_without_supported_fields(monkeypatch, all_fields_on):
    from django.core.files.storage import FileSystemStorage

    all_fields_on(FileSystemStorage())
    with override_settings(ROOT_URLCONF=urlconf(monkeypatch)):
        assert checks.check_project() == []
        assert checks.check_signing() == []
        assert checks.check_store() == []


@pytest.mark.parametrize(
    "options",
    [
        # django-storages' default: boto3 would presign S3 URLs with Signature Version 2.
        {"signature_version": None},
        {"signature_version": "s3"},
    ],
)
def test_upload_urls_are_sigv4_whatever_the_storages_setting(all_fields_on, options):
    storage = all_fields_on(s3_storage("http://127.0.0.1:9", **options))
    assert checks.check_signing() == []
    backend = get_backend(storage)
    assert backend is not None
    url = backend.presign_put("a.txt", 5, "text/plain", 60)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")


def test_s3_without_credentials_cannot_sign(all_fields_on, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    all_fields_on(s3_storage("http://127.0.0.1:9", access_key=None, secret=None))
    messages = checks.check_signing()
    assert ids(messages) == ["s3_file_field.E007"]
    assert "Unable to locate credentials" in messages[0].msg


def test_sigv4_presigning_passes(all_fields_on, make_storage):
    all_fields_on(make_storage("http://127.0.0.1:9"))
    assert checks.check_signing() == []


def test_minio_without_credentials_cannot_sign(all_fields_on):
    all_fields_on(minio_storage("http://127.0.0.1:9", access_key=None, secret=None))
    messages = checks.check_signing()
    assert ids(messages) == ["s3_file_field.E007"]
    assert "no credentials" in messages[0].msg


# The store.


def test_a_good_store_passes(store, all_fields_on, make_storage, cors):
    cors(GOOD_RULE)
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        assert checks.check_store() == []


def test_a_store_that_verifies_no_checksum_is_reported(store, all_fields_on, make_storage, cors):
    """Through a proxy that answers every presigned PUT 200 itself, as a store that checks no
    checksum would: the check sends one with a wrong checksum of each kind, and says so."""
    cors(GOOD_RULE)
    with FaultProxy(store.endpoint_url) as proxy:
        proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("accept",)))
        storage = all_fields_on(make_storage(proxy.url))
        with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
            messages = checks.check_store()
        backend = get_backend(storage)
        assert backend is not None
        offered = backend.offered_checksums(None)
        assert proxy.stats()["faults"] == {"accept": len(offered)}
    assert ids(messages) == ["s3_file_field.W020"]
    assert f"does not verify {', '.join(offered)} checksums" in messages[0].msg
    assert "S3FF_CHECKSUM_ALGORITHMS = []" in str(messages[0].hint)
    # Told what the store verifies, the check sends none.
    with (
        FaultProxy(store.endpoint_url) as proxy,
        override_settings(S3FF_CORS_ORIGINS=[ORIGIN], S3FF_CHECKSUM_ALGORITHMS=[]),
    ):
        proxy.set_mode(Mode(name="fail", rate=1.0, kinds=("accept",)))
        all_fields_on(make_storage(proxy.url))
        assert ids(checks.check_store()) == []
        assert proxy.stats()["faults"] == {}


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"secret": "wrong-secret"}, "SignatureDoesNotMatch"),
        ({"access_key": "no-such-key"}, "InvalidAccessKeyId"),
    ],
)
def test_refused_credentials(store, all_fields_on, make_storage, credentials, code):
    all_fields_on(make_storage(store.endpoint_url, **credentials))
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.E010"]
    assert code in messages[0].msg
    assert f"bucket '{BUCKET}'" in str(messages[0])


def test_missing_bucket(store, all_fields_on, make_storage):
    all_fields_on(make_storage(store.endpoint_url, bucket="s3ff-no-such-bucket"))
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.E011"]
    assert "NoSuchBucket" in messages[0].msg
    assert "AWS_STORAGE_BUCKET_NAME" in str(messages[0].hint)


def test_no_right_to_start_a_multipart_upload(store, all_fields_on, make_storage, cors):
    cors(GOOD_RULE)
    all_fields_on(
        make_storage(store.endpoint_url, access_key=READER_ACCESS_KEY, secret=READER_SECRET_KEY)
    )
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.E012"]
    assert "AccessDenied" in messages[0].msg
    assert "s3:PutObject" in str(messages[0].hint)


def test_the_multipart_probe_leaves_no_upload(store, all_fields_on, make_storage, cors):
    cors(GOOD_RULE)
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        assert checks.check_store() == []
    assert list(S3Backend(s3_storage(store.endpoint_url)).list_pending_uploads("")) == []


def test_no_cors_configuration(store, all_fields_on, make_storage):
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN, "http://localhost:8000"]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W013"]
    assert "no CORS configuration" in messages[0].msg
    assert f"{ORIGIN}, http://localhost:8000" in messages[0].msg
    # The exact rule, and the command that writes it.
    assert "manage.py s3ff_cors --apply" in str(messages[0].hint)
    assert (
        '{"ID": "s3-file-field", "AllowedOrigins": ["https://app.example", '
        '"http://localhost:8000"], "AllowedMethods": ["PUT"], "AllowedHeaders": '
        '["Content-Type", "Content-Disposition", "If-None-Match", "Cache-Control", '
        '"Content-Encoding", "Content-Language", "Expires", "x-amz-checksum-crc32", '
        '"x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme", "Content-MD5", '
        '"x-amz-checksum-sha1", "x-amz-checksum-sha256"], '
        '"ExposeHeaders": ["ETag"], '
        '"MaxAgeSeconds": 3600}'
    ) in str(messages[0].hint)


def test_cors_rule_for_other_origins(store, all_fields_on, make_storage, cors):
    cors(CorsRule(("https://other.example",), ("PUT",), ("*",), ("ETag",)))
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN, "https://other.example"]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W013"]
    assert f"No CORS rule of the bucket lets {ORIGIN} send a PUT" in messages[0].msg


def test_cors_rule_that_allows_content_type_only(store, all_fields_on, make_storage, cors):
    """Parts for the store to check carry Content-MD5: a rule without that header blocks them."""
    cors(CorsRule((ORIGIN,), ("PUT",), ("Content-Type",), ("ETag",)))
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W013"]
    assert (
        "send a PUT with the Content-Type, Content-Disposition, If-None-Match, Cache-Control, "
        "Content-Encoding, Content-Language, Expires, x-amz-checksum-crc32, x-amz-checksum-crc32c, "
        "x-amz-checksum-crc64nvme, Content-MD5, x-amz-checksum-sha1 and x-amz-checksum-sha256 headers"
        in messages[0].msg
    )


@pytest.mark.parametrize("header", ["If-None-Match", "Content-Disposition", "Expires"])
def test_cors_rule_without_a_signed_header(header, store, all_fields_on, make_storage, cors):
    """A single PUT carries every header it is signed for: a rule without one blocks it."""
    allowed = tuple(name for name in cors_model.CORS_REQUEST_HEADERS if name != header)
    cors(CorsRule((ORIGIN,), ("PUT",), allowed, ("ETag",)))
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W013"]


def test_cors_rule_without_etag(store, all_fields_on, make_storage, cors):
    cors(CorsRule((ORIGIN,), ("GET", "PUT"), ("*",)))
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W014"]
    assert "does not expose the ETag header" in messages[0].msg
    assert '"ExposeHeaders": ["ETag"]' in str(messages[0].hint)


def test_cors_rule_without_content_type(store, all_fields_on, make_storage, cors):
    cors(CorsRule((ORIGIN,), ("PUT",), (), ("ETag",)))
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        assert ids(checks.check_store()) == ["s3_file_field.W013"]


def test_no_cors_check_without_browser_origins(store, all_fields_on, make_storage):
    all_fields_on(make_storage(store.endpoint_url))
    with override_settings(S3FF_CORS_ORIGINS=[]):
        assert checks.check_store() == []


@override_settings(S3FF_CORS_ORIGINS=None, CSRF_TRUSTED_ORIGINS=[], ALLOWED_HOSTS=["*"])
def test_unknown_origins_need_some_rule(store, all_fields_on, make_storage, cors):
    all_fields_on(make_storage(store.endpoint_url))
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W013"]
    assert "any origin" in messages[0].msg
    assert "set S3FF_CORS_ORIGINS" in str(messages[0].hint)
    cors(GOOD_RULE)
    assert checks.check_store() == []


def test_cors_that_cannot_be_read_is_an_info(store, all_fields_on, make_storage, monkeypatch):
    # As MinIO answers: it has no per-bucket CORS.
    storage = all_fields_on(make_storage(store.endpoint_url))

    def not_here(self):
        raise NotSupported("NotImplemented: A header you provided implies functionality...")

    monkeypatch.setattr(type(get_backend(storage)), "get_cors_rules", not_here)
    with override_settings(S3FF_CORS_ORIGINS=[ORIGIN]):
        messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.I015"]
    assert "MINIO_API_CORS_ALLOW_ORIGIN" in str(messages[0].hint)


# Longer than any test run: the store checks' deadline passes only where a test moves a clock.
PATIENT_DEADLINE = 600.0


@pytest.fixture
def patient_deadline(monkeypatch):
    """A deadline the probes never meet, so that what they report is their own finding."""
    monkeypatch.setattr(checks, "STORE_CHECK_DEADLINE", PATIENT_DEADLINE)


class FakeClock:
    """A clock that moves only when the test moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def release():
    """What a hung probe waits for: set at teardown, so that its thread ends."""
    event = threading.Event()
    yield event
    event.set()


def on_two_buckets(monkeypatch, endpoint, buckets):
    """Spread the fields over two buckets, of both storage families."""
    for index, field in enumerate(iter_fields()):
        make = s3_storage if index % 2 else minio_storage
        monkeypatch.setattr(field, "storage", make(endpoint, bucket=buckets[index % 2]))


def test_store_stopped(
    stopped_endpoint, all_fields_on, make_storage, patient_deadline, connections
):
    all_fields_on(make_storage(stopped_endpoint))
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W009"]
    assert "no answer within" not in messages[0].msg
    assert "S3FF_CHECK_STORAGE = False" in str(messages[0].hint)
    # Refused once and not retried: the probe gave up at once.
    assert [type(connection.error) for connection in connections] == [ConnectionRefusedError]


def test_a_store_that_never_answers_costs_one_probe_timeout(
    silent_endpoint, monkeypatch, patient_deadline, connections
):
    # Two buckets, each on a host that takes the request and never answers.
    on_two_buckets(monkeypatch, silent_endpoint, ["s3ff-b0", "s3ff-b1"])
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W009", "s3_file_field.W009"]
    for message in messages:
        assert "no answer within" not in message.msg
        # urllib3 (Minio) says "Read timed out", botocore "Read timeout".
        assert "read time" in message.msg.lower()
    # Each probe ended on its own timeout: one connection each, never retried, whose read
    # could wait PROBE_TIMEOUT at most.
    assert len(connections) == 2
    for connection in connections:
        assert connection.error is None
        assert connection.read_timeout == checks.PROBE_TIMEOUT


def test_the_deadline_stops_waiting_for_a_hung_probe(monkeypatch, patient_deadline, release):
    # The hung probe's bucket comes first: the other one answers only if they run in parallel.
    on_two_buckets(monkeypatch, "http://127.0.0.1:9", ["s3ff-hung", "s3ff-answers"])
    clock = FakeClock()
    monkeypatch.setattr(
        checks, "run_with_deadline", functools.partial(checks.run_with_deadline, clock=clock)
    )

    def probe(group, site):
        if group.backend.describe()["bucket"] == "s3ff-hung":
            release.wait()
            return []
        # This answer comes as the deadline passes, while the other probe still hangs.
        clock.advance(checks.STORE_CHECK_DEADLINE)
        return [django_checks.Info("answered", obj=group.label, id="test.answered")]

    monkeypatch.setattr(checks, "probe_store", probe)
    messages = checks.check_store()
    assert ids(messages) == ["s3_file_field.W009", "test.answered"]
    assert "s3ff-hung" in messages[0].obj
    assert f"no answer within {PATIENT_DEADLINE:g} s" in messages[0].msg
    assert "s3ff-answers" in messages[1].obj


@override_settings(S3FF_CHECK_STORAGE=False)
def test_store_checks_can_be_switched_off(stopped_endpoint, all_fields_on):
    all_fields_on(s3_storage(stopped_endpoint))
    assert checks.check_store() == []


def test_manage_py_check_reports_and_fails(store, all_fields_on):
    all_fields_on(s3_storage(store.endpoint_url, secret="wrong-secret"))
    with pytest.raises(SystemCheckError, match=r"s3_file_field\.E010"):
        call_command("check", "--tag", checks.TAG)


# CORS: origins and rule matching.


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"S3FF_CORS_ORIGINS": [ORIGIN]}, [ORIGIN]),
        # A string (reported by E004) is read as the one origin it names.
        ({"S3FF_CORS_ORIGINS": ORIGIN}, [ORIGIN]),
        (
            {
                "CSRF_TRUSTED_ORIGINS": ["https://admin.example.com/"],
                "ALLOWED_HOSTS": ["example.com", "*", "testserver"],
            },
            ["https://admin.example.com", "https://example.com"],
        ),
        (
            {"ALLOWED_HOSTS": [".example.com", "localhost", "127.0.0.1", "[::1]"]},
            [
                "https://example.com",
                "https://*.example.com",
                "http://localhost:8000",
                "http://127.0.0.1:8000",
                "http://[::1]:8000",
            ],
        ),
        (
            {"ALLOWED_HOSTS": [], "DEBUG": True},
            ["http://localhost:8000", "http://127.0.0.1:8000", "http://[::1]:8000"],
        ),
        ({"ALLOWED_HOSTS": [], "DEBUG": False}, []),
    ],
)
def test_site_origins(overrides, expected):
    values = {"S3FF_CORS_ORIGINS": None, "CSRF_TRUSTED_ORIGINS": [], **overrides}
    with override_settings(**values):
        assert list(cors_model.site_origins().origins) == expected


def test_s3_picks_the_first_matching_rule():
    hides = CorsRule(("*",), ("PUT",), ("*",))
    exposes = CorsRule((ORIGIN,), ("PUT",), ("content-type",), ("etag",))
    assert cors_model.evaluate_cors([exposes, hides], [ORIGIN]).ok
    # The first rule for the PUT hides ETag, though a later one would expose it.
    assert cors_model.evaluate_cors([hides, exposes], [ORIGIN]).etag_hidden == (ORIGIN,)


@pytest.mark.parametrize(
    ("rule_origin", "origin", "ok"),
    [
        ("*", "https://a.example", True),
        ("https://*.example.com", "https://cdn.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("https://*", "https://*.example.com", True),
        ("https://a.example", "https://*.example", False),
        ("http://a.example", "https://a.example", False),
    ],
)
def test_origin_wildcards(rule_origin, origin, ok):
    rule = CorsRule((rule_origin,), ("PUT",), ("*",), ("*",))
    assert cors_model.evaluate_cors([rule], [origin]).ok is ok


def test_the_recommended_rule_goes_first_and_replaces_its_earlier_self():
    other = CorsRule(("*",), ("GET",), id="static")
    old_ours = CorsRule(("https://old.example",), ("PUT",), id=cors_model.CORS_RULE_ID)
    rules = cors_model.rules_with_recommended([other, old_ours], [ORIGIN])
    assert [rule.id for rule in rules] == [cors_model.CORS_RULE_ID, "static"]
    assert rules[0].allowed_origins == (ORIGIN,)
    assert cors_model.evaluate_cors(rules, [ORIGIN]).ok


# The deploy check.


def test_anonymous_uploads_to_unlimited_fields():
    messages = checks.check_deploy()
    assert ids(messages) == ["s3_file_field.W016"]
    assert "test_app.Resource.blob" in messages[0].msg
    assert "test_app.LimitedResource.image" not in messages[0].msg  # it has a max_size
    assert "IsAuthenticated" in str(messages[0].hint)


@override_settings(S3FF_PERMISSION_CLASSES=["rest_framework.permissions.IsAuthenticated"])
def test_no_deploy_warning_when_uploads_need_a_login():
    assert checks.check_deploy() == []


@override_settings(S3FF_PERMISSION_CLASSES=[], REST_FRAMEWORK={"DEFAULT_PERMISSION_CLASSES": []})
def test_no_deploy_warning_when_every_field_has_a_max_size(monkeypatch):
    assert ids(checks.check_deploy()) == ["s3_file_field.W016"]
    for field in iter_fields():
        monkeypatch.setattr(field, "max_size", 1024)
    assert checks.check_deploy() == []


def test_no_deploy_warning_behind_login_required_middleware():
    middleware = "django.contrib.auth.middleware.LoginRequiredMiddleware"
    with override_settings(MIDDLEWARE=[*settings.MIDDLEWARE, middleware]):
        assert checks.check_deploy() == []


@override_settings(S3FF_CHECK_STORAGE=False)
def test_the_deploy_check_runs_only_with_deploy():
    normal = django_checks.run_checks(tags=[checks.TAG], include_deployment_checks=False)
    deploy = django_checks.run_checks(tags=[checks.TAG], include_deployment_checks=True)
    assert "s3_file_field.W016" not in ids(normal)
    assert "s3_file_field.W016" in ids(deploy)
