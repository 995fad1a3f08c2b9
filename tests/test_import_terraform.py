"""import-terraform: a Terraform state (format v4) of the guide's stack becomes a spec whose first
plan, against the stack Terraform built, only adds this tool's tags: no create, no replacement.

The fixture (tests/fixtures/terraform/guide.tfstate) is a state reconstructed from the seed guide's
HCL for the kinds mapped so far, plus resources of types not mapped yet and a data source. The
stack Terraform built is recreated in moto (in-process) from the same state, with the calls the AWS
provider makes for each type."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from pacs_reconcile.cli import app

STATE = Path(__file__).parent / "fixtures" / "terraform" / "guide.tfstate"
REGION = "ap-northeast-2"


def _managed(kind: str) -> Iterator[dict[str, Any]]:
    for resource in json.loads(STATE.read_text())["resources"]:
        if resource["mode"] == "managed" and resource["type"] == kind:
            for instance in resource["instances"]:
                yield instance["attributes"]


def _terraform_apply() -> None:
    """What `terraform apply` of the guide did, resource by resource."""
    logs = boto3.client("logs", region_name=REGION)
    for a in _managed("aws_cloudwatch_log_group"):
        logs.create_log_group(logGroupName=a["name"], tags=a["tags"])
        logs.put_retention_policy(logGroupName=a["name"], retentionInDays=a["retention_in_days"])
    for a in _managed("aws_cloudwatch_log_metric_filter"):
        t = a["metric_transformation"][0]
        logs.put_metric_filter(
            logGroupName=a["log_group_name"],
            filterName=a["name"],
            filterPattern=a["pattern"],
            metricTransformations=[
                {"metricName": t["name"], "metricNamespace": t["namespace"], "metricValue": t["value"]}
            ],
        )
    for a in _managed("aws_cloudwatch_query_definition"):
        logs.put_query_definition(
            name=a["name"], queryString=a["query_string"], logGroupNames=a["log_group_names"]
        )
    sns = boto3.client("sns", region_name=REGION)
    for a in _managed("aws_sns_topic"):
        sns.create_topic(Name=a["name"], Tags=[{"Key": k, "Value": v} for k, v in a["tags"].items()])
    for a in _managed("aws_sns_topic_subscription"):
        sns.subscribe(TopicArn=a["topic_arn"], Protocol=a["protocol"], Endpoint=a["endpoint"])
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for a in _managed("aws_cloudwatch_metric_alarm"):
        cloudwatch.put_metric_alarm(
            AlarmName=a["alarm_name"],
            AlarmDescription=a["alarm_description"],
            ComparisonOperator=a["comparison_operator"],
            EvaluationPeriods=a["evaluation_periods"],
            MetricName=a["metric_name"],
            Namespace=a["namespace"],
            Period=a["period"],
            Statistic=a["statistic"],
            Threshold=a["threshold"],
            AlarmActions=a["alarm_actions"],
            Dimensions=[{"Name": k, "Value": v} for k, v in a["dimensions"].items()],
            Tags=[{"Key": k, "Value": v} for k, v in a["tags"].items()],
        )
    for a in _managed("aws_cloudwatch_dashboard"):
        cloudwatch.put_dashboard(DashboardName=a["dashboard_name"], DashboardBody=a["dashboard_body"])
    iam = boto3.client("iam", region_name=REGION)
    for a in _managed("aws_iam_role"):
        iam.create_role(RoleName=a["name"], AssumeRolePolicyDocument=a["assume_role_policy"], Path=a["path"])
    for a in _managed("aws_iam_policy"):
        iam.create_policy(PolicyName=a["name"], PolicyDocument=a["policy"], Description=a["description"])
    for a in _managed("aws_iam_role_policy_attachment"):
        iam.attach_role_policy(RoleName=a["role"], PolicyArn=a["policy_arn"])
    events = boto3.client("events", region_name=REGION)
    for a in _managed("aws_cloudwatch_event_rule"):
        events.put_rule(
            Name=a["name"], ScheduleExpression=a["schedule_expression"], Description=a["description"]
        )
    for a in _managed("aws_cloudwatch_event_target"):
        events.put_targets(Rule=a["rule"], Targets=[{"Id": a["target_id"], "Arn": a["arn"]}])
    efs = boto3.client("efs", region_name=REGION)
    for a in _managed("aws_efs_file_system"):
        efs.create_file_system(
            CreationToken=a["creation_token"],
            Encrypted=a["encrypted"],
            Tags=[{"Key": k, "Value": v} for k, v in a["tags"].items()],
        )


@pytest.fixture
def terraform_built() -> Iterator[None]:
    with mock_aws():
        _terraform_apply()
        yield


def test_the_guides_state_imports_into_a_spec_whose_first_plan_only_tags(
    terraform_built: None, tmp_path: Path
) -> None:
    runner = CliRunner()
    spec = tmp_path / "monitoring.yaml"
    imported = runner.invoke(
        app, ["import-terraform", str(STATE), "--out", str(spec)], catch_exceptions=False
    )
    assert imported.exit_code == 0, imported.stderr
    for unmapped in (
        "aws_ecs_task_definition.prometheus",
        "aws_security_group.efs",
        "aws_lambda_function.custom_metrics_collector",
    ):
        assert f"not imported: {unmapped}: " in imported.stderr
    assert "aws_db_instance" not in imported.stderr, "data sources are not resources to import"
    assert "Imported 30 resources of 33 in the state; 3 not imported." in imported.stderr
    text = spec.read_text()
    assert "alarm_actions: ['${sns_topics.alerts.arn}']" in text, "the topic's ARN became a reference"
    assert "needs an edit" not in imported.stderr, "the spec loads as written"
    # A subscription endpoint may carry a credential (webhook URLs): read from the environment instead
    assert "# Sensitive values were not written: set ALERTS_EMAIL_ENDPOINT in the environment." in text
    assert "pacs-oncall@example.com" not in text
    secrets = {"ALERTS_EMAIL_ENDPOINT": "pacs-oncall@example.com"}

    planned = runner.invoke(
        app, ["plan", "-f", str(spec), "--format", "json"], env=secrets, catch_exceptions=False
    )
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    changes = json.loads(planned.stdout)["changes"]
    assert len(changes) == 30
    actions = {c["action"] for c in changes}
    assert actions <= {"update", "no-op"}, actions
    paths = {d["path"] for c in changes for d in c["differences"]}
    assert paths == {"tags.pacs-reconcile:stack", "tags.pacs-reconcile:fingerprint"}
    applied = runner.invoke(
        app, ["apply", "-f", str(spec), "--auto-approve"], env=secrets, catch_exceptions=False
    )
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    again = runner.invoke(
        app, ["plan", "-f", str(spec), "--detailed-exitcode"], env=secrets, catch_exceptions=False
    )
    assert again.exit_code == 0, again.stdout


def test_a_state_of_another_format_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.tfstate"
    old.write_text(json.dumps({"version": 3, "modules": []}))
    result = CliRunner().invoke(app, ["import-terraform", str(old)])
    assert result.exit_code == 3
    assert "Terraform state format version 4 expected (got 3)" in result.stderr


def test_adopt_all_takes_over_a_spec_written_without_adopt(terraform_built: None, tmp_path: Path) -> None:
    runner = CliRunner()
    spec = tmp_path / "monitoring.yaml"
    assert runner.invoke(app, ["import-terraform", str(STATE), "--out", str(spec)]).exit_code == 0
    spec.write_text(spec.read_text().replace("    lifecycle:\n      adopt: true\n", ""))
    assert "adopt" not in spec.read_text().split("\nversion: 1\n", 1)[1]
    secrets = {"ALERTS_EMAIL_ENDPOINT": "pacs-oncall@example.com"}

    refused = runner.invoke(app, ["plan", "-f", str(spec)], env=secrets)
    assert refused.exit_code == 1
    assert "exists but is not owned by this stack; set lifecycle.adopt: true" in refused.stderr

    migrating = runner.invoke(app, ["plan", "-f", str(spec), "--adopt-all", "--format", "json"], env=secrets)
    assert migrating.exit_code == 0, migrating.stderr
    changes = json.loads(migrating.stdout)["changes"]
    assert {c["action"] for c in changes} <= {"update", "no-op"}
    assert {d["path"] for c in changes for d in c["differences"]} == {
        "tags.pacs-reconcile:stack",
        "tags.pacs-reconcile:fingerprint",
    }
    applied = runner.invoke(app, ["apply", "-f", str(spec), "--adopt-all", "--auto-approve"], env=secrets)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    after = runner.invoke(app, ["plan", "-f", str(spec), "--detailed-exitcode"], env=secrets)
    assert after.exit_code == 0, "owned now: later runs need no migration mode"
