"""django-s3-file-field 1.x's protocol, served beside ours: its real clients, unchanged, upload
files that forms accept, with our guarantees (legacy.py)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from s3_file_field_client import S3FileFieldClient as LegacyPythonClient

from test_app.forms import ResourceForm
from test_app.models import Resource

from .harness.driver import MiB

CLIENT_DIR = Path(__file__).resolve().parents[1] / "javascript-client"
FIELD = "test_app.Resource.blob"
BASE = "/api/s3-upload/"
SIZES = [1, 5 * MiB, 5 * MiB + 1, 11 * MiB + 7]


def saved_through_a_form(value: str) -> Resource:
    form = ResourceForm(data={"blob": value})
    assert form.is_valid(), form.errors
    return form.save()


@pytest.mark.once
@pytest.mark.django_db(transaction=True)
def test_the_1x_python_client_uploads_files_a_form_then_saves(live_server, settings):
    settings.S3FF_PART_SIZE = 5 * MiB
    client = LegacyPythonClient(f"{live_server.url}{BASE}", requests.Session())
    for size in SIZES:
        data = os.urandom(size)
        value = client.upload_file(
            file_stream=io.BytesIO(data),
            file_name="legacy.bin",
            file_content_type="application/octet-stream",
            field_id=FIELD,
        )
        resource = saved_through_a_form(value)
        assert str(resource.blob.name).endswith("/legacy.bin")
        with resource.blob.open("rb") as stored:
            assert stored.read() == data, size


# The 1.x npm client, unchanged (installed as django-s3-file-field-1 in javascript-client/),
# in Node: uploads files of the sizes given, prints their field values.
NPM_CLIENT_SCRIPT = """
import S3FileFieldClient from 'django-s3-file-field-1';
const [baseUrl, fieldId, ...sizes] = process.argv.slice(2);
const client = new S3FileFieldClient({ baseUrl });
const values = [];
for (const size of sizes.map(Number)) {
  const bytes = new Uint8Array(size).map((_, index) => (index * 7 + size) % 251);
  values.push(await client.uploadFile(new File([bytes], 'legacy-npm.bin'), fieldId));
}
console.log(JSON.stringify(values));
"""


@pytest.mark.once
@pytest.mark.django_db(transaction=True)
def test_the_1x_npm_client_uploads_files_a_form_then_saves(live_server, settings, tmp_path):
    if shutil.which("node") is None or not (CLIENT_DIR / "node_modules").is_dir():
        pytest.fail("Node and `npm ci` in javascript-client/ are needed (scripts/test does it).")
    settings.S3FF_PART_SIZE = 5 * MiB
    script = CLIENT_DIR / f".legacy-{tmp_path.name}.mjs"
    script.write_text(NPM_CLIENT_SCRIPT)
    try:
        sizes = [1, 5 * MiB + 1]
        done = subprocess.run(
            ["node", str(script), f"{live_server.url}{BASE}", FIELD, *map(str, sizes)],
            cwd=CLIENT_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        script.unlink()
    assert done.returncode == 0, done.stderr
    values = json.loads(done.stdout.strip().splitlines()[-1])
    for size, value in zip(sizes, values, strict=True):
        resource = saved_through_a_form(value)
        expected = bytes((index * 7 + size) % 251 for index in range(size))
        with resource.blob.open("rb") as stored:
            assert stored.read() == expected


def post(api_client: Any, path: str, body: dict[str, Any]) -> Any:
    return api_client.post(f"{BASE}{path}", body, format="json")


def initialize(api_client: Any, size: int, **extra: Any) -> dict[str, Any]:
    answer = post(
        api_client,
        "upload-initialize/",
        {
            "field_id": FIELD,
            "file_name": "a.bin",
            "file_size": size,
            "content_type": "application/octet-stream",
            **extra,
        },
    )
    assert answer.status_code == 200, answer.content
    return dict(answer.json())


def put_parts(initialized: dict[str, Any], data: bytes) -> list[dict[str, Any]]:
    parts, offset = [], 0
    for part in initialized["parts"]:
        chunk = data[offset : offset + part["size"]]
        offset += part["size"]
        sent = requests.put(part["upload_url"], data=chunk, timeout=30)
        assert sent.status_code == 200, sent.text
        parts.append(
            {"part_number": part["part_number"], "size": part["size"], "etag": sent.headers["ETag"]}
        )
    return parts


@pytest.mark.django_db
def test_initialize_answers_every_part_url_of_a_multipart_upload(api_client, settings):
    settings.S3FF_PART_SIZE = 5 * MiB
    small = initialize(api_client, 10)
    # A file smaller than a part is a one-part multipart upload: what 1.x clients complete.
    assert small["upload_id"]
    assert [(p["part_number"], p["size"]) for p in small["parts"]] == [(1, 10)]
    large = initialize(api_client, 11 * MiB)
    assert [(p["part_number"], p["size"]) for p in large["parts"]] == [
        (1, 5 * MiB),
        (2, 5 * MiB),
        (3, MiB),
    ]
    assert large["object_key"].endswith("/a.bin")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"file_size": 0}, "file_size", "greater than or equal to 1"),
        ({"field_id": "test_app.LimitedResource.image", "file_size": 6 * MiB}, None, "too large"),
        (
            {"field_id": "test_app.LimitedResource.image", "content_type": "text/plain"},
            None,
            "accepted",
        ),
        ({"field_id": "auth.User.password"}, "field_id", ""),
    ],
    ids=["empty", "over max_size", "not accepted", "not an S3 field"],
)
def test_initialize_keeps_the_fields_limits(api_client, body, field, message):
    answer = post(
        api_client,
        "upload-initialize/",
        {
            "field_id": FIELD,
            "file_name": "a.png",
            "file_size": 10,
            "content_type": "image/png",
            **body,
        },
    )
    assert answer.status_code == 400
    assert message in json.dumps(answer.json())
    if field:
        assert field in answer.json()


@pytest.mark.django_db
def test_complete_assembles_and_checks_then_finalize_signs_a_value(api_client, settings):
    settings.S3FF_PART_SIZE = 5 * MiB
    data = os.urandom(5 * MiB + 3)
    initialized = initialize(api_client, len(data))
    signature = {"upload_signature": initialized["upload_signature"]}
    # Before completion there is nothing to sign a value for.
    early = post(api_client, "finalize/", signature)
    assert early.status_code == 400
    assert "call upload-complete/ first" in json.dumps(early.json())
    parts = put_parts(initialized, data)
    completed = post(
        api_client,
        "upload-complete/",
        {**signature, "upload_id": initialized["upload_id"], "parts": parts},
    )
    assert completed.status_code == 200, completed.content
    assert completed.json()["complete_url"].endswith(f"{BASE}upload-complete/done/")
    # The completion 1.x clients then send is answered and changes nothing.
    assert api_client.generic("POST", completed.json()["complete_url"], "").status_code == 200
    value = post(api_client, "finalize/", signature).json()["field_value"]
    with saved_through_a_form(value).blob.open("rb") as stored:
        assert stored.read() == data


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    ["upload_id", "etag", "size", "missing part", "signature"],
)
def test_complete_refuses_what_the_upload_is_not(api_client, settings, tamper):
    settings.S3FF_PART_SIZE = 5 * MiB
    data = os.urandom(5 * MiB + 3)
    initialized = initialize(api_client, len(data))
    parts = put_parts(initialized, data)
    body: dict[str, Any] = {
        "upload_signature": initialized["upload_signature"],
        "upload_id": initialized["upload_id"],
        "parts": parts,
    }
    if tamper == "upload_id":
        body["upload_id"] = initialize(api_client, len(data))["upload_id"]
    elif tamper == "etag":
        parts[0]["etag"] = '"00000000000000000000000000000000"'
    elif tamper == "size":
        parts[1]["size"] += 1
    elif tamper == "missing part":
        body["parts"] = parts[:1]
    else:
        body["upload_signature"] = body["upload_signature"][:-2] + "xx"
    answer = post(api_client, "upload-complete/", body)
    assert answer.status_code == 400, answer.content
    # Nothing was made to sign a value for.
    finalized = post(api_client, "finalize/", {"upload_signature": initialized["upload_signature"]})
    assert finalized.status_code == 400


@pytest.mark.django_db
def test_another_users_upload_cannot_be_completed_or_finalized(api_client, settings):
    from django.contrib.auth.models import User

    settings.S3FF_PART_SIZE = 5 * MiB
    owner, other = User.objects.create_user("owner"), User.objects.create_user("other")
    api_client.force_authenticate(owner)
    data = os.urandom(10)
    initialized = initialize(api_client, len(data))
    parts = put_parts(initialized, data)
    api_client.force_authenticate(other)
    signature = {"upload_signature": initialized["upload_signature"]}
    completed = post(
        api_client,
        "upload-complete/",
        {**signature, "upload_id": initialized["upload_id"], "parts": parts},
    )
    assert completed.status_code == 403, completed.content
    assert post(api_client, "finalize/", signature).status_code == 403
    # Its owner still can.
    api_client.force_authenticate(owner)
    body = {**signature, "upload_id": initialized["upload_id"], "parts": parts}
    assert post(api_client, "upload-complete/", body).status_code == 200
    assert post(api_client, "finalize/", signature).status_code == 200
