"""`plan --remote-check`: ask CloudWatch Logs' TestMetricFilter about every metric filter example and
report where AWS and the offline engine disagree (whether a line matches, and what a space-delimited
pattern extracts). It reads only: TestMetricFilter changes nothing in the account.

TestMetricFilter takes at most 50 messages a call (TestEventMessages, max 50, in the API model) and
returns the matched ones with `extractedValues` (`$name` -> text for space-delimited patterns).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..spec.model import Location, ResourceNode, Spec
from .examples import FilterExample
from .filter_pattern import LogEvent, PatternError, compile_pattern

MAX_MESSAGES = 50


@dataclass(frozen=True)
class Disagreement:
    address: str
    location: Location
    line: str
    detail: str

    def __str__(self) -> str:
        return f"{self.location}: {self.address}: {self.detail}"


@dataclass(frozen=True)
class RemoteCheck:
    patterns: int
    """Metric filters whose examples AWS was asked about."""
    lines: int
    disagreements: list[Disagreement]

    def as_json(self) -> dict[str, Any]:
        return {
            "patterns": self.patterns,
            "lines": self.lines,
            "disagreements": [
                {"address": d.address, "file": d.location.file, "line": d.location.line, "detail": d.detail}
                for d in self.disagreements
            ],
        }


def remote_check(spec: Spec, logs: Any) -> RemoteCheck:
    """Compare the offline engine with TestMetricFilter (`logs` is a boto3 CloudWatch Logs client)."""
    patterns = lines = 0
    found: list[Disagreement] = []
    for node in _tested_filters(spec):
        pattern = str(node.config["pattern"])
        if "${" in pattern:
            continue  # known only at plan time: nothing to compare offline
        examples = [(e.location, e.example) for e in node.examples if isinstance(e.example, FilterExample)]
        messages = list(dict.fromkeys(example.line for _, example in examples))
        try:
            remote = _matches(logs, pattern, messages)
        except logs.exceptions.InvalidParameterException as exc:
            location = examples[0][0]
            found.append(Disagreement(node.address, location, "", f"AWS refuses the pattern: {exc}"))
            continue
        patterns += 1
        lines += len(messages)
        found.extend(_compare(node, pattern, examples, remote))
    return RemoteCheck(patterns, lines, found)


def _tested_filters(spec: Spec) -> Iterator[ResourceNode]:
    for node in spec.resources.values():
        if node.kind == "metric_filters" and any(isinstance(e.example, FilterExample) for e in node.examples):
            yield node


def _matches(logs: Any, pattern: str, messages: list[str]) -> dict[str, dict[str, str]]:
    """{message: extracted values} of the messages AWS matches."""
    matched: dict[str, dict[str, str]] = {}
    for start in range(0, len(messages), MAX_MESSAGES):
        batch = messages[start : start + MAX_MESSAGES]
        response = logs.test_metric_filter(filterPattern=pattern, logEventMessages=batch)
        for match in response.get("matches", []):
            message = match.get("eventMessage")
            if message is None and match.get("eventNumber"):  # 1-based position in the batch
                message = batch[int(match["eventNumber"]) - 1]
            matched[str(message)] = dict(match.get("extractedValues") or {})
    return matched


def _compare(
    node: ResourceNode,
    pattern: str,
    examples: list[tuple[Location, FilterExample]],
    remote: dict[str, dict[str, str]],
) -> Iterator[Disagreement]:
    try:
        compiled = compile_pattern(pattern)
    except PatternError as exc:  # validate refuses these; AWS accepted it
        yield Disagreement(
            node.address, examples[0][0], "", f"AWS accepts the pattern, the engine does not: {exc}"
        )
        return
    seen: set[str] = set()
    for location, example in examples:
        if example.line in seen:
            continue
        seen.add(example.line)
        verdict = compiled.evaluate(LogEvent(example.line))
        aws_matched = example.line in remote
        if verdict.matched != aws_matched:
            detail = (
                f"AWS matches {example.line!r}, the engine does not ({verdict.reason})"
                if aws_matched
                else f"the engine matches {example.line!r}, AWS does not"
            )
            yield Disagreement(node.address, location, example.line, detail)
            continue
        extracted = remote.get(example.line, {})
        for name, value in verdict.fields.items():
            theirs = extracted.get(f"${name}")
            if theirs is not None and theirs != value:
                detail = f"{example.line!r}: AWS extracts ${name} = {theirs!r}, the engine {value!r}"
                yield Disagreement(node.address, location, example.line, detail)
