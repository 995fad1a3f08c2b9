"""Point 1, saved plans that stay honest: `plan --out PLAN.json` records the spec's fingerprint
and, per resource, a fingerprint of the live state its change was computed from (a digest per
attribute path, tags included); `apply PLAN.json` reads AWS again and refuses, listing every
resource that moved, when the spec or anything live moved since the plan (even when the planned
action would stay the same), and applies exactly the saved plan otherwise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Cli, Server

GRAFANA = "/aws/ecs/grafana"
LOCK_CALLS = {"ssm.PutParameter", "ssm.DeleteParameter"}


def _saved(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def _group_arn(server: Server, name: str) -> str:
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return str(groups[0]["logGroupArn"]).removesuffix(":*")


def test_a_saved_plan_records_a_live_fingerprint_per_resource_and_applies_exactly(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file)).exit_code == 0
    saved = _saved(plan_file)["saved_plan"]
    assert saved["format"] == 2
    addresses = {c["address"] for c in _saved(plan_file)["changes"]}
    assert set(saved["live"]) == addresses and len(addresses) >= 40
    assert all(v is None for v in saved["live"].values())  # nothing exists yet
    assert set(saved["lookups"]) >= {"rds", "vpc", "storage", "alb"}
    applied = cli("apply", str(plan_file))
    assert applied.exit_code == 0, applied.stdout + applied.stderr

    server.client("logs").put_retention_policy(logGroupName=GRAFANA, retentionInDays=1)
    assert cli("plan", "--out", str(plan_file)).exit_code == 0
    fingerprint = _saved(plan_file)["saved_plan"]["live"]["log_groups.grafana"]
    assert {"retention_days", "name", "tags.Name", "tags.pacs-reconcile:stack"} <= set(fingerprint)
    assert all(len(digest) == 20 for digest in fingerprint.values())
    applied = cli("apply", str(plan_file))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert set(applied.mutating_calls) == {"logs.PutRetentionPolicy"} | LOCK_CALLS
    assert cli("plan", "--detailed-exitcode").exit_code == 0


@pytest.mark.usefixtures("converged")
def test_apply_refuses_a_saved_plan_listing_every_resource_that_moved_in_aws(
    cli: Cli, server: Server, tmp_path: Path
) -> None:
    logs = server.client("logs")
    cloudwatch = server.client("cloudwatch")
    logs.put_retention_policy(logGroupName=GRAFANA, retentionInDays=1)
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file)).exit_code == 0

    # 1. the same planned action (update retention_days) from another live value: only the
    #    fingerprint tells; the planned action and path are unchanged
    logs.put_retention_policy(logGroupName=GRAFANA, retentionInDays=7)
    # 2. a tag added by hand to a resource the plan left alone
    logs.tag_resource(resourceArn=_group_arn(server, "/aws/ecs/keycloak"), tags={"Owner": "bob"})
    # 3. a resource deleted by hand
    cloudwatch.delete_alarms(AlarmNames=["s3-bucket-size"])
    # 4. an owned resource nobody declared appears (pruned by a fresh plan)
    cloudwatch.put_metric_alarm(
        AlarmName="stray",
        MetricName="m",
        Namespace="n",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "pacs-reconcile:stack", "Value": "pacs-monitoring"}],
    )
    refused = cli("apply", str(plan_file))
    assert refused.exit_code == 1
    assert refused.mutating_calls.keys() <= LOCK_CALLS
    lines = {
        line.strip().split(": ", 1)[0]: line.strip() for line in refused.stderr.splitlines() if ": " in line
    }
    assert "the saved plan is stale; run plan again" in refused.stderr
    assert (
        lines["log_groups.grafana"] == "log_groups.grafana: changed in AWS since the plan at retention_days"
    )
    assert lines["log_groups.keycloak"].startswith(
        "log_groups.keycloak: changed in AWS since the plan at tags.Owner"
    )
    assert "now update (tags.Owner)" in lines["log_groups.keycloak"]
    assert lines["alarms.s3_bucket_size"].startswith(
        "alarms.s3_bucket_size: was deleted in AWS since the plan"
    )
    assert lines['alarms["stray"]'].startswith('alarms["stray"]: appeared in AWS since the plan')
    retention = logs.describe_log_groups(logGroupNamePrefix=GRAFANA)["logGroups"][0]["retentionInDays"]
    assert retention == 7, "a refused plan changes nothing"


def test_paths_the_spec_ignores_may_move_and_a_changed_spec_or_lookup_is_refused(
    cli: Cli, server: Server, stack_dir: Path, tmp_path: Path
) -> None:
    logs_spec = stack_dir / "specs" / "logs.yaml"
    text = logs_spec.read_text()
    marker = "    name: /aws/ecs/grafana${var.name_suffix}\n"
    assert marker in text
    logs_spec.write_text(text.replace(marker, marker + "    lifecycle: {ignore_changes: [retention_days]}\n"))
    assert cli("apply", "--auto-approve").exit_code == 0
    plan_file = tmp_path / "plan.json"
    assert cli("plan", "--out", str(plan_file)).exit_code == 0
    assert "retention_days" not in _saved(plan_file)["saved_plan"]["live"]["log_groups.grafana"]
    server.client("logs").put_retention_policy(logGroupName=GRAFANA, retentionInDays=3)
    accepted = cli("apply", str(plan_file))
    assert accepted.exit_code == 0, accepted.stderr

    logs_spec.write_text(
        logs_spec.read_text().replace("retention_days: ${var.log_retention_days}", "retention_days: 14", 1)
    )
    stale_spec = cli("apply", str(plan_file))
    assert stale_spec.exit_code == 1 and "the spec changed since the plan was made" in stale_spec.stderr

    assert cli("plan", "--out", str(plan_file)).exit_code == 0
    document = _saved(plan_file)
    document["saved_plan"]["lookups"]["rds"] = "0" * 20  # as if lookups.rds found another instance
    plan_file.write_text(json.dumps(document))
    moved_lookup = cli("apply", str(plan_file))
    assert moved_lookup.exit_code == 1
    assert "lookups.rds: the existing resource it finds changed since the plan" in moved_lookup.stderr

    del document["saved_plan"]["format"]
    plan_file.write_text(json.dumps(document))
    older = cli("apply", str(plan_file))
    assert older.exit_code == 1 and "made by another version of pacs-reconcile" in older.stderr
