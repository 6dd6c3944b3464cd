"""The TypeScript client against the real stack.

Runs javascript-client/test/integration (vitest, in Node) against this Django (pytest-django's
`live_server`) and the session's SeaweedFS, with tests/harness/faultproxy.py in between so the tests
can fail part PUTs and count them; then looks at the bucket itself: every object the Node tests
uploaded holds their bytes, and no multipart upload is left behind, aborted ones included.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from test_app.models import Resource
from tests.harness.faultproxy import FaultProxy

from .harness.driver import MiB
from .harness.storages import s3_storage

pytestmark = pytest.mark.once

CLIENT_DIR = Path(__file__).resolve().parents[1] / "javascript-client"
FIELD_ID = "test_app.Resource.blob"
# The smallest part S3 allows, so that multipart uploads stay small and quick.
PART_SIZE = 5 * MiB


@pytest.fixture
def fault_proxy(seaweedfs):
    with FaultProxy(seaweedfs.endpoint_url) as proxy:
        yield proxy


def _sha256_of_object(s3_client, bucket: str, key: str) -> tuple[int, str]:
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    size = 0
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


@pytest.mark.django_db(transaction=True)
def test_typescript_client_integration(
    live_server, fault_proxy, settings, monkeypatch, s3_client, tmp_path, subtests
):
    vitest = CLIENT_DIR / "node_modules" / ".bin" / "vitest"
    if not vitest.exists() or shutil.which("node") is None:
        pytest.fail(
            "The TypeScript client's integration tests need Node and its npm packages: run "
            "`npm ci` in javascript-client/ (scripts/test does it before the Python tests)."
        )
    settings.S3FF_PART_SIZE = PART_SIZE
    # Fewer part URLs in upload-prepare/ than parts, so the client also asks upload-parts/.
    settings.S3FF_PART_URL_BATCH = 2
    # Presigned URLs sign the host: a storage whose endpoint is the proxy sends every request
    # (the client's part PUTs and Django's own S3 calls) through it.
    monkeypatch.setattr(
        Resource._meta.get_field("blob"),
        "storage",
        s3_storage(fault_proxy.url, settings.S3_BUCKET, file_overwrite=False),
    )
    report_path = tmp_path / "report.json"
    results_path = tmp_path / "vitest.json"
    env = {
        **os.environ,
        "NO_COLOR": "1",
        "S3FF_TEST_API_BASE_URL": f"{live_server.url}/api/s3-upload/",
        "S3FF_TEST_RESOURCES_URL": f"{live_server.url}/api/resources/",
        "S3FF_TEST_FIELD_ID": FIELD_ID,
        "S3FF_TEST_PROXY_URL": fault_proxy.url,
        "S3FF_TEST_PART_SIZE": str(PART_SIZE),
        "S3FF_TEST_REPORT": str(report_path),
    }
    done = subprocess.run(
        [
            str(vitest),
            "run",
            "test/integration",
            "--reporter=default",
            "--reporter=json",
            f"--outputFile.json={results_path}",
        ],
        cwd=CLIENT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = f"{done.stdout[-20000:]}\n{done.stderr[-5000:]}\nproxy: {fault_proxy.stats()}"
    # Shown with `pytest -s`: the figures the fault tests log (uploads, faults, retries).
    print(output)
    assert done.returncode == 0, output
    results = json.loads(results_path.read_text())
    cases = [case for file in results["testResults"] for case in file["assertionResults"]]
    assert cases, output
    # Each TypeScript test reports on its own; a skipped or pending one fails like a failed one.
    for case in cases:
        with subtests.test(msg=case["fullName"]):
            assert case["status"] == "passed", case.get("failureMessages") or case["status"]
    assert results["numTotalTests"] == results["numPassedTests"], output

    report = json.loads(report_path.read_text())
    bucket = settings.S3_BUCKET
    assert report["completed"], report
    for upload in report["completed"]:
        assert _sha256_of_object(s3_client, bucket, upload["objectKey"]) == (
            upload["size"],
            upload["sha256"],
        )
    assert len(report["aborted"]) == 2
    for upload in [*report["completed"], *report["aborted"]]:
        listed = s3_client.list_multipart_uploads(Bucket=bucket, Prefix=upload["objectKey"])
        assert listed.get("Uploads", []) == [], upload
    for upload in report["aborted"]:
        # Nor was the aborted upload completed into an object.
        assert "Contents" not in s3_client.list_objects_v2(
            Bucket=bucket, Prefix=upload["objectKey"]
        )
