"""`manage.py s3ff_cors`: show the buckets' CORS rules and, with --apply, write the one uploads
need."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...buckets import StorageGroup, storage_groups
from ...conf import is_origin
from ...cors import (
    CORS_REQUEST_HEADERS_TEXT,
    CORS_RULE_ID,
    CorsRule,
    evaluate_cors,
    recommended_rule,
    rules_with_recommended,
    site_origins,
)
from ...exceptions import NotSupported, StorageError


def _origin(text: str) -> str:
    origin = text.strip()
    if not is_origin(origin):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an origin: scheme://host[:port], no path or trailing slash."
        )
    return origin


def _verdict(rules: Sequence[CorsRule] | None, origin: str, request_headers: Sequence[str]) -> str:
    report = evaluate_cors(rules, [origin], request_headers)
    if report.blocked:
        return f"cannot upload: no rule lets it PUT with the {CORS_REQUEST_HEADERS_TEXT}"
    if report.etag_hidden:
        return "cannot finish uploads in parts: the rule for its PUT does not expose ETag"
    return "can upload"


def _rules_json(rules: Sequence[CorsRule]) -> str:
    text = json.dumps([rule.as_s3() for rule in rules], indent=2)
    return "\n".join(f"    {line}" for line in text.splitlines())


class Command(BaseCommand):
    help = (
        "Show the CORS rules of the buckets S3FileFields upload to and whether the site's "
        "origins can upload; with --apply, write the rule they need (other rules are kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--origin",
            action="append",
            type=_origin,
            default=[],
            dest="origins",
            metavar="ORIGIN",
            help="An origin whose pages upload, e.g. https://example.com (repeat for more). "
            "Default: S3FF_CORS_ORIGINS, else CSRF_TRUSTED_ORIGINS and ALLOWED_HOSTS.",
        )
        parser.add_argument(
            "--apply",
            action="store_true",
            help=f"Write the rule (ID {CORS_RULE_ID!r}) first in each bucket's configuration, "
            "replacing an earlier one of the same ID and keeping every other rule.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        origins: list[str] = options["origins"]
        source = "--origin"
        if not origins:
            site = site_origins()
            origins, source = list(site.origins), site.source
        if options["apply"] and not origins:
            raise CommandError(
                f"No origin to allow: none was given and none comes from {source}. "
                "Pass --origin https://example.com, or set S3FF_CORS_ORIGINS."
            )
        groups = storage_groups()
        if not groups:
            self.stdout.write("No S3FileField uses a supported storage: no bucket to show.")
            return
        failed = [
            group.label for group in groups if not self._bucket(group, origins, source, options)
        ]
        if failed:
            raise CommandError(f"Not done for {', '.join(failed)}; see above.")

    def _bucket(
        self, group: StorageGroup, origins: list[str], source: str, options: dict[str, Any]
    ) -> bool:
        """Show (and with --apply, fix) one bucket; False if that failed."""
        self.stdout.write(f"{group.label}, for {group.field_ids}:")
        backend = group.backend
        try:
            rules = backend.get_cors_rules()
        except NotSupported as error:
            self.stderr.write(
                f"  The store has no per-bucket CORS ({error}). MinIO applies a server-wide "
                "setting instead (MINIO_API_CORS_ALLOW_ORIGIN): make sure it allows these "
                "origins."
            )
            return False
        except StorageError as error:
            self.stderr.write(f"  Reading the CORS configuration failed: {error}")
            return False
        headers = backend.cors_request_headers()
        self._show(rules, origins, source, headers)
        if not origins:
            return True
        if not options["apply"]:
            if evaluate_cors(rules, origins, headers).ok:
                self.stdout.write("  Every origin can upload: nothing to apply.")
            else:
                self.stdout.write("  --apply would write this rule first, keeping the others:")
                self.stdout.write(_rules_json([recommended_rule(origins, headers)]))
            return True
        new_rules = rules_with_recommended(rules, origins, headers)
        try:
            backend.put_cors_rules(new_rules)
            written = backend.get_cors_rules()
        except StorageError as error:
            self.stderr.write(f"  Writing the CORS configuration failed: {error}")
            return False
        kept = len(new_rules) - 1
        self.stdout.write(
            self.style.SUCCESS(
                f"  Wrote rule {CORS_RULE_ID!r} for {', '.join(origins)}; kept "
                f"{kept} other rule{'' if kept == 1 else 's'}."
            )
        )
        self._show(written, origins, source, headers)
        return evaluate_cors(written, origins, headers).ok

    def _show(
        self,
        rules: list[CorsRule] | None,
        origins: list[str],
        source: str,
        request_headers: Sequence[str],
    ) -> None:
        if rules is None:
            self.stdout.write("  CORS rules: none (no CORS configuration)")
        else:
            self.stdout.write("  CORS rules:")
            self.stdout.write(_rules_json(rules))
        if not origins:
            self.stdout.write(
                f"  No origin comes from {source}: pass --origin, or set S3FF_CORS_ORIGINS."
            )
            return
        self.stdout.write(f"  Origins (from {source}):")
        for origin in origins:
            self.stdout.write(f"    {origin}: {_verdict(rules, origin, request_headers)}")
