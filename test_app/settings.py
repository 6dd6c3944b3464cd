"""Settings of the test and demo project. The S3 server's address comes from the environment,
set by the test session (conftest.py) or the demo runner (test_app/demo.py)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.harness import seaweedfs

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "insecure-test-and-demo-key-never-use-in-production"
)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

S3_ENDPOINT_URL = os.environ.get("S3FF_TEST_S3_ENDPOINT_URL", "http://127.0.0.1:8333")
S3_BUCKET = os.environ.get("S3FF_TEST_S3_BUCKET", "s3ff-test")
MINIO_BUCKET = os.environ.get("S3FF_TEST_MINIO_BUCKET", "s3ff-minio-test")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "s3_file_field",
    "test_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "s3_file_field.middleware.S3FileFieldMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "test_app.middleware.content_security_policy",
]

ROOT_URLCONF = "test_app.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("S3FF_TEST_DATABASE", str(BASE_DIR.parent / "db.sqlite3")),
        # A file, not SQLite's shared in-memory database: there a write that meets another
        # (the live server's threads saving three uploads at once) fails at once with "database
        # table is locked" instead of waiting its turn. One per test process.
        "TEST": {"NAME": str(Path(tempfile.gettempdir()) / f"s3ff-test-{os.getpid()}.sqlite3")},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"

STORAGES = {
    "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL,
            "access_key": seaweedfs.ACCESS_KEY,
            "secret_key": seaweedfs.SECRET_KEY,
            "region_name": seaweedfs.REGION,
            "signature_version": "s3v4",
            "addressing_style": "path",
            "file_overwrite": False,
        },
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
}

# The demo's origins, on whatever port it serves (test_app/demo.py): the CORS checks' origins.
if "S3FF_TEST_CORS_ORIGINS" in os.environ:
    S3FF_CORS_ORIGINS = os.environ["S3FF_TEST_CORS_ORIGINS"].split(",")

# The test session turns the bound off (its tests start hundreds of anonymous multipart
# uploads); tests/test_anonymous_multipart_rate.py turns it on.
S3FF_ANONYMOUS_MULTIPART_RATE = (
    os.environ.get("S3FF_TEST_ANONYMOUS_MULTIPART_RATE", "60/hour") or None
)

# The load tests run this project under gunicorn with smaller parts, to have more of them.
if "S3FF_PART_SIZE" in os.environ:
    S3FF_PART_SIZE = int(os.environ["S3FF_PART_SIZE"])

# Where browsers reach the store when Django reaches it elsewhere (the docker-compose recipe
# in the README: Django at http://store:8333, browsers at http://localhost:8333).
S3FF_PRESIGN_ENDPOINT_URL = os.environ.get("S3FF_PRESIGN_ENDPOINT_URL") or None
