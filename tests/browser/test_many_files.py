"""Many files for one field: a row each, within the field's limits and the page's one queue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from test_app.models import Attachment, Resource

from .test_widget import key_of, make_file, open_admin_add_page, stored

pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.django_db(transaction=True),
]

# The most PUTs to the store in flight at once, from the page's resource timings.
MOST_PUTS_AT_ONCE = """
() => {
  const puts = performance.getEntriesByType('resource')
    .filter((entry) => entry.initiatorType === 'xmlhttprequest' && !entry.name.includes('/api/'));
  const edges = puts.flatMap((entry) => [[entry.startTime, 1], [entry.responseEnd, -1]]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of edges) { now += step; most = Math.max(most, now); }
  return [puts.length, most];
}
"""


def rows(page):
    return page.locator(".s3ff-many .s3ff-row")


def test_many_files_become_rows_each_uploaded_and_saved_on_its_own_record(
    page, page_log, site, s3_client, tmp_path
):
    main, _ = make_file(tmp_path, "main.bin", 1000)
    files = [make_file(tmp_path, f"attachment-{n}.bin", 1000 * (n + 1)) for n in range(4)]
    page.goto(f"{site}/resources/new-with-attachments/")
    page.set_input_files("#id_blob", str(main))
    page.set_input_files("#id_attachments", [str(path) for path, _ in files[:3]])
    # Chosen again: added to those already there.
    page.set_input_files("#id_attachments", [str(files[3][0])])
    expect(rows(page)).to_have_count(4)
    for index in range(4):
        expect(rows(page).nth(index)).to_have_attribute("data-state", "done")
    rows(page).nth(1).get_by_role("button", name="Remove").click()
    expect(rows(page)).to_have_count(3)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))

    resource = Resource.objects.get()
    saved = {
        key_of(a.file).rsplit("/", 1)[1]: a for a in Attachment.objects.filter(resource=resource)
    }
    assert sorted(saved) == ["attachment-0.bin", "attachment-2.bin", "attachment-3.bin"]
    for path, data in files:
        if path.name in saved:
            assert stored(s3_client, key_of(saved[path.name].file)) == data
    assert page_log.csp_violations() == []


def test_the_field_limits_are_checked_before_any_upload(page, page_log, site, tmp_path):
    files = [make_file(tmp_path, f"f{n}.bin", 100) for n in range(6)]
    page.goto(f"{site}/resources/new-with-attachments/")
    page.set_input_files("#id_attachments", [str(path) for path, _ in files])
    expect(rows(page)).to_have_count(5)
    expect(page.locator(".s3ff-many > .s3ff-status")).to_have_text(
        "f5.bin is not added: at most 5 files can be sent here."
    )
    for index in range(5):
        expect(rows(page).nth(index)).to_have_attribute("data-state", "done")
    assert len([r for r in page_log.requests if "/upload-prepare/" in r]) == 5


def test_uploads_kept_through_an_error_and_one_queue_bounds_the_page(
    page, page_log, site, s3_client, tmp_path
):
    files = [make_file(tmp_path, f"q{n}.bin", 300_000) for n in range(5)]
    page.goto(f"{site}/resources/new-with-attachments/")
    page.set_input_files("#id_attachments", [str(path) for path, _ in files])
    for index in range(5):
        expect(rows(page).nth(index)).to_have_attribute("data-state", "done")
    count, most = page.evaluate(MOST_PUTS_AT_ONCE)
    assert count == 5
    # One queue for the page: its bound, however many files go at once.
    assert 1 <= most <= 6
    # An error only the server sees: the main file is missing.
    page.evaluate("() => { document.querySelector('#id_blob').required = false; }")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist")).to_contain_text("This field is required")
    expect(rows(page)).to_have_count(5)
    for index in range(5):
        expect(rows(page).nth(index).locator(".s3ff-status")).to_contain_text(
            "is uploaded and will be saved with the form"
        )
    main, _ = make_file(tmp_path, "main.bin", 1000)
    page.set_input_files("#id_blob", str(main))
    expect(page.locator(".s3ff").first).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert Attachment.objects.count() == 5
    puts = [r for r in page_log.requests if r.startswith("PUT ") and "/q" in r]
    assert len(puts) == 5


def test_files_dropped_on_an_admin_inline_row_get_a_row_each(page, site, s3_client, tmp_path):
    main, _ = make_file(tmp_path, "main.bin", 1000)
    open_admin_add_page(page, site)
    page.get_by_text("Add another Attachment").click()
    transfer = page.evaluate_handle(
        """() => {
            const transfer = new DataTransfer();
            for (const n of [0, 1, 2]) {
              transfer.items.add(new File([`inline ${n}`], `inline-${n}.txt`, {type: 'text/plain'}));
            }
            return transfer;
        }"""
    )
    page.locator("#attachments-0 .s3ff-drop").dispatch_event("drop", {"dataTransfer": transfer})
    for index in range(3):
        expect(page.locator(f"#attachments-{index} .s3ff")).to_have_attribute("data-state", "done")
        expect(page.locator(f"#attachments-{index} .s3ff-name")).to_have_text(f"inline-{index}.txt")
    page.set_input_files("#id_blob", str(main))
    expect(page.locator(".s3ff").first).to_have_attribute("data-state", "done")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/test_app/resource/$"))
    saved = sorted(stored(s3_client, key_of(a.file)) for a in Attachment.objects.all())
    assert saved == [b"inline 0", b"inline 1", b"inline 2"]
