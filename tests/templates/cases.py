"""Table-driven cases written twice: in upstream pongo2 syntax and in Jinja2 syntax."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import pytest

from templates import TemplateEngine
from templates import TemplateError

SYNTAXES = ("pongo", "jinja")


@dataclass(frozen=True)
class Case:
    """One template in both syntaxes and what it renders (or the error it raises)."""

    id: str
    pongo: str
    jinja: str
    expected: str | None = None
    error: str | None = None  # regex the TemplateError message must contain
    context: dict[str, Any] = field(default_factory=dict)

    def source(self, syntax: str) -> str:
        return self.pongo if syntax == "pongo" else self.jinja


def same(id: str, source: str, expected: str | None = None, **kwargs: Any) -> Case:
    """A case whose pongo2 and Jinja2 spellings coincide."""
    return Case(id, source, source, expected, **kwargs)


def twins(cases: list[Case]) -> list[Any]:
    """pytest params: every case once per syntax."""
    return [
        pytest.param(case, syntax, id=f"{case.id}-{syntax}")
        for case in cases
        for syntax in SYNTAXES
    ]


def check(
    engine: TemplateEngine, case: Case, syntax: str, context: dict[str, Any]
) -> None:
    """Render the case in one syntax and assert the outcome."""
    source = case.source(syntax)
    variables = {**context, **case.context}
    if case.error is not None:
        with pytest.raises(TemplateError) as raised:
            engine.render(source, variables)
        assert re.search(case.error, str(raised.value)), str(raised.value)
        assert str(raised.value).startswith(
            f"error while evaluating expression: '{source}': "
        )
    else:
        assert engine.render(source, variables) == case.expected
