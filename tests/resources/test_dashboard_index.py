"""The dashboards' ownership index: one SSM parameter per stack naming the dashboards it created.

It replaces the tag read of every dashboard in the account by a tag read of the stack's own, and
must survive being wrong: deleted, stale, or missing a dashboard someone tagged by hand.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import OWNER_TAG, api
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions
from pacs_reconcile.resources.dashboard_index import (
    STANDARD_VALUE_LIMIT,
    encode,
    parameter_name,
    read_index,
    write_index,
)

REGION = "ap-northeast-2"
STACK = "index-test"
TEXT_WIDGET = {"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "hi"}}
BODY = {"widgets": [TEXT_WIDGET]}

SPEC = f"""\
version: 1
stack: {STACK}
region: {REGION}
variables:
  suffix: {{default: ""}}
environments:
  prod:
    stack: {STACK}-prod
    variables: {{suffix: -prod}}
dashboards:
  main:
    name: main${{var.suffix}}
    body: {json.dumps(BODY)}
  ops:
    name: ops${{var.suffix}}
    body: {json.dumps(BODY)}
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def run_context() -> AwsContext:
    """A fresh context: one CLI run (its own memo of reads and its own call counts)."""
    return AwsContext(AwsSettings(region=REGION, max_attempts=2, retry_mode="standard"), stack=STACK)


def plan(spec_file: Path, env: str | None = None, full_scan: bool = False) -> tuple[Plan, Counter[str]]:
    ctx = run_context()
    the_plan = api.plan(api.load(spec_file, environment=env), PlanOptions(full_scan=full_scan), aws=ctx)
    return the_plan, Counter(ctx.stats.calls)


def apply(spec_file: Path, env: str | None = None) -> Counter[str]:
    """The calls of one apply, and as "index writes" its PutParameter calls on an index (the rest
    are the apply lock's)."""
    ctx = run_context()
    written: list[str] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        if params["Name"].endswith("/dashboards"):
            written.append(params["Name"])

    ctx.client("ssm").meta.events.register("provide-client-params.ssm.PutParameter", seen)
    assert api.apply(api.load(spec_file, environment=env), aws=ctx).ok
    return Counter(ctx.stats.calls) + Counter({"index writes": len(written)})


def stored_index(stack: str = STACK) -> list[str]:
    ssm = run_context().client("ssm")
    return list(json.loads(ssm.get_parameter(Name=parameter_name(stack))["Parameter"]["Value"])["dashboards"])


def actions(the_plan: Plan) -> dict[str, Action]:
    return {c.address: c.action for c in the_plan.changes}


def foreign_dashboards(count: int) -> None:
    cloudwatch = run_context().client("cloudwatch")
    for i in range(count):
        cloudwatch.put_dashboard(DashboardName=f"other-team-{i}", DashboardBody=json.dumps(BODY))


@pytest.mark.usefixtures("aws")
def test_the_apply_writes_the_index_and_plans_then_read_only_the_stacks_dashboards(spec_file: Path) -> None:
    applied = apply(spec_file)
    assert stored_index() == ["main", "ops"]
    assert applied["index writes"] == 1  # the two creates recorded ahead, in one write
    foreign_dashboards(20)

    the_plan, calls = plan(spec_file)

    assert not the_plan.has_changes and the_plan.housekeeping == {}
    assert calls["ssm.GetParameters"] == 1
    # No scan: the 20 other dashboards cost no tag read (one page of ListDashboards lists the
    # versions of all 22: the bodies are unchanged since the apply, none is read).
    assert calls["cloudwatch.ListDashboards"] == 1
    assert calls["cloudwatch.ListTagsForResource"] == 2  # each entry checked against its own tags
    assert calls["cloudwatch.GetDashboard"] == 0
    assert apply(spec_file)["index writes"] == 0  # converged: the index is not written again


@pytest.mark.usefixtures("aws")
def test_a_deleted_index_means_a_full_scan_the_same_plan_and_apply_writes_it_back(spec_file: Path) -> None:
    apply(spec_file)
    foreign_dashboards(3)
    with_index, _ = plan(spec_file)
    run_context().client("ssm").delete_parameter(Name=parameter_name(STACK))

    without_index, calls = plan(spec_file)

    assert calls["cloudwatch.ListDashboards"] == 1
    assert calls["cloudwatch.ListTagsForResource"] == 5  # every dashboard of the account
    assert actions(without_index) == actions(with_index)
    assert not without_index.has_changes
    assert "index is missing" in without_index.housekeeping["dashboards"]
    repaired = apply(spec_file)  # no resource changes; the index is written in passing
    assert repaired["cloudwatch.PutDashboard"] == 0 and repaired["index writes"] == 1
    assert stored_index() == ["main", "ops"]
    assert plan(spec_file)[1]["cloudwatch.ListTagsForResource"] == 2  # no scan: the stack's own only


@pytest.mark.usefixtures("aws")
def test_a_dashboard_tagged_by_hand_is_found_by_the_next_full_scan_and_reported(spec_file: Path) -> None:
    apply(spec_file)
    run_context().client("cloudwatch").put_dashboard(
        DashboardName="hand-made", DashboardBody=json.dumps(BODY), Tags=[{"Key": OWNER_TAG, "Value": STACK}]
    )
    indexed, _ = plan(spec_file)
    assert "dashboards.hand-made" not in actions(indexed)  # the index does not know it

    scanned, calls = plan(spec_file, full_scan=True)

    assert calls["cloudwatch.ListDashboards"] == 1
    assert actions(scanned)['dashboards["hand-made"]'] is Action.DELETE  # owned, not declared
    assert "out of date" in scanned.housekeeping["dashboards"]


@pytest.mark.usefixtures("aws")
def test_an_index_entry_the_tags_deny_is_never_deleted_and_forces_a_scan(spec_file: Path) -> None:
    apply(spec_file)
    foreign_dashboards(1)
    index = encode(["main", "ops", "other-team-0"])
    run_context().client("ssm").put_parameter(
        Name=parameter_name(STACK), Value=index, Type="String", Overwrite=True
    )

    the_plan, calls = plan(spec_file)

    assert calls["cloudwatch.ListDashboards"] == 1  # the index disagrees with the tags: scanned
    assert not the_plan.has_changes  # other-team-0 carries no owner tag: never deleted
    assert "out of date" in the_plan.housekeeping["dashboards"]
    apply(spec_file)
    assert stored_index() == ["main", "ops"]


@pytest.mark.usefixtures("aws")
def test_a_declared_dashboard_of_the_stack_missing_from_the_index_forces_a_scan(spec_file: Path) -> None:
    apply(spec_file)
    run_context().client("ssm").put_parameter(
        Name=parameter_name(STACK), Value=encode(["main"]), Type="String", Overwrite=True
    )
    the_plan, calls = plan(spec_file)
    assert calls["cloudwatch.ListDashboards"] == 1
    assert not the_plan.has_changes and "out of date" in the_plan.housekeeping["dashboards"]


@pytest.mark.usefixtures("aws")
def test_creates_are_recorded_before_the_first_put_dashboard(spec_file: Path) -> None:
    ctx = run_context()
    order: list[str] = []
    ctx.client("ssm").meta.events.register("before-call.ssm.PutParameter", lambda **_: order.append("index"))
    ctx.client("cloudwatch").meta.events.register(
        "before-call.cloudwatch.PutDashboard", lambda **_: order.append("dashboard")
    )
    assert api.apply(api.load(spec_file), aws=ctx).ok
    assert order[0] == "index" and order.count("dashboard") == 2
    assert stored_index() == ["main", "ops"]


@pytest.mark.usefixtures("aws")
def test_the_index_is_no_resource_and_destroy_leaves_it_empty_not_gone(spec_file: Path) -> None:
    apply(spec_file)
    destroy_options = PlanOptions(destroy=True)
    ctx = run_context()
    the_plan = api.plan(api.load(spec_file), destroy_options, aws=ctx)
    assert sorted(c.address for c in the_plan.changes) == ["dashboards.main", "dashboards.ops"]
    assert api.apply(api.load(spec_file), destroy_options, aws=ctx).ok
    assert stored_index() == []
    assert actions(plan(spec_file)[0]) == {"dashboards.main": Action.CREATE, "dashboards.ops": Action.CREATE}


@pytest.mark.usefixtures("aws")
def test_each_environment_stack_keeps_its_own_index(spec_file: Path) -> None:
    apply(spec_file)
    apply(spec_file, env="prod")
    assert stored_index(STACK) == ["main", "ops"]
    assert stored_index(f"{STACK}-prod") == ["main-prod", "ops-prod"]
    prod_plan, calls = plan(spec_file, env="prod")
    assert not prod_plan.has_changes and calls["cloudwatch.ListTagsForResource"] == 2  # no scan


def test_an_index_too_long_for_a_standard_parameter_is_removed_not_truncated(aws: AwsContext) -> None:
    # A Standard parameter holds 4 KB; a partial index would hide owned dashboards from pruning.
    names = [f"dashboard-with-a-rather-long-name-{i:04d}" for i in range(200)]
    assert len(encode(names)) > STANDARD_VALUE_LIMIT
    assert write_index(aws, STACK, ["main"])
    assert not write_index(aws, STACK, names)
    assert read_index(aws, STACK) is None


def test_the_apply_policy_grants_the_index_writes_on_its_path_only() -> None:
    from fnmatch import fnmatch

    from pacs_reconcile import permissions

    spec_needs = permissions.needs(["dashboards"], [], ["dashboards"])
    document = permissions.policy(STACK, REGION, spec_needs, read_only=False)
    index_arn = f"arn:aws:ssm:{REGION}:123456789012:parameter{parameter_name(STACK)}"
    writes = [s for s in document["Statement"] if "ssm:PutParameter" in s["Action"]]
    granting = [s for s in writes if fnmatch(index_arn, s["Resource"])]
    assert [s["Sid"] for s in granting] == ["ApplyLock"]  # not on every parameter of the account
    read_only = permissions.policy(STACK, REGION, spec_needs, read_only=True)
    assert "ssm:GetParameters" in permissions.policy_actions(read_only)  # plan reads the index
