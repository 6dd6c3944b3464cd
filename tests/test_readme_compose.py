"""The README's docker-compose recipe wires what tests/browser/test_public_endpoint.py runs:
Django to the store by its service name, browsers by the host's published port. (No Docker
engine runs here, so the recipe itself is read, not run.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

pytestmark = pytest.mark.once


def recipe() -> str:
    text = README.read_text()
    (block,) = re.findall(r"```yaml\n(# docker-compose\.yml\n.*?)```", text, flags=re.DOTALL)
    return str(block)


def setting(block: str, name: str) -> str:
    match = re.search(rf"^\s+{name}: (\S+)", block, flags=re.MULTILINE)
    assert match, name
    return match.group(1)


def test_django_and_browsers_reach_the_store_by_their_own_names():
    block = recipe()
    internal = setting(block, "AWS_S3_ENDPOINT_URL")
    public = setting(block, "S3FF_PRESIGN_ENDPOINT_URL")
    assert internal == "http://store:9000"
    assert public == "http://localhost:9000"
    # The store's port is published where browsers look for it, and lets the site's origin in.
    assert 'ports: ["9000:9000"]' in block
    assert setting(block, "MINIO_API_CORS_ALLOW_ORIGIN") == "http://localhost:8000"
    assert 'ports: ["8000:8000"]' in block
    # The bucket the storage names is the one made.
    assert f"local/{setting(block, 'AWS_STORAGE_BUCKET_NAME')}" in block
    # The settings the README tells to add read these variables.
    text = README.read_text()
    assert 'AWS_S3_ENDPOINT_URL = os.environ["AWS_S3_ENDPOINT_URL"]' in text
    assert 'S3FF_PRESIGN_ENDPOINT_URL = os.environ.get("S3FF_PRESIGN_ENDPOINT_URL")' in text
