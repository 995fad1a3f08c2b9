"""One apply converges: a reference to an attribute the spec itself sets resolves, at plan time,
to the spec's new value (an alarm's metric follows a metric filter renamed in the same change),
and one only AWS knows (a new topic's ARN) to "(known after apply)", never to the live old value.

Property (hypothesis, moto in-process, fresh per example): random edits of a converged stack, one
apply, then the plan is empty."""

from __future__ import annotations

import textwrap
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.diff import UNKNOWN
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.plan import Plan, make_plan
from pacs_reconcile.spec.loader import load_spec

from .helpers import REGION, failures, pending

STACK = textwrap.dedent(
    """\
    version: 1
    stack: pacs-converge
    variables:
      metric_name: {default: PACSBackendErrors}
      namespace: {default: PACS/Application}
      retention: {type: int, default: 30}
      topic: {default: pacs-alerts}
      threshold: {type: int, default: 10}
      group: {default: /pacs/backend}
    sns_topics:
      alerts: {name: "${var.topic}"}
    log_groups:
      backend:
        name: "${var.group}"
        retention_days: ${var.retention}
        metric_filters:
          errors:
            name: backend-errors
            pattern: ERROR
            metric: {name: "${var.metric_name}", namespace: "${var.namespace}", value: "1"}
    alarms:
      errors:
        name: pacs-backend-errors
        metric:
          name: ${log_groups.backend.metric_filters.errors.metric_name}
          namespace: ${log_groups.backend.metric_filters.errors.metric_namespace}
          statistic: Sum
          period: 300
        threshold: ${var.threshold}
        comparison: GreaterThanThreshold
        evaluation_periods: 1
        alarm_actions: ["${sns_topics.alerts.arn}"]
    """
)


def _plan(folder: Path, ctx: AwsContext, **variables: object) -> Plan:
    ctx.forget_all()  # read AWS afresh, as a new run would
    spec = load_spec(folder / "monitoring.yaml", cli_vars={k: str(v) for k, v in variables.items()})
    return make_plan(spec, ctx)


def _apply(folder: Path, ctx: AwsContext, **variables: object) -> None:
    plan = _plan(folder, ctx, **variables)
    assert plan.values is not None and not plan.refused
    assert failures(apply_plan(plan, plan.values, ctx)) == []


def _stack(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "monitoring.yaml").write_text(STACK, encoding="utf-8")
    return folder


def _context() -> AwsContext:
    return AwsContext(
        AwsSettings(region=REGION, max_attempts=2, retry_mode="standard"), stack="pacs-converge"
    )


def test_a_renamed_filter_metric_reaches_the_alarm_in_the_same_apply(tmp_path: Path) -> None:
    folder = _stack(tmp_path / "stack")
    with mock_aws():
        ctx = _context()
        _apply(folder, ctx)
        plan = _plan(folder, ctx, metric_name="PACSBackendFailures")
        changes = {c.address: c for c in plan.changes if c.action.mutates}
        assert set(changes) == {"log_groups.backend.metric_filters.errors", "alarms.errors"}
        alarm = {d.path: d.new for d in changes["alarms.errors"].differences}
        assert alarm == {"metric.name": "PACSBackendFailures"}
        assert plan.values is not None
        assert failures(apply_plan(plan, plan.values, ctx)) == []
        assert pending(_plan(folder, ctx, metric_name="PACSBackendFailures")) == []
        alarms = ctx.client("cloudwatch").describe_alarms(AlarmNames=["pacs-backend-errors"])["MetricAlarms"]
        assert alarms[0]["MetricName"] == "PACSBackendFailures"


def test_an_attribute_only_aws_knows_is_known_after_apply(tmp_path: Path) -> None:
    folder = _stack(tmp_path / "stack")
    with mock_aws():
        ctx = _context()
        _apply(folder, ctx)
        plan = _plan(folder, ctx, topic="pacs-alerts-v2")  # a new topic: a new ARN
        alarm = next(c for c in plan.changes if c.address == "alarms.errors")
        assert [(d.path, d.new) for d in alarm.differences] == [("alarm_actions", [UNKNOWN])]
        assert plan.values is not None
        assert failures(apply_plan(plan, plan.values, ctx)) == []
        assert pending(_plan(folder, ctx, topic="pacs-alerts-v2")) == []


EDITS = st.fixed_dictionaries(
    {},
    optional={
        "metric_name": st.sampled_from(["PACSBackendFailures", "Errors5xx", "PACSBackendErrors"]),
        "namespace": st.sampled_from(["PACS/Backend", "PACS/Application"]),
        "retention": st.sampled_from([1, 7, 30, 90]),
        "topic": st.sampled_from(["pacs-alerts", "pacs-alerts-v2"]),
        "threshold": st.integers(min_value=1, max_value=100),
        "group": st.sampled_from(["/pacs/backend", "/pacs/backend-v2"]),
    },
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
def test_random_edits_of_a_converged_stack_converge_in_one_apply(
    tmp_path: Path, edits: dict[str, object]
) -> None:
    folder = _stack(tmp_path / "stack")
    with mock_aws():
        _apply(folder, _context())
        _apply(folder, _context(), **edits)
        assert pending(_plan(folder, _context(), **edits)) == [], edits
