"""What a read can ask AWS without the owner-tag sweep is asked while the sweep runs: on a large
stack the sweep is many pages long, and a read that waited for it before its first call added its
own calls' length to the plan's. Each test is a rendezvous with a timeout (as in
test_plan_concurrency.py): the sweep's first page is held until the read's call is made, so the
code that called only after the sweep waits out the timeout and fails, and the overlapping code
meets at once. Call counts are unchanged: tests/e2e/test_plan_call_counts.py asserts them."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine import plan
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.sns import endpoint_fingerprint
from pacs_reconcile.spec.loader import load_spec

WAIT_S = 5.0


class SweepHeld:
    """The sweep's first page held until a call of `operation` of `service` is made (WAIT_S at most);
    `met` tells whether it was."""

    def __init__(self, aws: AwsContext, service: str, operation: str) -> None:
        self.made = threading.Event()
        self.met: bool | None = None
        self._hooks: list[tuple[Any, str, Any]] = []
        self._hook(aws.client(service), operation, lambda **_: self.made.set())
        self._hook(aws.client("resourcegroupstaggingapi"), "GetResources", self._hold)

    def _hook(self, client: Any, operation: str, handler: Any) -> None:
        event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
        client.meta.events.register(event, handler)
        self._hooks.append((client, event, handler))

    def _hold(self, **_: Any) -> None:
        if self.met is None:
            self.met = self.made.wait(WAIT_S)

    def remove(self) -> None:
        for client, event, handler in self._hooks:
            client.meta.events.unregister(event, handler)


@contextmanager
def _made(aws: AwsContext, service: str, operation: str) -> Iterator[threading.Event]:
    """Set once a call of `operation` of `service` is made (while the block runs)."""
    made = threading.Event()
    client = aws.client(service)
    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"

    def seen(**_: Any) -> None:
        made.set()

    client.meta.events.register(event, seen)
    try:
        yield made
    finally:
        client.meta.events.unregister(event, seen)


@pytest.fixture
def hold_sweep(aws: AwsContext) -> Iterator[Any]:
    held: list[SweepHeld] = []

    def hold(service: str, operation: str) -> SweepHeld:
        held.append(SweepHeld(aws, service, operation))
        return held[-1]

    yield hold
    for one in held:
        one.remove()


ALARM = {"MetricName": "Errors", "Namespace": "PACS/Test", "Statistic": "Sum", "Period": 300}
"""An alarm's metric; the rest of its settings are the same for every alarm here."""


def _put_alarm(aws: AwsContext, name: str, stack: str) -> None:
    owner = [{"Key": OWNER_TAG, "Value": stack}]
    settings = {"EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanThreshold"}
    aws.client("cloudwatch").put_metric_alarm(AlarmName=name, **ALARM, **settings, Tags=owner)


def test_declared_alarms_are_described_while_the_sweep_runs(aws: AwsContext, hold_sweep: Any) -> None:
    _put_alarm(aws, "declared", aws.stack)
    _put_alarm(aws, "owned-undeclared", aws.stack)
    held = hold_sweep("cloudwatch", "DescribeAlarms")
    calls = Counter(aws.stats.calls)

    found = KINDS["alarms"].read(aws, ["declared"], ReadScope(aws.stack))

    assert held.met is True, "the declared alarms were described only after the sweep"
    assert set(found) == {"declared", "owned-undeclared"}
    assert found["owned-undeclared"].tags == {OWNER_TAG: aws.stack}
    described = Counter(aws.stats.calls) - calls
    assert described["cloudwatch.DescribeAlarms"] == 2, "the declared, then the owned undeclared"
    assert described["cloudwatch.ListTagsForResource"] == 0, "every tag from the sweep"


LOG_GROUPS_SPEC = """\
version: 1
stack: pacs-test
log_groups:
  one:
    name: /pacs/one
    metric_filters:
      errors: {name: one-errors, pattern: ERROR, metric: {name: OneErrors, namespace: PACS/Test, value: "1"}}
  two:
    name: /pacs/two
    metric_filters:
      errors: {name: two-errors, pattern: ERROR, metric: {name: TwoErrors, namespace: PACS/Test, value: "1"}}
"""


def test_the_account_s_metric_filters_are_listed_while_the_sweep_runs(
    tmp_path: Path, aws: AwsContext, hold_sweep: Any
) -> None:
    """Metric filters are the log groups' children, read once the log groups are (which needs the
    sweep); their account-wide listing needs neither, and the plan starts it at once
    (MetricFilters.read_ahead): the read takes it up, one listing in all."""
    (tmp_path / "monitoring.yaml").write_text(LOG_GROUPS_SPEC)
    spec = load_spec(tmp_path / "monitoring.yaml")
    logs = aws.client("logs")
    for group in ("one", "two"):
        logs.create_log_group(logGroupName=f"/pacs/{group}", tags={OWNER_TAG: aws.stack})
        transformation = {"metricName": "Errors", "metricNamespace": "PACS/Test", "metricValue": "1"}
        logs.put_metric_filter(
            logGroupName=f"/pacs/{group}",
            filterName=f"{group}-errors",
            filterPattern="ERROR",
            metricTransformations=[transformation],
        )
    aws.forget_all()
    held = hold_sweep("logs", "DescribeMetricFilters")
    calls = Counter(aws.stats.calls)

    live = plan.read_live(spec, aws)

    assert held.met is True, "the metric filters were listed only after the sweep"
    assert set(live["metric_filters"]) == {("/pacs/one", "one-errors"), ("/pacs/two", "two-errors")}
    assert (Counter(aws.stats.calls) - calls)["logs.DescribeMetricFilters"] == 1


def test_the_plan_starts_the_sweep_itself_before_any_kind_asks_for_it(
    tmp_path: Path, aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep is the longest chain of calls of a large stack and most reads wait for it: the plan
    starts it first (plan.sweep_ahead), not when the first kind's read gets to it. Here every
    kind's read waits for the sweep's first page without asking for it."""
    (tmp_path / "monitoring.yaml").write_text("version: 1\nstack: pacs-test\n")
    spec = load_spec(tmp_path / "monitoring.yaml")
    met: list[bool] = []
    with _made(aws, "resourcegroupstaggingapi", "GetResources") as swept:

        def read(ctx: AwsContext, keys: Any, scope: ReadScope) -> dict[Any, Any]:
            met.append(swept.wait(WAIT_S))
            return {}

        for reconciler in KINDS.values():
            monkeypatch.setattr(reconciler, "read", read)
            monkeypatch.setattr(reconciler, "read_ahead", lambda ctx, keys, stack: None)
        plan.make_plan(spec, aws)
    assert met and all(met), "no kind's read saw the sweep start"


@pytest.mark.parametrize(
    ("kind", "keys", "service", "operation"),
    [
        ("lambda_functions", ["pacs-fn"], "lambda", "GetFunction"),
        ("task_definitions", ["pacs-a", "pacs-b"], "ecs", "ListTaskDefinitions"),
        ("event_rules", ["pacs-rule"], "events", "ListRules"),
        ("ssm_parameters", ["/pacs/setting"], "ssm", "GetParameters"),
        ("ecs_services", ["pacs-cluster/pacs-svc"], "ecs", "DescribeServices"),
    ],
)
def test_a_kind_reads_its_declared_resources_while_the_sweep_runs(
    aws: AwsContext, hold_sweep: Any, kind: str, keys: list[str], service: str, operation: str
) -> None:
    """The declared resources need no sweep (the owned ones no entry declares do: they come after)."""
    held = hold_sweep(service, operation)
    assert KINDS[kind].read(aws, keys, ReadScope(aws.stack)) == {}
    assert held.met is True, f"{service}.{operation} was called only after the sweep"


def _subscription_key(aws: AwsContext) -> tuple[str, str]:
    sns = aws.client("sns")
    arn = sns.create_topic(Name="pacs-alerts")["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    assert aws.account_id in arn  # (asked of STS once per context: before the calls counted)
    return ("pacs-alerts", f"email:{endpoint_fingerprint('ops@example.com')}")


@pytest.mark.parametrize(
    ("kind", "declare", "made_ahead"),
    [
        ("permissions", lambda aws: ("pacs-fn", "allow-events"), {"lambda.GetPolicy": 1}),
        ("targets", lambda aws: ("pacs-rule", "lambda"), {"events.ListTargetsByRule": 1}),
        (
            "subscriptions",
            _subscription_key,
            {"sns.ListSubscriptionsByTopic": 1, "sns.GetSubscriptionAttributes": 1},
        ),
    ],
)
def test_a_child_kind_reads_its_declared_children_ahead_and_its_read_takes_them_up(
    aws: AwsContext, kind: str, declare: Any, made_ahead: dict[str, int]
) -> None:
    """What the declared children's read needs besides their parents is read ahead (the plan does
    it while the parents are read, which waits for the sweep), once: the read calls nothing more."""
    keys = [declare(aws)]
    before = Counter(aws.stats.calls)
    KINDS[kind].read_ahead(aws, keys, aws.stack)
    ahead = Counter(aws.stats.calls) - before
    found = KINDS[kind].read(aws, keys, ReadScope(aws.stack))
    assert dict(ahead) == made_ahead
    assert Counter(aws.stats.calls) - before == ahead, "the read made calls of its own"
    assert set(found) == ({keys[0]} if kind == "subscriptions" else set())


def test_the_plan_asks_for_the_account_id_before_any_kind_needs_it(
    tmp_path: Path, aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Topics, log groups, dashboards and most other kinds read or tag by ARNs made with the
    account id; on a stack of many kinds their reads wait for the plan's workers, and the first of
    them asked for it late (plan.account_ahead). Here no kind's read asks for it: the reads wait
    for the plan's own GetCallerIdentity, which the code that left it to them never made."""
    (tmp_path / "monitoring.yaml").write_text(LOG_GROUPS_SPEC)
    spec = load_spec(tmp_path / "monitoring.yaml")
    met: list[bool] = []
    calls = Counter(aws.stats.calls)
    with _made(aws, "sts", "GetCallerIdentity") as asked:

        def reads_that_wait(*_: Any, **__: Any) -> dict[str, Any]:
            met.append(asked.wait(WAIT_S))
            return {}

        monkeypatch.setattr(plan, "read_live", reads_that_wait)
        plan.read_lookups_and_live(spec, aws)

    assert met == [True], "the account id was left to the kinds' reads"
    assert (Counter(aws.stats.calls) - calls)["sts.GetCallerIdentity"] == 1
