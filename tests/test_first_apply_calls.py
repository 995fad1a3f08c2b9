"""A first apply's AWS calls per kind, exactly, and the look for namesakes it reads ahead for creates.

Alarms and dashboards are created by calls that replace one of the same name (PutMetricAlarm,
PutDashboard), so each create first looks for one (resources/_namesakes.py). The apply tells each
kind the names it is about to create, and a look reads the next names ahead, up to 100 a read; a
create uses that read while it is at most LOOK_WINDOW_SECONDS old. Here the window is made long
enough for any machine, which makes the number of looks exact (in a real apply it depends on timing:
one read per 100 creates while they keep within the window). Nothing is read back after a create.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from moto import mock_aws

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.plan import Plan, make_plan
from pacs_reconcile.resources import _namesakes
from pacs_reconcile.spec.loader import load_spec

REGION = "ap-northeast-2"
STACK = "pacs-calls"
ALARMS = 5
DASHBOARDS = 2
WAIT = 10.0


def _spec(folder: Path) -> Path:
    alarm = {
        "metric": {"name": "Errors", "namespace": "PACS/Calls", "statistic": "Sum", "period": 60},
        "comparison": "GreaterThanThreshold",
        "threshold": 1,
        "evaluation_periods": 1,
    }
    widget = {"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "#"}}
    document = {
        "version": 1,
        "stack": STACK,
        "region": REGION,
        "alarms": {f"a{i}": {**alarm, "name": f"pacs-calls-{i}"} for i in range(ALARMS)},
        "dashboards": {
            f"d{i}": {"name": f"PACS-Calls-{i}", "body": {"widgets": [widget]}} for i in range(DASHBOARDS)
        },
    }
    path = folder / "monitoring.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


@pytest.fixture
def ctx() -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext(AwsSettings(region=REGION, max_attempts=2), stack=STACK)


def _plan(spec_file: Path, ctx: AwsContext) -> Plan:
    plan = make_plan(load_spec(spec_file, environ={}), ctx)
    assert plan.values is not None and not plan.refused
    return plan


def test_a_first_apply_makes_exactly_these_calls(
    tmp_path: Path, ctx: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_namesakes, "LOOK_WINDOW_SECONDS", 3600.0)
    plan = _plan(_spec(tmp_path), ctx)
    before = Counter(ctx.stats.calls)
    result = apply_plan(plan, plan.values, ctx)  # type: ignore[arg-type]  # checked in _plan
    assert result.ok, [(o.address, o.message) for o in result.outcomes]
    calls = dict(Counter(ctx.stats.calls) - before)
    assert calls == {
        # alarms: one look for all five creates (read ahead for the first)
        "cloudwatch.DescribeAlarms": 1,
        "cloudwatch.PutMetricAlarm": ALARMS,
        # dashboards: the same, by listing the names' prefix (there is no describe by names), and
        # one listing after the writes for the versions written (dashboard_versions)
        "cloudwatch.ListDashboards": 1 + 1,
        "cloudwatch.PutDashboard": DASHBOARDS,
        # the stack's dashboards index, written ahead of the creates, and with the versions after
        "ssm.PutParameter": 2,
    }
    # the account in the ARNs of what was created: asked once, by the plan (plan.account_ahead)
    assert before["sts.GetCallerIdentity"] == 1
    assert _plan(tmp_path / "monitoring.yaml", ctx).has_changes is False


def test_the_look_for_dashboards_lists_one_prefix_per_first_character(
    tmp_path: Path, ctx: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names without a prefix common to all (ListDashboards lists by prefix; there is no describe
    by names) are listed under the prefix shared by those of each first character, not one
    listing per name."""
    monkeypatch.setattr(_namesakes, "LOOK_WINDOW_SECONDS", 3600.0)
    spec_file = _spec(tmp_path)
    document = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    body = document["dashboards"]["d0"]["body"]
    names = ["Bench-Dashboard-1", "Bench-Dashboard-2", "Other-Board", "PACS-Main"]
    document["dashboards"] = {f"d{i}": {"name": name, "body": body} for i, name in enumerate(names)}
    spec_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    plan = _plan(spec_file, ctx)
    prefixes: list[str] = []
    ctx.client("cloudwatch").meta.events.register(
        "provide-client-params.cloudwatch.ListDashboards",
        lambda params, **_: prefixes.append(params.get("DashboardNamePrefix", "")),
    )
    assert apply_plan(plan, plan.values, ctx).ok  # type: ignore[arg-type]  # checked in _plan
    # the look before the creates, then one listing after the writes (dashboard_versions)
    assert sorted(prefixes[:-1]) == ["Bench-Dashboard-", "Other-Board", "PACS-Main"]


class Clock:
    """time.monotonic as resources/_namesakes.py sees it: real time plus what a test adds."""

    def __init__(self) -> None:
        self.added = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.added


def test_a_namesake_made_after_other_creates_looked_is_never_replaced(
    tmp_path: Path, ctx: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else makes pacs-calls-3 while the apply creates the others (after their looks, and
    after the read ahead of its name is older than LOOK_WINDOW_SECONDS when its create comes): its
    create still refuses it, and their alarm keeps its configuration. A look made once for the whole
    apply, before the first create, would have found nothing and PutMetricAlarm would have replaced it."""
    clock = Clock()
    monkeypatch.setattr(_namesakes, "time", clock)
    plan = _plan(_spec(tmp_path), ctx)
    cloudwatch = ctx.client("cloudwatch")
    made = threading.Event()

    def theirs_after_the_first_create(event_name: str, **_: Any) -> None:
        if made.is_set():
            return
        made.set()
        clock.added += _namesakes.LOOK_WINDOW_SECONDS + 1
        cloudwatch.put_metric_alarm(
            AlarmName="pacs-calls-3",
            MetricName="Theirs",
            Namespace="Other",
            Statistic="Average",
            Period=60,
            EvaluationPeriods=1,
            Threshold=5,
            ComparisonOperator="LessThanThreshold",
            Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}],
        )

    cloudwatch.meta.events.register("after-call.cloudwatch.PutMetricAlarm", theirs_after_the_first_create)
    result = apply_plan(plan, plan.values, ctx, parallelism=1)  # type: ignore[arg-type]  # checked in _plan
    problems = {o.address: o.message for o in result.outcomes if o.message}
    assert list(problems) == ["alarms.a3"]
    assert "alarm pacs-calls-3 was created meanwhile by someone else" in problems["alarms.a3"]
    (theirs,) = cloudwatch.describe_alarms(AlarmNames=["pacs-calls-3"])["MetricAlarms"]
    assert (theirs["MetricName"], theirs["Namespace"]) == ("Theirs", "Other")


def test_a_change_of_alarms_makes_one_call_each(tmp_path: Path, ctx: AwsContext) -> None:
    """PutMetricAlarm takes the whole configuration: a changed alarm costs that one call, nothing
    read back after it, and a TagResource for its new spec fingerprint (PutMetricAlarm ignores Tags
    when it updates an alarm)."""
    spec_file = _spec(tmp_path)
    first = _plan(spec_file, ctx)
    assert apply_plan(first, first.values, ctx).ok  # type: ignore[arg-type]  # checked in _plan
    document = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    for key in ("a0", "a2", "a4"):
        document["alarms"][key]["threshold"] = 50
    spec_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    ctx.forget_all()
    change = _plan(spec_file, ctx)
    assert sorted(c.address for c in change.changes if c.action.mutates) == [
        "alarms.a0",
        "alarms.a2",
        "alarms.a4",
    ]
    before = Counter(ctx.stats.calls)
    assert apply_plan(change, change.values, ctx).ok  # type: ignore[arg-type]  # checked in _plan
    assert dict(Counter(ctx.stats.calls) - before) == {
        "cloudwatch.PutMetricAlarm": 3,
        "cloudwatch.TagResource": 3,
    }
    ctx.forget_all()
    assert _plan(spec_file, ctx).has_changes is False
