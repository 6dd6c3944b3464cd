"""The library's settings, with their defaults. Every name starts with `S3FF_`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB

# Limits of the S3 API itself.
S3_MIN_PART_SIZE = 5 * MiB
S3_MAX_PART_SIZE = 5 * GiB
S3_MAX_PART_COUNT = 10_000
S3_MAX_OBJECT_SIZE = 5 * TiB
S3_MAX_KEY_BYTES = 1024

DEFAULTS: dict[str, Any] = {
    # Files up to this size go up in one presigned PUT; larger ones in parts of this size
    # (grown for very large files so that no upload needs more than 10,000 parts).
    "S3FF_PART_SIZE": 16 * MiB,
    # How many part URLs upload-prepare/ returns; the client asks upload-parts/ for the rest.
    "S3FF_PART_URL_BATCH": 16,
    # The most part URLs one upload-parts/ call may ask for.
    "S3FF_MAX_PART_URLS_PER_REQUEST": 100,
    # Lifetime of a presigned part URL, in seconds; upload-parts/ signs fresh ones.
    "S3FF_PRESIGNED_URL_EXPIRES": 3600,
    # How long an upload may take from prepare to finalize, in seconds.
    "S3FF_UPLOAD_SIGNATURE_MAX_AGE": 24 * 3600,
    # How long a finalized upload may wait for its form or API request, in seconds.
    "S3FF_FIELD_VALUE_MAX_AGE": 24 * 3600,
    # DRF classes for the upload API alone; None means DRF's own defaults.
    "S3FF_AUTHENTICATION_CLASSES": None,
    "S3FF_PERMISSION_CLASSES": None,
    "S3FF_THROTTLE_CLASSES": None,
}


@dataclass(frozen=True)
class Settings:
    part_size: int
    part_url_batch: int
    max_part_urls_per_request: int
    presigned_url_expires: int
    upload_signature_max_age: int
    field_value_max_age: int


def get_settings() -> Settings:
    """Read the settings now, so that `override_settings` in tests takes effect."""
    values = {name: getattr(django_settings, name, default) for name, default in DEFAULTS.items()}
    return Settings(
        part_size=int(values["S3FF_PART_SIZE"]),
        part_url_batch=int(values["S3FF_PART_URL_BATCH"]),
        max_part_urls_per_request=int(values["S3FF_MAX_PART_URLS_PER_REQUEST"]),
        presigned_url_expires=int(values["S3FF_PRESIGNED_URL_EXPIRES"]),
        upload_signature_max_age=int(values["S3FF_UPLOAD_SIGNATURE_MAX_AGE"]),
        field_value_max_age=int(values["S3FF_FIELD_VALUE_MAX_AGE"]),
    )


def api_setting(name: str) -> Any:
    """One of the S3FF_*_CLASSES settings, or None for DRF's default."""
    return getattr(django_settings, name, DEFAULTS[name])
