"""A small spec the example tests build on: one log group with one metric filter."""

from __future__ import annotations

from pathlib import Path

LOG_GROUP_WITH_A_FILTER = """\
version: 1
stack: examples
log_groups:
  app:
    name: /app
    metric_filters:
      errors:
        name: errors
        pattern: '[ts, request_id, level="ERROR", ...]'
        metric: {name: Errors, namespace: App/X}
"""


def write_spec(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def errors_alarm(evaluation_periods: int) -> str:
    """An alarm on the filter's metric (its `tests:` go right after)."""
    return f"""\
alarms:
  errors:
    name: errors
    metric: {{name: Errors, namespace: App/X, statistic: Sum, period: 60}}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: {evaluation_periods}
"""
