"""Translate upstream's pongo2 (Django-style) syntax into Jinja2 before compiling.

Only code inside ``{{ }}`` and ``{% %}`` is touched, never literal text, comments or
``{% raw %}`` blocks, and never the inside of string literals. Rewrites:

    x|name:arg          x|name(arg)          (x|default:arg -> x|default(arg, true))
    a && b, a || b, !a  a and b, a or b, not a   (``!=`` stays)
    a <> b, a ^ b       a != b, a ** b
    forloop.Counter     loop.index           (Counter0, Revcounter(0), First, Last)
    {% verbatim %}      {% raw %}            ({% endverbatim %} likewise)
    {% empty %}         {% else %}           (Django's for-loop fallback)
    autoescape on/off   autoescape true/false

String literals: an unknown escape such as ``\\s`` keeps its backslash (as Python and
Go regexes expect) instead of raising a warning. Jinja syntax passes through unchanged.
"""

from __future__ import annotations

import re

_OPENER = re.compile(r"\{\{|\{%|\{#")
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>&&|\|\||!=|<>|==|<=|>=|//|\*\*|.)""",
    re.VERBOSE | re.DOTALL,
)
_RAW_END = re.compile(r"\{%([-+]?)\s*end(?:raw|verbatim)\s*([-+]?)%\}")
_ESCAPE = re.compile(
    r"\\(?:[\\'\"abfnrtv\n]|[0-7]{1,3}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}"
    r"|U[0-9a-fA-F]{8}|N\{[^}]*\}|(?P<bad>.))",
    re.DOTALL,
)
_OPERATORS = {"&&": " and ", "||": " or ", "!": " not ", "<>": "!=", "^": "**"}
_FORLOOP = {
    "Counter": "index",
    "Counter0": "index0",
    "Revcounter": "revindex",
    "Revcounter0": "revindex0",
    "First": "first",
    "Last": "last",
}
_TAGS = {"verbatim": "raw", "endverbatim": "endraw", "empty": "else"}
_AUTOESCAPE = {"off": "false", "on": "true"}

Token = tuple[str, str]


def translate(source: str) -> str:
    """Rewrite pongo2 syntax in ``source`` to Jinja2; Jinja2 syntax is kept as is."""
    if "{" not in source:
        return source
    out: list[str] = []
    pos = 0
    while (opener := _OPENER.search(source, pos)) is not None:
        out.append(source[pos : opener.start()])
        pos = _translate_block(source, opener, out)
    out.append(source[pos:])
    return "".join(out)


def _translate_block(source: str, opener: re.Match[str], out: list[str]) -> int:
    kind, start = opener.group(), opener.end()
    if kind == "{#":
        end = source.find("#}", start)
        end = len(source) if end < 0 else end + 2
        out.append(source[opener.start() : end])
        return end
    tokens, end = _scan(source, start, "}}" if kind == "{{" else "%}")
    is_tag = kind == "{%"
    out.append(kind + _translate_tokens(tokens, is_tag) + source[end : end + 2])
    end = min(end + 2, len(source))
    if is_tag and _tag_name(tokens) in ("raw", "verbatim"):
        return _copy_raw(source, end, out)
    return end


def _scan(source: str, pos: int, closer: str) -> tuple[list[Token], int]:
    """Tokenise block code up to ``closer`` at bracket depth 0 (as Jinja's lexer)."""
    tokens: list[Token] = []
    depth = 0
    while pos < len(source):
        if depth == 0 and source.startswith(closer, pos):
            break
        found = _TOKEN.match(source, pos)
        assert found is not None and found.lastgroup is not None  # '.' matches all
        text = found.group()
        if found.lastgroup == "op" and text in "([{":
            depth += 1
        elif found.lastgroup == "op" and text in ")]}" and depth > 0:
            depth -= 1
        tokens.append((found.lastgroup, text))
        pos = found.end()
    return tokens, pos


def _copy_raw(source: str, pos: int, out: list[str]) -> int:
    end = _RAW_END.search(source, pos)
    if end is None:
        out.append(source[pos:])
        return len(source)
    out.append(source[pos : end.start()])
    out.append(f"{{%{end.group(1)} endraw {end.group(2)}%}}")
    return end.end()


def _tag_name(tokens: list[Token]) -> str:
    names = [text for kind, text in tokens if kind == "name"]
    return names[0] if names else ""


def _translate_tokens(tokens: list[Token], is_tag: bool = False) -> str:
    out: list[str] = []
    brackets: list[str] = []
    first_name = is_tag
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        step = 1
        if kind == "op":
            _track(brackets, text)
            if text == "|" and (not brackets or brackets[-1] == "("):
                converted = _filter_call(tokens, i)
                if converted is not None:
                    text, step = converted
            text = _OPERATORS.get(text, text)
        elif kind == "str":
            text = _fix_escapes(text)
        elif kind == "name":
            text, step = _rename(tokens, i, first_name)
            first_name = False
        out.append(text)
        i += step
    return "".join(out)


def _track(brackets: list[str], text: str) -> None:
    if text in "([{":
        brackets.append(text)
    elif text in ")]}" and brackets:
        brackets.pop()


def _rename(tokens: list[Token], i: int, is_tag_name: bool) -> tuple[str, int]:
    text = tokens[i][1]
    if is_tag_name and text in _TAGS:
        return _TAGS[text], 1
    if is_tag_name and text == "autoescape":
        j = _skip_ws(tokens, i + 1)
        if j < len(tokens) and tokens[j][1] in _AUTOESCAPE:
            between = "".join(t for _, t in tokens[i + 1 : j])
            return f"autoescape{between}{_AUTOESCAPE[tokens[j][1]]}", j - i + 1
    attribute = tokens[i + 2][1] if i + 2 < len(tokens) else ""
    if text == "forloop" and tokens[i + 1 : i + 2] == [("op", ".")]:
        if attribute in _FORLOOP:
            return f"loop.{_FORLOOP[attribute]}", 3
    return text, 1


def _filter_call(tokens: list[Token], bar: int) -> tuple[str, int] | None:
    """``| name : arg`` starting at ``bar`` → ``|name(arg)``, or None if not pongo2."""
    name_at = _skip_ws(tokens, bar + 1)
    colon_at = _skip_ws(tokens, name_at + 1)
    if name_at >= len(tokens) or tokens[name_at][0] != "name":
        return None
    if colon_at >= len(tokens) or tokens[colon_at] != ("op", ":"):
        return None
    arg_at = _skip_ws(tokens, colon_at + 1)
    arg_end = _argument_end(tokens, arg_at)
    if arg_end is None:
        return None
    name = tokens[name_at][1]
    argument = _translate_tokens(tokens[arg_at:arg_end])
    if name == "default":
        argument += ", true"  # Django's default replaces any falsy value
    # Keep the newlines of dropped whitespace so error line numbers still match.
    newlines = sum(text.count("\n") for _, text in tokens[bar:arg_at])
    return f"|{name}({argument}){chr(10) * newlines}", arg_end - bar


def _argument_end(tokens: list[Token], i: int) -> int | None:
    """End of a pongo2 filter argument: a literal or a variable path (with calls)."""
    if i >= len(tokens):
        return None
    kind, text = tokens[i]
    if kind in ("str", "num"):
        return i + 1
    if kind == "op" and text in "+-" and i + 1 < len(tokens):
        return i + 2 if tokens[i + 1][0] == "num" else None
    if kind != "name":
        return None
    i += 1
    while i < len(tokens):
        kind, text = tokens[i]
        if text == "." and i + 1 < len(tokens) and tokens[i + 1][0] in ("name", "num"):
            i += 2
        elif text in ("(", "["):
            i = _group_end(tokens, i)
        else:
            break
    return i


def _group_end(tokens: list[Token], i: int) -> int:
    depth = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if kind == "op" and text in "([{":
            depth += 1
        elif kind == "op" and text in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _skip_ws(tokens: list[Token], i: int) -> int:
    while i < len(tokens) and tokens[i][0] == "ws":
        i += 1
    return i


def _fix_escapes(literal: str) -> str:
    if "\\" not in literal:
        return literal
    return _ESCAPE.sub(
        lambda m: "\\" + m.group() if m.group("bad") is not None else m.group(),
        literal,
    )
