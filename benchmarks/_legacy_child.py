"""The django-s3-file-field 1.1.0 half of prepare_finalize.py; run by it, in 1.1.0's virtualenv.

Reads its configuration as JSON on stdin and prints its measurements as JSON on stdout.
1.1.0's flow: `upload-initialize/` (our prepare), then the client PUTs the parts, then
`upload-complete/` (which only signs a CompleteMultipartUpload request that the client sends to
S3 itself) and `finalize/` (which checks the object with HeadObject). Its "finalize" is
measured as upload-complete + finalize, summed; the client's own request to S3 in between is
not Django's work and is neither timed nor counted.
"""

from __future__ import annotations

import json
import os
import sys
from functools import partial
from importlib.metadata import version
from pathlib import Path
from typing import Any

import requests
from _common import (
    CONTENT_TYPE,
    FIELD_NAME,
    REAL_UPLOAD_SIZES,
    SIZES,
    ApiDriver,
    Budget,
    FakeStore,
    Measurement,
    S3CallCounter,
    Sample,
    combine,
    log,
    part_etag,
    run_samples,
)

FIELD_ID = "legacy_app.Resource.blob"
LIBRARY = "1.1.0"


class Legacy:
    def __init__(self, api: ApiDriver, s3: Any, bucket: str, fake: FakeStore) -> None:
        self.api = api
        self.s3 = s3
        self.bucket = bucket
        self.fake = fake

    def initialize(self, size: int) -> tuple[dict[str, Any], Sample]:
        body = {
            "field_id": FIELD_ID,
            "file_name": FIELD_NAME,
            "file_size": size,
            "content_type": CONTENT_TYPE,
        }
        return self.api.post("upload-initialize", body)

    def abort(self, initialized: dict[str, Any]) -> None:
        """Free a multipart upload left open by a prepare-only measurement (untimed)."""
        self.s3.abort_multipart_upload(
            Bucket=self.bucket, Key=initialized["object_key"], UploadId=initialized["upload_id"]
        )

    def upload(self, size: int, payload: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Initialize and PUT every part, as the 1.1.0 widget does; nothing here is timed."""
        initialized, _ = self.initialize(size)
        receipts = []
        offset = 0
        for part in initialized["parts"]:
            chunk = payload[offset : offset + part["size"]]
            offset += part["size"]
            etag = put_part(part["upload_url"], chunk)
            receipts.append(
                {"part_number": part["part_number"], "size": part["size"], "etag": etag}
            )
        return initialized, receipts

    def finalize(self, initialized: dict[str, Any], receipts: list[dict[str, Any]]) -> Sample:
        """upload-complete/ (timed), the client's POST to S3 (not timed), finalize/ (timed)."""
        completed, complete_sample = self.api.post(
            "upload-complete",
            {
                "upload_signature": initialized["upload_signature"],
                "upload_id": initialized["upload_id"],
                "parts": receipts,
            },
        )
        if initialized["object_key"] not in self.fake.objects:
            # The widget sends the signed completion itself (no Content-Type, as it does).
            response = requests.post(completed["complete_url"], data=completed["body"], timeout=300)
            # A repeat after success is refused by the store (NoSuchUpload): harmless, as in
            # the browser, since finalize/ below only looks at the object.
            if response.status_code != 200 and b"NoSuchUpload" not in response.content:
                raise RuntimeError(f"CompleteMultipartUpload failed: {response.text}")
        finalized, finalize_sample = self.api.post(
            "finalize", {"upload_signature": initialized["upload_signature"]}
        )
        if not finalized.get("field_value"):
            raise RuntimeError(f"finalize/ gave no field_value: {finalized}")
        return combine(**{"upload-complete": complete_sample, "finalize": finalize_sample})


def put_part(url: str, data: bytes) -> str:
    # 1.1.0's widget sends the part with no extra headers.
    response = requests.put(url, data=data, timeout=300)
    if response.status_code != 200:
        raise RuntimeError(f"PUT of a part answered {response.status_code}: {response.text}")
    return str(response.headers["ETag"])


def measure(config: dict[str, Any]) -> list[Measurement]:
    import django
    from django.core.management import call_command

    django.setup()
    # call_command skips system checks, so 1.1.0's bucket check makes no S3 call here.
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)

    from django.core.files.storage import default_storage
    from rest_framework.test import APIClient

    s3 = default_storage.connection.meta.client  # type: ignore[attr-defined]
    api = ApiDriver(APIClient(), S3CallCounter(s3), "/api/s3-upload/")
    fake = FakeStore(s3)
    legacy = Legacy(api, s3, os.environ["S3FF_BENCH_BUCKET"], fake)
    budget = Budget(**config["budget"])
    big_budget = Budget(**{**config["budget"], "reps": config["big_reps"]})
    payload = os.urandom(SIZES["100 MiB"])
    results: list[Measurement] = []

    for label, size in SIZES.items():
        log(f"[1.1.0] prepare (upload-initialize/) {label}")

        def prepare_once(size: int = size) -> Sample:
            initialized, sample = legacy.initialize(size)
            legacy.abort(initialized)
            return sample

        note = "upload-initialize/"
        results.append(
            Measurement(LIBRARY, label, "prepare", "real", note, run_samples(budget, prepare_once))
        )

        if label in REAL_UPLOAD_SIZES:
            log(f"[1.1.0] finalize (upload-complete/ + finalize/) {label}, fresh uploads")
            data = payload[:size]

            def first_finalize(size: int = size, data: bytes = data) -> Sample:
                return legacy.finalize(*legacy.upload(size, data))

            reps = big_budget if size > SIZES["1 KiB"] else budget
            note = "upload-complete/ + finalize/ summed; client's own POST to S3 between them"
            results.append(
                Measurement(
                    LIBRARY,
                    label,
                    "finalize",
                    "real",
                    note,
                    run_samples(reps, first_finalize, warmup=1),
                )
            )

            log(f"[1.1.0] finalize (repeat) {label}")
            uploaded = legacy.upload(size, data)
            legacy.finalize(*uploaded)
            results.append(
                Measurement(
                    LIBRARY,
                    label,
                    "finalize (repeat)",
                    "real",
                    "same upload finalized again",
                    run_samples(budget, partial(legacy.finalize, *uploaded)),
                )
            )
        else:
            log(f"[1.1.0] finalize {label} against canned S3 answers")
            initialized, _ = legacy.initialize(size)
            receipts = [
                {
                    "part_number": part["part_number"],
                    "size": part["size"],
                    "etag": part_etag(initialized["upload_id"], part["part_number"]),
                }
                for part in initialized["parts"]
            ]
            fake.objects[initialized["object_key"]] = size
            samples = run_samples(budget, partial(legacy.finalize, initialized, receipts))
            fake.clear()
            legacy.abort(initialized)
            note = "upload-complete/ + finalize/ summed; HeadObject answered by FakeStore"
            results.append(Measurement(LIBRARY, label, "finalize", "stubbed store", note, samples))
    return results


def main() -> int:
    config = json.load(sys.stdin)
    import s3_file_field

    # Both libraries are `s3_file_field`: make sure this is 1.1.0 from this virtualenv.
    installed = version("django-s3-file-field")
    location = Path(s3_file_field.__file__).resolve()
    if installed != "1.1.0" or Path(sys.prefix).resolve() not in location.parents:
        raise RuntimeError(f"expected django-s3-file-field 1.1.0 in {sys.prefix}, got {location}")
    measurements = measure(config)
    versions = {
        name: version(name)
        for name in (
            "django-s3-file-field",
            "django",
            "djangorestframework",
            "django-storages",
            "boto3",
            "botocore",
        )
    }
    versions["python"] = sys.version.split()[0]
    json.dump(
        {"versions": versions, "measurements": [m.as_json() for m in measurements]}, sys.stdout
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
