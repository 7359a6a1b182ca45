"""One headless Chromium per test process, and a page that fails on any browser error.

Playwright drives Debian's ``chromium`` (``/usr/bin/chromium``, installed by
.ci/run); Playwright's own browser download is never used. Without that binary
every browser test is skipped, and pytest's ``-ra`` summary says why.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from tests.browser.consoledev import BrowserTrouble

#: Debian's Chromium; FLYTE_CHROMIUM names another binary.
CHROMIUM = Path(os.environ.get("FLYTE_CHROMIUM", "/usr/bin/chromium"))
#: Quiet and offline: no sandbox (CI runs as root), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How long one browser step (a click, a navigation) may take, in milliseconds.
STEP_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole test process; skipped when it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}: "
            "apt-get install chromium (.ci/run does it)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def browser_trouble() -> BrowserTrouble:
    """What the test's page did wrong; a test may declare refusals it expects."""
    return BrowserTrouble()


@pytest.fixture
def page(browser: Browser, browser_trouble: BrowserTrouble) -> Iterator[Page]:
    """A fresh page (own cookies); the test fails on any error the browser saw."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    trouble = browser_trouble
    opened = context.new_page()
    opened.on("console", trouble.on_console)
    opened.on("pageerror", trouble.on_page_error)
    opened.on("dialog", trouble.on_dialog)
    yield opened
    context.close()
    assert not trouble.problems, "\n".join(trouble.problems)
