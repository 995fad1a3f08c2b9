"""`${...}` templates: variables and for_each values are substituted at load time; resource and
lookup references stay as text until plan/apply resolves them against AWS.

Grammar inside `${ }`:
    var.NAME | each.key | each.value                      substituted while loading
    KIND.NAME[.CHILD_KIND.CHILD_NAME].ATTR | lookups.NAME.ATTR   resolved at plan/apply time
    OPERAND (== | !=) OPERAND                              a comparison (for `when:`), operands being
                                                           var/each references or quoted/number literals
`$${` writes a literal `${`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from ..diff import UNKNOWN
from .yamlsrc import MAX_NUMBER_TEXT

TEMPLATE = re.compile(r"\$\{([^{}]*)\}")
ESCAPED = "$${"
_ESCAPE_MARK = "\x00ESCAPED\x00"
_COMPARISON = re.compile(r"^(.+?)\s*(==|!=)\s*(.+)$")
_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_INSTANCE = r"(?:\[[^\]]+\])?"
REFERENCE = re.compile(rf"^({_NAME}{_INSTANCE})(?:\.({_NAME}{_INSTANCE}))+$")


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Reference:
    """A parsed `${a.b.c}` reference: its dotted parts (instance keys kept, e.g. 'x["a"]')."""

    text: str
    parts: tuple[str, ...]

    @property
    def root(self) -> str:
        return self.parts[0]


def parse_reference(text: str) -> Reference:
    text = text.strip()
    if not REFERENCE.match(text):
        raise ExpressionError(f"invalid reference ${{{text}}}")
    parts = tuple(re.findall(rf"{_NAME}{_INSTANCE}", text))
    return Reference(text, parts)


def _protect(text: str) -> str:
    """`text` with its `$${` escapes set aside; a `${` left without its `}` is an error."""
    protected = text.replace(ESCAPED, _ESCAPE_MARK)
    if "${" in TEMPLATE.sub("", protected):
        raise ExpressionError("a ${ has no matching } (a ${...} holds no braces; write $${ for a literal ${)")
    return protected


def as_data(value: Any) -> Any:
    """A variable's value made inert: every `${` in its text becomes the escape `$${`, so text that
    came from --var, the environment or a default is never read as a template (a password such as
    `Ab${x}Cd` stays a password); rendering with `unescape=True` gives the original text back."""
    return _map_text(value, lambda text: text.replace("${", ESCAPED))


def unescaped(value: Any) -> Any:
    """`value` with every `$${` escape turned back into `${` (for values no reference reaches)."""
    return _map_text(value, lambda text: text.replace(ESCAPED, "${"))


def _map_text(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _map_text(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_text(v, change) for v in value]
    return value


def has_references(value: Any) -> bool:
    """Whether a string still holds a `${...}` to resolve (escapes `$${` are text, not references)."""
    return isinstance(value, str) and "${" in value.replace(ESCAPED, _ESCAPE_MARK)


def references_in(value: Any) -> list[Reference]:
    """Every resource/lookup reference left in a (nested) value."""
    found: list[Reference] = []
    if isinstance(value, str):
        if "${" in value:
            found.extend(text_references(value))
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(references_in(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(references_in(item))
    return found


@functools.lru_cache(maxsize=4096)
def text_references(text: str) -> tuple[Reference, ...]:
    """The references in one text, in order (ExpressionError for a malformed one). Kept per text:
    a spec writes the same reference in many places, and parsing it is a function of the text."""
    return tuple(parse_reference(match.group(1)) for match in TEMPLATE.finditer(_protect(text)))


@functools.lru_cache(maxsize=4096)
def kept_as_written(text: str, roots: Collection[str]) -> bool:
    """Whether `render` gives `text` back unchanged when its resolver knows only references whose
    root is in `roots` (a frozenset) and leaves any other in place (KeyError): every ${...} in it
    is a reference to another root, none is a comparison, and nothing in it is an error. A function
    of the text: the loader asks it of the same reference written in many places."""
    if _ESCAPE_MARK in text:
        return False  # render would turn it into an escape
    try:
        protected = _protect(text)
        for match in TEMPLATE.finditer(protected):
            expression = match.group(1).strip()
            if _COMPARISON.match(expression) or parse_reference(expression).root in roots:
                return False
    except ExpressionError:
        return False
    return True


Resolver = Callable[[Reference], Any]
"""Returns the value of a reference, or raises KeyError to leave it in place as text."""


class _Keep(Exception):
    pass


def render(value: Any, resolve: Resolver, *, unescape: bool = False) -> Any:
    """Substitute what `resolve` knows inside a (nested) value.

    A string that is exactly one `${...}` takes the referenced value with its type (a list stays
    a list); a reference embedded in text is converted to text. `UNKNOWN` values propagate: any
    string depending on one becomes UNKNOWN as a whole (the caller passes the sentinel through).
    """
    if isinstance(value, dict):
        return {k: render(v, resolve, unescape=unescape) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, resolve, unescape=unescape) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    protected = _protect(value)
    whole = TEMPLATE.fullmatch(protected)
    if whole:
        try:
            return _evaluate(whole.group(1), resolve)
        except _Keep:
            return value

    unknown = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unknown
        try:
            result = _evaluate(match.group(1), resolve)
        except _Keep:
            return match.group(0)
        if isinstance(result, dict | list):
            raise ExpressionError(
                f"${{{match.group(1).strip()}}} is a {type(result).__name__} and cannot be embedded in text"
            )
        if result is UNKNOWN:
            unknown = True
            return ""
        return _as_text(result)

    text = TEMPLATE.sub(substitute, protected)
    if unknown:
        return UNKNOWN
    return text.replace(_ESCAPE_MARK, "${" if unescape else ESCAPED)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _evaluate(expression: str, resolve: Resolver) -> Any:
    expression = expression.strip()
    comparison = _COMPARISON.match(expression)
    if comparison:
        left = unescaped(_operand(comparison.group(1), resolve))  # values compare, not their escapes
        right = unescaped(_operand(comparison.group(3), resolve))
        if _is_number(left) and _is_number(right):
            equal = left == right  # 30 == 30.0
        else:
            equal = _as_text(left) == _as_text(right) if type(left) is not type(right) else left == right
        return equal if comparison.group(2) == "==" else not equal
    try:
        return resolve(parse_reference(expression))
    except KeyError:
        raise _Keep() from None


def _operand(text: str, resolve: Resolver) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if re.fullmatch(r"-?\d+(\.\d+)?", text):
        if len(text) > MAX_NUMBER_TEXT:  # Python reads no integer of over 4,300 digits
            raise ExpressionError(
                f"a number written with {len(text)} characters in a comparison: at most {MAX_NUMBER_TEXT}"
            )
        return float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return resolve(parse_reference(text))
    except KeyError:
        raise ExpressionError(f"comparisons may only use variables, each.* and literals: {text}") from None


def truthy(value: Any) -> bool:
    """How `when:` reads a value: false, 0, empty text/list/map are false; so is the text 'false'."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no")
    return bool(value)
