"""Pydantic's validation errors in the words of a spec's author.

Pydantic says "Input should be a valid integer, unable to parse string as an integer" and lists
choices as quoted Python strings; a person editing YAML wants "must be a whole number; got 'ten'"
and a did-you-mean. Error types are pydantic-core's (https://docs.pydantic.dev/latest/errors/validation_errors/).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel

from ..hints import InvalidValue, plain_list, suggestion

MAX_SHOWN = 60
"""A refused value longer than this is not quoted back (it would drown the message)."""

_KIND_WORDS: Mapping[str, str] = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "set_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "none_required": "must be empty (null)",
}
_BOUNDS: Mapping[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be more than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
    "multiple_of": ("multiple_of", "must be a multiple of {}"),
}


@dataclass(frozen=True)
class Wording:
    message: str
    help: str = ""
    at_key: bool = False
    """The key itself is wrong (unknown), not its value."""


def describe(error: Mapping[str, Any], model: type[BaseModel]) -> Wording:
    """One pydantic error (an item of `ValidationError.errors()`) in plain words."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        name = str(error["loc"][-1])
        owner = _model_at(model, tuple(error["loc"][:-1]))
        return Wording("unknown key", suggestion(name, owner.model_fields) if owner else "", at_key=True)
    if kind == "missing":
        return Wording("required")
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        # pydantic quotes text choices ("'A' or 'B'") but not numbers ("60 or 600")
        choices = re.findall(r"'([^']*)'", expected) or [c for c in re.split(r", | or ", expected) if c]
        hint = suggestion(value, choices) if isinstance(value, str) else ""
        return Wording(f"must be one of {plain_list(choices)}{_got(value)}", hint)
    if kind in _KIND_WORDS:
        return Wording(_KIND_WORDS[kind] + _got(value))
    if kind in _BOUNDS:
        key, text = _BOUNDS[kind]
        return Wording(text.format(ctx.get(key)) + _got(value))
    if kind in ("string_too_short", "too_short"):
        least = ctx.get("min_length")
        if least == 1:
            return Wording("must not be empty")
        unit = "characters" if kind == "string_too_short" else "items"
        return Wording(f"must have at least {least} {unit}")
    if kind in ("string_too_long", "too_long"):
        unit = "characters" if kind == "string_too_long" else "items"
        return Wording(f"must have at most {ctx.get('max_length')} {unit}")
    if kind == "string_pattern_mismatch":
        return Wording(f"must match the pattern {ctx.get('pattern')}{_got(value)}")
    cause = ctx.get("error")
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    hint = cause.help if isinstance(cause, InvalidValue) else ""
    return Wording(message, hint, at_key=message.startswith("unknown key"))


def _got(value: Any) -> str:
    if isinstance(value, bool):
        return f"; got {str(value).lower()}"
    if isinstance(value, int | float):
        return f"; got {value}"
    if isinstance(value, str) and len(value) <= MAX_SHOWN:
        return f"; got {value!r}"
    if value is None:
        return "; got nothing (null)"
    return ""


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The (nested) model that validates the mapping at `loc`, for did-you-mean hints."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: same model as the list's items
        if current is None or part not in current.model_fields:
            return None
        current = inner_model(current.model_fields[part].annotation)
    return current


def inner_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (itself, or inside `X | None`, `list[X]`, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = inner_model(arg)
        if found is not None:
            return found
    return None
