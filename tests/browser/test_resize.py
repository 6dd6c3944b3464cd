"""Images shrunk in the browser before they are uploaded (`S3FileInput(resize=...)`)."""

from __future__ import annotations

import base64
import os
import struct
import zlib

import pytest
from playwright.sync_api import expect

from test_app.models import LimitedResource

from .test_widget import key_of, widget

pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.django_db(transaction=True),
]


def noise_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is as big as a photo of its size."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        body = kind + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height, from a JPEG's start-of-frame segment."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    index = 2
    while index + 4 <= len(data):
        marker = data[index + 1]
        length = int.from_bytes(data[index + 2 : index + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    raise AssertionError("no start-of-frame segment in the JPEG")


def test_a_photo_too_big_for_the_field_is_shrunk_in_the_browser_and_fits(
    page, page_log, site, s3_client, tmp_path
):
    path = tmp_path / "photo.png"
    path.write_bytes(noise_png(2400, 1200))
    assert path.stat().st_size > 5 * 1024 * 1024  # the field's limit
    page.goto(f"{site}/limited/new/")
    page.set_input_files("#id_image", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/")

    key = key_of(LimitedResource.objects.get().image)
    assert key.endswith("/photo.jpg")
    stored = s3_client.get_object(Bucket="s3ff-test", Key=key)
    data = stored["Body"].read()
    assert stored["ContentType"] == "image/jpeg"
    assert jpeg_dimensions(data) == (1600, 800)
    assert len(data) < 5 * 1024 * 1024
    # The Worker came from the package's static files, under the page's strict CSP.
    assert [r for r in page_log.requests if r.endswith("/static/s3_file_field/resize-worker.js")]
    assert page_log.csp_violations() == []


def with_orientation(jpeg: bytes, orientation: int) -> bytes:
    """The JPEG with an EXIF segment saying how to turn it (6: a quarter turn clockwise)."""
    entry = struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 0)
    payload = b"Exif\x00\x00" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return jpeg[:2] + segment + jpeg[2:]


# A 3200 x 1600 JPEG drawn by the page itself (no image library here), as base64.
WIDE_JPEG = """
async () => {
  const canvas = new OffscreenCanvas(3200, 1600);
  const context = canvas.getContext('2d');
  context.fillStyle = '#2080c2';
  context.fillRect(0, 0, 3200, 1600);
  const blob = await canvas.convertToBlob({type: 'image/jpeg', quality: 0.8});
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}
"""


def test_a_photo_is_turned_as_its_exif_orientation_says_before_it_is_shrunk(
    page, site, s3_client, tmp_path
):
    page.goto(f"{site}/limited/new/")
    wide = base64.b64decode(page.evaluate(WIDE_JPEG))
    assert jpeg_dimensions(wide) == (3200, 1600)
    path = tmp_path / "portrait.jpg"
    # Stored wide, shown tall: a phone held upright.
    path.write_bytes(with_orientation(wide, 6))
    page.set_input_files("#id_image", str(path))
    expect(widget(page)).to_have_attribute("data-state", "done")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{site}/")
    key = key_of(LimitedResource.objects.get().image)
    data = s3_client.get_object(Bucket="s3ff-test", Key=key)["Body"].read()
    assert jpeg_dimensions(data) == (800, 1600)
