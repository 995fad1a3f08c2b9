"""Runs every `tests:` example of a loaded spec offline and says, for each, whether it holds and why not."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Diagnostic, SpecError
from ..spec.model import LocatedExample, Location, ResourceNode, Spec
from .alarm_eval import AlarmRule
from .alarm_series import evaluated_series
from .chain import alarm_period, alarm_states, publish, watched_metrics
from .examples import AlarmExample, ChainExample, FilterExample
from .filter_pattern import LogEvent, PatternError
from .metric_filter import MetricFilterRule
from .metric_math import MathError

_SHORT = 70


@dataclass(frozen=True)
class ExampleResult:
    address: str
    """The spec entry the example belongs to."""
    field: str
    """Where in the entry, e.g. log_groups.app.metric_filters.errors.tests[0]."""
    location: Location
    kind: str
    """metric filter, alarm or chain."""
    title: str
    failure: str | None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None


def run_examples(spec: Spec) -> list[ExampleResult]:
    """Every example of the spec, in file order."""
    results: list[ExampleResult] = []
    for node in spec.resources.values():
        for located in node.examples:
            results.append(_run(spec, node, located))
    return sorted(results, key=lambda r: (r.location.file, r.location.line, r.location.column))


def check_examples(results: Sequence[ExampleResult]) -> None:
    """Raise a SpecError (exit 3) locating every failing example: `validate` runs them too."""
    failures = [
        Diagnostic(
            r.location.file,
            r.location.line,
            r.location.column,
            r.field,
            f"{r.kind} example fails: {r.failure}",
        )
        for r in results
        if r.failure
    ]
    if failures:
        raise SpecError(failures)


def _run(spec: Spec, node: ResourceNode, located: LocatedExample) -> ExampleResult:
    example = located.example
    started = time.perf_counter()
    check: Callable[[], str | None]
    if isinstance(example, FilterExample):
        kind, title = "metric filter", _short(example.line)
        check = lambda: _check_filter(node.config, example)  # noqa: E731
    elif isinstance(example, AlarmExample):
        kind, title = "alarm", example.name
        check = lambda: _check_alarm(node.config, example)  # noqa: E731
    elif isinstance(example, ChainExample):
        kind, title = "chain", example.name
        check = lambda: _check_chain(spec, node, example)  # noqa: E731
    else:  # pragma: no cover - the models allow no other example
        raise TypeError(type(example).__name__)
    try:
        failure = check()
    except (PatternError, MathError, ValueError) as exc:  # SimulationError is a ValueError
        failure = f"cannot be checked offline: {exc}"
    return ExampleResult(
        node.address, located.field, located.location, kind, title, failure, time.perf_counter() - started
    )


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 3] + "..."


def _check_filter(config: Mapping[str, Any], example: FilterExample) -> str | None:
    rule = MetricFilterRule.from_config(config)
    event = LogEvent(example.line)
    verdict = rule.pattern.evaluate(event)
    if not example.match:
        return "matched, but must not" if verdict.matched else None
    if not verdict.matched:
        return f"did not match: {verdict.reason}"
    published = rule.published(event, verdict)
    if published.value is None:
        return published.problem
    if example.value is not None and published.value != example.value:
        return f"published the value {_number(published.value)}, expected {_number(example.value)}"
    if example.dimensions is not None and dict(published.dimensions) != example.dimensions:
        got, wanted = json.dumps(published.dimensions), json.dumps(example.dimensions)
        return f"published the dimensions {got}, expected {wanted}"
    return None


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _check_alarm(config: Mapping[str, Any], example: AlarmExample) -> str | None:
    series = evaluated_series(config, single=example.datapoints, by_id=example.series)
    rule = AlarmRule.from_config(config)
    states = rule.simulate(series, example.band, example.initial_state, example.evaluation_range)
    for index, (got, wanted) in enumerate(zip(states, example.expect, strict=True)):
        if got != wanted:
            shown = "null" if series[index] is None else _number(series[index])  # type: ignore[arg-type]
            return (
                f"after period {index + 1} (datapoint {shown}) the state is {got}, expected {wanted}; "
                f"states: {' '.join(states)}"
            )
    return None


def _check_chain(spec: Spec, group: ResourceNode, example: ChainExample) -> str | None:
    filters = [
        MetricFilterRule.from_config(node.config)
        for node in spec.resources.values()
        if node.parent == group.address and node.kind == "metric_filters"
    ]
    lines = [(float(timed.at), timed.line) for timed in example.events for _ in range(timed.repeat)]
    published = publish(filters, lines)
    problems = []
    for name, wanted in example.expect.items():
        alarm = spec.resources.get(f"alarms.{name}")
        if alarm is None:
            problems.append(f"no alarm {name!r} in the spec's alarms")
            continue
        if alarm.config.get("promql") is not None:
            problems.append(f"{name} is a PromQL alarm: its state cannot be simulated from log lines")
            continue
        period = alarm_period(alarm.config)
        last = max(at for at, _ in lines)
        until = example.until if example.until is not None else (last // period + 1) * period
        states = alarm_states(alarm.config, published, until)
        if states[-1] != wanted:
            fed = [key for key in watched_metrics(alarm.config) if key in published]
            why = "" if fed else "; no metric filter of this log group publishes its metric"
            problems.append(
                f"{name} ends {states[-1]}, expected {wanted} (after each {period} s period: "
                f"{' '.join(states)}){why}"
            )
    return "; ".join(problems) or None
