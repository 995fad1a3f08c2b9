"""Alarms on a Metrics Insights query (PutMetricAlarm Metrics[].Expression holding a SELECT query:
"This field can contain either a Metrics Insights query, or a metric math expression",
MetricDataQuery, CloudWatch API reference) on the emulator: expressible, converged, a changed
query shows at `metrics` and converges, and export writes the query back."""

from __future__ import annotations

from typing import Any

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.cloudwatch import AlarmSpec

from .test_alarms import ALARMS, desired, paths, read_one

QUERY = 'SELECT MAX(CPUUtilization) FROM SCHEMA("AWS/ECS", ClusterName, ServiceName) GROUP BY ServiceName'


def insights_alarm(query: str = QUERY) -> dict[str, Any]:
    return {
        "name": "pacs-busiest-service-cpu",
        "metrics": [{"id": "q1", "expression": query, "period": 60, "return_data": True}],
        "threshold": 90,
        "comparison": "GreaterThanThreshold",
        "evaluation_periods": 3,
    }


def test_a_metrics_insights_alarm_converges_and_a_changed_query_shows(aws: AwsContext) -> None:
    want = desired(insights_alarm())
    ALARMS.create(aws, want)
    assert paths(want, read_one(aws, want.key)) == []
    sent = aws.client("cloudwatch").describe_alarms(AlarmNames=[want.key])["MetricAlarms"][0]["Metrics"]
    assert sent == [{"Id": "q1", "Expression": QUERY, "Period": 60, "ReturnData": True}]
    changed = desired(insights_alarm(QUERY.replace("MAX", "AVG")))
    live = read_one(aws, want.key)
    delta = diff_states(changed.state, live.state)
    assert delta.paths() == ["metrics"]
    ALARMS.update(aws, changed, live, delta)
    assert paths(changed, read_one(aws, want.key)) == []


def test_export_writes_the_query_back(aws: AwsContext) -> None:
    want = desired(insights_alarm())
    ALARMS.create(aws, want)
    result = export(aws, aws.stack, Selection(kinds=("alarms",), prefix=want.key))
    (entry,) = result.entries["alarms"]
    assert entry.config["metrics"][0]["expression"] == QUERY
    exported = ALARMS.canonical(AlarmSpec.model_validate(entry.config).model_dump(mode="json"))
    assert diff_states(want.state, exported).paths() == []
