"""Storages of both families pointed at a test store, built one way for every test."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio_storage.storage import MinioStorage
from storages.backends.s3 import S3Storage

from .seaweedfs import ACCESS_KEY, REGION, SECRET_KEY


def s3_storage(
    endpoint: str,
    bucket: str,
    access_key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    **options: Any,
) -> S3Storage:
    """django-storages' S3Storage on `bucket` at `endpoint`; `options` as S3Storage takes."""
    options.setdefault("signature_version", "s3v4")
    return S3Storage(
        bucket_name=bucket,
        endpoint_url=endpoint,
        access_key=access_key,
        secret_key=secret,
        region_name=REGION,
        addressing_style="path",
        **options,
    )


def minio_storage(
    endpoint: str,
    bucket: str,
    access_key: str = ACCESS_KEY,
    secret: str = SECRET_KEY,
    read_timeout: float | None = None,
) -> MinioStorage:
    """django-minio-storage's MinioStorage on `bucket` at `endpoint`."""
    http_client = (
        None
        if read_timeout is None
        else urllib3.PoolManager(timeout=urllib3.Timeout(connect=60, read=read_timeout))
    )
    client = Minio(
        urlsplit(endpoint).netloc,
        access_key=access_key,
        secret_key=secret,
        secure=False,
        region=REGION,
        http_client=http_client,
    )
    return MinioStorage(client, bucket, assume_bucket_exists=True)
