"""Every kind: a change made by hand with boto3 is shown by plan at its exact path, and apply restores it.

The matrix is keyed by the registry: each case's address names its kind, and every kind the
repository spec declares must have a case (test_every_declared_kind_has_an_out_of_band_case names
the kinds without one). tests/e2e/test_drift.py classifies the same cases."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile.emulator.demo import alarm_put_arguments
from pacs_reconcile.resources.registry import KINDS, load_all

from .conftest import Cli, Server

BACKEND = "/aws/ecs/pacs-backend"


def _group_arn(server: Server, name: str) -> str:
    groups = server.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return str(next(g["logGroupArn"] for g in groups if g["logGroupName"] == name))


def _topic_arn(server: Server) -> str:
    return "arn:aws:sns:ap-northeast-2:123456789012:pacs-alerts"


def _alarm_with(server: Server, name: str, **changes: Any) -> None:
    cloudwatch = server.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    cloudwatch.put_metric_alarm(**alarm_put_arguments(alarm, **changes))


def _query_id(server: Server, name: str) -> str:
    found = server.client("logs").describe_query_definitions(queryDefinitionNamePrefix=name)[
        "queryDefinitions"
    ]
    return str(found[0]["queryDefinitionId"])


COLLECTOR = "pacs-custom-metrics-collector"
COLLECTOR_ROLE = COLLECTOR_POLICY = "pacs-lambda-custom-metrics"
COLLECTOR_RULE = "pacs-custom-metrics"


def _with_environment_variable(server: Server, name: str, value: str) -> None:
    lam = server.client("lambda")
    variables = lam.get_function_configuration(FunctionName=COLLECTOR)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=COLLECTOR, Environment={"Variables": {**variables, name: value}}
    )


def _collector_arn(server: Server) -> str:
    return str(server.client("lambda").get_function(FunctionName=COLLECTOR)["Configuration"]["FunctionArn"])


def _latest_revision_with(server: Server, family: str, image: str) -> None:
    """Register a new revision of the family by hand, a copy of the latest with another image."""
    ecs = server.client("ecs")
    found = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    definition = found["taskDefinition"]
    keep = (
        "family",
        "cpu",
        "memory",
        "networkMode",
        "requiresCompatibilities",
        "executionRoleArn",
        "taskRoleArn",
        "volumes",
        "containerDefinitions",
    )
    request = {k: definition[k] for k in keep if k in definition}
    request["containerDefinitions"] = [{**c, "image": image} for c in definition["containerDefinitions"]]
    ecs.register_task_definition(**request, tags=found["tags"])


def _deregister_family(server: Server, family: str) -> None:
    ecs = server.client("ecs")
    for arn in ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]:
        ecs.deregister_task_definition(taskDefinition=arn)


def _efs_id(server: Server, token: str) -> str:
    return str(
        server.client("efs").describe_file_systems(CreationToken=token)["FileSystems"][0]["FileSystemId"]
    )


def _mount_target_id(server: Server, token: str, zone: str) -> str:
    targets = server.client("efs").describe_mount_targets(FileSystemId=_efs_id(server, token))["MountTargets"]
    return str(next(t["MountTargetId"] for t in targets if t["AvailabilityZoneName"] == zone))


def _efs_group_id(server: Server) -> str:
    groups = server.client("ec2").describe_security_groups(
        Filters=[{"Name": "tag:pacs-reconcile:name", "Values": ["pacs-efs"]}]
    )["SecurityGroups"]
    return str(groups[0]["GroupId"])


def _seeded_group_id(server: Server) -> str:
    groups = server.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["pacs-backend-tasks"]}]
    )["SecurityGroups"]
    return str(groups[0]["GroupId"])


GRAFANA_PASSWORD = "/pacs/grafana/admin-password"

Mutation = Callable[[Server], None]


def _flow_log_id(server: Server) -> str:
    found = server.client("ec2").describe_flow_logs(
        Filter=[{"Name": "tag:pacs-reconcile:name", "Values": ["pacs-vpc"]}]
    )["FlowLogs"]
    return str(found[0]["FlowLogId"])


def _ecs_service_arn(server: Server, name: str) -> str:
    found = server.client("ecs").describe_services(cluster="pacs-cluster", services=[name])["services"]
    return str(found[0]["serviceArn"])


def _namespace(server: Server) -> dict[str, Any]:
    found = server.client("servicediscovery").list_namespaces()["Namespaces"]
    return dict(next(n for n in found if n["Name"] == "pacs-monitoring.local"))


def _discovery_service_id(server: Server, name: str) -> str:
    filters = [{"Name": "NAMESPACE_ID", "Values": [_namespace(server)["Id"]], "Condition": "EQ"}]
    found = server.client("servicediscovery").list_services(Filters=filters)["Services"]
    return str(next(s["Id"] for s in found if s["Name"] == name))


CASES: dict[str, tuple[Mutation, str, str]] = {
    # (tag first: a whole-cycle test applies every mutation in turn without repairing)
    "ecs service tag removed": (
        lambda s: s.client("ecs").untag_resource(
            resourceArn=_ecs_service_arn(s, "grafana"), tagKeys=["Name"]
        ),
        "ecs_services.grafana",
        "tags.Name",
    ),
    "ecs service desired count": (
        lambda s: s.client("ecs").update_service(
            cluster="pacs-cluster", service="prometheus", desiredCount=2
        ),
        "ecs_services.prometheus",
        "desired_count",
    ),
    "cloud map namespace tag removed": (
        lambda s: s.client("servicediscovery").untag_resource(
            ResourceARN=_namespace(s)["Arn"], TagKeys=["Name"]
        ),
        "service_discovery_namespaces.monitoring",
        "tags.Name",
    ),
    "cloud map namespace description": (
        lambda s: s.client("servicediscovery").update_private_dns_namespace(
            Id=_namespace(s)["Id"], Namespace={"Description": "changed by hand"}
        ),
        "service_discovery_namespaces.monitoring",
        "description",
    ),
    "cloud map service ttl": (
        lambda s: s.client("servicediscovery").update_service(
            Id=_discovery_service_id(s, "prometheus"),
            Service={
                "Description": "Prometheus tasks (HTTP API on 9090)",
                "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 300}]},
            },
        ),
        "service_discovery_namespaces.monitoring.services.prometheus",
        "dns_records.A",
    ),
    "cloud map service deleted": (
        lambda s: s.client("servicediscovery").delete_service(Id=_discovery_service_id(s, "cadvisor")),
        "service_discovery_namespaces.monitoring.services.cadvisor",
        "",
    ),
    "flow log tag removed": (
        lambda s: s.client("ec2").delete_tags(Resources=[_flow_log_id(s)], Tags=[{"Key": "Name"}]),
        "ec2_flow_logs.vpc",
        "tags.Name",
    ),
    "flow log deleted": (
        lambda s: s.client("ec2").delete_flow_logs(FlowLogIds=[_flow_log_id(s)]),
        "ec2_flow_logs.vpc",
        "",
    ),
    # name: (mutation, address, expected difference path — or "" for a create/delete of the whole resource)
    "log group retention": (
        lambda s: s.client("logs").put_retention_policy(logGroupName=BACKEND, retentionInDays=7),
        "log_groups.pacs_backend",
        "retention_days",
    ),
    "log group tag removed": (
        lambda s: s.client("logs").untag_resource(resourceArn=_group_arn(s, BACKEND), tagKeys=["Name"]),
        "log_groups.pacs_backend",
        "tags.Name",
    ),
    "log group tag added": (
        lambda s: s.client("logs").tag_resource(resourceArn=_group_arn(s, BACKEND), tags={"Owner": "bob"}),
        "log_groups.pacs_backend",
        "tags.Owner",
    ),
    "log group deleted": (  # a group without children that nothing else refers to
        lambda s: s.client("logs").delete_log_group(
            logGroupName="/aws/rds/instance/pacs-postgresql/postgresql"
        ),
        "log_groups.rds_postgresql",
        "",
    ),
    "metric filter pattern": (
        lambda s: s.client("logs").put_metric_filter(
            logGroupName=BACKEND,
            filterName="pacs-backend-errors",
            filterPattern="ERROR",
            metricTransformations=[
                {"metricName": "PACSBackendErrors", "metricNamespace": "PACS/Application", "metricValue": "1"}
            ],
        ),
        "log_groups.pacs_backend.metric_filters.errors",
        "pattern",
    ),
    "extra metric filter": (
        lambda s: s.client("logs").put_metric_filter(
            logGroupName=BACKEND,
            filterName="hand-made",
            filterPattern="WARN",
            metricTransformations=[{"metricName": "Warn", "metricNamespace": "Hand", "metricValue": "1"}],
        ),
        'log_groups.pacs_backend.metric_filters["hand-made"]',
        "",
    ),
    "query definition text": (
        lambda s: s.client("logs").put_query_definition(
            queryDefinitionId=_query_id(s, "PACS Error Analysis"),
            name="PACS Error Analysis",
            queryString="fields @message | limit 5",
            logGroupNames=[BACKEND],
        ),
        "log_groups.pacs_backend.query_definitions.error_analysis",
        "query",
    ),
    "alarm threshold": (
        lambda s: _alarm_with(s, "rds-connections", Threshold=500.0),
        "alarms.rds_connections",
        "threshold",
    ),
    "alarm action removed": (
        lambda s: _alarm_with(s, "rds-connections", OKActions=[]),
        "alarms.rds_connections",
        "ok_actions",
    ),
    "alarm deleted": (
        lambda s: s.client("cloudwatch").delete_alarms(AlarmNames=["s3-bucket-size"]),
        "alarms.s3_bucket_size",
        "",
    ),
    "dashboard widget": (
        lambda s: s.client("cloudwatch").put_dashboard(
            DashboardName="PACS-Infrastructure-Dashboard",
            DashboardBody=json.dumps(
                {
                    "widgets": [
                        {
                            "type": "text",
                            "x": 0,
                            "y": 0,
                            "width": 6,
                            "height": 3,
                            "properties": {"markdown": "hand edit"},
                        }
                    ]
                }
            ),
        ),
        "dashboards.pacs_infrastructure",
        "body.widgets",
    ),
    "topic display name": (
        lambda s: s.client("sns").set_topic_attributes(
            TopicArn=_topic_arn(s), AttributeName="DisplayName", AttributeValue="hand edit"
        ),
        "sns_topics.alerts",
        "display_name",
    ),
    "extra subscription": (
        lambda s: s.client("sns").subscribe(
            TopicArn=_topic_arn(s), Protocol="email", Endpoint="intruder@example.com"
        ),
        "sns_topics.alerts.subscriptions",
        "",
    ),
    # the metrics collector: Lambda, IAM, EventBridge
    "lambda memory": (
        lambda s: s.client("lambda").update_function_configuration(FunctionName=COLLECTOR, MemorySize=512),
        "lambda_functions.collector",
        "memory",
    ),
    "lambda environment variable added": (
        lambda s: _with_environment_variable(s, "DEBUG", "1"),
        "lambda_functions.collector",
        "environment.DEBUG",
    ),
    "lambda tag removed": (
        lambda s: s.client("lambda").untag_resource(Resource=_collector_arn(s), TagKeys=["Name"]),
        "lambda_functions.collector",
        "tags.Name",
    ),
    "lambda permission removed": (
        lambda s: s.client("lambda").remove_permission(
            FunctionName=COLLECTOR, StatementId="AllowExecutionFromEventBridge"
        ),
        "lambda_functions.collector.permissions.events",
        "",
    ),
    "extra lambda permission": (
        lambda s: s.client("lambda").add_permission(
            FunctionName=COLLECTOR,
            StatementId="hand-made",
            Action="lambda:InvokeFunction",
            Principal="s3.amazonaws.com",
        ),
        "lambda_functions.collector.permissions",
        "",
    ),
    "role description": (  # both settings: moto resets the one UpdateRole is not given
        lambda s: s.client("iam").update_role(
            RoleName=COLLECTOR_ROLE, Description="hand edit", MaxSessionDuration=3600
        ),
        "iam_roles.collector",
        "description",
    ),
    "role tag added": (
        lambda s: s.client("iam").tag_role(RoleName=COLLECTOR_ROLE, Tags=[{"Key": "Owner", "Value": "bob"}]),
        "iam_roles.collector",
        "tags.Owner",
    ),
    "extra inline role policy": (
        lambda s: s.client("iam").put_role_policy(
            RoleName=COLLECTOR_ROLE,
            PolicyName="hand-made",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                }
            ),
        ),
        "iam_roles.collector.inline_policies",
        "",
    ),
    "role policy detached": (
        lambda s: s.client("iam").detach_role_policy(
            RoleName=COLLECTOR_ROLE, PolicyArn=f"arn:aws:iam::123456789012:policy/{COLLECTOR_POLICY}"
        ),
        "iam_roles.collector.policy_attachments.collector",
        "",
    ),
    "managed policy document": (
        lambda s: s.client("iam").create_policy_version(
            PolicyArn=f"arn:aws:iam::123456789012:policy/{COLLECTOR_POLICY}",
            SetAsDefault=True,
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            ),
        ),
        "iam_policies.collector",
        "document",
    ),
    "rule disabled": (
        lambda s: s.client("events").disable_rule(Name=COLLECTOR_RULE),
        "event_rules.collector",
        "state",
    ),
    "rule target removed": (
        lambda s: s.client("events").remove_targets(Rule=COLLECTOR_RULE, Ids=["CustomMetricsTarget"]),
        "event_rules.collector.targets.collector",
        "",
    ),
    "extra rule target": (
        lambda s: s.client("events").put_targets(
            Rule=COLLECTOR_RULE, Targets=[{"Id": "extra", "Arn": _collector_arn(s)}]
        ),
        "event_rules.collector.targets",
        "",
    ),
    # Prometheus and Grafana: task definitions, EFS, the EFS security group, the password parameter
    "task definition revision by hand": (
        lambda s: _latest_revision_with(s, "prometheus", "prom/prometheus:v2.40.0"),
        "task_definitions.prometheus",
        "containers.prometheus.image",
    ),
    "task definition deregistered": (
        lambda s: _deregister_family(s, "grafana"),
        "task_definitions.grafana",
        "",
    ),
    "task definition tag removed": (
        lambda s: s.client("ecs").untag_resource(
            resourceArn=s.client("ecs").describe_task_definition(taskDefinition="grafana")["taskDefinition"][
                "taskDefinitionArn"
            ],
            tagKeys=["Name"],
        ),
        "task_definitions.grafana",
        "tags.Name",
    ),
    "security group extra ingress rule": (
        lambda s: s.client("ec2").authorize_security_group_ingress(
            GroupId=_efs_group_id(s),
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ],
        ),
        "security_groups.efs",
        "ingress",
    ),
    "security group tag removed": (
        lambda s: s.client("ec2").delete_tags(Resources=[_efs_group_id(s)], Tags=[{"Key": "Name"}]),
        "security_groups.efs",
        "tags.Name",
    ),
    "efs lifecycle policy": (
        lambda s: s.client("efs").put_lifecycle_configuration(
            FileSystemId=_efs_id(s, "grafana-storage"), LifecyclePolicies=[{"TransitionToIA": "AFTER_7_DAYS"}]
        ),
        "efs_file_systems.grafana_storage",
        "lifecycle_policies",
    ),
    "efs tag added": (
        lambda s: s.client("efs").tag_resource(
            ResourceId=_efs_id(s, "prometheus-config"), Tags=[{"Key": "Owner", "Value": "bob"}]
        ),
        "efs_file_systems.prometheus_config",
        "tags.Owner",
    ),
    "mount target security groups": (
        lambda s: s.client("efs").modify_mount_target_security_groups(
            MountTargetId=_mount_target_id(s, "grafana-storage", "ap-northeast-2b"),
            SecurityGroups=[_seeded_group_id(s)],
        ),
        "efs_file_systems.grafana_storage.mount_targets.zone_b",
        "security_groups",
    ),
    "mount target deleted": (
        lambda s: s.client("efs").delete_mount_target(
            MountTargetId=_mount_target_id(s, "prometheus-config", "ap-northeast-2a")
        ),
        "efs_file_systems.prometheus_config.mount_targets.zone_a",
        "",
    ),
    "ssm parameter value": (
        lambda s: s.client("ssm").put_parameter(
            Name=GRAFANA_PASSWORD, Value="hand-set", Type="SecureString", Overwrite=True
        ),
        "ssm_parameters.grafana_admin_password",
        "value",
    ),
}


_ADDRESS_PARTS = re.compile(r"[.\[]")


def kind_of(address: str) -> str | None:
    """The registered kind an address (or address prefix) of a case names: its innermost kind
    (children are addressed under their parent, e.g. log_groups.X.metric_filters.Y)."""
    load_all()
    kinds = [part for part in _ADDRESS_PARTS.split(address) if part in KINDS]
    return kinds[-1] if kinds else None


def missing_cases(declared_kinds: Iterable[str], cases: Mapping[str, tuple[Mutation, str, str]]) -> list[str]:
    """What the matrix lacks for the kinds a spec declares: one line per kind without a case."""
    covered = {kind_of(address) for _, address, _ in cases.values()}
    return [
        f"{kind}: add an out-of-band case (a change made by hand with boto3, the address plan shows "
        "and the difference path) to CASES in tests/e2e/test_out_of_band.py"
        for kind in sorted(set(declared_kinds) - covered)
    ]


def repository_kinds() -> set[str]:
    """The kinds the repository's own spec declares (what the converged stack holds)."""
    from pacs_reconcile.spec.loader import load_spec

    root = Path(__file__).resolve().parents[2]
    spec = load_spec(root / "monitoring.yaml", environment=None, cli_vars={}, environ={})
    return {node.kind for node in spec.resources.values()}


def test_every_case_names_a_registered_kind() -> None:
    unknown = sorted(case for case, (_, address, _) in CASES.items() if kind_of(address) is None)
    assert unknown == [], "these cases' addresses name no registered kind"


def test_every_declared_kind_has_an_out_of_band_case() -> None:
    declared = repository_kinds()
    assert missing_cases(declared, CASES) == []
    without_parameters = {c: case for c, case in CASES.items() if kind_of(case[1]) != "ssm_parameters"}
    (gap,) = missing_cases(declared, without_parameters)
    assert gap.startswith("ssm_parameters: add an out-of-band case")


FOLLOWERS: dict[str, dict[str, str]] = {
    # A repaired task definition is a new revision: the ECS service running it rolls onto it.
    "task definition revision by hand": {"ecs_services.prometheus": "task_definition"},
    "task definition deregistered": {"ecs_services.grafana": "task_definition"},
}
"""Cases whose repair also updates the resources that reference the changed one: address -> the
one path each updates."""


@pytest.mark.parametrize("case", sorted(CASES))
def test_out_of_band_change_is_planned_at_its_path_and_repaired(
    cli: Cli, converged: Server, case: str
) -> None:
    mutate, address, path = CASES[case]
    mutate(converged)

    drifted = cli("plan", "--detailed-exitcode", "--format", "json")
    assert drifted.exit_code == 2, drifted.stderr
    changes = [c for c in json.loads(drifted.stdout)["changes"] if c["action"] != "no-op"]
    followers = {c["address"]: c for c in changes if c["address"] in FOLLOWERS.get(case, {})}
    assert {a: [d["path"] for d in c["differences"]] for a, c in followers.items()} == {
        a: [p] for a, p in FOLLOWERS.get(case, {}).items()
    }
    assert all(c["action"] == "update" for c in followers.values())
    changes = [c for c in changes if c["address"] not in followers]
    assert len(changes) == 1, changes
    change = changes[0]
    assert change["address"].startswith(address)
    if path:
        assert change["action"] == "update"
        assert [d["path"] for d in change["differences"]] == [path] or all(
            d["path"].startswith(path) for d in change["differences"]
        )
    else:
        assert change["action"] in ("create", "delete")

    repaired = cli("apply", "--auto-approve")
    assert repaired.exit_code == 0, repaired.stdout + repaired.stderr
    assert cli("plan", "--detailed-exitcode").exit_code == 0
