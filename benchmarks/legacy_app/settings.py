"""Settings for 1.1.0: as close to test_app.settings as 1.1.0 allows, so that the middleware,
authentication and storage work of a request is the same for both libraries. The store comes
from the environment set by prepare_finalize.py."""

from __future__ import annotations

import os

SECRET_KEY = "insecure-benchmark-key"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "s3_file_field",
    "legacy_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "legacy_app.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["S3FF_BENCH_DATABASE"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3FF_BENCH_BUCKET"],
            "endpoint_url": os.environ["S3FF_BENCH_ENDPOINT_URL"],
            "access_key": os.environ["S3FF_BENCH_ACCESS_KEY"],
            "secret_key": os.environ["S3FF_BENCH_SECRET_KEY"],
            "region_name": os.environ["S3FF_BENCH_REGION"],
            "signature_version": "s3v4",
            "addressing_style": "path",
            "file_overwrite": False,
        },
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}
