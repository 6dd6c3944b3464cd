"""The widget, the admin and the demo pages in a real browser, against SeaweedFS."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from playwright.sync_api import Request, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from test_app.models import Attachment, MultiResource, Resource
from tests.harness.seaweedfs import wait_until

from ..harness.driver import MiB
from .conftest import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.django_db(transaction=True),
]
SMALL_PARTS = override_settings(S3FF_PART_SIZE=5 * MiB)


def make_file(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def key_of(field_file) -> str:
    assert field_file.name, "no file stored"
    return str(field_file.name)


def stored(s3_client, key: str, bucket: str = "s3ff-test") -> bytes:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def widget(page, index: int = 0):
    return page.locator(".s3ff").nth(index)


def store_puts(seaweedfs) -> str:
    return f"{seaweedfs.endpoint_url}/**"


def _part_checksums(data: bytes, algorithm: str) -> dict[int, str]:
    digest = {
        "crc32": lambda chunk: zlib.crc32(chunk).to_bytes(4, "big"),
        "md5": lambda chunk: hashlib.md5(chunk).digest(),  # Content-MD5: integrity, not security
    }[algorithm]
    return {
        number: base64.b64encode(digest(data[(number - 1) * 5 * MiB : number * 5 * MiB])).decode()
        for number in (1, 2, 3)
    }


@SMALL_PARTS
@pytest.mark.parametrize(
    ("offered", "required", "header", "algorithm"),
    [
        (None, False, "x-amz-checksum-crc32", "crc32"),
        (["md5"], False, "content-md5", None),
        (["md5"], True, "content-md5", "md5"),
    ],
    ids=["crc32-signed", "etag-checked", "md5-signed"],
)
def test_modelform_upload_and_save(
    page, page_log, site, s3_client, tmp_path, settings, offered, required, header, algorithm
):
    settings.S3FF_CHECKSUM_ALGORITHMS = offered
    settings.S3FF_REQUIRE_CHECKSUMS = required
    path, data = make_file(tmp_path, "report.bin", 11 * MiB + 5)
    response = page.goto(f"{site}/resources/new/")
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    sent: dict[int, str | None] = {}

    def note_checksum(request: Request) -> None:
        part = parse_qs(urlsplit(request.url).query).get("partNumber")
        if request.method == "PUT" and part:
            sent[int(part[0])] = request.headers.get(header)

    page.on("request", note_checksum)
    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    expect(widget(page).locator(".s3ff-status")).to_contain_text("Uploaded report.bin")
    if algorithm is not None:
        # Each part went with the checksum its URL was signed for, hashed in the page first.
        assert sent == _part_checksums(data, algorithm)
    else:
        # Each part was checked by its ETag, so none waited to be hashed or carried its MD5.
        assert sent == {1: None, 2: None, 3: None}
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    resource = Resource.objects.get()
    assert key_of(resource.blob).endswith("/report.bin")
    assert stored(s3_client, key_of(resource.blob)) == data
    # Three part PUTs went to the store; the bytes never went to Django.
    puts = [r for r in page_log.requests if r.startswith("PUT ") and "partNumber=" in r]
    assert len(puts) == 3
    assert not [
        r for r in page_log.requests if r.startswith("POST") and "/resources/" in r and len(r) > 500
    ]
    assert page_log.csp_violations() == []


def test_edit_replace_and_clear(page, page_log, site, s3_client, tmp_path):
    first, _ = make_file(tmp_path, "first.txt", 100)
    extra, _ = make_file(tmp_path, "extra.txt", 50)
    page.goto(f"{site}/multi/new/")
    page.set_input_files("#id_blob", str(first))
    page.set_input_files("#id_optional_blob", str(extra))
    expect(widget(page, 0)).to_have_attribute("data-state", "done")
    expect(widget(page, 1)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/multi/\d+/edit/$"))
    instance = MultiResource.objects.get()
    assert key_of(instance.blob).endswith("/first.txt")
    assert key_of(instance.optional_blob).endswith("/extra.txt")

    replacement, data = make_file(tmp_path, "second.txt", 200)
    page.set_input_files("#id_blob", str(replacement))
    expect(widget(page, 0)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    instance.refresh_from_db()
    assert key_of(instance.blob).endswith("/second.txt")
    assert stored(s3_client, key_of(instance.blob)) == data
    assert key_of(instance.optional_blob).endswith("/extra.txt")

    page.check("#optional_blob-clear_id")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    instance.refresh_from_db()
    assert not instance.optional_blob
    assert key_of(instance.blob).endswith("/second.txt")
    assert page_log.csp_violations() == []


def open_admin_add_page(page, site: str) -> None:
    """Signs in a new superuser and opens the admin's page to add a Resource."""
    User.objects.create_superuser("admin", "admin@example.com", "password")
    page.goto(f"{site}/admin/login/?next=/admin/test_app/resource/add/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/test_app/resource/add/$"))


def test_admin_add_page_with_an_inline_row_added_on_the_fly(page, site, s3_client, tmp_path):
    main_file, main_data = make_file(tmp_path, "main.bin", 3000)
    inline_file, inline_data = make_file(tmp_path, "inline.bin", 4000)
    open_admin_add_page(page, site)
    page.set_input_files("#id_blob", str(main_file))
    expect(widget(page, 0)).to_have_attribute("data-state", "done")
    page.get_by_text("Add another Attachment").click()
    page.set_input_files("#id_attachments-0-file", str(inline_file))
    expect(page.locator("#attachments-0 .s3ff")).to_have_attribute("data-state", "done")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/test_app/resource/$"))
    resource = Resource.objects.get()
    assert stored(s3_client, key_of(resource.blob)) == main_data
    assert stored(s3_client, key_of(Attachment.objects.get().file)) == inline_data


def test_spa_page_uploads_three_files(page, page_log, site, s3_client, tmp_path):
    files = [make_file(tmp_path, f"spa-{n}.bin", 1000 * (n + 1)) for n in range(3)]
    page.goto(f"{site}/spa/")
    page.set_input_files("#spa-files", [str(path) for path, _ in files])
    expect(page.locator(".spa-status[data-state=done]")).to_have_count(3)
    by_name = {
        key_of(resource.blob).rsplit("/", 1)[1]: resource for resource in Resource.objects.all()
    }
    assert sorted(by_name) == ["spa-0.bin", "spa-1.bin", "spa-2.bin"]
    for path, data in files:
        assert stored(s3_client, key_of(by_name[path.name].blob)) == data
    assert page_log.csp_violations() == []


@SMALL_PARTS
def test_cancel_mid_upload_leaves_no_multipart_upload(page, site, seaweedfs, s3_client, tmp_path):
    path, _ = make_file(tmp_path, "large.bin", 23 * MiB)
    held: list[Route] = []
    page.route(store_puts(seaweedfs), lambda route: held.append(route))
    with page.expect_response(re.compile(r"upload-prepare/$")) as prepared:
        page.goto(f"{site}/resources/new/")
        page.set_input_files("#id_blob", str(path))
    upload = prepared.value.json()
    assert upload["upload_id"]
    expect(widget(page)).to_have_attribute("data-state", "uploading")
    page.get_by_role("button", name="Cancel upload").click()
    expect(widget(page).locator(".s3ff-status")).to_have_text("Upload cancelled.")
    expect(widget(page)).to_have_attribute("data-state", "idle")

    def aborted() -> bool | None:
        uploads = s3_client.list_multipart_uploads(Bucket="s3ff-test").get("Uploads", [])
        return True if upload["upload_id"] not in {u["UploadId"] for u in uploads} else None

    wait_until(aborted, timeout=10, what="the abort of the cancelled multipart upload")
    for route in held:
        # The page dropped these requests when it cancelled; Playwright may say so.
        with contextlib.suppress(Exception):
            route.abort()


def test_limits_are_checked_before_any_request(page, page_log, site, tmp_path):
    page.goto(f"{site}/limited/new/")
    text_file, _ = make_file(tmp_path, "notes.txt", 10)
    page.set_input_files("#id_image", str(text_file))
    expect(widget(page)).to_have_attribute("data-state", "error")
    expect(widget(page).locator(".s3ff-status")).to_contain_text(
        "notes.txt is not an accepted kind of file"
    )
    big_image, _ = make_file(tmp_path, "huge.png", 5 * MiB + 1)
    page.set_input_files("#id_image", str(big_image))
    expect(widget(page).locator(".s3ff-status")).to_contain_text("huge.png is too large")
    expect(widget(page).locator(".s3ff-retry")).to_be_hidden()
    assert not [r for r in page_log.requests if "/api/s3-upload/" in r]


def store_down(route: Route) -> None:
    """Answers a store request as a store that is down does."""
    route.fulfill(
        status=500,
        content_type="application/xml",
        body="<Error><Code>InternalError</Code><Message>The store is down.</Message></Error>",
    )


@SMALL_PARTS
def test_submit_waits_for_the_upload_then_goes(page, site, seaweedfs, tmp_path):
    path, _ = make_file(tmp_path, "wait.bin", 6 * MiB)
    held: list[Route] = []
    page.route(store_puts(seaweedfs), lambda route: held.append(route))
    page.goto(f"{site}/resources/new/")
    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "uploading")
    wait_until(
        lambda: True if len(held) >= 2 else None,
        timeout=10,
        what="two part PUTs held",
        interval=0.05,
        # Playwright hands this thread the routed requests only while it waits in Playwright.
        sleep=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
    # One part through, one held: the picture of an upload in progress.
    held.pop(0).continue_()
    page.wait_for_timeout(300)
    screenshot(page, "uploading")
    page.get_by_role("button", name="Save").click()
    expect(widget(page).locator(".s3ff-status")).to_contain_text(
        "the form will be sent as soon as it finishes"
    )
    assert "/resources/new/" in page.url
    for route in held:
        route.continue_()
    page.unroute(store_puts(seaweedfs))
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert key_of(Resource.objects.get().blob).endswith("/wait.bin")


def test_drag_and_drop(page, site, s3_client):
    page.goto(f"{site}/resources/new/")
    screenshot(page, "idle")
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            transfer.items.add(new File(['dropped bytes'], 'dropped.txt', {type: 'text/plain'}));
            return transfer;
        }"""
    )
    drop_zone = page.locator(".s3ff-drop")
    drop_zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    expect(widget(page)).to_have_class(re.compile("s3ff-dragging"))
    screenshot(page, "dragging")
    drop_zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect(widget(page)).to_have_attribute("data-state", "done")
    expect(widget(page)).not_to_have_class(re.compile("s3ff-dragging"))
    screenshot(page, "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == b"dropped bytes"


def test_keyboard_only_upload(page, site, s3_client, tmp_path):
    path, data = make_file(tmp_path, "keys.bin", 1234)
    page.goto(f"{site}/resources/new/")
    # The widget's script has taken over the input: a key pressed before would go to the
    # plain input, whose chooser the script then replaces.
    expect(widget(page)).to_have_attribute("data-state", "idle")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_blob":
            break
    else:
        pytest.fail("the file input cannot be reached with Tab")
    # On a loaded machine Chromium has once let a Space go by without opening the chooser; a
    # keyboard user presses again, and so does the test, three times at most.
    for _ in range(3):
        try:
            with page.expect_file_chooser(timeout=5000) as chooser:
                page.keyboard.press("Space")
            break
        except PlaywrightTimeoutError:
            continue
    else:
        pytest.fail("Space on the focused file input never opened the file chooser")
    chooser.value.set_files(str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    expect(widget(page).locator("[role=status]")).to_contain_text("Uploaded keys.bin")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == data


@pytest.mark.parametrize("plain_uploads", [False, True])
def test_without_javascript(plain_uploads, browser, site, s3_client, tmp_path, settings):
    """Off (the default), the form says JavaScript is needed; on, the file goes up through
    Django, under the upload API's policy."""
    settings.S3FF_PLAIN_UPLOADS = plain_uploads
    path, data = make_file(tmp_path, "plain.bin", 777)
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{site}/resources/new/")
        assert page.locator(".s3ff").count() == 0
        page.set_input_files("#id_blob", str(path))
        page.get_by_role("button", name="Save").click()
        if plain_uploads:
            page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
        else:
            expect(page.get_by_text("turn it on and choose the file again")).to_be_visible()
    finally:
        context.close()
    if plain_uploads:
        assert stored(s3_client, key_of(Resource.objects.get().blob)) == data
    else:
        assert Resource.objects.count() == 0


def png_bytes(width: int, height: int) -> bytes:
    """A small valid PNG (solid colour), made here rather than shipped."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x20\x80\xc2" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def test_image_preview_and_completion_event(page, page_log, site, s3_client, tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(png_bytes(120, 80))
    page.goto(f"{site}/limited/new/")
    page.evaluate(
        """() => {
            window.completed = [];
            document.addEventListener('s3-file-field:upload-complete', (event) => {
                window.completed.push({id: event.target.id, value: event.detail.fieldValue,
                                       name: event.detail.file.name});
            });
        }"""
    )
    page.set_input_files("#id_image", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    expect(widget(page).locator("canvas.s3ff-preview")).to_be_visible()
    completed = page.evaluate("window.completed")
    assert len(completed) == 1
    assert completed[0]["id"] == "id_image"
    # The field turns images into JPEGs (LimitedResourceForm), this one small enough already.
    assert completed[0]["name"] == "picture.jpg"
    hidden = page.locator("input[type=hidden][name=image]")
    assert hidden.input_value() == completed[0]["value"]
    assert page_log.csp_violations() == []
