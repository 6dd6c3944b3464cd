"""The minio SDK's private members that the MinioStorage backend relies on are all there, and
pyproject.toml keeps minio to the releases they were checked on."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace

import urllib3
from minio import Minio
from packaging.requirements import Requirement

from s3_file_field.backends.minio_sdk import PRIVATE_MEMBERS, missing_private_members


def test_the_installed_minio_has_every_private_member_used():
    client = Minio("127.0.0.1:9", access_key="key", secret_key="secret", secure=False)
    timeout = urllib3.Timeout(connect=1.0, read=2.0)
    assert missing_private_members(client, timeout) == []


def test_a_release_without_one_is_named():
    missing = missing_private_members(SimpleNamespace(), SimpleNamespace())  # type: ignore[arg-type]
    assert set(missing) == {f"Minio.{name}" for name in PRIVATE_MEMBERS[Minio]} | {"Timeout._read"}


def test_minio_is_kept_below_the_next_major_release():
    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["minio"]
    (requirement,) = [Requirement(item) for item in extra if item.startswith("minio")]
    assert not requirement.specifier.contains("8.0.0")
    assert requirement.specifier.contains(version("minio"))
