"""CORS: the bucket's rules, the origins whose pages upload, and the rule that lets them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .checksums import CHECKSUM_HEADERS
from .conf import get_settings
from .headers import object_headers, single_put_headers

# The rule `manage.py s3ff_cors --apply` writes carries this ID, so that it can be replaced
# without touching the bucket's other rules.
CORS_RULE_ID = "s3-file-field"
# What the widget and the TypeScript client send with a part's PUT beyond the headers browsers
# allow anyway: a single PUT's signed headers (its type and disposition, its If-None-Match, and
# the stored headers it must send empty), and the checksum header of a part signed for one
# (`x-amz-checksum-crc32` where the store verifies it; `Content-MD5` where it verifies only
# that, or a part is sent again after arriving altered).
CORS_REQUEST_HEADERS = (
    *single_put_headers(object_headers("application/octet-stream")),
    *CHECKSUM_HEADERS,
)
CORS_REQUEST_HEADERS_TEXT = (
    ", ".join(CORS_REQUEST_HEADERS[:-1]) + f" and {CORS_REQUEST_HEADERS[-1]} headers"
)
CORS_MAX_AGE = 3600
# Origins guessed for hosts that only a development server serves (runserver's default port).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
DEV_SERVER_PORT = 8000
# Django's test client's host: never a browser's.
TEST_CLIENT_HOST = "testserver"


def _glob_match(pattern: str, value: str) -> bool:
    """S3's CORS matching: `*` stands for any run of characters, everything else is literal."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


@dataclass(frozen=True)
class CorsRule:
    """One rule of a bucket's CORS configuration, in S3's terms."""

    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def covers_origin(self, origin: str | None) -> bool:
        """Whether every origin `origin` stands for matches the rule; None stands for "some"."""
        if origin is None:
            return bool(self.allowed_origins)
        # An origin given with a wildcard ("https://*.example.com") is covered when the rule's
        # pattern matches the pattern itself: the rule's `*` then matches whatever ours does.
        return any(_glob_match(allowed, origin) for allowed in self.allowed_origins)

    def answers(self, origin: str | None, method: str, request_headers: Sequence[str]) -> bool:
        """Whether S3 would pick this rule for such a request (or its preflight)."""
        return (
            self.covers_origin(origin)
            and method.upper() in (m.upper() for m in self.allowed_methods)
            and all(
                any(
                    _glob_match(allowed.lower(), header.lower()) for allowed in self.allowed_headers
                )
                for header in request_headers
            )
        )

    def exposes(self, header: str) -> bool:
        return any(exposed.lower() in (header.lower(), "*") for exposed in self.expose_headers)

    def as_s3(self) -> dict[str, Any]:
        """The rule as S3's JSON (boto3's `CORSRules` items, and the AWS console) writes it."""
        rule: dict[str, Any] = {}
        if self.id:
            rule["ID"] = self.id
        rule["AllowedOrigins"] = list(self.allowed_origins)
        rule["AllowedMethods"] = list(self.allowed_methods)
        if self.allowed_headers:
            rule["AllowedHeaders"] = list(self.allowed_headers)
        if self.expose_headers:
            rule["ExposeHeaders"] = list(self.expose_headers)
        if self.max_age_seconds is not None:
            rule["MaxAgeSeconds"] = self.max_age_seconds
        return rule

    @classmethod
    def from_s3(cls, rule: Any) -> CorsRule:
        max_age = rule.get("MaxAgeSeconds")
        return cls(
            allowed_origins=tuple(rule.get("AllowedOrigins", ())),
            allowed_methods=tuple(rule.get("AllowedMethods", ())),
            allowed_headers=tuple(rule.get("AllowedHeaders", ())),
            expose_headers=tuple(rule.get("ExposeHeaders", ())),
            max_age_seconds=None if max_age is None else int(max_age),
            id=rule.get("ID") or None,
        )


# CORS: which origins, and whether the bucket's rules let them upload.


@dataclass(frozen=True)
class SiteOrigins:
    origins: tuple[str, ...]
    # The settings they come from, for messages.
    source: str
    # From S3FF_CORS_ORIGINS: `[]` there means "no browser uploads".
    explicit: bool

    @property
    def browser_uploads(self) -> bool:
        return bool(self.origins) or not self.explicit


def _origins_from_hosts(hosts: Sequence[str]) -> list[str]:
    origins = []
    for entry in hosts:
        host = entry.strip().lower()
        if host in ("", "*", TEST_CLIENT_HOST):
            continue
        if host.lstrip(".") in LOOPBACK_HOSTS or host.endswith(".localhost"):
            origins.append(f"http://{host.lstrip('.')}:{DEV_SERVER_PORT}")
        elif host.startswith("."):
            # Django's ".example.com" is the domain and all its subdomains.
            origins += [f"https://{host[1:]}", f"https://*{host}"]
        else:
            origins.append(f"https://{host}")
    return origins


def site_origins() -> SiteOrigins:
    """The origins whose pages upload: S3FF_CORS_ORIGINS, else CSRF_TRUSTED_ORIGINS and
    origins guessed from ALLOWED_HOSTS (https, or http on runserver's port for loopback)."""
    configured = get_settings().cors_origins
    if isinstance(configured, str):
        configured = [configured]  # E004 reports it; meanwhile read it as meant
    if configured is not None:
        return SiteOrigins(tuple(configured), "S3FF_CORS_ORIGINS", explicit=True)
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        # What Django itself accepts then.
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    origins = [origin.rstrip("/") for origin in settings.CSRF_TRUSTED_ORIGINS]
    origins += _origins_from_hosts(hosts)
    return SiteOrigins(
        tuple(dict.fromkeys(origins)), "CSRF_TRUSTED_ORIGINS and ALLOWED_HOSTS", explicit=False
    )


@dataclass(frozen=True)
class CorsReport:
    """Origins that cannot upload. None stands for "any origin", when none is known."""

    blocked: tuple[str | None, ...]
    etag_hidden: tuple[str | None, ...]

    @property
    def ok(self) -> bool:
        return not self.blocked and not self.etag_hidden


def evaluate_cors(
    rules: Sequence[CorsRule] | None,
    origins: Sequence[str],
    request_headers: Sequence[str] = CORS_REQUEST_HEADERS,
) -> CorsReport:
    """What a browser at each origin meets, with S3's rule: the first matching rule wins.

    The preflight of a part's PUT needs a rule for the origin, `PUT` and the request headers;
    the PUT's response then carries the headers exposed by the first rule for origin and
    method, and the client must read `ETag` there.
    """
    blocked: list[str | None] = []
    hidden: list[str | None] = []
    targets: list[str | None] = [*origins] or [None]
    for origin in targets:
        preflight = next(
            (rule for rule in rules or () if rule.answers(origin, "PUT", request_headers)),
            None,
        )
        if preflight is None:
            blocked.append(origin)
            continue
        actual = next(rule for rule in rules or () if rule.answers(origin, "PUT", ()))
        if not actual.exposes("ETag"):
            hidden.append(origin)
    return CorsReport(tuple(blocked), tuple(hidden))


def recommended_rule(
    origins: Sequence[str], request_headers: Sequence[str] = CORS_REQUEST_HEADERS
) -> CorsRule:
    """The smallest rule that lets `origins` upload: PUT, its headers, ETag readable."""
    return CorsRule(
        allowed_origins=tuple(origins),
        allowed_methods=("PUT",),
        allowed_headers=tuple(request_headers),
        expose_headers=("ETag",),
        max_age_seconds=CORS_MAX_AGE,
        id=CORS_RULE_ID,
    )


def rules_with_recommended(
    current: Sequence[CorsRule] | None,
    origins: Sequence[str],
    request_headers: Sequence[str] = CORS_REQUEST_HEADERS,
) -> list[CorsRule]:
    """The bucket's rules with ours first (S3 uses the first match) and its others kept."""
    ours = recommended_rule(origins, request_headers)
    return [ours, *(r for r in current or () if r.id != CORS_RULE_ID)]
