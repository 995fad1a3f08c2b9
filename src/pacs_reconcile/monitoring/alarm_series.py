"""The one series an alarm evaluates, from what each period brought: a single metric's datapoints, or
the datapoints of each metric of a metric math alarm put through its expressions."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .alarm_eval import SimulationError, statistic
from .metric_math import MathError, Series, evaluate

PeriodInput = float | Sequence[float] | None
"""A period's statistic value, its raw samples, or None (no data)."""

_ID = re.compile(r"\b[a-z][A-Za-z0-9_]*\b")


def datapoint(entry: PeriodInput, stat: str | None) -> float | None:
    if entry is None or isinstance(entry, int | float):
        return None if entry is None else float(entry)
    if stat is None:
        raise SimulationError("raw samples need a statistic")
    return statistic(stat, list(entry))


def evaluated_series(
    config: Mapping[str, Any],
    single: Sequence[PeriodInput] | None = None,
    by_id: Mapping[str, Sequence[PeriodInput]] | None = None,
) -> list[float | None]:
    """The datapoints the alarm compares, one per period. Raises SimulationError or MathError."""
    metric = config.get("metric")
    if metric is not None:
        if single is None:
            raise SimulationError("a single-metric alarm takes datapoints, not series")
        stat = metric.get("statistic") or metric.get("extended_statistic")
        return [datapoint(entry, stat) for entry in single]
    if by_id is None:
        raise SimulationError("a metric math alarm takes series (one per metric id), not datapoints")
    return _math_series(config.get("metrics") or [], by_id, config.get("threshold_metric_id"))


def _math_series(
    items: Sequence[Mapping[str, Any]], by_id: Mapping[str, Sequence[PeriodInput]], band_id: str | None
) -> list[float | None]:
    lengths = {len(points) for points in by_id.values()}
    length = lengths.pop() if len(lengths) == 1 else 0
    known = {item["id"]: item for item in items}
    unknown = sorted(set(by_id) - set(known))
    if unknown:
        raise SimulationError(f"series names {', '.join(unknown)}, which are not ids of the alarm's metrics")
    values: dict[str, Series] = {}
    metric_ids = [item["id"] for item in items if item.get("metric") is not None]
    for item in items:
        if item.get("metric") is not None:
            if item["id"] not in by_id:
                raise SimulationError(f"series has no datapoints for the metric {item['id']!r}")
            values[item["id"]] = [datapoint(entry, item["metric"]["stat"]) for entry in by_id[item["id"]]]

    def resolve(item_id: str, trail: tuple[str, ...]) -> Series:
        if item_id in values:
            return values[item_id]
        if item_id in trail:
            raise MathError(
                f"the expressions refer to each other in a cycle: {' -> '.join((*trail, item_id))}"
            )
        expression = str(known[item_id]["expression"])
        for other in _ID.findall(expression):
            if other in known and other != item_id:
                resolve(other, (*trail, item_id))
        result = evaluate(expression, values, metric_ids, length)
        if not isinstance(result, list) or (result and isinstance(result[0], list)):
            raise MathError(f"{item_id}: {expression!r} must give one series, not a number or an array")
        values[item_id] = result  # type: ignore[assignment]
        return values[item_id]

    # An anomaly detection alarm returns both the band and its metric: the metric is compared.
    returned = next((i["id"] for i in items if i.get("return_data") and i["id"] != band_id), None)
    if returned is None:
        raise SimulationError("the returned item is the anomaly detection band; return the metric instead")
    return resolve(returned, ())
