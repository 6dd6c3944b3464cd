"""What users install, installed as the README says, and used.

From a copy of the checkout's tracked files (no built widget, no node_modules: a clean
checkout), the README's Install section is followed literally in a temporary folder: its shell
blocks run in order with bash, each Python block is appended to the file its first line names.
The one line added: `S3FF_CORS_ORIGINS`, since this test serves on a free port, not on the
8000 that the README's `s3ff_cors --apply` guesses from `ALLOWED_HOSTS`. Then the
project is served by `runserver`, an upload goes through the admin's widget in Chromium and
one through the API, and the objects hold the bytes. The npm tarball is installed into an
empty folder, imported in Node, and a TypeScript file that uses it is type-checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.harness.seaweedfs import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    StopWaiting,
    admin_client,
    free_port,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.once]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BUCKET = "s3ff-install"
WIDGET_FILES = {"widget.js", "widget.js.map", "widget.css"}
ADMIN_PASSWORD = "install-test-password"  # a throwaway account of the test project


@dataclass(frozen=True)
class Block:
    language: str
    text: str


def readme_install_blocks() -> list[Block]:
    """The fenced blocks of the README's Install section, in order."""
    text = README.read_text()
    section = text[text.index("\n## Install\n") : text.index("\n## Use\n")]
    return [
        Block(language, body)
        for language, body in re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)
    ]


def copy_checkout(target: Path) -> None:
    """The files git tracks (or would: new, not ignored), as a fresh clone has them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (item.decode() for item in listed)):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@dataclass
class Installed:
    workdir: Path
    env: dict[str, str]
    cwd: Path

    def run(self, script: str) -> str:
        # Each block runs where the last one left off, as in one terminal.
        marker = self.workdir / ".cwd"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", f'{script}\npwd > "{marker}"'],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{script}\nfailed ({done.returncode}):\n{output}"
        self.cwd = Path(marker.read_text().strip())
        return output

    def manage(self, *args: str) -> str:
        return self.run(" ".join(["python", "manage.py", *args]))


@pytest.fixture(scope="module")
def installed(seaweedfs, tmp_path_factory, site_port) -> Installed:
    admin_client(seaweedfs.endpoint_url).create_bucket(Bucket=BUCKET)
    workdir = tmp_path_factory.mktemp("install")
    copy_checkout(workdir / "s3-file-field")
    venv_bin = workdir / ".venv" / "bin"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "VIRTUAL_ENV", "PYTHON", "S3FF_", "PIP_REQUIRE"))
    }
    # `python` is this test's interpreter until the README's venv exists and is activated.
    env["PATH"] = os.pathsep.join([str(venv_bin), str(Path(sys.executable).parent), env["PATH"]])
    env.update(
        S3_BUCKET_NAME=BUCKET,
        S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
    )
    installed = Installed(workdir, env, workdir)
    for block in readme_install_blocks():
        if block.language == "sh":
            installed.run(block.text)
        elif block.language == "python":
            first_line, _, code = block.text.partition("\n")
            target = installed.cwd / first_line.removeprefix("# ").strip()
            assert target.is_file(), f"the README's block for {target} has no file to go in"
            with target.open("a") as file:
                file.write("\n" + code)
                if target.name == "settings.py":
                    file.write(f'\nS3FF_CORS_ORIGINS = ["http://localhost:{site_port}"]\n')
    return installed


@pytest.fixture(scope="module")
def site_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def served(installed, site_port) -> Iterator[str]:
    installed.env.update(
        DJANGO_SUPERUSER_USERNAME="admin",
        DJANGO_SUPERUSER_EMAIL="admin@example.com",
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )
    installed.manage("createsuperuser", "--noinput")
    server = subprocess.Popen(
        ["python", "manage.py", "runserver", "--noreload", f"localhost:{site_port}"],
        cwd=installed.cwd,
        env=installed.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    origin = f"http://localhost:{site_port}"
    try:

        def answers() -> bool | None:
            if server.poll() is not None:
                raise StopWaiting(f"runserver exited with {server.returncode}")
            return requests.get(f"{origin}/admin/login/", timeout=5).ok or None

        wait_until(answers, timeout=60, what="the installed project's runserver")
        yield origin
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_sdist_and_the_wheel_carry_the_widget_and_py_typed(installed):
    dist = installed.workdir / "s3-file-field" / "dist"
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    wheel_names = set(zipfile.ZipFile(wheel).namelist())
    with tarfile.open(sdist) as archive:
        sdist_names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for names in (wheel_names, sdist_names):
        assert {f"s3_file_field/static/s3_file_field/{n}" for n in WIDGET_FILES} <= names
        assert "s3_file_field/py.typed" in names
    # The sdist builds its wheel without javascript-client/, so without Node.
    assert not [name for name in sdist_names if name.startswith("javascript-client/")]
    assert "hatch_build.py" in sdist_names


def test_a_wheel_builds_from_the_sdist_without_node(installed, tmp_path):
    (sdist,) = (installed.workdir / "s3-file-field" / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (source,) = tmp_path.iterdir()
    # An empty PATH: no npm, no node.
    env = {**installed.env, "PATH": str(tmp_path / "empty")}
    python = installed.workdir / ".venv" / "bin" / "python"
    built = subprocess.run(
        [str(python), "-m", "build", "--wheel", "--outdir", str(tmp_path / "out"), str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "out").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"s3_file_field/static/s3_file_field/{n}" for n in WIDGET_FILES} <= names


def test_a_build_from_a_checkout_without_npm_says_what_it_needs(installed, tmp_path):
    python = installed.workdir / ".venv" / "bin" / "python"
    built = subprocess.run(
        [str(python), "-m", "build", "--outdir", str(tmp_path), "s3-file-field"],
        cwd=installed.workdir,
        env={**installed.env, "PATH": str(tmp_path / "empty")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode != 0
    assert "building from a checkout needs Node 20+ and npm" in built.stdout + built.stderr
    assert list(tmp_path.iterdir()) == []


def test_check_reports_no_issue(installed):
    # The README's own `check` ran too; this one is asserted on alone.
    assert installed.manage("check").strip().endswith("no issues (0 silenced).")


def test_admin_upload_through_the_widget(installed, served, browser, tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "contract.pdf"
    path.write_bytes(data)
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    page.goto(f"{served}/admin/login/?next=/admin/documents/document/add/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/documents/document/add/$"))
    page.fill("#id_title", "Contract")
    page.set_input_files("#id_file", str(path))
    expect(page.locator(".s3ff")).to_have_attribute("data-state", "done", timeout=30_000)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/documents/document/$"))
    context.close()
    assert errors == []
    # The bytes went to the store, not to Django.
    assert len(puts) == 1
    assert puts[0].startswith(installed.env["S3_ENDPOINT_URL"])
    name = installed.run(
        "python manage.py shell -c "
        '"from documents.models import Document; print(Document.objects.get().file.name)"'
    ).splitlines()[-1]
    assert name.endswith("/contract.pdf")
    stored = admin_client(installed.env["S3_ENDPOINT_URL"]).get_object(Bucket=BUCKET, Key=name)
    assert stored["Body"].read() == data


def test_upload_through_the_api(installed, served):
    data = b"hello from a script\n"
    api = f"{served}/api/s3-upload"
    prepared = requests.post(
        f"{api}/upload-prepare/",
        json={
            "field_id": "documents.Document.file",
            "file_name": "notes.txt",
            "file_size": len(data),
            "content_type": "text/plain",
        },
        timeout=30,
    )
    assert prepared.status_code == 200, prepared.text
    body = prepared.json()
    (part,) = body["parts"]
    stored = requests.put(part["upload_url"], data=data, headers=body["part_headers"], timeout=30)
    assert stored.status_code == 200, stored.text
    done = requests.post(
        f"{api}/upload-finalize/",
        json={"upload_signature": body["upload_signature"], "parts": []},
        timeout=30,
    )
    assert done.status_code == 200, done.text
    assert done.json()["file_size"] == len(data)
    key = done.json()["object_key"]
    got = admin_client(installed.env["S3_ENDPOINT_URL"]).get_object(Bucket=BUCKET, Key=key)
    assert got["Body"].read() == data


def test_the_wheel_with_the_client_extra_uploads_from_a_shell(installed, served, tmp_path):
    (wheel,) = (installed.workdir / "s3-file-field" / "dist").glob("*.whl")
    data = os.urandom(70_000)
    path = tmp_path / "from-a-shell.bin"
    path.write_bytes(data)
    output = installed.run(
        f'pip install --quiet "{wheel}[client]"\n'
        f"s3ff upload {path} --url {served}/api/s3-upload/ --field documents.Document.file "
        "--json --quiet"
    )
    # The output is stdout then stderr (pip's notices, if any).
    (result,), _ = json.JSONDecoder().raw_decode(output[output.index("[") :])
    got = admin_client(installed.env["S3_ENDPOINT_URL"]).get_object(
        Bucket=BUCKET, Key=result["object_key"]
    )
    assert got["Body"].read() == data


def reachable_declarations(package: Path) -> set[str]:
    """The files `exports` names, and every declaration file the types import from them."""
    manifest = json.loads((package / "package.json").read_text())
    export = manifest["exports"]["."]
    wanted = {export["import"], export["types"], manifest["main"], manifest["types"]}
    found = {os.path.normpath(name) for name in wanted}
    pending = [os.path.normpath(export["types"])]
    while pending:
        current = pending.pop()
        text = (package / current).read_text()
        for spec in re.findall(r"""(?:from|import\()\s*['"](\.[^'"]+)['"]""", text):
            target = os.path.normpath(
                os.path.join(os.path.dirname(current), re.sub(r"\.js$", ".d.ts", spec))
            )
            if target not in found:
                found.add(target)
                pending.append(target)
    return found


def test_the_npm_tarball_holds_what_its_exports_need_and_works(installed, tmp_path):
    (tarball,) = (installed.workdir / "s3-file-field" / "javascript-client").glob("*.tgz")
    with tarfile.open(tarball) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}
        archive.extractall(tmp_path / "unpacked", filter="data")
    package = tmp_path / "unpacked" / "package"
    needed = reachable_declarations(package)
    # The source map of the bundle carries its sources, so no src/ is needed beside it.
    assert names == needed | {"package.json", "README.md", "dist/index.js.map"}

    consumer = tmp_path / "consumer"
    consumer.mkdir()
    (consumer / "package.json").write_text(
        '{"name": "consumer", "private": true, "type": "module"}'
    )
    client_dir = installed.workdir / "s3-file-field" / "javascript-client"
    versions = json.loads((client_dir / "package.json").read_text())["devDependencies"]
    installed.run(
        f'cd "{consumer}" && npm install --no-audit --no-fund --loglevel=error "{tarball}" '
        f"typescript@{versions['typescript']} @types/node@{versions['@types/node']}"
    )
    (consumer / "use.mjs").write_text(
        "import { S3FileFieldClient } from 's3-file-field-client';\n"
        "const client = new S3FileFieldClient({ baseUrl: 'http://127.0.0.1:1/api/s3-upload/' });\n"
        "console.log(typeof client.uploadFile);\n"
    )
    assert installed.run(f'cd "{consumer}" && node use.mjs').strip() == "function"
    (consumer / "use.ts").write_text(
        "import { S3FileFieldClient, type S3FileFieldClientOptions } from 's3-file-field-client';\n"
        "const options: S3FileFieldClientOptions = { baseUrl: '/api/s3-upload/', concurrency: 4 };\n"
        "const client = new S3FileFieldClient(options);\n"
        "export async function send(file: Blob): Promise<string> {\n"
        "  return client.uploadFile(file, 'documents.Document.file', { fileName: 'a.bin' });\n"
        "}\n"
        "// @ts-expect-error: a number is no file\n"
        "void client.uploadFile(42, 'documents.Document.file');\n"
    )
    (consumer / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "strict": True,
                    "module": "nodenext",
                    "moduleResolution": "nodenext",
                    "target": "es2022",
                    "lib": ["es2022", "dom"],
                    "noEmit": True,
                    "skipLibCheck": False,
                },
                "files": ["use.ts"],
            }
        )
    )
    installed.run(f'cd "{consumer}" && npx tsc -p tsconfig.json')


@pytest.mark.parametrize("readme", ["README.md", "javascript-client/README.md"])
def test_the_readme_marks_every_shell_block(readme):
    """Every shell block of a README runs in a test, or says it is an example."""
    text = (ROOT / readme).read_text()
    install_blocks = {block.text for block in readme_install_blocks()}
    # A marker is one line: it never reaches past another block to the next shell block.
    blocks = re.finditer(
        r"(?:<!-- ([^\n]*?) -->\n)?```(?:sh|bash|console)\n(.*?)```", text, re.DOTALL
    )
    for match in blocks:
        marker, body = match.group(1), match.group(2)
        where = f"{readme}:{text[: match.start()].count(chr(10)) + 1}"
        assert marker is not None, f"{where}: a shell block without a marker"
        if marker == "example":
            continue
        tested = re.fullmatch(r"tested by (\S+)", marker)
        assert tested, f"{where}: unknown marker {marker!r}"
        test_file = ROOT / tested.group(1)
        assert test_file.is_file(), f"{where}: {test_file} does not exist"
        assert "README" in test_file.read_text(), f"{test_file} does not read the README"
        if test_file == Path(__file__):
            # This test runs the main README's Install section: the block must be one of it.
            assert body in install_blocks, f"{where}: not a block of README.md's Install"
