"""The `tests:` a spec may carry on metric filters, alarms and log groups: sample log lines and
datapoint series with the outcome they must produce. They are checked offline by `validate` and
`pacs-reconcile test`; they are never sent to AWS and take no part in plans or fingerprints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

AlarmState = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]


class _Example(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FilterExample(_Example):
    """A log line and what the metric filter must make of it."""

    line: str
    """The log event message, exactly as the application writes it."""
    match: bool = True
    """Whether the pattern must match the line (false: it must not)."""
    value: float | None = None
    """The metric value the line must produce (e.g. 250 for a $duration of 250); unset: any."""
    dimensions: dict[str, str] | None = None
    """The dimension values the line must produce; unset: not checked."""

    @model_validator(mode="after")
    def _outcome_only_when_matching(self) -> FilterExample:
        if not self.match and (self.value is not None or self.dimensions is not None):
            raise ValueError("a line that must not match produces no value or dimensions")
        return self


Datapoint = float | list[float] | None
"""One period: the statistic's value, the raw samples it is computed from, or null (missing)."""


class AlarmExample(_Example):
    """A series of periods and the state the alarm must be in after each one."""

    name: Annotated[str, Field(min_length=1)]
    """What the example shows, e.g. "two bad periods page"."""
    datapoints: list[Datapoint] | None = None
    """One entry per period, oldest first: a number (the statistic's value), a list of raw samples
    (the alarm's statistic is computed over them) or null for a period without data. For a metric
    math alarm use `series` instead."""
    series: dict[str, list[Datapoint]] | None = None
    """Metric math alarms: the datapoints of each metric item, by id (all of the same length)."""
    band: list[Annotated[list[float], Field(min_length=2, max_length=2)] | None] | None = None
    """Anomaly detection alarms: the band's [lower, upper] in each period."""
    expect: Annotated[list[AlarmState], Field(min_length=1)]
    """The state after each period: OK, ALARM or INSUFFICIENT_DATA (as many as there are periods)."""
    initial_state: AlarmState = "INSUFFICIENT_DATA"
    """The state before the first period (a new alarm starts in INSUFFICIENT_DATA)."""
    evaluation_range: Annotated[int, Field(ge=1)] | None = None
    """How many recent periods CloudWatch retrieves to evaluate; unset: evaluation_periods + 2, as in
    the examples of AWS's documentation."""

    @model_validator(mode="after")
    def _one_series(self) -> AlarmExample:
        if (self.datapoints is None) == (self.series is None):
            raise ValueError("set exactly one of datapoints (one metric) and series (metric math)")
        lengths = {len(self.datapoints)} if self.datapoints is not None else set()
        lengths |= {len(points) for points in (self.series or {}).values()}
        if self.band is not None:
            lengths.add(len(self.band))
        lengths.add(len(self.expect))
        if len(lengths) != 1:
            raise ValueError("datapoints (or every series), band and expect must have one entry per period")
        return self


class TimedLine(_Example):
    """Log lines written at one moment."""

    at: Annotated[int, Field(ge=0)]
    """Seconds after the start of the example."""
    line: str
    """The log event message."""
    repeat: Annotated[int, Field(ge=1, le=100000)] = 1
    """How many times the line is written at that moment."""


class ChainExample(_Example):
    """Log lines over time, through this log group's metric filters, into the alarms on their metrics."""

    name: Annotated[str, Field(min_length=1)]
    """What the example shows, e.g. "an error burst pages"."""
    events: Annotated[list[TimedLine], Field(min_length=1)]
    """The lines and when they are written."""
    until: Annotated[int, Field(ge=0)] | None = None
    """Seconds after the start when the example ends; unset: the end of the period of the last line."""
    expect: Annotated[dict[str, AlarmState], Field(min_length=1)]
    """Alarm (its name in the spec's `alarms:`) -> the state it must be in at the end."""
