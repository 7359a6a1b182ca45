"""Errors raised by the template engine; everything a render can throw is one of these.

TemplateError                 any failure to compile or evaluate a template
  TemplateSyntaxError         the source does not compile (has ``lineno``)
  TemplateSecurityError       the template tried something the sandbox forbids
  TemplateLimitError          a time, size or range limit was hit
    TemplateDeadlineError     the render ran out of time (may not happen again)
  CriteriaError               criteria rendered something that is not a boolean
"""

from __future__ import annotations

#: Longest source quoted in an error message; longer ones are cut with an ellipsis.
MAX_QUOTED_SOURCE = 1000


def _quote(source: str) -> str:
    if len(source) <= MAX_QUOTED_SOURCE:
        return source
    return source[:MAX_QUOTED_SOURCE] + "…"


class TemplateError(Exception):
    """A template could not be compiled or evaluated."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(
            f"error while evaluating expression: '{_quote(source)}': {reason}"
        )


class TemplateSyntaxError(TemplateError):
    """The template source does not compile."""

    def __init__(self, source: str, reason: str, lineno: int) -> None:
        self.lineno = lineno
        super().__init__(source, f"syntax error on line {lineno}: {reason}")


class TemplateSecurityError(TemplateError):
    """The template tried to reach something the sandbox does not allow."""


class TemplateLimitError(TemplateError):
    """The render ran out of time or would have produced too much data."""


class TemplateDeadlineError(TemplateLimitError):
    """The render ran out of CPU time; unlike the other limits, a retry may pass."""


class CriteriaError(TemplateError):
    """Criteria rendered to something other than a boolean."""

    def __init__(self, source: str, rendered: str) -> None:
        self.rendered = rendered
        shown = rendered if len(rendered) <= 200 else rendered[:200] + "…"
        super().__init__(
            source,
            f"criteria must render to a boolean (1, t, T, TRUE, true, True, 0, f, F,"
            f" FALSE, false, False) but rendered {shown!r}",
        )


class LimitExceeded(Exception):
    """Raised inside a render by the guards; the engine turns it into a
    :class:`TemplateLimitError`."""


class DeadlineExceeded(LimitExceeded):
    """Raised inside a render past its deadline; becomes a TemplateDeadlineError."""
