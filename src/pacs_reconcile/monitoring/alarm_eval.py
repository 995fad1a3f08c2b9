"""CloudWatch metric alarm evaluation, simulated offline over a series of periods.

Sources: "Using Amazon CloudWatch alarms", sections "Evaluating an alarm" and "Configuring how
CloudWatch alarms treat missing data" with its two tables of outcomes,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
(source text: doc_source/AlarmThatSendsEmail.md in https://github.com/awsdocs/amazon-cloudwatch-user-guide).
The rules, as documented:
- Each period yields one datapoint: the statistic over the period's raw samples.
- An alarm is evaluated over the most recent datapoints retrieved (the evaluation range: more than
  evaluation_periods; the docs' examples retrieve 5 for 3 evaluation periods, which is the default
  here, N + 2, and each test may set it).
- No datapoint missing, or at least N existing: the N most recent existing datapoints decide.
- Fewer than N existing: the missing ones are filled with the treatment, "as few times as possible"
  (the most recent missing periods), every real datapoint in the range included. ALARM when at least
  M (datapoints_to_alarm) of the N are breaching, else OK.
- All missing: missing -> INSUFFICIENT_DATA, ignore -> the current state, breaching -> ALARM,
  notBreaching -> OK.
- missing and ignore with too few datapoints to decide from the real ones (none non-breaching and
  fewer than M breaching): ignore keeps the current state; missing goes to ALARM when the oldest
  evaluated datapoint is a breaching real one ("the oldest evaluated data point is breaching and there
  aren't any non-breaching data points") and to INSUFFICIENT_DATA when it is a missing one.
These reproduce every row of both documented tables (tests/monitoring/test_alarm_eval.py).

Statistics over raw samples: SampleCount, Average, Sum, Minimum, Maximum. Extended statistics
(percentiles, trimmed means) are not computed from samples: give their value per period instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
TreatMissing = Literal["missing", "ignore", "breaching", "notBreaching"]
INITIAL_STATE: State = "INSUFFICIENT_DATA"
"""A new alarm's state ("The alarm has just started ... INSUFFICIENT_DATA")."""

_STATISTICS = {
    "SampleCount": lambda samples: float(len(samples)),
    "Sum": lambda samples: float(sum(samples)),
    "Average": lambda samples: float(sum(samples)) / len(samples),
    "Minimum": lambda samples: float(min(samples)),
    "Maximum": lambda samples: float(max(samples)),
}
_BAND = {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}


class SimulationError(ValueError):
    """The example cannot be simulated (e.g. a percentile over raw samples)."""


def statistic(name: str, samples: Sequence[float]) -> float | None:
    """The statistic of a period's raw samples; None when there are none (a missing datapoint)."""
    if not samples:
        return None
    compute = _STATISTICS.get(name)
    if compute is None:
        raise SimulationError(f"{name} is not computed from raw samples offline; give its value per period")
    return compute(samples)


def breaches(value: float, comparison: str, threshold: float | None, band: Sequence[float] | None) -> bool:
    """Whether one datapoint is outside the threshold (or the anomaly detection band)."""
    if comparison in _BAND:
        if band is None:
            raise SimulationError(f"{comparison} needs the band's [lower, upper] in every period")
        lower, upper = band
        if comparison == "LessThanLowerThreshold":
            return value < lower
        if comparison == "GreaterThanUpperThreshold":
            return value > upper
        return value < lower or value > upper
    if threshold is None:
        raise SimulationError(f"{comparison} needs a threshold")
    return {
        "GreaterThanOrEqualToThreshold": value >= threshold,
        "GreaterThanThreshold": value > threshold,
        "LessThanThreshold": value < threshold,
        "LessThanOrEqualToThreshold": value <= threshold,
    }[comparison]


def evaluate(
    window: Sequence[bool | None],
    evaluation_periods: int,
    datapoints_to_alarm: int,
    treat: TreatMissing,
    current: State,
) -> State:
    """The state after one evaluation of the evaluation range `window` (oldest first; True breaching,
    False not breaching, None missing)."""
    n, m = evaluation_periods, datapoints_to_alarm
    real = [(i, point) for i, point in enumerate(window) if point is not None]
    if not real:
        return {
            "missing": "INSUFFICIENT_DATA",
            "ignore": current,
            "breaching": "ALARM",
            "notBreaching": "OK",
        }[treat]
    if len(real) >= n:
        return "ALARM" if sum(point for _, point in real[-n:]) >= m else "OK"
    fills = n - len(real)
    breaching = sum(point for _, point in real)
    if treat == "breaching":
        return "ALARM" if breaching + fills >= m else "OK"
    if treat == "notBreaching" or breaching >= m:
        return "ALARM" if breaching >= m else "OK"
    if any(point is False for _, point in real):
        return "OK"
    if treat == "ignore":
        return current
    missing_filled = [i for i, point in enumerate(window) if point is None][-fills:]
    oldest_real = real[0][0]
    return "ALARM" if oldest_real < min(missing_filled) else "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class AlarmRule:
    """The parts of an alarm's spec that decide its state."""

    comparison: str
    threshold: float | None
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: TreatMissing
    statistic: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AlarmRule:
        metric = config.get("metric") or {}
        periods = int(config["evaluation_periods"])
        return cls(
            comparison=str(config["comparison"]),
            threshold=None if config.get("threshold") is None else float(config["threshold"]),
            evaluation_periods=periods,
            datapoints_to_alarm=int(config.get("datapoints_to_alarm") or periods),
            treat_missing_data=config.get("treat_missing_data") or "missing",
            statistic=metric.get("statistic") or metric.get("extended_statistic"),
        )

    def simulate(
        self,
        values: Sequence[float | None],
        bands: Sequence[Sequence[float] | None] | None = None,
        initial: State = INITIAL_STATE,
        evaluation_range: int | None = None,
    ) -> list[State]:
        """The state after each period of `values` (one datapoint per period, None when missing)."""
        span = evaluation_range or self.evaluation_periods + 2
        span = max(span, self.evaluation_periods)
        # A range reaching further back than N periods before the first only adds missing ones that
        # evaluate never looks at (it fills at most N - 1, the most recent), and cost memory and
        # time in proportion: `evaluation_range: 10000000000000000000` cannot even be allocated.
        span = min(span, len(values) + self.evaluation_periods)
        flags: list[bool | None] = []
        for index, value in enumerate(values):
            band = bands[index] if bands is not None else None
            flags.append(None if value is None else breaches(value, self.comparison, self.threshold, band))
        states: list[State] = []
        state = initial
        for end in range(1, len(flags) + 1):
            window = [None] * max(0, span - end) + flags[max(0, end - span) : end]
            state = evaluate(
                window, self.evaluation_periods, self.datapoints_to_alarm, self.treat_missing_data, state
            )
            states.append(state)
        return states
