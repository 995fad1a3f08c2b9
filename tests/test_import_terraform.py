"""import-terraform: a Terraform state (format v4) of the guide's stack becomes a spec whose first
plan, against the stack Terraform built, only adds this tool's tags: no create, no replacement.

The fixture (tests/fixtures/terraform/guide.tfstate) is a state reconstructed from the seed guide's
HCL (attribute shapes as the AWS provider stores them), with a data source and the guide's Lambda
function (python3.9, a runtime this tool does not deploy: reported, with its permission). The stack
Terraform built is recreated in moto (in-process) from the same state, with the calls the AWS
provider makes for each type, next to what the guide takes as given (VPC, subnets, ECS roles); the
state then carries the ids the emulator gave, as `terraform state pull` would."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from typer.testing import CliRunner

from outside_resources import create_postgres
from pacs_reconcile.cli import app
from pacs_reconcile.import_terraform import TfResource, import_state

STATE = Path(__file__).parent / "fixtures" / "terraform" / "guide.tfstate"
REGION = "ap-northeast-2"


def _managed(kind: str) -> Iterator[dict[str, Any]]:
    for resource in json.loads(STATE.read_text())["resources"]:
        if resource["mode"] == "managed" and resource["type"] == kind:
            for instance in resource["instances"]:
                yield instance["attributes"]


def _terraform_apply() -> dict[str, str]:
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
    # The database and bucket the alarms watch exist already (the guide reads the database with a
    # data source); they are not in the state.
    create_postgres(boto3.client("rds", region_name=REGION), "pacs-postgresql")
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="pacs-storage", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
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
    ids: dict[str, str] = {}  # the state's ids -> the emulator's, for the state of this stack
    efs = boto3.client("efs", region_name=REGION)
    for a in _managed("aws_efs_file_system"):
        created = efs.create_file_system(
            CreationToken=a["creation_token"],
            Encrypted=a["encrypted"],
            Tags=[{"Key": k, "Value": v} for k, v in a["tags"].items()],
        )
        ids[a["id"]] = created["FileSystemId"]
    ec2 = boto3.client("ec2", region_name=REGION)
    # Outside the state (the guide's var.vpc_id, var.private_subnet_ids, the ECS roles): built before.
    for a in _managed("aws_security_group"):
        ids[a["vpc_id"]] = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        group = ec2.create_security_group(
            GroupName=a["name"], Description=a["description"], VpcId=ids[a["vpc_id"]]
        )["GroupId"]
        ids[a["id"]] = group
        ec2.create_tags(Resources=[group], Tags=[{"Key": k, "Value": v} for k, v in a["tags"].items()])
        for r in a["ingress"]:
            ec2.authorize_security_group_ingress(
                GroupId=group,
                IpPermissions=[
                    {
                        "IpProtocol": r["protocol"],
                        "FromPort": r["from_port"],
                        "ToPort": r["to_port"],
                        "IpRanges": [{"CidrIp": c} for c in r["cidr_blocks"]],
                    }
                ],
            )
    for a in _managed("aws_efs_mount_target"):
        if a["subnet_id"] not in ids:
            cidr = f"10.0.{len(ids)}.0/24"
            subnet = ec2.create_subnet(
                VpcId=next(iter(v for v in ids.values() if v.startswith("vpc-"))),
                CidrBlock=cidr,
                AvailabilityZone=a["availability_zone_name"],
            )
            ids[a["subnet_id"]] = subnet["Subnet"]["SubnetId"]
        efs.create_mount_target(
            FileSystemId=ids[a["file_system_id"]],
            SubnetId=ids[a["subnet_id"]],
            SecurityGroups=[ids[g] for g in a["security_groups"]],
        )
    ecs = boto3.client("ecs", region_name=REGION)
    for a in _managed("aws_ecs_task_definition"):
        for role in (a["execution_role_arn"], a["task_role_arn"]):
            iam.create_role(RoleName=role.rsplit("/", 1)[1], AssumeRolePolicyDocument="{}")
        volume = a["volume"][0]
        ecs.register_task_definition(
            family=a["family"],
            cpu=a["cpu"],
            memory=a["memory"],
            networkMode=a["network_mode"],
            requiresCompatibilities=a["requires_compatibilities"],
            executionRoleArn=a["execution_role_arn"],
            taskRoleArn=a["task_role_arn"],
            containerDefinitions=json.loads(a["container_definitions"]),
            volumes=[
                {
                    "name": volume["name"],
                    "efsVolumeConfiguration": {
                        "fileSystemId": ids[volume["efs_volume_configuration"][0]["file_system_id"]],
                        "rootDirectory": "/",
                    },
                }
            ],
            tags=[{"key": k, "value": v} for k, v in a["tags"].items()],
        )
    return ids


@pytest.fixture
def terraform_built(tmp_path: Path) -> Iterator[Path]:
    """The stack built in the emulator, and its Terraform state (with the ids it got there)."""
    with mock_aws():
        text = STATE.read_text()
        for in_fixture, in_emulator in _terraform_apply().items():
            text = text.replace(in_fixture, in_emulator)
        state = tmp_path / "terraform.tfstate"
        state.write_text(text)
        yield state


def test_the_guides_state_imports_into_a_spec_whose_first_plan_only_tags(
    terraform_built: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    spec = tmp_path / "monitoring.yaml"
    imported = runner.invoke(
        app, ["import-terraform", str(terraform_built), "--out", str(spec)], catch_exceptions=False
    )
    assert imported.exit_code == 0, imported.stderr
    # The guide's function runs python3.9, which Lambda deprecated: reported with its permission.
    assert "not imported: aws_lambda_function.custom_metrics_collector: runtime python3.9 " in imported.stderr
    assert (
        "not imported: aws_lambda_permission.allow_eventbridge: its parent (lambda_functions "
        "'pacs-custom-metrics-collector') is not in the state" in imported.stderr
    )
    assert "aws_db_instance" not in imported.stderr, "data sources are not resources to import"
    assert "Imported 36 resources of 38 in the state; 2 not imported." in imported.stderr
    text = spec.read_text()
    # What the state does not manage (the VPC, subnets, ECS roles) is looked up, never a literal id.
    document = yaml.safe_load(text)
    lookups = document.pop("lookups")
    assert re.search(r"\b(vpc|subnet|sg|fs)-[0-9a-f]{8,}", json.dumps(document)) is None
    assert sorted(lookup["kind"] for lookup in lookups.values()) == [
        "iam_role",
        "iam_role",
        "rds_instance",
        "s3_bucket",
        "subnet",
        "subnet",
        "vpc",
    ]
    assert "DBInstanceIdentifier: ${lookups.pacs_postgresql.id}" in text
    assert "execution_role_arn: ${lookups.pacs_ecs_execution_role.arn}" in text
    assert "security_groups: ['${security_groups.efs.id}']" in text
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
    assert len(changes) == 36
    assert {c["kind"] for c in changes} >= {"task_definitions", "security_groups", "mount_targets"}
    actions = {c["action"] for c in changes}
    assert actions <= {"update", "no-op"}, [(c["address"], c["action"]) for c in changes]
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


def test_adopt_all_takes_over_a_spec_written_without_adopt(terraform_built: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    spec = tmp_path / "monitoring.yaml"
    assert runner.invoke(app, ["import-terraform", str(terraform_built), "--out", str(spec)]).exit_code == 0
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


def _state(*resources: tuple[str, str, dict[str, Any]]) -> list[TfResource]:
    return [TfResource(type_, name, None, attributes) for type_, name, attributes in resources]


def test_a_function_on_a_supported_runtime_and_its_permission_are_mapped() -> None:
    # Attribute shapes of the AWS provider's state: environment and dead_letter_config are blocks
    # (lists of one object); source_code_hash is the base64 SHA-256 Lambda reports as CodeSha256.
    role = "arn:aws:iam::123456789012:role/pacs-collector"
    function = {
        "function_name": "pacs-collector",
        "runtime": "python3.12",
        "handler": "index.handler",
        "memory_size": 256,
        "timeout": 60,
        "role": role,
        "environment": [{"variables": {"NAMESPACE": "PACS/Custom"}}],
        "dead_letter_config": [],
        "description": "",
        "source_code_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "arn": "arn:aws:lambda:ap-northeast-2:123456789012:function:pacs-collector",
        "tags": {"Project": "pacs"},
    }
    permission = {
        "statement_id": "AllowExecutionFromEventBridge",
        "action": "lambda:InvokeFunction",
        "function_name": function["arn"],
        "principal": "events.amazonaws.com",
        "source_arn": "arn:aws:events:ap-northeast-2:123456789012:rule/pacs-collector",
        "qualifier": "",
        "event_source_token": None,
        "source_account": None,
    }
    result = import_state(
        _state(
            ("aws_lambda_function", "collector", function), ("aws_lambda_permission", "events", permission)
        ),
        "pacs-monitoring",
        "ap-northeast-2",
    )
    assert result.unmapped == []
    [entry] = result.export.entries["lambda_functions"]
    assert entry.config["role"] == "${lookups.pacs_collector.arn}", "a role outside the state is looked up"
    assert result.export.lookups == {"pacs_collector": {"kind": "iam_role", "name": "pacs-collector"}}
    assert entry.config["environment"] == {"NAMESPACE": "PACS/Custom"}
    assert entry.config["code"] == {"source_dir": "functions/collector"}
    [child] = entry.children["permissions"]
    assert child.config["principal"] == "events.amazonaws.com"
    assert child.live.key == ("pacs-collector", "AllowExecutionFromEventBridge")


def test_keys_and_instances_outside_the_state_become_lookups() -> None:
    """A KMS key or an EC2 instance the state does not manage is looked up, not written as a
    literal; a key of another region stays as written (a lookup searches the stack's region)."""
    key = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    elsewhere = "arn:aws:kms:us-east-1:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab"
    groups = [
        ("aws_cloudwatch_log_group", name, {"name": f"/pacs/{name}", "kms_key_id": kms, "tags": {}})
        for name, kms in (("local", key), ("remote", elsewhere))
    ]
    alarm = {
        "alarm_name": "orthanc-cpu",
        "metric_name": "CPUUtilization",
        "namespace": "AWS/EC2",
        "statistic": "Average",
        "period": 300,
        "dimensions": {"InstanceId": "i-0123456789abcdef0"},
        "threshold": 80,
        "comparison_operator": "GreaterThanThreshold",
        "evaluation_periods": 3,
        "tags": {},
    }
    result = import_state(
        _state(*groups, ("aws_cloudwatch_metric_alarm", "cpu", alarm)), "pacs-monitoring", "ap-northeast-2"
    )
    local, remote = sorted(result.export.entries["log_groups"], key=lambda e: e.config["name"])
    [lookup_name] = [n for n, spec in result.export.lookups.items() if spec["kind"] == "kms_key"]
    assert local.config["kms_key_id"] == f"${{lookups.{lookup_name}.arn}}"
    assert result.export.lookups[lookup_name] == {
        "kind": "kms_key",
        "id": "1234abcd-12ab-34cd-56ef-1234567890ab",
    }
    assert remote.config["kms_key_id"] == elsewhere
    [entry] = result.export.entries["alarms"]
    [instance] = [n for n, spec in result.export.lookups.items() if spec["kind"] == "ec2_instance"]
    assert entry.config["metric"]["dimensions"] == {"InstanceId": f"${{lookups.{instance}.id}}"}


def test_a_query_definition_naming_no_log_group_is_not_imported_and_says_where_it_goes() -> None:
    # Adopting it would need a tag; importing it as a saved query would make a second definition
    # beside Terraform's on the first apply, unannounced. The report says what to do instead.
    query = {"name": "PACS/Anywhere", "query_string": "fields @message"}
    state = _state(("aws_cloudwatch_query_definition", "anywhere", query))
    imported = import_state(state, "pacs-monitoring", "ap-northeast-2")
    (reason,) = imported.unmapped
    assert "aws_cloudwatch_query_definition.anywhere" in reason and "saved_queries" in reason
