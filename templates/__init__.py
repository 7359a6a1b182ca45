"""Sandboxed template engine for flow steps: upstream pongo2 syntax on Jinja2.

A leaf package (it imports nothing from ``flyte``, ``api`` or ``workers``). Callers
render step context, labels, criteria and command inputs through one
:class:`TemplateEngine`; side-effecting helpers such as ``datastore`` are passed in
per render. See docs/templates.md.
"""

from __future__ import annotations

from templates.engine import DEFAULT_CACHE_SIZE
from templates.engine import TemplateEngine
from templates.errors import CriteriaError
from templates.errors import TemplateDeadlineError
from templates.errors import TemplateError
from templates.errors import TemplateLimitError
from templates.errors import TemplateSecurityError
from templates.errors import TemplateSyntaxError
from templates.functions import DatastoreItem
from templates.functions import make_datastore_function
from templates.functions import make_secret_function
from templates.limits import DEFAULT_MAX_OUTPUT_BYTES
from templates.limits import DEFAULT_MAX_RENDER_SECONDS
from templates.pongo import translate
from templates.undefined import UndefinedNames
from templates.undefined import tracking_undefined
from templates.values import to_text

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_MAX_OUTPUT_BYTES",
    "DEFAULT_MAX_RENDER_SECONDS",
    "CriteriaError",
    "DatastoreItem",
    "TemplateDeadlineError",
    "TemplateEngine",
    "TemplateError",
    "TemplateLimitError",
    "TemplateSecurityError",
    "TemplateSyntaxError",
    "UndefinedNames",
    "make_datastore_function",
    "make_secret_function",
    "to_text",
    "tracking_undefined",
    "translate",
]
