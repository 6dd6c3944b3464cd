"""Starts SeaweedFS for the test session before Django is set up, and stops it after."""

from __future__ import annotations

import os

import pytest

from tests.harness.seaweedfs import SeaweedFS

BUCKETS = ["s3ff-test", "s3ff-minio-test"]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.option.help or config.option.version:
        return
    server = SeaweedFS(buckets=BUCKETS)
    server.start()
    config.stash[_server_key] = server
    os.environ["S3FF_TEST_S3_ENDPOINT_URL"] = server.endpoint_url
    os.environ["S3FF_TEST_S3_BUCKET"] = BUCKETS[0]
    os.environ["S3FF_TEST_MINIO_BUCKET"] = BUCKETS[1]
    os.environ["S3FF_TEST_ANONYMOUS_MULTIPART_RATE"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
    # pytest-django's own pytest_configure (trylast) sets Django up once settings are loaded.
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_server_key, None)
    if server is not None:
        server.stop()


_server_key = pytest.StashKey[SeaweedFS]()


@pytest.fixture(scope="session")
def seaweedfs(pytestconfig: pytest.Config) -> SeaweedFS:
    return pytestconfig.stash[_server_key]
