"""Many filter patterns over many log events, fast: each event is tested only against the patterns
whose cheap necessary condition (Requirement) it passes, looked up in an index, instead of against
every pattern. The outcome is exactly that of evaluating every pattern
(tests/monitoring/test_filter_bank.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .filter_pattern import NOT_JSON, FilterPattern, LogEvent, Verdict, resolve


class FilterBank:
    def __init__(self, patterns: Sequence[FilterPattern]) -> None:
        self.patterns = list(patterns)
        self.always: list[int] = []
        self.substrings: dict[str, list[int]] = {}
        self.fields: dict[tuple[int, ...], dict[tuple[str, ...], list[int]]] = {}
        self.json: dict[tuple[str, ...], dict[tuple[str, ...], list[int]]] = {}
        for index, pattern in enumerate(self.patterns):
            requirement = pattern.requirement()
            if requirement is None:
                self.always.append(index)
            elif requirement.kind == "substring":
                for (text,) in requirement.values:
                    self.substrings.setdefault(text, []).append(index)
            else:
                table: dict[Any, dict[tuple[str, ...], list[int]]] = (
                    self.fields if requirement.kind == "field" else self.json
                )
                by_values = table.setdefault(requirement.keys, {})
                for values in requirement.values:
                    by_values.setdefault(values, []).append(index)

    def candidates(self, event: LogEvent) -> set[int]:
        """The patterns that may match the event (every one that does is among them)."""
        found = set(self.always)
        message = event.message
        for text, indexes in self.substrings.items():
            if text in message:
                found.update(indexes)
        if self.fields:
            fields = event.fields
            count = len(fields)
            for positions, by_values in self.fields.items():
                if all(-count <= p < count for p in positions):
                    found.update(by_values.get(tuple(fields[p] for p in positions), ()))
        if self.json and message.lstrip().startswith("{") and event.document is not NOT_JSON:
            document = event.document
            for selectors, by_values in self.json.items():
                texts = tuple(_text(resolve(document, selector)) for selector in selectors)
                found.update(by_values.get(texts, ()))  # type: ignore[arg-type]
        return found

    def evaluate(self, event: LogEvent) -> list[tuple[int, Verdict]]:
        """(pattern index, verdict) of every pattern that matches the event, in pattern order."""
        out = []
        for index in sorted(self.candidates(event)):
            verdict = self.patterns[index].evaluate(event)
            if verdict.matched:
                out.append((index, verdict))
        return out


def _text(value: Any) -> str | None:
    """A JSON value as the text an exact comparison sees (None: no text comparison can hold)."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
