"""The one table of the library: which finalized uploads were attached to a record."""

from __future__ import annotations

from django.db import models


class UploadClaim(models.Model):
    """A field value that was saved into a record: each one attaches once, ever.

    The primary key makes two concurrent saves of one value a database conflict rather than a
    race; a claim outlives its record, so a value cannot come back once its row lets go.
    Claims older than `S3FF_FIELD_VALUE_MAX_AGE` guard nothing (their values have expired) and
    `manage.py s3ff_cleanup` removes them.
    """

    # sha256 of "<field id>\n<storage name>": fixed length, so any database can index it.
    digest = models.CharField(max_length=64, primary_key=True)
    claimed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "attached upload"

    def __str__(self) -> str:
        return self.digest
