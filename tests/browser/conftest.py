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
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Dialog
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

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


class BrowserTrouble:
    """Every console error, uncaught page error and dialog a page produced."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def on_console(self, message: ConsoleMessage) -> None:
        """Record console errors (CSP violations and failed loads are among them)."""
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def on_page_error(self, error: Exception) -> None:
        """Record an uncaught exception of the page's scripts."""
        self.problems.append(f"page error: {error}")

    def on_dialog(self, dialog: Dialog) -> None:
        """A dialog means a hostile payload ran: record it and dismiss it."""
        self.problems.append(f"dialog opened: {dialog.type} {dialog.message!r}")
        dialog.dismiss()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own cookies); the test fails on any error the browser saw."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    trouble = BrowserTrouble()
    opened = context.new_page()
    opened.on("console", trouble.on_console)
    opened.on("pageerror", trouble.on_page_error)
    opened.on("dialog", trouble.on_dialog)
    yield opened
    context.close()
    assert not trouble.problems, "\n".join(trouble.problems)
