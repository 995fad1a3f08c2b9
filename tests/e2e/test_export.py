"""`pacs-reconcile export` against a moto server: the round trip on the whole applied stack (export,
plan the export: nothing to do), adopting resources made by hand, and the options' errors."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pacs_reconcile import OWNER_TAG, TAG_PREFIX
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.export import Entry, Export, Selection, _link_references, export, slug
from pacs_reconcile.resources.base import Live
from pacs_reconcile.spec.loader import load_spec

from .conftest import REGION, REPO, Cli, Server

STACK = "pacs-monitoring"


@pytest.fixture(autouse=True)
def function_code(stack_dir: Path) -> None:
    """The stack's Lambda code next to the copied spec (the spec names it by relative folder)."""
    if (REPO / "functions").is_dir() and not (stack_dir / "functions").exists():
        shutil.copytree(REPO / "functions", stack_dir / "functions")


def _exported(cli: Cli, folder: Path, *args: str) -> tuple[Path, dict[str, Any]]:
    path = folder / "monitoring.yaml"
    result = cli("export", *args, "--out", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    return path, yaml.safe_load(path.read_text(encoding="utf-8"))


def _inputs(
    server: Server, document: dict[str, Any], stack: str, folder: Path, stack_dir: Path
) -> dict[str, str]:
    """What a person does after exporting: set the sensitive values (printed as names only) and put
    each function's code where the export says. Returns the environment for plan."""
    ctx = AwsContext(AwsSettings(region=REGION, endpoint_url=server.endpoint), stack=stack)
    secrets = export(ctx, stack, Selection(tag=(OWNER_TAG, stack))).secrets
    env = {document["variables"][name]["from_env"]: value for name, value in secrets.items()}
    repo_spec = load_spec(stack_dir / "monitoring.yaml", environ={})
    code_by_function = {
        n.config["name"]: n.config["code"]["source_dir"]
        for n in repo_spec.resources.values()
        if n.kind == "lambda_functions"
    }
    for entry in (document.get("lambda_functions") or {}).values():
        shutil.copytree(stack_dir / code_by_function[entry["name"]], folder / entry["code"]["source_dir"])
    return env


def _differences(plan_stdout: str) -> list[tuple[str, str, str]]:
    changes = json.loads(plan_stdout)["changes"]
    return [
        (c["address"], c["action"], d["path"])
        for c in changes
        if c["action"] != "no-op"
        for d in c["differences"] or [{"path": ""}]
    ]


def test_export_of_the_applied_stack_plans_without_changes(
    cli: Cli, server: Server, stack_dir: Path, tmp_path: Path
) -> None:
    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stderr

    first_path, first = _exported(cli, tmp_path / "first", "--tag", f"{OWNER_TAG}={STACK}")
    assert first["stack"] == STACK and first["region"] == REGION
    env = _inputs(server, first, STACK, tmp_path / "first", stack_dir)
    assert "pacs-oncall@example.com" not in first_path.read_text(encoding="utf-8")  # sensitive: a variable

    # The same resources, the same settings: no change. Only the tool's fingerprint of the spec text
    # differs (the export names entries after AWS names), which apply records as bookkeeping.
    plan = cli("plan", "-f", str(first_path), "--format", "json", "--detailed-exitcode", env=env)
    assert plan.exit_code == 0, _differences(plan.stdout)
    assert _differences(plan.stdout) == []
    assert json.loads(plan.stdout)["changes_present"] is False

    # Once applied from the export, a new export is the same text, and plans with no change at all.
    assert cli("apply", "-f", str(first_path), "--auto-approve", env=env).exit_code == 0
    second_path, _ = _exported(cli, tmp_path / "second", "--tag", f"{OWNER_TAG}={STACK}")
    assert second_path.read_text(encoding="utf-8") == first_path.read_text(encoding="utf-8")
    _inputs(server, first, STACK, tmp_path / "second", stack_dir)
    clean = cli("plan", "-f", str(second_path), "--detailed-exitcode", env=env)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert "No changes." in clean.stdout


@pytest.mark.usefixtures("converged")
def test_the_export_keeps_the_stacks_structure(cli: Cli, server: Server, tmp_path: Path) -> None:
    _, document = _exported(cli, tmp_path, "--tag", f"{OWNER_TAG}={STACK}")
    assert document["defaults"] == {"tags": {"Environment": "dev", "Project": "pacs"}}
    backend = document["log_groups"]["aws_ecs_pacs_backend"]
    assert backend["name"] == "/aws/ecs/pacs-backend"
    assert backend["tags"] == {"Name": "pacs-backend-logs"}  # no owner, fingerprint or default tags
    assert set(backend["metric_filters"]) == {
        "pacs_backend_errors",
        "pacs_backend_response_time",
        "dicom_processing",
    }
    assert "lifecycle" not in backend  # owned by this stack: nothing to adopt
    alarm = document["alarms"]["pacs_backend_error_rate"]
    assert alarm["alarm_actions"] == ["${sns_topics.pacs_alerts.arn}"]  # an exported ARN: a reference
    assert "actions_enabled" not in alarm  # equal to the default: left out
    subscription = document["sns_topics"]["pacs_alerts"]["subscriptions"]["email"]
    assert subscription["endpoint"].startswith("${var.")
    assert document["variables"][subscription["endpoint"][6:-1]]["sensitive"] is True


def test_adopting_resources_made_by_hand(cli: Cli, server: Server, tmp_path: Path) -> None:
    logs = server.client("logs")
    logs.create_log_group(logGroupName="/legacy/app", tags={"Team": "pacs", "aws:cloudformation:x": "y"})
    logs.put_retention_policy(logGroupName="/legacy/app", retentionInDays=14)
    logs.put_metric_filter(
        logGroupName="/legacy/app",
        filterName="Errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": "Legacy", "metricValue": "1"}],
    )
    logs.create_log_group(logGroupName="/other/app")

    path, document = _exported(
        cli, tmp_path, "--kind", "log_groups", "--prefix", "/legacy/", "--stack", "legacy"
    )
    assert list(document["log_groups"]) == ["legacy_app"]
    entry = document["log_groups"]["legacy_app"]
    assert entry["lifecycle"] == {"adopt": True}
    assert entry["retention_days"] == 14
    assert entry["tags"] == {"Team": "pacs"}  # aws: tags are AWS's, never written
    assert entry["metric_filters"]["errors"]["pattern"] == "ERROR"

    plan = cli("plan", "-f", str(path), "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    assert {d[2] for d in _differences(plan.stdout)} <= {f"tags.{OWNER_TAG}", f"tags.{TAG_PREFIX}fingerprint"}
    assert cli("apply", "-f", str(path), "--auto-approve").exit_code == 0
    again = cli("plan", "-f", str(path), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout
    tags = logs.list_tags_for_resource(resourceArn=_arn(server, "/legacy/app"))["tags"]
    assert tags[OWNER_TAG] == "legacy"


def _arn(server: Server, name: str) -> str:
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return str(groups[0]["logGroupArn"]).removesuffix(":*")


def test_export_by_any_tag(cli: Cli, server: Server, tmp_path: Path) -> None:
    cloudwatch = server.client("cloudwatch")
    for name, team in (("legacy-cpu", "pacs"), ("legacy-disk", "other")):
        cloudwatch.put_metric_alarm(
            AlarmName=name,
            MetricName="CPUUtilization",
            Namespace="AWS/EC2",
            Statistic="Average",
            Period=300,
            EvaluationPeriods=1,
            Threshold=90,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "Team", "Value": team}],
        )
    _, document = _exported(cli, tmp_path, "--kind", "alarms", "--tag", "Team=pacs", "--stack", "legacy")
    assert list(document["alarms"]) == ["legacy_cpu"]
    assert document["alarms"]["legacy_cpu"]["threshold"] == 90


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prefix", "x"], "--stack NAME is needed"),
        (["--prefix", "x", "--tag", "a=b", "--stack", "s"], "exactly one of --prefix and --tag"),
        (["--kind", "log_group", "--prefix", "x", "--stack", "s"], "did you mean 'log_groups'"),
        (["--tag", "novalue", "--stack", "s"], "expected KEY=VALUE"),
    ],
)
def test_export_option_errors(cli: Cli, args: list[str], message: str) -> None:
    result = cli("export", *args)
    assert result.exit_code == 3
    assert message in result.stderr and result.stdout == ""
    assert result.calls == {}


def test_nothing_matched_is_an_error(cli: Cli) -> None:
    result = cli("export", "--kind", "alarms", "--prefix", "no-such-", "--stack", "s")
    assert result.exit_code == 1
    assert "no resource matched the name prefix 'no-such-'" in result.stderr


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("/aws/ecs/pacs-backend", "aws_ecs_pacs_backend"),
        ("PACS-Main-Dashboard", "pacs_main_dashboard"),
        ("AllowExecutionFromEventBridge", "allow_execution_from_event_bridge"),
        ("2024-report", "r_2024_report"),
        ("///", "resource"),
    ],
)
def test_entry_names(name: str, expected: str) -> None:
    assert slug(name) == expected


def _entry(kind: str, name: str, address: str, config: dict[str, Any], attrs: dict[str, str]) -> Entry:
    return Entry(kind, name, address, Live(name, dict(config), attrs), dict(config), None, False)


def test_values_naming_one_other_exported_resource_become_references() -> None:
    topic_arn = "arn:aws:sns:ap-northeast-2:123456789012:pacs-alerts"
    topic = _entry(
        "sns_topics",
        "alerts",
        "sns_topics.alerts",
        {"name": "pacs-alerts"},
        {"name": "pacs-alerts", "arn": topic_arn},
    )
    group = _entry(
        "log_groups",
        "app",
        "log_groups.app",
        {"name": "pacs-backend-errors"},
        {"name": "pacs-backend-errors", "arn": "arn:aws:logs:ap-northeast-2:1:log-group:x"},
    )
    config = {"name": "pacs-backend-errors", "alarm_actions": [topic_arn], "description": "pacs-alerts"}
    alarm = _entry(
        "alarms",
        "errors",
        "alarms.errors",
        config,
        {"name": "pacs-backend-errors", "arn": "arn:aws:cloudwatch:ap-northeast-2:1:alarm:x"},
    )
    result = Export("s", REGION, {"sns_topics": [topic], "log_groups": [group], "alarms": [alarm]})
    _link_references(result)
    assert alarm.config["alarm_actions"] == ["${sns_topics.alerts.arn}"]
    assert alarm.config["description"] == "${sns_topics.alerts.name}"  # a distinctive name, unique
    assert alarm.config["name"] == "pacs-backend-errors"  # the identity is never a reference...
    assert alarm.depends_on == [] and group.depends_on == []  # ...nor a dependency on a namesake
    assert topic.config == {"name": "pacs-alerts"}  # nothing refers to itself


# Listing by name prefix, per kind (moto in-process) ---------------------------------------------

_ZIP = bytes.fromhex("504b0506" + "00" * 18)  # an empty zip archive
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


SERVICE_CLUSTER = "pacs-cluster"
KEYS: dict[str, Callable[[str], str]] = {"ecs_services": lambda name: f"{SERVICE_CLUSTER}/{name}"}
"""A kind whose keys are more than the name: how a name's key is written (a service is keyed by
its cluster too)."""


def _make(ctx: AwsContext, kind: str, name: str) -> None:
    """One resource of `kind` named `name`, made directly with boto3."""
    client = ctx.client
    if kind == "log_groups":
        client("logs").create_log_group(logGroupName=name)
    elif kind == "alarms":
        client("cloudwatch").put_metric_alarm(
            AlarmName=name,
            MetricName="M",
            Namespace="N",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
    elif kind == "composite_alarms":
        client("cloudwatch").put_composite_alarm(AlarmName=name, AlarmRule="FALSE")
    elif kind == "dashboards":
        client("cloudwatch").put_dashboard(DashboardName=name, DashboardBody='{"widgets": []}')
    elif kind == "saved_queries":
        client("logs").put_query_definition(name=name, queryString="fields @message")
    elif kind == "sns_topics":
        client("sns").create_topic(Name=name)
    elif kind == "iam_roles":
        client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=_TRUST)
    elif kind == "iam_policies":
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
        }
        client("iam").create_policy(PolicyName=name, PolicyDocument=json.dumps(document))
    elif kind == "lambda_functions":
        role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=_TRUST)["Role"]
        client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="index.handler",
            Code={"ZipFile": _ZIP},
        )
    elif kind == "event_rules":
        client("events").put_rule(Name=name, ScheduleExpression="rate(5 minutes)")
    elif kind == "ec2_flow_logs":
        vpc = client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        role = client("iam").create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=_TRUST)["Role"]
        client("ec2").create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogGroupName=f"/{name}",
            DeliverLogsPermissionArn=role["Arn"],
            TagSpecifications=[
                {"ResourceType": "vpc-flow-log", "Tags": [{"Key": "pacs-reconcile:name", "Value": name}]}
            ],
        )
    elif kind == "efs_file_systems":
        client("efs").create_file_system(CreationToken=name)
    elif kind == "security_groups":
        client("ec2").create_security_group(GroupName=name, Description="test")
    elif kind == "ssm_parameters":
        client("ssm").put_parameter(Name=name, Value="v", Type="String")
    elif kind == "sqs_queues":
        client("sqs").create_queue(QueueName=name)
    elif kind == "efs_access_points":
        system = client("efs").create_file_system(CreationToken=f"{name}-fs")["FileSystemId"]
        client("efs").create_access_point(
            FileSystemId=system, Tags=[{"Key": "pacs-reconcile:name", "Value": name}]
        )
    elif kind == "event_buses":
        client("events").create_event_bus(Name=name)
    elif kind == "kms_keys":
        key = client("kms").create_key()["KeyMetadata"]["KeyId"]
        client("kms").create_alias(AliasName=f"alias/{name}", TargetKeyId=key)
    elif kind == "task_definitions":
        client("ecs").register_task_definition(
            family=name, containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}]
        )
    elif kind == "ecs_services":
        client("ecs").create_cluster(clusterName=SERVICE_CLUSTER)
        client("ecs").register_task_definition(
            family="app", containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}]
        )
        client("ecs").create_service(
            cluster=SERVICE_CLUSTER, serviceName=name, taskDefinition="app", desiredCount=0
        )
    elif kind == "service_discovery_namespaces":
        vpc = client("ec2").create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        client("servicediscovery").create_private_dns_namespace(Name=name, Vpc=vpc)
    else:
        raise AssertionError(f"no test for listing {kind}: add one here")


def _listed_kinds() -> list[str]:
    from pacs_reconcile.export import listers

    return sorted(listers())


def test_every_top_level_kind_can_be_listed_by_name_prefix() -> None:
    from pacs_reconcile.resources.registry import load_all, top_level_kinds

    load_all()
    missing = set(top_level_kinds()) - set(_listed_kinds())
    assert missing == set(), f"give these kinds a `lister` in their KindMeta: {sorted(missing)}"


@pytest.mark.parametrize("kind", _listed_kinds())
def test_listing_by_prefix(aws: AwsContext, kind: str) -> None:
    from pacs_reconcile.export import listers

    lister = listers()[kind]
    for name in ("pacs-kept", "pacs-kept-too", "other-left"):
        _make(aws, kind, name)
    key = KEYS.get(kind, str)
    assert lister(aws, "pacs-") == [key("pacs-kept"), key("pacs-kept-too")]
    assert {key("pacs-kept"), key("other-left")} <= set(lister(aws, ""))
