from __future__ import annotations

from django.db import models

from s3_file_field import S3FileField
from test_app.storages import minio_storage

MiB = 1024 * 1024


class Resource(models.Model):
    blob = S3FileField()

    def __str__(self) -> str:
        return self.blob.name or f"Resource {self.pk}"


class MultiResource(models.Model):
    blob = S3FileField()
    optional_blob = S3FileField(blank=True)

    def __str__(self) -> str:
        return self.blob.name or f"MultiResource {self.pk}"


class LimitedResource(models.Model):
    """Fields that restrict size and type."""

    image = S3FileField(max_size=5 * MiB, accept="image/*")
    document = S3FileField(max_size=20 * MiB, accept="application/pdf,.pdf", blank=True)

    def __str__(self) -> str:
        return self.image.name or f"LimitedResource {self.pk}"


class MinioResource(models.Model):
    """A field on django-minio-storage's MinioStorage."""

    blob = S3FileField(storage=minio_storage)

    def __str__(self) -> str:
        return self.blob.name or f"MinioResource {self.pk}"


class Report(models.Model):
    """A file beside a field the browser cannot check: a title must be unique."""

    title = models.CharField(max_length=100, unique=True)
    file = S3FileField()

    def __str__(self) -> str:
        return self.title


class Attachment(models.Model):
    """Inline rows of a Resource in the admin."""

    resource = models.ForeignKey(Resource, related_name="attachments", on_delete=models.CASCADE)
    file = S3FileField(blank=True)

    def __str__(self) -> str:
        return self.file.name or f"Attachment {self.pk}"
