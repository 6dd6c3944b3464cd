"""A second storage family for the same SeaweedFS: django-minio-storage."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from minio import Minio
from minio_storage.storage import MinioStorage

from tests.harness.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY


def minio_storage() -> MinioStorage:
    # Defaults (test_app/settings.py's): the models call this as they import, under any settings.
    endpoint = urlsplit(getattr(settings, "S3_ENDPOINT_URL", "http://127.0.0.1:8333"))
    client = Minio(
        endpoint.netloc,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        secure=endpoint.scheme == "https",
        region=REGION,
    )
    bucket = getattr(settings, "MINIO_BUCKET", "s3ff-minio-test")
    return MinioStorage(client, bucket, assume_bucket_exists=True)
