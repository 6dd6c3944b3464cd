"""Playwright driving Debian's chromium against the live test server and SeaweedFS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.harness.seaweedfs import allow_browser_uploads

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# Playwright's sync API runs an event loop in this thread; Django's ORM, used by the tests
# here and by the live server's threads, is safe to call from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import expect

    # A loaded 2-core CI machine is slower than Playwright's 5 s default expects.
    expect.set_options(timeout=20_000)
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's chromium is needed for the browser tests: "
            "apt-get install -y chromium (scripts/test does it)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def site(live_server, seaweedfs) -> str:
    """The live server's URL, with the buckets' CORS rule allowing it (as the demo's does)."""
    allow_browser_uploads(seaweedfs, [live_server.url])
    return str(live_server.url)


@dataclass
class PageLog:
    """What the page said: console messages and uncaught errors, and the requests it made."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [line for line in self.console if "Content Security Policy" in line]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser, page_log):
    context = browser.new_context(viewport={"width": 900, "height": 700})
    new_page = context.new_page()
    new_page.on(
        "console", lambda message: page_log.console.append(f"{message.type}: {message.text}")
    )
    new_page.on("pageerror", lambda error: page_log.errors.append(str(error)))
    new_page.on(
        "request", lambda request: page_log.requests.append(f"{request.method} {request.url}")
    )
    new_page.set_default_timeout(20_000)
    yield new_page
    context.close()
    assert page_log.errors == [], page_log.errors


def screenshot(page, name: str) -> None:
    """Keep a picture of a widget state; `S3FF_SCREENSHOTS=1` writes them to docs/screenshots."""
    if os.environ.get("S3FF_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".s3ff").first.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    else:
        assert page.locator(".s3ff").first.screenshot()
