"""A second storage family for the same SeaweedFS: django-minio-storage."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from minio import Minio
from minio_storage.storage import MinioStorage

from test_app.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY


def minio_storage() -> MinioStorage:
    endpoint = urlsplit(settings.S3_ENDPOINT_URL)
    client = Minio(
        endpoint.netloc,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        secure=endpoint.scheme == "https",
        region=REGION,
    )
    return MinioStorage(client, settings.MINIO_BUCKET, assume_bucket_exists=True)
