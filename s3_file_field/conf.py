"""The library's settings, with their defaults. Every name starts with `S3FF_`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings as django_settings
from django.utils.module_loading import import_string

from .checksums import ALGORITHMS

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB

# Limits of the S3 API itself.
S3_MIN_PART_SIZE = 5 * MiB
S3_MAX_PART_SIZE = 5 * GiB
S3_MAX_PART_COUNT = 10_000
S3_MAX_OBJECT_SIZE = 5 * TiB
S3_MAX_KEY_BYTES = 1024
# Signature Version 4 refuses presigned URLs that live longer than a week.
SIGV4_MAX_EXPIRES = 7 * 24 * 3600


@dataclass(frozen=True)
class SettingProblem:
    name: str
    message: str
    hint: str


# An origin as browsers send it: a scheme, a host and maybe a port; no path, no trailing "/".
# S3 allows one `*` in it ("https://*.example.com").
_ORIGIN = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#\s]+$")


def is_origin(value: str) -> bool:
    return value == "*" or (_ORIGIN.match(value) is not None and value.count("*") <= 1)


def _int_problem(low: int, high: int | None) -> Callable[[str, Any], str | None]:
    def problem(name: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be an int, not {type(value).__name__} ({value!r})."
        if high is None and value < low:
            return f"{name} is {value:,}; it must be at least {low:,}."
        if high is not None and not low <= value <= high:
            return f"{name} is {value:,}; it must be between {low:,} and {high:,}."
        return None

    return problem


def _classes_problem(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return f"{name} must be None or a list of dotted paths, not {value!r}."
    for path in value:
        if not isinstance(path, str):
            return f"{name} must hold dotted paths (strings), not {path!r}."
        try:
            import_string(path)
        except ImportError as error:
            return f"{name}: {path!r} cannot be imported ({error})."
    return None


def _origins_problem(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return f"{name} must be None or a list of origins, not {value!r}."
    for origin in value:
        if not isinstance(origin, str) or not is_origin(origin):
            return (
                f"{name}: {origin!r} is not an origin (scheme://host[:port], no path, no "
                "trailing slash, at most one '*')."
            )
    return None


def _rate_problem(name: str, value: Any) -> str | None:
    if value is None:
        return None
    count, _, period = value.partition("/") if isinstance(value, str) else ("", "", "")
    if not count.isdigit() or period[:1] not in ("s", "m", "h", "d"):
        return f"{name} must be None or a rate like '60/hour', not {value!r}."
    return None


def _algorithms_problem(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        return f"{name} must be None or a list of checksum algorithms, not {value!r}."
    unknown = [item for item in value if item not in ALGORITHMS]
    if unknown:
        return f"{name}: {unknown[0]!r} is not a checksum algorithm ({', '.join(ALGORITHMS)})."
    return None


def _endpoint_problem(name: str, value: Any) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return f"{name} must be None or a store's address, scheme://host[:port], not {value!r}."
    return None


def _bool_problem(name: str, value: Any) -> str | None:
    return None if isinstance(value, bool) else f"{name} must be True or False, not {value!r}."


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: its name, default, check and the hint the check gives."""

    name: str
    default: Any
    problem: Callable[[str, Any], str | None]
    hint: str

    @property
    def attribute(self) -> str:
        """Its name on `Settings`: S3FF_PART_SIZE is `part_size`."""
        return self.name.removeprefix("S3FF_").lower()


# Every setting of the library, in the README's order.
TABLE: tuple[Setting, ...] = (
    # Files up to this size go up in one presigned PUT; larger ones in parts of this size
    # (grown for very large files so that no upload needs more than 10,000 parts).
    Setting(
        "S3FF_PART_SIZE",
        16 * MiB,
        _int_problem(S3_MIN_PART_SIZE, S3_MAX_PART_SIZE),
        "S3 parts are 5 MiB to 5 GiB, e.g. S3FF_PART_SIZE = 16 * 1024 * 1024.",
    ),
    # How many part URLs upload-prepare/ returns; the client asks upload-parts/ for the rest.
    Setting(
        "S3FF_PART_URL_BATCH",
        16,
        _int_problem(1, S3_MAX_PART_COUNT),
        "A number of part URLs, e.g. S3FF_PART_URL_BATCH = 16.",
    ),
    # The most part URLs one upload-parts/ call may ask for (prepare tells clients).
    Setting(
        "S3FF_MAX_PART_URLS_PER_REQUEST",
        100,
        _int_problem(1, S3_MAX_PART_COUNT),
        "A number of part URLs, e.g. S3FF_MAX_PART_URLS_PER_REQUEST = 100.",
    ),
    # Lifetime of a presigned part URL, in seconds; upload-parts/ signs fresh ones.
    Setting(
        "S3FF_PRESIGNED_URL_EXPIRES",
        3600,
        _int_problem(1, SIGV4_MAX_EXPIRES),
        "Seconds, at most 7 days (604,800) for Signature Version 4, e.g. 3600.",
    ),
    # How long an upload may take from prepare to finalize, in seconds.
    Setting(
        "S3FF_UPLOAD_SIGNATURE_MAX_AGE",
        24 * 3600,
        _int_problem(1, None),
        "Seconds, e.g. S3FF_UPLOAD_SIGNATURE_MAX_AGE = 24 * 3600.",
    ),
    # How long a finalized upload may wait for its form or API request, in seconds.
    Setting(
        "S3FF_FIELD_VALUE_MAX_AGE",
        24 * 3600,
        _int_problem(1, None),
        "Seconds, e.g. S3FF_FIELD_VALUE_MAX_AGE = 24 * 3600.",
    ),
    # DRF classes for the upload API alone; None means DRF's own defaults.
    Setting(
        "S3FF_AUTHENTICATION_CLASSES",
        None,
        _classes_problem,
        "None (DRF's defaults) or a list like "
        "['rest_framework.authentication.SessionAuthentication'].",
    ),
    Setting(
        "S3FF_PERMISSION_CLASSES",
        None,
        _classes_problem,
        "None (DRF's defaults) or a list like ['rest_framework.permissions.IsAuthenticated'].",
    ),
    Setting(
        "S3FF_THROTTLE_CLASSES",
        None,
        _classes_problem,
        "None (DRF's defaults) or a list like ['rest_framework.throttling.UserRateThrottle'].",
    ),
    # Multipart uploads an anonymous client (by IP address) may start, as DRF's rate
    # ("60/hour"): each is held by the store until finished or aborted, bytes or not. None: no
    # bound (for an API that anonymous clients cannot reach anyway).
    Setting(
        "S3FF_ANONYMOUS_MULTIPART_RATE",
        "60/hour",
        _rate_problem,
        "None, or uploads per second, minute, hour or day, e.g. '60/hour'.",
    ),
    # The origins (scheme://host[:port]) whose pages upload to the bucket, for the CORS check
    # and `manage.py s3ff_cors`; None: CSRF_TRUSTED_ORIGINS and ALLOWED_HOSTS; []: no browser
    # uploads, no CORS check.
    Setting(
        "S3FF_CORS_ORIGINS",
        None,
        _origins_problem,
        "None, or a list like ['https://example.com', 'http://localhost:8000'].",
    ),
    # The checksums the store verifies, that the API offers clients (cheapest first); None:
    # the backend's own list (all of S3's for S3Storage); []: the store verifies none.
    Setting(
        "S3FF_CHECKSUM_ALGORITHMS",
        None,
        _algorithms_problem,
        f"None, or a list of some of {', '.join(repr(name) for name in ALGORITHMS)}.",
    ),
    # Whether every part must carry a checksum that the store checks (prepare's `checksum`);
    # off, clients that send none (curl, 1.x-style) still upload.
    Setting("S3FF_REQUIRE_CHECKSUMS", False, _bool_problem, "True or False."),
    # Whether an upload made by a signed-in user is accepted only from that user (its signature
    # and its field value); forms need `S3FileFieldMiddleware` to know who submits them.
    Setting("S3FF_VALUES_BOUND_TO_UPLOADER", True, _bool_problem, "True or False."),
    # Whether a form sent without JavaScript may carry its file through Django (then under the
    # upload API's policy and the field's limits). Off: the bytes stay out of Django.
    Setting("S3FF_PLAIN_UPLOADS", False, _bool_problem, "True or False."),
    # Whether the system checks reach the store (credentials, bucket, multipart right, CORS).
    Setting("S3FF_CHECK_STORAGE", True, _bool_problem, "True or False."),
    # The store's address as clients reach it, where Django reaches it at another (inside
    # docker-compose: http://minio:9000 for Django, http://localhost:9000 for browsers).
    # Presigned URLs name it (the host is signed); None: the storage's own endpoint.
    Setting(
        "S3FF_PRESIGN_ENDPOINT_URL",
        None,
        _endpoint_problem,
        "None, or scheme://host[:port], e.g. 'http://localhost:9000'.",
    ),
)
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in TABLE}


@dataclass(frozen=True)
class Settings:
    """The settings' values, one attribute per row of `TABLE`, as the project set them (the
    checks report values of the wrong kind)."""

    part_size: int
    part_url_batch: int
    max_part_urls_per_request: int
    presigned_url_expires: int
    upload_signature_max_age: int
    field_value_max_age: int
    authentication_classes: Sequence[str] | None
    permission_classes: Sequence[str] | None
    throttle_classes: Sequence[str] | None
    anonymous_multipart_rate: str | None
    cors_origins: Sequence[str] | None
    checksum_algorithms: Sequence[str] | None
    require_checksums: bool
    values_bound_to_uploader: bool
    plain_uploads: bool
    check_storage: bool
    presign_endpoint_url: str | None


def get_settings() -> Settings:
    """The settings as they are now (so that `override_settings` in tests takes effect)."""
    return Settings(**{s.attribute: getattr(django_settings, s.name, s.default) for s in TABLE})


def setting_problems() -> list[SettingProblem]:
    """What is wrong with the values of the library's settings."""
    problems = []
    for setting in TABLE:
        message = setting.problem(
            setting.name, getattr(django_settings, setting.name, setting.default)
        )
        if message:
            problems.append(SettingProblem(setting.name, message, setting.hint))
    return problems


def unknown_settings() -> list[tuple[str, str | None]]:
    """Settings named like the library's that it does not know, each with the closest known
    name (a likely typo) or None."""
    known = set(DEFAULTS)
    return [
        (name, next(iter(difflib.get_close_matches(name, known, n=1, cutoff=0.6)), None))
        for name in sorted(dir(django_settings))
        if name.startswith("S3FF_") and name not in known
    ]
