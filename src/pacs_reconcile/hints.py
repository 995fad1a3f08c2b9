"""Hints for a person who got a name or a value wrong: did-you-mean and nearest allowed values."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable, Sequence


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` most likely misspells, if any is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def suggestion(word: str, choices: Iterable[str]) -> str:
    """`did you mean 'x'?`, or "" when nothing is close: a diagnostic's help line."""
    found = closest(word, choices)
    return f"did you mean {found!r}?" if found else ""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` to end a one-line message with, or ""."""
    found = suggestion(word, choices)
    return f"; {found}" if found else ""


def nearest_numbers(value: float, allowed: Sequence[int]) -> str:
    """`the nearest allowed values are 30 and 60` for 45 among sorted `allowed`."""
    ordered = sorted(allowed)
    index = bisect.bisect_left(ordered, value)
    around = ordered[max(0, index - 1) : index + 1]
    if len(around) == 1:
        return f"the nearest allowed value is {around[0]}"
    return f"the nearest allowed values are {around[0]} and {around[1]}"


def plain_list(items: Iterable[object], last: str = "or") -> str:
    """`a, b or c`: choices written for people (not a Python list's repr)."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


class InvalidValue(ValueError):
    """A spec model's validator refusing a value, with a help line for the diagnostic."""

    def __init__(self, message: str, help: str = "") -> None:
        super().__init__(message)
        self.help = help
