"""Uploads that outlive a form sent back with errors, and a failed upload that holds the form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from test_app.models import Attachment, Report, Resource

from .conftest import screenshot
from .test_widget import (
    key_of,
    make_file,
    open_admin_add_page,
    store_down,
    store_puts,
    stored,
    widget,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.django_db(transaction=True),
]


def puts_of(page_log, name: str) -> list[str]:
    """The PUTs the page sent to the store for the file `name`."""
    return [r for r in page_log.requests if r.startswith("PUT ") and name in r]


def send_a_report_with_a_taken_title(page, site: str, path) -> str:
    """Uploads `path` on the new report page, sends it with a taken title, and sees the form
    come back with that error; gives the field value the upload made."""
    Report.objects.create(title="Q3", file="reports/q3.bin")
    page.goto(f"{site}/reports/new/")
    page.fill("#id_title", "Q3")
    page.set_input_files("#id_file", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    value = page.locator("input.s3ff-value").input_value()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".errorlist")).to_contain_text("Report with this Title already exists")
    expect(widget(page)).to_have_attribute("data-state", "done")
    return value


def save_with_a_free_title(page, site: str) -> Report:
    """Sends the report form again with a title not taken; gives the report it saved."""
    page.fill("#id_title", "Q4")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/")
    return Report.objects.get(title="Q4")


def test_an_error_elsewhere_keeps_the_upload_and_saves_it_without_a_second_put(
    page, page_log, site, s3_client, tmp_path
):
    path, data = make_file(tmp_path, "kept.bin", 2000)
    value = send_a_report_with_a_taken_title(page, site, path)
    expect(widget(page).locator(".s3ff-status")).to_contain_text(
        re.compile(r"kept\.bin \(2\sKB\) is uploaded and will be saved with the form\.")
    )
    expect(widget(page).locator(".s3ff-name")).to_have_text("kept.bin")
    assert page.locator("input.s3ff-value").input_value() == value
    # No file is chosen in the input: the kept upload stands in for `required`.
    expect(page.locator("#id_file")).to_have_js_property("required", False)

    report = save_with_a_free_title(page, site)
    assert key_of(report.file).endswith("/kept.bin")
    assert stored(s3_client, key_of(report.file)) == data
    assert len(puts_of(page_log, "kept.bin")) == 1
    assert (
        len([r for r in page_log.requests if r.startswith("POST") and "/upload-prepare/" in r]) == 1
    )
    assert page_log.csp_violations() == []


def test_a_kept_upload_can_be_removed_or_replaced(page, page_log, site, s3_client, tmp_path):
    first, _ = make_file(tmp_path, "first.bin", 1000)
    second, second_data = make_file(tmp_path, "second.bin", 3000)
    send_a_report_with_a_taken_title(page, site, first)

    page.get_by_role("button", name="Remove").click()
    expect(widget(page)).to_have_attribute("data-state", "idle")
    assert page.locator("input.s3ff-value").input_value() == ""
    expect(page.locator("#id_file")).to_have_js_property("required", True)

    page.set_input_files("#id_file", str(second))
    expect(widget(page)).to_have_attribute("data-state", "done")
    report = save_with_a_free_title(page, site)
    assert key_of(report.file).endswith("/second.bin")
    assert stored(s3_client, key_of(report.file)) == second_data


def test_admin_inline_row_keeps_its_upload_through_an_error(
    page, page_log, site, s3_client, tmp_path
):
    main_file, main_data = make_file(tmp_path, "main.bin", 3000)
    inline_file, inline_data = make_file(tmp_path, "inline.bin", 4000)
    open_admin_add_page(page, site)
    page.get_by_text("Add another Attachment").click()
    page.set_input_files("#id_attachments-0-file", str(inline_file))
    row = page.locator("#attachments-0 .s3ff")
    expect(row).to_have_attribute("data-state", "done")
    # The main file is missing (the admin's form sends without the browser's checks).
    page.click("input[name=_save]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(row).to_have_attribute("data-state", "done")
    expect(row.locator(".s3ff-status")).to_contain_text(
        re.compile(r"inline\.bin \(4\sKB\) is uploaded")
    )

    page.set_input_files("#id_blob", str(main_file))
    expect(widget(page, 0)).to_have_attribute("data-state", "done")
    page.click("input[name=_save]")
    page.wait_for_url(re.compile(r"/admin/test_app/resource/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == main_data
    assert stored(s3_client, key_of(Attachment.objects.get().file)) == inline_data
    assert len(puts_of(page_log, "inline.bin")) == 1


def test_a_failed_upload_holds_the_form_until_retry_works(
    page, page_log, site, seaweedfs, s3_client, tmp_path
):
    path, data = make_file(tmp_path, "broken.bin", 2000)
    page.route(store_puts(seaweedfs), store_down)
    page.goto(f"{site}/resources/new/")
    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "error", timeout=30_000)
    expect(widget(page).locator(".s3ff-status")).to_contain_text("The upload of broken.bin failed")
    screenshot(page, "error")

    page.get_by_role("button", name="Save").click()
    expect(widget(page).locator(".s3ff-status")).to_contain_text(
        "broken.bin is not uploaded: retry, choose another file, or remove it"
    )
    expect(widget(page).get_by_role("button", name="Retry")).to_be_focused()
    assert not [r for r in page_log.requests if r.startswith("POST") and "/resources/new/" in r]
    assert "/resources/new/" in page.url

    page.unroute(store_puts(seaweedfs), store_down)
    page.get_by_role("button", name="Retry").click()
    expect(widget(page)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/resources/\d+/edit/$"))
    assert stored(s3_client, key_of(Resource.objects.get().blob)) == data
