from __future__ import annotations

from django.db import models

from s3_file_field import S3FileField


class Resource(models.Model):
    # The field id is "legacy_app.Resource.blob", on the default storage (S3Storage), like
    # test_app.Resource.blob in the library's own test project.
    blob = S3FileField()

    def __str__(self) -> str:
        return self.blob.name or f"Resource {self.pk}"
