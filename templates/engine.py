"""TemplateEngine: compile (cached), render, resolve and evaluate criteria, safely.

Every failure inside a render, whatever raised it (Jinja, a filter, a caller-supplied
function, a guard), leaves as a :class:`~templates.errors.TemplateError` whose message
follows upstream: ``error while evaluating expression: '<source>': <reason>``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jinja2
from jinja2 import Template
from jinja2.exceptions import SecurityError

from templates.compiler import compile_template
from templates.criteria import parse_bool
from templates.errors import CriteriaError
from templates.errors import DeadlineExceeded
from templates.errors import LimitExceeded
from templates.errors import TemplateDeadlineError
from templates.errors import TemplateError
from templates.errors import TemplateLimitError
from templates.errors import TemplateSecurityError
from templates.errors import TemplateSyntaxError
from templates.limits import BUDGET_FACTOR
from templates.limits import DEFAULT_MAX_OUTPUT_BYTES
from templates.limits import DEFAULT_MAX_RENDER_SECONDS
from templates.limits import Limits
from templates.limits import RenderState
from templates.limits import get_state
from templates.limits import reset_state
from templates.limits import set_state
from templates.sandbox import Sandbox
from templates.undefined import current_tracker
from templates.values import to_text

#: Default number of compiled templates kept (LRU, keyed by source).
DEFAULT_CACHE_SIZE = 4096

Functions = Mapping[str, Callable[..., Any]]
_NO_FUNCTIONS: Functions = {}


class TemplateEngine:
    """Render pongo2- or Jinja2-syntax templates in a sandbox with time and size limits.

    Args:
        max_output_bytes: cap on one render's output (and on any single string or
            list a template builds).
        max_render_seconds: CPU-time budget of one render (of the rendering
            thread, so pauses do not count), checked cooperatively.
        cache_size: compiled templates kept, least recently used evicted.
        max_work: characters/items a render may build in total (default: 16 × the
            output cap).
        rng: random source for ``randomInt``, ``randomAlpha`` and ``|random``.
        propagate: exception types raised by caller functions (e.g. a datastore
            outage) that must escape unwrapped instead of becoming TemplateError.
    """

    def __init__(
        self,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
        max_render_seconds: float = DEFAULT_MAX_RENDER_SECONDS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        *,
        max_work: int | None = None,
        rng: random.Random | None = None,
        propagate: tuple[type[BaseException], ...] = (),
    ) -> None:
        budget = max_work if max_work is not None else max_output_bytes * BUDGET_FACTOR
        self._limits = Limits(max_output_bytes, max_render_seconds, budget)
        self._rng = rng if rng is not None else random.Random()
        self._propagate = propagate
        self._env = Sandbox()
        self._env.globals["template"] = self._template_function
        # Static functions override same-named user keys (upstream's Update order).
        self._globals = dict(self._env.globals)
        self._compiled = lru_cache(maxsize=cache_size)(self._compile)

    def render(
        self,
        source: str,
        context: Mapping[str, Any],
        functions: Functions | None = None,
    ) -> str:
        """Render one template string against ``context``."""
        if "{" not in source:
            return source
        return self._render(source, self._variables(context, functions), functions)

    def resolve(
        self, value: Any, context: Mapping[str, Any], functions: Functions | None = None
    ) -> Any:
        """Render every string inside ``value`` (dicts and lists recursively).

        Map keys and non-string values are returned untouched; containers are copied.
        """
        variables = self._variables(context, functions)
        return self._resolve(value, variables, functions)

    def evaluate_criteria(
        self,
        source: str,
        context: Mapping[str, Any],
        functions: Functions | None = None,
    ) -> bool:
        """Render criteria and read it as a boolean; an empty source means True."""
        if source == "":
            return True
        rendered = self.render(source, context, functions)
        result = parse_bool(rendered)
        if result is None:
            raise CriteriaError(source, rendered)
        return result

    def check_syntax(self, source: str) -> None:
        """Raise :class:`TemplateSyntaxError` if ``source`` does not compile."""
        self._template(source)

    def cache_info(self) -> Any:
        """Hits, misses and size of the compiled-template cache (functools format)."""
        return self._compiled.cache_info()

    def _resolve(self, value: Any, variables: dict[str, Any], functions: Any) -> Any:
        if isinstance(value, str):
            if "{" not in value:
                return value
            return self._render(value, variables, functions)
        if isinstance(value, dict):
            return {k: self._resolve(v, variables, functions) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, variables, functions) for v in value]
        if isinstance(value, tuple):
            return tuple(self._resolve(v, variables, functions) for v in value)
        return value

    def _variables(self, context: Mapping[str, Any], functions: Any) -> dict[str, Any]:
        if functions:
            return {**context, **self._globals, **functions}
        return {**context, **self._globals}

    def _render(self, source: str, variables: dict[str, Any], functions: Any) -> str:
        template = self._template(source)
        state = RenderState(self._limits, functions or _NO_FUNCTIONS, self._rng)
        tracker = current_tracker()
        if tracker is not None:
            tracker.roots = variables
        token = set_state(state)
        try:
            return self._run(template, variables)
        except Exception as ex:
            if isinstance(ex, self._propagate):
                raise
            raise _wrap(source, ex) from ex
        finally:
            reset_state(token)

    def _run(self, template: Template, variables: dict[str, Any]) -> str:
        limit = self._limits.max_output
        chunks: list[str] = []
        size = 0
        for chunk in template.root_render_func(template.new_context(variables, True)):
            size += len(chunk)
            if size > limit:
                raise LimitExceeded(f"output is longer than {limit} bytes")
            chunks.append(chunk)
        text = "".join(chunks)
        # Characters undercount bytes by up to 4x; encode only when it could matter.
        if size * 4 > limit and len(text.encode("utf-8", "surrogatepass")) > limit:
            raise LimitExceeded(f"output is longer than {limit} bytes")
        return text

    def _template(self, source: str) -> Template:
        compiled = self._compiled(source)
        if isinstance(compiled, Template):
            return compiled
        reason, lineno = compiled
        raise TemplateSyntaxError(source, reason, lineno)

    def _compile(self, source: str) -> Template | tuple[str, int]:
        # Errors are cached as (reason, line) so a broken flow is not recompiled on
        # every event, and each raise gets a fresh exception.
        if len(source) > self._limits.max_output:
            return f"template is longer than {self._limits.max_output} bytes", 1
        try:
            return compile_template(self._env, source)
        except jinja2.TemplateSyntaxError as ex:
            return ex.message or str(ex), ex.lineno
        except RecursionError:
            return "template is nested too deeply", 1

    def _template_function(self, source: Any, context: Any) -> str:
        """``template(tpl, ctx)``: render ``tpl`` with only ``ctx`` and the statics."""
        if not isinstance(context, Mapping):
            raise TypeError(
                f"template: context must be a map, not {type(context).__name__}"
            )
        state = get_state()
        functions = state.functions if state is not None else _NO_FUNCTIONS
        template = self._template(to_text(source))
        return self._run(template, self._variables(context, functions))


def _wrap(source: str, ex: Exception) -> TemplateError:
    """Turn anything raised inside a render into the matching TemplateError."""
    if isinstance(ex, TemplateError):
        # e.g. a syntax error in the string given to template(): report it against
        # the outer source, keeping the class only where it still holds.
        kind = (
            type(ex)
            if isinstance(ex, (TemplateLimitError, TemplateSecurityError))
            else TemplateError
        )
        return kind(source, ex.reason)
    if isinstance(ex, DeadlineExceeded):
        return TemplateDeadlineError(source, str(ex))
    if isinstance(ex, (LimitExceeded, MemoryError, RecursionError)):
        reason = str(ex) or type(ex).__name__
        if isinstance(ex, RecursionError):
            reason = "maximum recursion depth exceeded"
        return TemplateLimitError(source, reason)
    if isinstance(ex, SecurityError):
        return TemplateSecurityError(source, str(ex))
    return TemplateError(source, str(ex) or type(ex).__name__)
