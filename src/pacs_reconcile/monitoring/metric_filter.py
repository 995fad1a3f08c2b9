"""What a metric filter publishes for one log event: its value and dimensions, offline.

AWS: the metric value is a number or a field of the pattern (`$name` for space-delimited patterns,
`$.path` for JSON ones); dimensions map names to such fields; events that match nothing publish the
default value when one is set. Sources: "Filter pattern syntax for metric filters" (publishing
numerical values and dimensions),
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntaxForMetricFilters.html
and "Setting how the metric value changes when matches are found" in
https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide/blob/master/doc_source/FilterAndPatternSyntax.md

Where the docs are silent: a value field that is missing or does not hold a number publishes
nothing for that event, and so does a dimension field that is missing; the explanation says which.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .filter_pattern import MISSING, FilterPattern, LogEvent, Verdict, as_number, compile_pattern


@dataclass(frozen=True)
class Publication:
    """What one event made the filter publish (nothing when `value` is None)."""

    verdict: Verdict
    value: float | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    problem: str = ""
    """Why a matching event publishes nothing."""


@dataclass(frozen=True)
class MetricFilterRule:
    """A metric filter's pattern and metric transformation, ready to apply to events."""

    pattern: FilterPattern
    value: str
    default_value: float | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    metric_name: str = ""
    namespace: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MetricFilterRule:
        """From a metric filter's spec (the loader's config of metric_filters)."""
        metric = config["metric"]
        return cls(
            pattern=compile_pattern(config["pattern"]),
            value=str(metric.get("value", "1")),
            default_value=metric.get("default_value"),
            dimensions=dict(metric.get("dimensions") or {}),
            metric_name=str(metric["name"]),
            namespace=str(metric["namespace"]),
        )

    def publish(self, event: LogEvent) -> Publication:
        verdict = self.pattern.evaluate(event)
        if not verdict.matched:
            return Publication(verdict, self.default_value)
        return self.published(event, verdict)

    def published(self, event: LogEvent, verdict: Verdict) -> Publication:
        """The value and dimensions of an event the pattern matched."""
        value = as_number(self.value)
        if value is None:
            found = self.pattern.field_value(self.value, event, verdict)
            value = _numeric(found)
            if value is None:
                what = "is missing" if found is MISSING else f"is {json.dumps(found)}, not a number"
                problem = f"the metric value {self.value} {what}: nothing is published"
                return Publication(verdict, problem=problem)
        dimensions: dict[str, str] = {}
        for name, reference in self.dimensions.items():
            found = self.pattern.field_value(reference, event, verdict)
            if found is MISSING or isinstance(found, dict | list) or found is None:
                return Publication(
                    verdict, problem=f"dimension {name} ({reference}) has no value: nothing is published"
                )
            dimensions[name] = found if isinstance(found, str) else json.dumps(found)
        return Publication(verdict, value, dimensions)


def _numeric(found: Any) -> float | None:
    if isinstance(found, bool) or found is MISSING or found is None:
        return None
    if isinstance(found, int | float):
        return float(found)
    return as_number(found) if isinstance(found, str) else None
