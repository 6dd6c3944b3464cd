"""How long the upload API spends on the worst bodies a client can send.

Each body is built to cost the server the most: as large as the API takes, nested as deep as
JSON allows, lists as long as fit, and the largest legitimate body for comparison. Each is sent
to the view in process (Django's test client: the time is the server's alone, no network), in
interleaved rounds; the script prints the median and the slowest time per body, the answer's
status and size, and whether every median is within the budget (50 ms). No store is needed:
every one of these is refused before the store would be called.

    .venv/bin/python benchmarks/hostile_requests.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

BUDGET_MS = 50.0
BODY_LIMIT = 2 * 1024 * 1024
ZERO_MD5 = "1B2M2Y8AsgTpgAmY7PhCfg=="


def fill(prefix: str, item: str, suffix: str, limit: int = BODY_LIMIT) -> str:
    """`prefix`, then as many comma-separated `item`s as keep the body within `limit`."""
    count = (limit - len(prefix) - len(suffix)) // (len(item) + 1)
    return prefix + ",".join([item] * count) + suffix


def bodies(signature: str) -> dict[str, tuple[str, str]]:
    """name -> (endpoint, body)."""
    sig = json.dumps(signature)
    parts = [f'{{"part_number": {n}, "etag": "\\"{"e" * 124}\\""}}' for n in range(1, 10_001)]
    checksums = [f'{{"part_number": {n}, "content_md5": "{ZERO_MD5}"}}' for n in range(1, 10_001)]
    return {
        "nested [ to the size limit": ("upload-parts", "[" * (BODY_LIMIT - 1)),
        "nested objects past the recursion limit": (
            "upload-finalize",
            '{"a":' * 100_000 + "0" + "}" * 100_000,
        ),
        "2 MiB of part numbers (zeros)": (
            "upload-parts",
            fill(f'{{"upload_signature": {sig}, "part_numbers": [', "0", "]}"),
        ),
        "2 MiB of valid part numbers": (
            "upload-parts",
            fill(f'{{"upload_signature": {sig}, "part_numbers": [', "1", "]}"),
        ),
        "2 MiB of empty lists under an unknown key": (
            "upload-status",
            fill(f'{{"upload_signature": {sig}, "x": [', "[]", "]}"),
        ),
        "2 MiB of empty objects under an unknown key": (
            "upload-status",
            fill(f'{{"upload_signature": {sig}, "x": [', "{}", "]}"),
        ),
        "an object of 24,999 keys": (
            "upload-finalize",
            "{" + ",".join(f'"k{n}": 0' for n in range(24_998)) + f', "upload_signature": {sig}}}',
        ),
        "24,999 empty lists under an unknown key": (
            "upload-finalize",
            f'{{"upload_signature": {sig}, "x": [' + ",".join(["[]"] * 24_998) + "]}",
        ),
        "24,999 lists of one number under an unknown key": (
            "upload-finalize",
            f'{{"upload_signature": {sig}, "x": [' + ",".join(["[0]"] * 24_998) + "]}",
        ),
        "a 2 MiB file name": (
            "upload-prepare",
            json.dumps(
                {"field_id": "test_app.Resource.blob", "file_size": 1, "file_name": "x" * 2_000_000}
            ),
        ),
        "10,000 parts of the longest ETag, bad signature": (
            "upload-finalize",
            '{"upload_signature": "x", "parts": [' + ",".join(parts) + "]}",
        ),
        "10,000 part checksums in a prepare": (
            "upload-prepare",
            '{"field_id": "test_app.Resource.blob", "file_name": "a.bin", "file_size": 1, '
            '"checksum": "md5", "part_checksums": [' + ",".join(checksums) + "]}",
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "test_app.settings")
    import django

    django.setup()
    from django.test import Client

    from s3_file_field.values import UploadTicket, sign_upload_ticket

    signature = sign_upload_ticket(
        UploadTicket(
            field_id="test_app.Resource.blob",
            name="0000/x.bin",
            file_name="x.bin",
            file_size=10_000 * 5 * 1024 * 1024,
            content_type="application/octet-stream",
            upload_id="bench",
            part_size=5 * 1024 * 1024,
        )
    )
    client = Client()
    cases = bodies(signature)
    times: dict[str, list[float]] = {name: [] for name in cases}
    answers: dict[str, tuple[int, int]] = {}

    def send(name: str) -> Callable[[], None]:
        endpoint, body = cases[name]

        def call() -> None:
            response = client.post(
                f"/api/s3-upload/{endpoint}/", body, content_type="application/json"
            )
            answers[name] = (response.status_code, len(response.content))

        return call

    for _ in range(args.rounds):
        for name in cases:  # interleaved: each round sends every body once
            call = send(name)
            started = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - started) * 1000)

    width = max(map(len, cases))
    print(f"{'body':<{width}}  {'size':>9}  {'median ms':>9}  {'max ms':>7}  answer")
    within = True
    for name, (_, body) in cases.items():
        median = statistics.median(times[name])
        within &= median <= BUDGET_MS and answers[name][0] < 500
        status, size = answers[name]
        print(
            f"{name:<{width}}  {len(body):>9}  {median:>9.1f}  {max(times[name]):>7.1f}  "
            f"{status}, {size} bytes"
        )
    verdict = "every median within" if within else "NOT all within"
    print(f"\n{verdict} {BUDGET_MS:.0f} ms ({args.rounds} interleaved rounds)")


if __name__ == "__main__":
    main()
