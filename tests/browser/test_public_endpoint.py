"""Django reaches the store at one address, browsers at another (S3FF_PRESIGN_ENDPOINT_URL):
as inside docker-compose, where Django's `http://store:8333` means nothing to a browser."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from test_app.models import Resource
from tests.harness.seaweedfs import allow_browser_uploads

from ..harness.driver import MiB
from .test_widget import key_of, make_file, stored, widget

pytestmark = [pytest.mark.browser, pytest.mark.once]


@pytest.mark.django_db(transaction=True)
def test_the_browser_uploads_through_the_public_name_of_the_store(
    page, page_log, site, seaweedfs, s3_client, tmp_path, settings
):
    internal = urlsplit(seaweedfs.endpoint_url)
    assert internal.hostname == "127.0.0.1"
    # Another name of the same store, as a browser would reach it from outside.
    public = f"{internal.scheme}://localhost:{internal.port}"
    settings.S3FF_PRESIGN_ENDPOINT_URL = public
    settings.S3FF_PART_SIZE = 5 * MiB
    allow_browser_uploads(seaweedfs, [site])
    path, data = make_file(tmp_path, "outside.bin", 6 * MiB + 3)
    page.goto(f"{site}/resources/new/")
    page.set_input_files("#id_blob", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/edit/")
    resource = Resource.objects.get()
    assert stored(s3_client, key_of(resource.blob)) == data
    puts = [line.split(" ", 1)[1] for line in page_log.requests if line.startswith("PUT ")]
    assert len(puts) == 2
    # Every byte went to the public name; Django alone used the internal one.
    assert all(url.startswith(f"{public}/") for url in puts), puts
    assert page_log.csp_violations() == []
