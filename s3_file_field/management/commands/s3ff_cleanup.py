"""`manage.py s3ff_cleanup`: abort old unfinished uploads, remove objects no row references."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from ...buckets import storage_groups
from ...exceptions import StorageError
from .. import cleanup
from ..cleanup import (
    GroupPlan,
    drop_referenced,
    expired_claims,
    find_old_objects,
    find_pending_uploads,
    format_age,
    parse_age,
    plan_group,
    safe_object_age,
    safe_upload_age,
)


def _age(text: str) -> timedelta:
    try:
        return parse_age(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} bytes"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Abort unfinished multipart uploads and find objects that no model row references "
        "(abandoned forms), under the <uuid4>/<file name> keys of S3FileFields with the default "
        "upload_to, and forget the records of attached uploads whose values have expired. "
        "Lists them (a dry run) unless --delete."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=_age,
            metavar="AGE",
            help="Only what is older than AGE (90s, 15m, 48h, 7d, 2w). Default: as old as "
            "signed values live, S3FF_UPLOAD_SIGNATURE_MAX_AGE for uploads and that plus "
            "S3FF_FIELD_VALUE_MAX_AGE for objects.",
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Abort and remove what is listed. Without it nothing is changed.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="With --delete, accept an --older-than below the default: an upload in "
            "progress, or a form that is still being filled in, may then lose its file.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        older_than: timedelta | None = options["older_than"]
        delete: bool = options["delete"]
        upload_age = older_than if older_than is not None else safe_upload_age()
        object_age = older_than if older_than is not None else safe_object_age()
        too_young = [
            f"{what} (at least {format_age(safe)})"
            for what, age, safe in (
                ("unfinished uploads", upload_age, safe_upload_age()),
                ("objects", object_age, safe_object_age()),
            )
            if age < safe
        ]
        if too_young:
            warning = (
                f"--older-than {format_age(upload_age)} is younger than signed values live, for "
                f"{' and '.join(too_young)}: what is listed may still be in use."
            )
            if delete and not options["force"]:
                raise CommandError(f"{warning} Add --force to remove it anyway.")
            self.stderr.write(self.style.WARNING(warning))

        now = cleanup.now()
        plans = [plan_group(group) for group in storage_groups()]
        try:
            for plan in plans:
                find_pending_uploads(plan, now - upload_age)
                find_old_objects(plan, now - object_age)
        except StorageError as error:
            raise CommandError(
                f"Listing the bucket failed: {error}. Nothing was removed."
            ) from None
        # Every bucket's candidates are checked against every row before anything is removed.
        try:
            drop_referenced(plans)
        except DatabaseError as error:
            raise CommandError(
                f"Reading the FileField columns failed: {error}. Nothing was removed."
            ) from None

        for plan in plans:
            self._show(plan, upload_age, object_age, delete)
        uploads = [upload for plan in plans for upload in plan.uploads]
        objects = [stored for plan in plans for stored in plan.objects]
        summary = (
            f"{_count(len(uploads), 'unfinished upload')} "
            f"({_size(sum(size for _, size in uploads))}) and "
            f"{_count(len(objects), 'unreferenced object')} "
            f"({_size(sum(stored.size for stored in objects))})"
        )
        claims = expired_claims()
        claim_count = sum(claim.count() for claim in claims)
        self.stdout.write(f"Records of attached uploads whose values have expired: {claim_count}")
        if not delete:
            self.stdout.write(f"Dry run: would abort and remove {summary}. Add --delete to do it.")
            return
        for claim in claims:
            claim.delete()
        failures = sum(self._remove(plan) for plan in plans)
        if failures:
            raise CommandError(f"Of {summary}, {_count(failures, 'removal')} failed; see above.")
        self.stdout.write(f"Aborted and removed {summary}.")

    def _show(
        self, plan: GroupPlan, upload_age: timedelta, object_age: timedelta, delete: bool
    ) -> None:
        self.stdout.write(f"{plan.group.label}, for {plan.group.field_ids}:")
        for field_id, reason in plan.skipped:
            self.stdout.write(f"  {field_id} not cleaned: {reason}.")
        if not plan.cleaned:
            return
        verb_abort, verb_delete = ("abort", "delete") if delete else ("would abort", "would delete")
        self.stdout.write(
            f"  Unfinished multipart uploads started more than {format_age(upload_age)} ago: "
            f"{len(plan.uploads)}"
        )
        for upload, size in plan.uploads:
            self.stdout.write(
                f"    {verb_abort}  {upload.name}  started {_when(upload.initiated)}  {_size(size)}"
            )
        if plan.unmapped is not None:
            self.stdout.write(
                self.style.WARNING(
                    f"  Objects older than {format_age(object_age)}: none is removed, because "
                    f"{plan.unmapped}: what it refers to cannot be told."
                )
            )
            return
        self.stdout.write(
            f"  Objects older than {format_age(object_age)} that no row references: "
            f"{len(plan.objects)}"
        )
        for stored in plan.objects:
            self.stdout.write(
                f"    {verb_delete}  {stored.name}  {_when(stored.last_modified)}  "
                f"{_size(stored.size)}"
            )

    def _remove(self, plan: GroupPlan) -> int:
        """Abort and delete what the plan lists; returns how many removals failed."""
        backend = plan.group.backend
        failures = 0
        for upload, _ in plan.uploads:
            try:
                backend.abort_multipart_upload(upload.name, upload.upload_id)
            except StorageError as error:
                failures += 1
                self.stderr.write(f"Could not abort the upload of {upload.name}: {error}")
        if plan.objects:
            try:
                failed = backend.delete_objects([stored.name for stored in plan.objects])
            except StorageError as error:
                failed = {stored.name: str(error) for stored in plan.objects}
            for name, reason in failed.items():
                self.stderr.write(f"Could not delete {name}: {reason}")
            failures += len(failed)
        return failures
