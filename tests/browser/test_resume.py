"""The widget after a reload in the middle of an upload: resume it, or discard it."""

from __future__ import annotations

import json
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Route, expect

from test_app.models import Report, Resource
from tests.harness.seaweedfs import wait_until

from ..harness.driver import MiB
from .test_widget import SMALL_PARTS, key_of, make_file, store_puts, stored, widget

pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.django_db(transaction=True),
]
RESUME_PREFIX = "s3-file-field:resume:"


def remembered(page) -> list[dict]:
    """The unfinished uploads the page keeps in localStorage."""
    items = page.evaluate(
        "(prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix))"
        ".map((key) => localStorage.getItem(key))",
        RESUME_PREFIX,
    )
    return [json.loads(item) for item in items]


def part_numbers(page_log, since: int = 0) -> list[int]:
    """The part numbers of the part PUTs the page sent, from its `since`-th request on."""
    return [
        part_number(request.split(" ", 1)[1])
        for request in page_log.requests[since:]
        if request.startswith("PUT ") and "partNumber=" in request
    ]


def part_number(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["partNumber"][0])


def reload_after_two_parts(
    page, site: str, seaweedfs, path, page_path="/resources/new/", choose=None
) -> set[int]:
    """Uploads `path` (or what `choose` picks), lets two parts reach the store and no other,
    then reloads the page; gives the numbers of the two parts."""
    let_through: set[int] = set()
    reloaded = False

    def two_then_none(route: Route) -> None:
        if reloaded:
            route.continue_()
        elif len(let_through) < 2:
            let_through.add(part_number(route.request.url))
            route.continue_()
        else:
            # As if the connection dropped: the client retries, and is refused again.
            route.abort()

    page.route(store_puts(seaweedfs), two_then_none)
    page.goto(f"{site}{page_path}")
    if choose is None:
        page.set_input_files("#id_blob", str(path))
    else:
        choose()
    wait_until(
        lambda: True if [r.get("storedParts") for r in remembered(page)] == [2] else None,
        timeout=20,
        what="two parts stored and remembered",
        interval=0.05,
        # Playwright hands this thread the routed requests only while it waits in Playwright.
        sleep=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
    page.reload()
    reloaded = True
    return let_through


@SMALL_PARTS
def test_a_reload_at_40_percent_resumes_sending_only_the_missing_parts(
    page, page_log, site, seaweedfs, s3_client, tmp_path
):
    path, data = make_file(tmp_path, "big.bin", 25 * MiB)
    stored_before = reload_after_two_parts(page, site, seaweedfs, path)
    expect(widget(page)).to_have_attribute("data-resumable", "true")
    expect(widget(page).locator(".s3ff-status")).to_contain_text(
        "The upload of big.bin stopped at 40%: choose the same file again to send the rest."
    )
    since = len(page_log.requests)

    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    # Each part the store lacked, once; none of those it held.
    assert sorted(part_numbers(page_log, since)) == sorted({1, 2, 3, 4, 5} - stored_before)
    assert remembered(page) == []
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == data


@SMALL_PARTS
def test_another_file_under_the_same_name_starts_over(
    page, page_log, site, seaweedfs, s3_client, tmp_path
):
    path, _ = make_file(tmp_path, "big.bin", 25 * MiB)
    reload_after_two_parts(page, site, seaweedfs, path)
    expect(widget(page)).to_have_attribute("data-resumable", "true")
    # Same name, size and time, other bytes: only the first part's checksum tells.
    times = path.stat()
    other = path.read_bytes()[::-1]
    path.write_bytes(other)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    since = len(page_log.requests)

    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    assert sorted(part_numbers(page_log, since)) == [1, 2, 3, 4, 5]
    assert [r for r in page_log.requests[since:] if "/upload-abort/" in r]
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == other


@SMALL_PARTS
def test_discard_forgets_the_upload_and_aborts_it(page, page_log, site, seaweedfs, tmp_path):
    path, _ = make_file(tmp_path, "big.bin", 25 * MiB)
    reload_after_two_parts(page, site, seaweedfs, path)
    since = len(page_log.requests)

    page.get_by_role("button", name="Discard").click()
    expect(widget(page)).not_to_have_attribute("data-resumable", "true")
    assert remembered(page) == []
    wait_until(
        lambda: [r for r in page_log.requests[since:] if "/upload-abort/" in r] or None,
        timeout=10,
        what="the upload aborted",
        interval=0.05,
        sleep=lambda seconds: page.wait_for_timeout(seconds * 1000),
    )
    page.reload()
    expect(widget(page)).to_have_attribute("data-state", "idle")
    expect(widget(page)).not_to_have_attribute("data-resumable", "true")


# Chromium's picker, as a test can drive it: a file of the page's own storage (OPFS), whose
# handle needs no permission prompt. Made on first use, the same bytes every time.
OPFS_PICKER = """
window.showOpenFilePicker = async () => {
  const root = await navigator.storage.getDirectory();
  let handle;
  try {
    handle = await root.getFileHandle('kept.bin');
  } catch {
    handle = await root.getFileHandle('kept.bin', {create: true});
    const bytes = new Uint8Array(%d);
    for (let index = 0; index < bytes.length; index++) bytes[index] = (index * 31 + 7) %% 251;
    const writable = await handle.createWritable();
    await writable.write(bytes);
    await writable.close();
  }
  return [handle];
};
"""


@SMALL_PARTS
def test_with_a_kept_file_handle_a_reload_resumes_with_one_click(
    page, page_log, site, seaweedfs, s3_client
):
    size = 12 * MiB
    page.add_init_script(OPFS_PICKER % size)

    def pick_through_the_browser() -> None:
        page.fill("#id_title", "Q4")
        page.click("#id_file")

    stored_before = reload_after_two_parts(
        page, site, seaweedfs, None, "/reports/new/", pick_through_the_browser
    )
    resume = widget(page).get_by_role("button", name="Resume")
    expect(resume).to_be_visible()
    since = len(page_log.requests)

    resume.click()
    expect(widget(page)).to_have_attribute("data-state", "done")
    assert sorted(part_numbers(page_log, since)) == sorted({1, 2, 3} - stored_before)
    page.fill("#id_title", "Q4")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/")
    expected = bytes((index * 31 + 7) % 251 for index in range(size))
    assert stored(s3_client, key_of(Report.objects.get(title="Q4").file)) == expected
