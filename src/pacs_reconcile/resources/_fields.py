"""Checks of spec fields against the forms AWS accepts, for `Annotated[str, ...]` fields.

Not a kind module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator

from .base import is_unresolved


def matching(pattern: re.Pattern[str], rule: str | Callable[[str], str]) -> AfterValidator:
    """A text field's check against the form AWS accepts: `rule` (or `rule(value)`) is the error.
    Values still holding ${...} pass (checked once resolved)."""

    def check(value: str) -> str:
        if not is_unresolved(value) and not pattern.fullmatch(value):
            raise ValueError(rule if isinstance(rule, str) else rule(value))
        return value

    return AfterValidator(check)


def matching_or_empty(pattern: re.Pattern[str], rule: str | Callable[[str], str]) -> AfterValidator:
    """`matching`, where "" passes too: the field's way of saying none (no dead-letter target, a
    Regional file system's zone)."""
    return matching(re.compile(f"(?:{pattern.pattern})?", pattern.flags), rule)


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
_ROLE_RULE = "must be a role ARN (arn:aws:iam::ACCOUNT:role/NAME), e.g. ${iam_roles.X.arn}"
ROLE_ARN = matching(_ROLE_ARN, _ROLE_RULE)
"""A field naming an IAM role by ARN (an execution or delivery role)."""
ROLE_ARN_OR_EMPTY = matching_or_empty(_ROLE_ARN, _ROLE_RULE + ', or "" for none')
"""ROLE_ARN for a field where "" says no role."""


def holding_statements(rule: str, *, empty_is_none: bool = False) -> AfterValidator:
    """A policy document's check: it has a 'Statement' (`rule` is the error), unless it is `{}`
    and `empty_is_none` (the field's way of saying no policy)."""

    def check(document: dict[str, Any]) -> dict[str, Any]:
        if (document or not empty_is_none) and "Statement" not in document:
            raise ValueError(rule)
        return document

    return AfterValidator(check)


PolicyDocument = Annotated[
    dict[str, Any],
    holding_statements("a policy document needs a 'Statement' ({} for no policy)", empty_is_none=True),
]
"""A resource policy as a mapping (an IAM policy document); `{}` for none."""


StandardUnit = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
]  # fmt: skip
"""CloudWatch's StandardUnit: the units a metric's datapoints carry (an alarm's metric, a metric
filter's metric transformation)."""
