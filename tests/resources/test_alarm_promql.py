"""PromQL alarms (PutMetricAlarm EvaluationCriteria.PromQLCriteria with EvaluationInterval), the
alarm type CloudWatch added for metrics it ingests over OTLP and Prometheus remote write: expressible,
converged on the emulator, a change shows at its path, one made by hand is seen and restored, export
writes it back, and what AWS refuses beside it is refused offline."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.cloudwatch import AlarmSpec, put_metric_alarm_request

from .test_alarms import ALARMS, TOPIC, describe, desired, paths, read_one, simple_alarm

QUERY = 'sum by (service) (rate(http_requests_total{status=~"5.."}[5m])) > 5'


def promql_alarm(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "pacs-backend-5xx-promql",
        "description": "5xx rate per service (OTLP metrics)",
        "promql": {"query": QUERY, "pending_period": 300, "recovery_period": 600},
        "evaluation_interval": 60,
        "alarm_actions": [TOPIC],
        **overrides,
    }


def test_a_promql_alarm_converges(aws: AwsContext) -> None:
    want = desired(promql_alarm())
    ALARMS.create(aws, want)
    assert paths(want, read_one(aws, want.key)) == []
    sent = describe(aws, want.key)
    assert sent["EvaluationCriteria"] == {
        "PromQLCriteria": {"Query": QUERY, "PendingPeriod": 300, "RecoveryPeriod": 600}
    }
    assert sent["EvaluationInterval"] == 60
    assert "ComparisonOperator" not in put_metric_alarm_request(want.state)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"promql": {"query": QUERY.replace("> 5", "> 10")}}, "promql.query"),
        ({"evaluation_interval": 30}, "evaluation_interval"),
    ],
)
def test_a_change_shows_at_its_path_and_converges(aws: AwsContext, change: dict[str, Any], path: str) -> None:
    ALARMS.create(aws, desired(promql_alarm()))
    moved = desired(promql_alarm(**change))
    live = read_one(aws, moved.key)
    delta = diff_states(moved.state, live.state)
    assert path in delta.paths()
    ALARMS.update(aws, moved, live, delta)
    assert paths(moved, read_one(aws, moved.key)) == []


def test_a_promql_alarm_rewritten_by_hand_as_a_metric_alarm_is_restored(aws: AwsContext) -> None:
    """Both directions go through one PutMetricAlarm: nothing of the other type is carried over
    (a metric alarm's datapoints and window would be refused beside EvaluationCriteria)."""
    want = desired(promql_alarm())
    ALARMS.create(aws, want)
    by_hand = desired(
        simple_alarm(name=want.key, datapoints_to_alarm=1, evaluation_window={"type": "sliding"})
    )
    aws.client("cloudwatch").put_metric_alarm(**put_metric_alarm_request(by_hand.state))
    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert {"promql", "evaluation_interval"} <= set(p.split(".")[0] for p in delta.paths())
    ALARMS.update(aws, want, live, delta)
    assert paths(want, read_one(aws, want.key)) == []
    # And back: a metric alarm replaces the PromQL one.
    metric = desired(simple_alarm(name=want.key))
    live = read_one(aws, want.key)
    ALARMS.update(aws, metric, live, diff_states(metric.state, live.state))
    assert paths(metric, read_one(aws, want.key)) == []
    assert "EvaluationCriteria" not in describe(aws, want.key)


def test_export_writes_the_promql_alarm_back(aws: AwsContext) -> None:
    want = desired(promql_alarm())
    ALARMS.create(aws, want)
    result = export(aws, aws.stack, Selection(kinds=("alarms",), prefix=want.key))
    (entry,) = result.entries["alarms"]
    exported = ALARMS.canonical(AlarmSpec.model_validate(entry.config).model_dump(mode="json"))
    assert diff_states(want.state, exported).paths() == []
    assert entry.config["promql"]["query"] == QUERY
    assert "comparison" not in entry.config


def test_the_emulator_refuses_what_cloudwatch_refuses_beside_promql(aws: AwsContext) -> None:
    request = put_metric_alarm_request(desired(promql_alarm()).state)
    cloudwatch = aws.client("cloudwatch")
    with pytest.raises(ClientError, match="ComparisonOperator"):
        cloudwatch.put_metric_alarm(**request, ComparisonOperator="GreaterThanThreshold")
    with pytest.raises(ClientError, match="EvaluationInterval is required"):
        cloudwatch.put_metric_alarm(**{k: v for k, v in request.items() if k != "EvaluationInterval"})
    plain = put_metric_alarm_request(desired(simple_alarm()).state)
    with pytest.raises(ClientError, match="only with EvaluationCriteria"):
        cloudwatch.put_metric_alarm(**plain, EvaluationInterval=60)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (promql_alarm(threshold=5), "a PromQL alarm \\(promql\\) takes no threshold"),
        (
            promql_alarm(comparison="GreaterThanThreshold", evaluation_periods=1),
            "takes no comparison, evaluation_periods",
        ),
        (promql_alarm(evaluation_window={"type": "wall_clock"}), "takes no evaluation_window"),
        (promql_alarm(evaluation_interval=None), "needs evaluation_interval"),
        (promql_alarm(evaluation_interval=90), "multiple of 60"),
        (promql_alarm(promql={"query": QUERY, "pending_period": 86401}), "less than or equal to 86400"),
        (simple_alarm(evaluation_interval=60), "evaluation_interval applies only to a PromQL alarm"),
        ({k: v for k, v in simple_alarm().items() if k != "comparison"}, "set comparison"),
        (
            {k: v for k, v in simple_alarm().items() if k != "metric"},
            "set metric \\(one metric\\) or metrics",
        ),
    ],
)
def test_domains(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlarmSpec.model_validate(config)
