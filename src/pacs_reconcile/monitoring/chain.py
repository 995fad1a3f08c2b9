"""Log lines over time, through a log group's metric filters, into the alarms on their metrics.

Each line goes through every metric filter of its log group; what a filter publishes is a sample of
its metric (namespace, name and dimensions), at the line's time. An alarm takes the samples of its
metric in each of its periods, its statistic over them (SampleCount, Sum, Average...), and is
evaluated after every period (alarm_eval). A metric filter's default value is a sample of every line
it does not match, as AWS documents ("the Default Value of 0 is used for both log records").
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .alarm_eval import INITIAL_STATE, AlarmRule, SimulationError, State
from .alarm_series import PeriodInput, evaluated_series
from .filter_bank import FilterBank
from .filter_pattern import LogEvent
from .metric_filter import MetricFilterRule

MetricKey = tuple[str, str, frozenset[tuple[str, str]]]
"""(namespace, metric name, dimensions): what identifies a CloudWatch metric."""
MAX_PERIODS = 100_000
"""The periods a chain example may run: each is a list and an evaluation (a million take a second
and 120 MB), and `at: 1000000000000000000` would never end. 100,000 are 11 days of 10 s periods,
69 days of one-minute ones: more than an example written by hand needs."""


@dataclass(frozen=True)
class Sample:
    at: float
    value: float


def metric_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return (namespace, name, frozenset(dimensions.items()))


def publish(
    rules: Sequence[MetricFilterRule], lines: Sequence[tuple[float, str]]
) -> dict[MetricKey, list[Sample]]:
    """Every sample the filters publish for the timed lines."""
    out: dict[MetricKey, list[Sample]] = {}
    bank = FilterBank([rule.pattern for rule in rules])
    for at, message in lines:
        event = LogEvent(message)
        matched = dict(bank.evaluate(event))
        for index, rule in enumerate(rules):
            if index in matched:
                publication = rule.published(event, matched[index])
                value, dimensions = publication.value, publication.dimensions
            else:
                value, dimensions = rule.default_value, {}
            if value is not None:
                key = metric_key(rule.namespace, rule.metric_name, dimensions)
                out.setdefault(key, []).append(Sample(at, value))
    return out


def per_period(samples: Sequence[Sample], period: int, periods: int) -> list[list[float]]:
    buckets: list[list[float]] = [[] for _ in range(periods)]
    for sample in samples:
        index = int(sample.at // period)
        if index < periods:
            buckets[index].append(sample.value)
    return buckets


def alarm_period(config: Mapping[str, Any]) -> int:
    metric = config.get("metric")
    if metric is not None:
        return int(metric["period"])
    periods = {int(q["metric"]["period"]) for q in config.get("metrics") or [] if q.get("metric")}
    if len(periods) != 1:
        raise SimulationError("the alarm's metrics must share one period")  # AWS requires it too
    return periods.pop()


def alarm_states(
    config: Mapping[str, Any], published: Mapping[MetricKey, list[Sample]], until: float
) -> list[State]:
    """The alarm's state after each of its periods up to `until` (seconds)."""
    period = alarm_period(config)
    periods = max(1, math.ceil(until / period))
    if periods > MAX_PERIODS:
        raise SimulationError(
            f"it runs {periods:,} periods of {period} s (until {until:.0f} s); at most {MAX_PERIODS:,} "
            "are simulated: write the lines' `at` (and `until`) closer to the start"
        )

    def inputs(metric: Mapping[str, Any]) -> list[PeriodInput]:
        key = metric_key(metric["namespace"], metric["name"], metric.get("dimensions") or {})
        buckets = per_period(published.get(key, []), period, periods)
        return [bucket or None for bucket in buckets]

    if config.get("metric") is not None:
        series = evaluated_series(config, single=inputs(config["metric"]))
    else:
        by_id = {q["id"]: inputs(q["metric"]) for q in config.get("metrics") or [] if q.get("metric")}
        series = evaluated_series(config, by_id=by_id)
    return AlarmRule.from_config(config).simulate(series, initial=INITIAL_STATE)


def watched_metrics(config: Mapping[str, Any]) -> list[MetricKey]:
    metrics = (
        [config["metric"]]
        if config.get("metric")
        else [q["metric"] for q in config.get("metrics") or [] if q.get("metric")]
    )
    return [metric_key(m["namespace"], m["name"], m.get("dimensions") or {}) for m in metrics]
