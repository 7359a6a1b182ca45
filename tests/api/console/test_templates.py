"""Static checks of the console's templates: nothing marks data as safe HTML."""

from __future__ import annotations

import re
from pathlib import Path

from api.console.render import environment

HTML = Path(__file__).resolve().parents[3] / "api" / "console" / "html"


def test_no_template_turns_autoescape_off_or_marks_data_safe() -> None:
    unsafe = re.compile(r"\|\s*safe\b|autoescape\s+false|Markup")
    offenders = [
        page.name for page in HTML.glob("*.html") if unsafe.search(page.read_text())
    ]
    assert offenders == []


def test_no_template_has_inline_script_or_event_handlers() -> None:
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=", re.IGNORECASE)
    offenders = [
        page.name for page in HTML.glob("*.html") if inline.search(page.read_text())
    ]
    assert offenders == []


def test_the_environment_escapes_whatever_the_template_name() -> None:
    env = environment()
    rendered = env.from_string("{{ value }}").render(value="<b>&'\"")
    assert rendered == "&lt;b&gt;&amp;&#39;&#34;"
