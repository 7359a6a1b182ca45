"""Compile a template source: pongo2 translation, Jinja parse, guard injection, codegen.

Jinja's sandbox hooks see calls, attribute access and (intercepted) operators, but not
loop iterations, ``~`` concatenation or literal text. We rewrite the parsed tree so
those go through guard filters too:

* every ``{% for %}`` iterable is wrapped so each iteration checks the deadline;
* ``a ~ b`` becomes a size-checked concatenation;
* literal text inside loops, macros and capturing blocks is counted when produced.
"""

from __future__ import annotations

from typing import Any
from typing import cast

from jinja2 import Environment
from jinja2 import Template
from jinja2 import nodes
from jinja2 import pass_context
from jinja2.exceptions import TemplateAssertionError
from jinja2.runtime import Context
from jinja2.visitor import NodeTransformer

from templates.guards import guard_iter
from templates.limits import charge
from templates.limits import check_size
from templates.pongo import translate
from templates.values import to_text

#: Internal filters the rewritten tree calls (not meant for template authors).
GUARD_ITER = "_guard_iter"
CONCAT = "_concat"
EMIT = "_emit"

# Nodes whose body can run many times or be captured instead of printed.
_REPEATING = (
    nodes.For,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
)


# The internal filters take the context so Jinja never constant-folds them at compile.
@pass_context
def _guard_iter_filter(context: Context, iterable: Any) -> Any:
    return guard_iter(iterable)


@pass_context
def _concat_filter(context: Context, items: list[Any]) -> str:
    texts = [to_text(item) for item in items]
    size = sum(map(len, texts))
    check_size(size, "concatenation")
    charge(size)
    return "".join(texts)


@pass_context
def _emit_filter(context: Context, text: str) -> str:
    return text  # printed through finalize, which charges it


INTERNAL_FILTERS = {
    GUARD_ITER: _guard_iter_filter,
    CONCAT: _concat_filter,
    EMIT: _emit_filter,
}


def compile_template(env: Environment, source: str) -> Template:
    """Translate, parse, guard and compile ``source`` into a Template."""
    tree = env.parse(translate(source))
    _check_names(env, tree)
    tree = _GuardInjector().visit(tree)
    tree.set_environment(env)
    code = env.compile(tree)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _check_names(env: Environment, tree: nodes.Template) -> None:
    # Jinja defers unknown filters/tests inside {% if %} to render time; flow
    # validation wants them all up front, as pongo2 reports them at parse time.
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = ("filter", env.filters)
        if isinstance(node, nodes.Test):
            kind, known = ("test", env.tests)
        if node.name not in known:
            message = f"No {kind} named {node.name!r}."
            raise TemplateAssertionError(message, node.lineno)


def _filter(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


class _GuardInjector(NodeTransformer):
    """Rewrites the parsed tree so loops, concatenation and literals are guarded."""

    def __init__(self) -> None:
        self.depth = 0

    def generic_visit(self, node: nodes.Node, *args: Any, **kwargs: Any) -> Any:
        repeating = isinstance(node, _REPEATING)
        self.depth += repeating
        try:
            return super().generic_visit(node, *args, **kwargs)
        finally:
            self.depth -= repeating

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = _filter(cast(nodes.Expr, node.iter), GUARD_ITER)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        node = self.generic_visit(node)
        return _filter(nodes.List(node.nodes, lineno=node.lineno), CONCAT)

    def visit_TemplateData(self, node: nodes.TemplateData) -> nodes.Expr:
        # Root-level text is bounded by the source; repeated text must be counted.
        if self.depth == 0:
            return node
        return _filter(nodes.Const(node.data, lineno=node.lineno), EMIT)
