"""The template engine configured from Settings (the one place they meet)."""

from __future__ import annotations

from flyte.config import Settings
from templates import TemplateEngine


def build_engine(settings: Settings) -> TemplateEngine:
    """A sandboxed template engine with the configured output and time limits."""
    return TemplateEngine(
        max_output_bytes=settings.template_max_output_bytes,
        max_render_seconds=settings.template_timeout_ms / 1000,
    )
