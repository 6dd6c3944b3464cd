"""System checks: `manage.py check` finds what would make uploads fail in the browser.

The configuration checks need no network. The store checks (`S3FF_CHECK_STORAGE`) send a few
small requests per bucket, with short timeouts and one overall deadline, from daemon threads: a
store that is down or a host that never answers costs at most `STORE_CHECK_DEADLINE` seconds.
The deploy check runs with `check --deploy`. Every message is tagged `s3_file_field`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core import checks
from django.http import HttpRequest
from rest_framework import exceptions

from .backends.base import UploadBackend
from .buckets import StorageGroup, storage_groups
from .conf import get_settings, setting_problems, unknown_settings
from .cors import (
    CORS_REQUEST_HEADERS_TEXT,
    CorsRule,
    SiteOrigins,
    evaluate_cors,
    recommended_rule,
    site_origins,
)
from .exceptions import (
    AccessDenied,
    BucketNotFound,
    CredentialsRefused,
    NotSupported,
    StorageError,
    StorageUnavailable,
    UploadToNeedsInstance,
)
from .fields import S3FileField
from .policy import policy_view
from .registry import iter_fields
from .widgets import WIDGET_SCRIPT, WIDGET_STYLESHEET, upload_api_base_url

TAG = "s3_file_field"
# Per request of a store check, and for all of them together.
PROBE_TIMEOUT = 2.0
STORE_CHECK_DEADLINE = 4.0
LOGIN_REQUIRED_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"


def register() -> None:
    checks.register(check_settings, TAG)
    checks.register(check_project, TAG)
    checks.register(check_static, TAG)
    checks.register(check_upload_to, TAG)
    checks.register(check_middleware, TAG)
    checks.register(check_signing, TAG)
    checks.register(check_storage_parity, TAG)
    checks.register(check_store, TAG)
    checks.register(check_deploy, TAG, deploy=True)


def _origin_list(origins: Sequence[str | None]) -> str:
    return ", ".join(origin or "any origin" for origin in origins)


def _rule_json(origins: Sequence[str], request_headers: Sequence[str]) -> str:
    rule = recommended_rule(origins or ["https://www.example.com"], request_headers)
    return json.dumps(rule.as_s3(), separators=(", ", ": "))


def cors_messages(
    group: StorageGroup, rules: list[CorsRule] | None, site: SiteOrigins
) -> list[checks.CheckMessage]:
    request_headers = group.backend.cors_request_headers()
    report = evaluate_cors(rules, site.origins, request_headers)
    fix = (
        f"Run `manage.py s3ff_cors --apply` to add this rule ahead of the bucket's others, "
        f"or add it yourself: {_rule_json(site.origins, request_headers)}"
    )
    if not site.origins:
        fix += (
            f". No origin could be derived from {site.source}: set S3FF_CORS_ORIGINS to the "
            "origins of your pages."
        )
    messages: list[checks.CheckMessage] = []
    if report.blocked:
        who = _origin_list(report.blocked)
        what = (
            "The bucket has no CORS configuration"
            if rules is None
            else f"No CORS rule of the bucket lets {who} send a PUT with the "
            f"{CORS_REQUEST_HEADERS_TEXT}"
        )
        messages.append(
            checks.Warning(
                f"{what}: browsers at {who} cannot upload to it (origins from {site.source}).",
                hint=fix,
                obj=group.label,
                id="s3_file_field.W013",
            )
        )
    if report.etag_hidden:
        messages.append(
            checks.Warning(
                f"The bucket's CORS rule for PUT from {_origin_list(report.etag_hidden)} does "
                "not expose the ETag header: browsers cannot read the parts' ETags, so "
                "uploads larger than one part cannot be finished.",
                hint=f'Add "ETag" to that rule\'s ExposeHeaders. {fix}',
                obj=group.label,
                id="s3_file_field.W014",
            )
        )
    return messages


# Configuration checks, without network.


def check_settings(**kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = [
        checks.Error(problem.message, hint=problem.hint, id="s3_file_field.E004")
        for problem in setting_problems()
    ]
    for name, suggestion in unknown_settings():
        hint = (
            f"Did you mean {suggestion}?"
            if suggestion
            else "See the settings table in s3-file-field's README."
        )
        messages.append(
            checks.Warning(
                f"{name} is not a setting of s3-file-field: it has no effect.",
                hint=hint,
                id="s3_file_field.W005",
            )
        )
    return messages


def check_project(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    groups = storage_groups(app_configs)
    if not groups:
        return []
    if upload_api_base_url() is None:
        fields = ", ".join(group.field_ids for group in groups)
        return [
            checks.Warning(
                "The upload API (s3_file_field.urls) is not in the URLconf: files of "
                f"{fields} are not uploaded to the bucket directly but through Django.",
                hint='Add path("api/s3-upload/", include("s3_file_field.urls")) to '
                "urlpatterns, not inside another namespace.",
                id="s3_file_field.W006",
            )
        ]
    if not apps.is_installed("rest_framework"):
        return [
            checks.Warning(
                "'rest_framework' is not in INSTALLED_APPS: the upload API (Django REST "
                "framework views) answers, but DRF's messages are not translated.",
                hint="Add 'rest_framework' to INSTALLED_APPS.",
                id="s3_file_field.W008",
            )
        ]
    return []


def check_static(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    # Without staticfiles, the project serves static files its own way, which nothing here sees.
    if not apps.is_installed("django.contrib.staticfiles") or next(iter_fields(), None) is None:
        return []
    from django.contrib.staticfiles import finders

    missing = [path for path in (WIDGET_SCRIPT, WIDGET_STYLESHEET) if not finders.find(path)]
    if not missing:
        return []
    return [
        checks.Warning(
            f"The widget's static files ({', '.join(missing)}) are not found by the staticfiles "
            "finders: forms fall back to uploading files through Django.",
            hint="Install s3-file-field from a wheel or sdist (they carry the files); in a "
            "checkout, build them with `npm ci && npm run build` in javascript-client/. Keep "
            "'django.contrib.staticfiles.finders.AppDirectoriesFinder' in STATICFILES_FINDERS.",
            id="s3_file_field.W017",
        )
    ]


def check_upload_to(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for group in storage_groups(app_configs):
        for field in group.fields:
            if not callable(field.upload_to):
                continue
            try:
                field.direct_upload_name("s3ff-check.bin")
            except UploadToNeedsInstance as error:
                messages.append(
                    checks.Warning(
                        f"{error}. A direct upload names its file before any record exists, "
                        "so every upload to this field is refused.",
                        hint="Make upload_to work with instance=None (read the instance only "
                        "when it is given), or name files from something else: a date, a "
                        "uuid4 (the default).",
                        obj=field,
                        id="s3_file_field.W018",
                    )
                )
    return messages


UPLOADER_MIDDLEWARE = "s3_file_field.middleware.S3FileFieldMiddleware"


def check_middleware(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if not get_settings().values_bound_to_uploader or not storage_groups(app_configs):
        return []
    if UPLOADER_MIDDLEWARE in settings.MIDDLEWARE:
        return []
    return [
        checks.Warning(
            "Forms cannot tell who submits them: an upload made by a signed-in user is refused "
            "by every form (S3FF_VALUES_BOUND_TO_UPLOADER accepts it only from that user).",
            hint=f"Add '{UPLOADER_MIDDLEWARE}' to MIDDLEWARE, or set "
            "S3FF_VALUES_BOUND_TO_UPLOADER = False to accept any user's upload.",
            id="s3_file_field.W019",
        )
    ]


def check_signing(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for group in storage_groups(app_configs):
        try:
            problem = group.backend.presigning_problem()
        except StorageError as error:
            problem = f"it cannot sign at all ({error})"
        if problem:
            messages.append(
                checks.Error(
                    f"The storage cannot presign uploads with Signature Version 4: {problem}.",
                    hint="Give the storage credentials to sign with (for S3Storage "
                    "AWS_S3_ACCESS_KEY_ID and AWS_S3_SECRET_ACCESS_KEY, or a role; for "
                    "MinioStorage its access and secret keys).",
                    obj=group.label,
                    id="s3_file_field.E007",
                )
            )
    return messages


def check_storage_parity(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Direct uploads are stored as the storage stores files on save; these say where that
    cannot be so."""
    messages: list[checks.CheckMessage] = []
    for group in storage_groups(app_configs):
        try:
            group.backend.stored_headers("s3ff-check", "application/octet-stream")
        except NotSupported as error:
            messages.append(
                checks.Error(
                    f"Direct uploads cannot be stored as this storage stores files: {error}",
                    hint="Encrypt with a key of the store's instead (ServerSideEncryption "
                    "'AES256' or 'aws:kms' in AWS_S3_OBJECT_PARAMETERS), or give these fields "
                    "a storage without customer-provided keys.",
                    obj=group.label,
                    id="s3_file_field.E021",
                )
            )
        for what, hint in group.backend.unhonoured_settings():
            messages.append(
                checks.Warning(what, hint=hint, obj=group.label, id="s3_file_field.W022")
            )
    return messages


# Store checks.

_CREDENTIALS_HINT = (
    "Check the access key, secret key, session token and region the storage uses "
    "(AWS_S3_ACCESS_KEY_ID, AWS_S3_SECRET_ACCESS_KEY... for S3Storage; the Minio client's "
    "for MinioStorage)."
)
_MULTIPART_HINT = (
    "Files larger than S3FF_PART_SIZE go up in parts: grant s3:PutObject (it covers "
    "CreateMultipartUpload, UploadPart and CompleteMultipartUpload), s3:AbortMultipartUpload "
    "and s3:ListMultipartUploadParts on the keys the fields write to."
)
_UNREACHABLE_HINT = (
    "Check the storage's endpoint and that the store runs. Where it cannot be reached on "
    "purpose (a CI job that only migrates...), set S3FF_CHECK_STORAGE = False."
)


def _multipart_refused(group: StorageGroup, what: str) -> checks.CheckMessage:
    return checks.Error(
        f"The credentials {what}", hint=_MULTIPART_HINT, obj=group.label, id="s3_file_field.E012"
    )


def _unreachable(group: StorageGroup, reason: str) -> checks.CheckMessage:
    return checks.Warning(
        f"The store could not be checked: {reason}",
        hint=_UNREACHABLE_HINT,
        obj=group.label,
        id="s3_file_field.W009",
    )


def _probe_name(field: S3FileField) -> str:
    """A fresh name where the field itself writes, so that rights limited to its prefix are
    what is probed; a leftover is an old unfinished upload that `s3ff_cleanup` aborts."""
    try:
        return field.generate_filename(None, "s3ff-check-probe")  # type: ignore[arg-type]
    except Exception:  # a callable upload_to that needs an instance
        return S3FileField.uuid_prefix_filename(None, "s3ff-check-probe")


def _refusal(group: StorageGroup, error: StorageError) -> checks.CheckMessage | None:
    """The message for a store that refuses the credentials or has no such bucket."""
    if isinstance(error, CredentialsRefused):
        return checks.Error(
            f"The store refused the credentials: {error}",
            hint=_CREDENTIALS_HINT,
            obj=group.label,
            id="s3_file_field.E010",
        )
    if isinstance(error, BucketNotFound):
        return checks.Error(
            f"The bucket does not exist: {error}",
            hint="Create the bucket, or correct the storage's bucket name "
            "(AWS_STORAGE_BUCKET_NAME, or the storage's bucket_name option).",
            obj=group.label,
            id="s3_file_field.E011",
        )
    return None


def probe_store(group: StorageGroup, site: SiteOrigins) -> list[checks.CheckMessage]:
    """Credentials, bucket, multipart right and CORS of one bucket, with short timeouts."""
    backend = group.backend.with_timeout(PROBE_TIMEOUT)
    try:
        backend.check_bucket()
    except AccessDenied:
        pass  # Listing is not needed to upload; the multipart probe below tells the rest.
    except StorageUnavailable as error:
        return [_unreachable(group, str(error))]
    except StorageError as error:
        refusal = _refusal(group, error)
        return [refusal or _unreachable(group, f"it answered with an error: {error}")]

    messages: list[checks.CheckMessage] = []
    name = _probe_name(group.fields[0])
    try:
        upload_id = backend.create_multipart_upload(name, "application/octet-stream")
    except AccessDenied as error:
        messages.append(_multipart_refused(group, f"may not start a multipart upload: {error}"))
    except StorageError as error:
        # Where listing was denied, the bucket or the credentials show their problem here.
        refusal = _refusal(group, error)
        return [refusal or _unreachable(group, f"starting a multipart upload failed: {error}")]
    else:
        try:
            backend.abort_multipart_upload(name, upload_id)
        except StorageError as error:
            messages.append(
                _multipart_refused(group, f"may start a multipart upload but not abort it: {error}")
            )

    messages += _checksum_messages(group, backend, name)
    if not site.browser_uploads:
        return messages
    try:
        rules = backend.get_cors_rules()
    except (NotSupported, AccessDenied) as error:
        messages.append(
            checks.Info(
                f"The bucket's CORS configuration cannot be read ({error}), so whether "
                f"browsers at {_origin_list(site.origins or [None])} may upload is unknown.",
                hint="Stores without per-bucket CORS (MinIO) apply a server-wide setting "
                "(MinIO: MINIO_API_CORS_ALLOW_ORIGIN): make sure it lets these origins PUT and "
                "exposes ETag. Otherwise grant s3:GetBucketCORS to check.",
                obj=group.label,
                id="s3_file_field.I015",
            )
        )
        return messages
    except StorageError as error:
        messages.append(_unreachable(group, f"reading the CORS configuration failed: {error}"))
        return messages
    return messages + cors_messages(group, rules, site)


def _checksum_messages(
    group: StorageGroup, backend: UploadBackend, name: str
) -> list[checks.CheckMessage]:
    """Whether the store verifies each checksum the API offers: a PUT with a wrong one must
    be refused."""
    offered = backend.offered_checksums(get_settings().checksum_algorithms)
    unverified = [
        algorithm
        for algorithm in offered
        if backend.takes_wrong_checksum(name, algorithm, PROBE_TIMEOUT)
    ]
    if not unverified:
        return []
    verified = [algorithm for algorithm in offered if algorithm not in unverified]
    return [
        checks.Warning(
            f"The store does not verify {', '.join(unverified)} checksums: it stored a PUT "
            "whose checksum did not match its bytes. Clients would take an upload for checked "
            "that was not.",
            hint=f"Set S3FF_CHECKSUM_ALGORITHMS = {verified!r} (what it verifies; [] if none: "
            "clients then check each part by its ETag).",
            obj=group.label,
            id="s3_file_field.W020",
        )
    ]


def run_with_deadline(
    jobs: Sequence[Callable[[], list[checks.CheckMessage]]],
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> list[list[checks.CheckMessage] | None]:
    """Run the jobs in parallel daemon threads; None for each one unfinished once `clock` has
    moved `deadline` seconds on (it is read again whenever a job finishes).

    Daemon threads, because a job can hang where no timeout reaches (a DNS lookup): the check
    returns anyway, and the process may exit without waiting for them.
    """
    results: list[list[checks.CheckMessage] | None] = [None] * len(jobs)
    pending = len(jobs)
    finished = threading.Condition()

    def run(index: int, job: Callable[[], list[checks.CheckMessage]]) -> None:
        nonlocal pending
        result: list[checks.CheckMessage] | None = None
        try:
            result = job()
        finally:
            with finished:
                results[index] = result
                pending -= 1
                finished.notify()

    threads = [
        threading.Thread(target=run, args=(i, job), name="s3ff-store-check", daemon=True)
        for i, job in enumerate(jobs)
    ]
    end = clock() + deadline
    for thread in threads:
        thread.start()
    with finished:
        while pending and (left := end - clock()) > 0:
            finished.wait(left)
        # A copy: a job that finishes late must not change what the caller reads.
        return list(results)


def check_store(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if not get_settings().check_storage:
        return []
    groups = storage_groups(app_configs)
    site = site_origins()

    def job(group: StorageGroup) -> Callable[[], list[checks.CheckMessage]]:
        def probe() -> list[checks.CheckMessage]:
            try:
                return probe_store(group, site)
            except Exception as error:  # a check reports; it never crashes
                return [_unreachable(group, f"{type(error).__name__}: {error}")]

        return probe

    messages: list[checks.CheckMessage] = []
    for group, result in zip(
        groups, run_with_deadline([job(g) for g in groups], STORE_CHECK_DEADLINE), strict=True
    ):
        if result is None:
            result = [_unreachable(group, f"no answer within {STORE_CHECK_DEADLINE:g} s.")]
        messages += result
    return messages


# The deploy check.


def anonymous_may_upload() -> bool:
    """Whether the upload API's authentication and permission classes let a request without
    credentials prepare an upload. False when a class cannot be asked that way."""
    if LOGIN_REQUIRED_MIDDLEWARE in settings.MIDDLEWARE:
        return False
    http_request = HttpRequest()
    http_request.method = "POST"
    try:
        view, request = policy_view(http_request)
        view.check_permissions(request)
    except (exceptions.PermissionDenied, exceptions.NotAuthenticated):
        return False
    except Exception:  # a custom class that needs a real request
        return False
    return True


def check_deploy(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    if upload_api_base_url() is None:
        return []
    unlimited = [
        field.id
        for group in storage_groups(app_configs)
        for field in group.fields
        if field.max_size is None
    ]
    if not unlimited or not anonymous_may_upload():
        return []
    return [
        checks.Warning(
            "Anyone, without logging in, may upload to fields without a max_size: "
            f"{', '.join(unlimited)}. Your bucket (and bill) is open to any file of up to 5 TiB.",
            hint="Set S3FF_PERMISSION_CLASSES = ['rest_framework.permissions.IsAuthenticated'] "
            "(or another permission class), and give each S3FileField a max_size.",
            id="s3_file_field.W016",
        )
    ]
