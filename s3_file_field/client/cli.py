"""`s3ff`: upload files from a shell through a Django server's upload API."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx
from tqdm import tqdm

from . import DEFAULTS, DirectoryResumeStore, Progress, S3FileFieldClient, UploadResult
from ._api import csrf_headers
from .errors import S3FileFieldClientError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

DESCRIPTION = """\
Uploads files straight to the object store (S3, MinIO, ...) behind a Django site that uses
s3-file-field, and prints what to save in the model field: a signed field value that the
site's forms and API serializers accept for that field (and no other).
"""

EPILOG = """\
examples:
  s3ff upload scan.tif --url https://example.com/api/s3-upload/ --field imaging.Scan.image
  S3FF_TOKEN=... s3ff upload *.csv --url ... --field data.Table.source --json > values.json
  s3ff upload report.pdf --url ... --field docs.Report.file \\
      --attach https://example.com/api/reports/ --attach-data '{"title": "Q3"}'

authentication (whatever the site's API accepts; none of it is sent to the store):
  --token / $S3FF_TOKEN   Django REST framework's "Authorization: Token ..."
  --header "Name: value"  any header, e.g. "Authorization: Bearer ..."
  --cookie name=value     a signed-in session: sessionid=..., and csrftoken=... for Django's
                          CSRF check (sent back as X-CSRFToken)

exit codes:
  0    every file uploaded (and attached)
  1    some file failed: the reason is on stderr (and in --json's output)
  2    bad usage: an unknown option, a file that cannot be read
  130  interrupted (Ctrl+C): the upload in progress was aborted on the store (with
       --resume, kept: the same command again goes on where it stopped)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s3ff",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    upload = commands.add_parser(
        "upload",
        help="upload files and print their field values",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    upload.add_argument("files", nargs="+", metavar="FILE", type=Path, help="files to upload")
    upload.add_argument(
        "--url", required=True, help="the upload API, where the site includes s3_file_field.urls"
    )
    upload.add_argument(
        "--field", required=True, metavar="APP.MODEL.FIELD", help="the S3FileField to upload for"
    )
    upload.add_argument("--content-type", help="of every file (default: guessed from its name)")
    upload.add_argument("--name", help="the file name to give the server (one file only)")
    auth = upload.add_argument_group("authentication")
    auth.add_argument(
        "--token",
        default=os.environ.get("S3FF_TOKEN"),
        help="a DRF token; $S3FF_TOKEN keeps it out of `ps` and the shell's history",
    )
    auth.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="repeatable"
    )
    auth.add_argument(
        "--cookie", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    tuning = upload.add_argument_group("transfer")
    tuning.add_argument("--concurrency", type=int, default=DEFAULTS.concurrency, metavar="N")
    tuning.add_argument("--retries", type=int, default=DEFAULTS.retries, metavar="N")
    tuning.add_argument(
        "--stall-timeout", type=float, default=DEFAULTS.stall_timeout, metavar="SECONDS"
    )
    tuning.add_argument(
        "--no-checksums", action="store_true", help="do not have the store check each part"
    )
    tuning.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="DIR",
        help="keep unfinished uploads (in DIR, default ~/.cache/s3-file-field/uploads) and go "
        "on with them when run again with the same files",
    )
    output = upload.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print one JSON list of results")
    output.add_argument("--quiet", action="store_true", help="no progress bars")
    attach = upload.add_argument_group("attach each value to a record through the site's API")
    attach.add_argument("--attach", metavar="URL", help="an API endpoint taking the value")
    attach.add_argument(
        "--attach-as", metavar="NAME", help="the key of the value (default: the field's name)"
    )
    attach.add_argument("--attach-method", choices=["POST", "PATCH", "PUT"], default="POST")
    attach.add_argument("--attach-data", metavar="JSON", help="more keys to send, a JSON object")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = _usage_problem(args)
    if problem:
        parser.error(problem)
    http = httpx.Client(timeout=httpx.Timeout(args.stall_timeout, pool=None))
    for header in args.header:
        name, _, value = header.partition(":")
        http.headers[name.strip()] = value.strip()
    for cookie in args.cookie:
        name, _, value = cookie.partition("=")
        http.cookies.set(name.strip(), value.strip())
    client = S3FileFieldClient(
        args.url,
        http_client=http,
        token=args.token,
        concurrency=args.concurrency,
        retries=args.retries,
        checksums=not args.no_checksums,
        stall_timeout=args.stall_timeout,
        resume=False if args.resume is None else DirectoryResumeStore(args.resume or None),
    )
    results: list[dict[str, Any]] = []
    # Ctrl+C sets `cancel`: the upload stops, is aborted on the store, and we exit with 130;
    # a second one does not wait for that.
    cancel = threading.Event()

    def interrupt(number: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        for path in args.files:
            if cancel.is_set():
                break
            results.append(_upload_one(client, http, path, args, cancel))
    finally:
        signal.signal(signal.SIGINT, previous)
        client.close()
        http.close()
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    if cancel.is_set():
        if args.resume is None:
            _say(sys.stderr, "interrupted; the upload in progress was aborted")
        else:
            _say(sys.stderr, "interrupted; the same command goes on where this one stopped")
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any("error" in result for result in results) else EXIT_OK


def _usage_problem(args: argparse.Namespace) -> str | None:
    for path in args.files:
        if not path.is_file() or not os.access(path, os.R_OK):
            return f"{path} is not a readable file"
    if args.name and len(args.files) > 1:
        return "--name is for one file only"
    if args.concurrency < 1 or args.retries < 0 or args.stall_timeout <= 0:
        return "--concurrency ≥ 1, --retries ≥ 0 and --stall-timeout > 0"
    if args.field.count(".") != 2:
        return "--field is app_label.ModelName.field_name"
    if args.attach_method != "POST" and args.attach and len(args.files) > 1:
        return f"--attach-method {args.attach_method} updates one record: give one file"
    if args.attach_data is not None:
        try:
            data = json.loads(args.attach_data)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return "--attach-data is a JSON object"
    if any(":" not in header for header in args.header):
        return "--header is 'Name: value'"
    if any("=" not in cookie for cookie in args.cookie):
        return "--cookie is name=value"
    return None


def _upload_one(
    client: S3FileFieldClient,
    http: httpx.Client,
    path: Path,
    args: argparse.Namespace,
    cancel: threading.Event,
) -> dict[str, Any]:
    name = args.name or path.name
    bar = tqdm(
        total=path.stat().st_size,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=args.quiet,
        file=sys.stderr,
        leave=True,
    )

    def show(progress: Progress) -> None:
        bar.update(progress.sent - bar.n)

    try:
        result = client.upload(
            path,
            args.field,
            file_name=name,
            content_type=args.content_type,
            on_progress=show,
            cancel=cancel,
            keep_on_cancel=args.resume is not None,
        )
    except S3FileFieldClientError as error:
        bar.close()
        if not cancel.is_set():
            _say(sys.stderr, f"{path}: {error}")
        return {"file": str(path), "error": str(error), "code": error.code}
    finally:
        bar.close()
    outcome = _described(path, result)
    if args.attach:
        outcome.update(_attach(http, result, args))
        if "error" in outcome:
            _say(sys.stderr, f"{path}: uploaded, but {outcome['error']}")
    if not args.json:
        print(result.field_value, flush=True)
    return outcome


def _described(path: Path, result: UploadResult) -> dict[str, Any]:
    return {
        "file": str(path),
        "field_value": result.field_value,
        "object_key": result.object_key,
        "size": result.file_size,
        "checksum": result.checksum,
    }


def _attach(http: httpx.Client, result: UploadResult, args: argparse.Namespace) -> dict[str, Any]:
    key = args.attach_as or args.field.rsplit(".", 1)[-1]
    body = {**json.loads(args.attach_data or "{}"), key: result.field_value}
    headers = csrf_headers(http, args.attach, DEFAULTS.csrf_cookie_name)
    try:
        response = http.request(args.attach_method, args.attach, json=body, headers=headers)
    except httpx.HTTPError as error:
        return {"error": f"attaching it failed: no response ({error})"}
    try:
        answer = response.json()
    except ValueError:
        answer = response.text[:500]
    if not response.is_success:
        return {"error": f"attaching it failed (HTTP {response.status_code}): {answer}"}
    return {"attached": answer}


def _say(stream: TextIO, message: str) -> None:
    print(f"s3ff: {message}", file=stream, flush=True)
