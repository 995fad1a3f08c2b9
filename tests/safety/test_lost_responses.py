"""Retry-safe creates: a create whose response is lost after AWS acted (the connection drops on
the way back; botocore retries the call) must not fail the apply with "already exists" nor leave a
duplicate. On "already exists" the tool reads the resource back and carries on only when it carries
this stack's owner tag and this spec's fingerprint: its own first attempt. Anything else made
meanwhile by someone else is never adopted.

In-process: a before-send hook lets moto carry the first attempt out, then raises a connection
error to the client. Every create operation the kinds' code can call is lost once in one of the
small stacks below (a test walks the kinds' modules and names any that is not), and one apply
converges with nothing made twice."""

from __future__ import annotations

import io
import json
import textwrap
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.plan import Plan, make_plan
from pacs_reconcile.resources._look_before_retry import may_have_landed
from pacs_reconcile.resources.registry import KINDS, load_all
from pacs_reconcile.spec.loader import load_spec

from .faults import UNROUTABLE
from .helpers import REGION, REPO, client, duplicates, failures, pending
from .test_permissions import DYNAMIC_CALLS, _module_operations

STACK = "pacs-lost"


class LostResponses:
    """The first attempt of each named operation reaches moto, which carries it out; the client
    then sees the connection drop (what a lost response looks like) and botocore retries."""

    def __init__(self, operations: tuple[str, ...]) -> None:
        self.operations = set(operations)
        self.lost: Counter[str] = Counter()

    def __call__(self, request: Any, event_name: str, **_: Any) -> None:
        from moto.core.models import botocore_stubber

        operation = event_name.split(".", 2)[2]
        if operation not in self.operations or self.lost[operation]:
            return
        self.lost[operation] += 1
        botocore_stubber(event_name=event_name, request=request)  # AWS acts...
        url = str(request.url)
        request.url = UNROUTABLE
        raise ConnectionClosedError(endpoint_url=url)  # ...and the answer never arrives


@dataclass(frozen=True)
class Stack:
    """A small stack of one group of kinds, and the create operations whose first response is lost."""

    spec: str
    lost: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)


STACKS = {
    "logs": Stack(
        """\
        log_groups:
          app:
            name: /pacs/app
            retention_days: 30
            metric_filters:
              errors:
                name: pacs-app-errors
                pattern: ERROR
                metric: {name: AppErrors, namespace: PACS/Lost, value: "1"}
            query_definitions:
              errors:
                name: PACS app errors
                query: "fields @timestamp, @message | filter @message like /ERROR/"
        """,
        ("CreateLogGroup", "PutRetentionPolicy", "PutMetricFilter", "PutQueryDefinition"),
    ),
    "saved queries": Stack(
        """\
        saved_queries:
          anywhere:
            name: PACS errors anywhere
            query: "fields @timestamp, @message | filter @message like /ERROR/"
        """,
        ("PutQueryDefinition",),
    ),
    "iam": Stack(
        """\
        iam_policies:
          publish:
            name: pacs-publish
            document:
              Version: "2012-10-17"
              Statement: [{Effect: Allow, Action: "cloudwatch:PutMetricData", Resource: "*"}]
        iam_roles:
          collector:
            name: pacs-collector
            assume_role_policy:
              Version: "2012-10-17"
              Statement:
                - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}
            inline_policies:
              logs:
                name: pacs-collector-logs
                document:
                  Version: "2012-10-17"
                  Statement: [{Effect: Allow, Action: "logs:PutLogEvents", Resource: "*"}]
            policy_attachments:
              publish: {policy: pacs-publish, depends_on: [iam_policies.publish]}
        """,
        ("CreateRole", "CreatePolicy", "PutRolePolicy", "AttachRolePolicy"),
    ),
    "alarms": Stack(
        """\
        alarms:
          errors:
            name: pacs-app-errors
            metric: {name: AppErrors, namespace: PACS/Lost, statistic: Sum, period: 300}
            comparison: GreaterThanThreshold
            threshold: 10
            evaluation_periods: 2
        composite_alarms:
          degraded:
            name: pacs-app-degraded
            alarm_rule: ALARM("${alarms.errors.name}")
        dashboards:
          main:
            name: PACS-Lost
            body:
              widgets:
                - {type: text, x: 0, y: 0, width: 6, height: 2, properties: {markdown: "# PACS"}}
        """,
        ("PutMetricAlarm", "PutCompositeAlarm", "PutDashboard"),
    ),
    "messages": Stack(
        """\
        sns_topics:
          alerts:
            name: pacs-lost-alerts
            display_name: PACS alerts
            subscriptions:
              email: {protocol: email, endpoint: oncall@example.com}
        ssm_parameters:
          setting:
            name: /pacs-lost/setting
            type: String
            value: "42"
        sqs_queues:
          undelivered: {name: pacs-lost-undelivered}
        """,
        ("CreateTopic", "Subscribe", "PutParameter", "CreateQueue"),
    ),
    "network": Stack(
        """\
        security_groups:
          efs:
            name: pacs-lost-efs
            description: NFS from the PACS VPC
            vpc_id: ${lookups.vpc.id}
            ingress:
              - {protocol: tcp, from_port: 2049, cidr_blocks: ["${lookups.vpc.cidr_block}"], description: NFS}
            egress:
              - {protocol: tcp, from_port: 443, cidr_blocks: ["0.0.0.0/0"], description: HTTPS}
        efs_file_systems:
          data:
            creation_token: pacs-lost-data
            encrypted: true
            lifecycle_policies: {transition_to_ia: AFTER_30_DAYS}
            mount_targets:
              zone_a:
                availability_zone: ap-northeast-2a
                subnet_id: ${lookups.private_subnet_a.id}
                security_groups: ["${security_groups.efs.id}"]
        efs_access_points:
          grafana:
            name: pacs-lost-grafana
            file_system_id: ${efs_file_systems.data.id}
            root_directory: {path: /grafana}
        log_groups:
          flow: {name: /pacs-lost/flow}
        ec2_flow_logs:
          vpc:
            name: pacs-lost-vpc
            resource_id: ${lookups.vpc.id}
            traffic_type: ALL
            log_group_name: ${log_groups.flow.name}
            deliver_logs_role_arn: ${lookups.task_role.arn}
        """,
        (
            "CreateSecurityGroup",
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "CreateFileSystem",
            "PutLifecycleConfiguration",
            "CreateMountTarget",
            "CreateAccessPoint",
            "CreateFlowLogs",
        ),
    ),
    "functions": Stack(
        """\
        lambda_functions:
          collector:
            name: pacs-lost-collector
            runtime: python3.12
            handler: index.handler
            role: ${lookups.task_role.arn}
            code: {source_dir: function}
            permissions:
              events:
                statement_id: AllowExecutionFromEventBridge
                principal: events.amazonaws.com
                source_arn: ${event_rules.collector.arn}
        event_buses:
          audit:
            name: pacs-lost-audit
            policy:
              Version: "2012-10-17"
              Statement:
                - Sid: AccountPutsEvents
                  Effect: Allow
                  Principal: {AWS: "arn:aws:iam::123456789012:root"}
                  Action: "events:PutEvents"
                  Resource: "arn:aws:events:ap-northeast-2:123456789012:event-bus/pacs-lost-audit"
        event_rules:
          collector:
            name: pacs-lost-collector
            schedule: rate(5 minutes)
            targets:
              collector: {id: CollectorTarget, arn: "${lambda_functions.collector.arn}"}
        """,
        ("CreateFunction", "AddPermission", "PutRule", "PutTargets", "CreateEventBus", "PutPermission"),
        {"function/index.py": "def handler(event, context):\n    return None\n"},
    ),
    "tasks": Stack(
        """\
        task_definitions:
          worker:
            family: pacs-lost-worker
            cpu: 256
            memory: 512
            execution_role_arn: ${lookups.task_execution_role.arn}
            containers:
              worker: {image: "public.ecr.aws/docker/library/busybox:1.36"}
        ecs_services:
          worker:
            name: pacs-lost-worker
            cluster: pacs-cluster
            task_definition: ${task_definitions.worker.arn}
            network: {subnets: ["${lookups.private_subnet_a.id}"]}
        """,
        ("RegisterTaskDefinition", "CreateService"),
    ),
    "discovery": Stack(
        """\
        service_discovery_namespaces:
          lost:
            name: pacs-lost.local
            vpc_id: ${lookups.vpc.id}
            services:
              worker: {name: worker}
        """,
        ("CreatePrivateDnsNamespace", "CreateService"),
    ),
    "keys": Stack(
        """\
        kms_keys:
          logs: {name: pacs-lost-logs, description: Encrypts the PACS logs}
        """,
        ("CreateKey", "CreateAlias"),
    ),
}
HEADER = """\
version: 1
stack: pacs-lost
lookups:
  vpc: {kind: vpc, tags: {Name: pacs-vpc}}
  private_subnet_a: {kind: subnet, tags: {Name: pacs-private-a}}
  task_role: {kind: iam_role, name: pacs-ecs-task}
  task_execution_role: {kind: iam_role, name: pacs-ecs-task-execution}
"""

NOT_CREATES = {
    "CreateTags": "tags: update_tags sets the same values again",
    "AddTagsToResource": "tags: update_tags sets the same values again",
    "CreatePolicyVersion": "an update: test_a_lost_policy_version_leaves_no_extra_version",
    "PutKeyPolicy": "an update that replaces the key's whole policy: a repeat sets the same",
}
"""Operations named like creates that make nothing new, and why."""
CREATE_VERBS = ("Create", "Put", "Register", "Authorize", "Subscribe", "Add", "Attach")


def _write(folder: Path, stack: Stack) -> Path:
    (folder / "monitoring.yaml").write_text(HEADER + textwrap.dedent(stack.spec), encoding="utf-8")
    for name, text in stack.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder / "monitoring.yaml"


def _context() -> AwsContext:
    return AwsContext(AwsSettings(region=REGION, max_attempts=3), stack=STACK)


def _plan(spec_file: Path, ctx: AwsContext) -> Plan:
    ctx.forget_all()
    return make_plan(load_spec(spec_file), ctx)


def _made_twice() -> dict[str, list[str]]:
    """What exists more than once, beyond helpers.duplicates: query definitions by name, flow logs
    by resource, task definition revisions, access points, KMS keys, Cloud Map namespaces and
    services by name."""
    found = duplicates()
    definitions = client("logs").describe_query_definitions()["queryDefinitions"]
    names = Counter(d["name"] for d in definitions)
    flow_logs = Counter(f["ResourceId"] for f in client("ec2").describe_flow_logs()["FlowLogs"])
    ecs = client("ecs")
    revisions = Counter(
        arn.rsplit("/", 1)[1].split(":")[0]
        for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    )
    access_points = Counter(
        json.dumps(sorted((t["Key"], t["Value"]) for t in point.get("Tags", [])))
        for point in client("efs").describe_access_points()["AccessPoints"]
    )
    discovery = client("servicediscovery")
    namespaces = Counter(n["Name"] for n in discovery.list_namespaces()["Namespaces"])
    services = Counter(s["Name"] for s in discovery.list_services()["Services"])
    counted = {
        "query definitions": names,
        "flow logs": flow_logs,
        "revisions": revisions,
        "cloud map namespaces": namespaces,
        "cloud map services": services,
    }
    for what, counts in {**counted, "access points by tags": access_points}.items():
        extra = sorted(n for n, count in counts.items() if count > 1)
        if extra:
            found[what] = extra
    kms = client("kms")
    aliased = {a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    keys = [kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"]]
    unaliased = [k["KeyId"] for k in keys if k["KeyId"] not in aliased and k["KeyState"] != "PendingDeletion"]
    if unaliased:  # a key is known by its alias: one without is a second one made for it
        found["keys without an alias"] = unaliased
    return found


@pytest.fixture(scope="module", autouse=True)
def _kinds() -> None:
    load_all()


@pytest.mark.parametrize("name", sorted(STACKS))
def test_a_create_whose_response_is_lost_converges_in_one_apply_without_a_duplicate(
    seeded_moto: None, tmp_path: Path, name: str
) -> None:
    stack = STACKS[name]
    spec_file = _write(tmp_path, stack)
    lost = _apply_losing(spec_file, stack.lost)
    assert dict(lost.lost) == dict.fromkeys(stack.lost, 1)
    assert pending(_plan(spec_file, _context())) == []
    assert _made_twice() == {}


def _apply_losing(spec_file: Path, operations: tuple[str, ...]) -> LostResponses:
    ctx = _context()
    lost = LostResponses(operations)
    ctx.events.register_first("before-send.*.*", lost)
    plan = _plan(spec_file, ctx)
    assert plan.values is not None
    assert failures(apply_plan(plan, plan.values, ctx)) == []
    return lost


def test_a_lost_policy_version_leaves_no_extra_version(seeded_moto: None, tmp_path: Path) -> None:
    """CreatePolicyVersion makes a version per call, a repeated one too (an update, not a create)."""
    spec_file = _write(tmp_path, STACKS["iam"])
    _apply_losing(spec_file, ())
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec["iam_policies"]["publish"]["document"]["Statement"][0]["Action"] = "cloudwatch:GetMetricData"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    lost = _apply_losing(spec_file, ("CreatePolicyVersion",))
    assert dict(lost.lost) == {"CreatePolicyVersion": 1}
    assert pending(_plan(spec_file, _context())) == []
    iam = client("iam")
    (policy,) = iam.list_policies(Scope="Local")["Policies"]
    assert len(iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]) == 2


def _create_operations() -> dict[str, set[str]]:
    """Create operation -> the kind modules whose code can call it (the scan the permissions table
    is checked against)."""
    out: dict[str, set[str]] = {}
    for module in sorted({type(reconciler).__module__ for reconciler in KINDS.values()}):
        path = REPO / "src" / (module.replace(".", "/") + ".py")
        for action in _module_operations(path) | DYNAMIC_CALLS.get(module, set()):
            operation = action.split(":", 1)[1]
            if operation.startswith(CREATE_VERBS) and operation not in NOT_CREATES:
                out.setdefault(operation, set()).add(module)
    return out


def test_the_suite_loses_the_response_of_every_create_the_kinds_can_call() -> None:
    creates = _create_operations()
    covered = {operation for stack in STACKS.values() for operation in stack.lost}
    assert {"RegisterTaskDefinition", "CreateMountTarget", "AuthorizeSecurityGroupEgress"} <= set(creates)
    missing = {op: sorted(creates[op]) for op in sorted(set(creates) - covered)}
    assert missing == {}, f"create operations no lost-response stack covers: {missing}"
    assert covered - set(creates) == set(), "covered operations the kinds no longer call"


# Nothing someone else made is adopted ----------------------------------------------------------


OURS_ANOTHER_SPEC = [{"Key": "pacs-reconcile:stack", "Value": STACK}]
"""This stack's owner tag without this spec's fingerprint: made by another spec of the stack."""


def _vpc_id() -> str:
    return str(
        client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["pacs-vpc"]}])["Vpcs"][0][
            "VpcId"
        ]
    )


def _group_id(name: str) -> str:
    filters = [{"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [_vpc_id()]}]
    return str(client("ec2").describe_security_groups(Filters=filters)["SecurityGroups"][0]["GroupId"])


def _their_function() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("index.py", "def handler(event, context):\n    return 'theirs'\n")
    client("lambda").create_function(
        FunctionName="pacs-lost-collector",
        Runtime="python3.12",
        Handler="index.handler",
        Role=client("iam").get_role(RoleName="pacs-ecs-task")["Role"]["Arn"],
        Code={"ZipFile": archive.getvalue()},
        Tags={"pacs-reconcile:stack": "other"},
    )


def _their_mount_target() -> None:
    efs = client("efs")
    (fs,) = efs.describe_file_systems(CreationToken="pacs-lost-data")["FileSystems"]
    subnet = client("ec2").describe_subnets(Filters=[{"Name": "tag:Name", "Values": ["pacs-private-a"]}])
    efs.create_mount_target(
        FileSystemId=fs["FileSystemId"],
        SubnetId=subnet["Subnets"][0]["SubnetId"],
        SecurityGroups=[_group_id("default")],
    )


def _their_ingress_rule() -> None:
    rule = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
    cidr = client("ec2").describe_vpcs(VpcIds=[_vpc_id()])["Vpcs"][0]["CidrBlock"]
    client("ec2").authorize_security_group_ingress(
        GroupId=_group_id("pacs-lost-efs"),
        IpPermissions=[{**rule, "IpRanges": [{"CidrIp": cidr, "Description": "theirs"}]}],
    )


class SomeoneElse:
    """Just before the first attempt of `operation`, someone else makes the same thing."""

    def __init__(self, operation: str, make: Callable[[], Any]) -> None:
        self.operation, self.make, self.done = operation, make, False

    def __call__(self, event_name: str, **_: Any) -> None:
        if event_name.endswith(f".{self.operation}") and not self.done:
            self.done = True
            self.make()


@pytest.mark.parametrize(
    ("name", "kind", "when", "make"),
    [
        (
            "logs",
            "log group /pacs/app",
            None,
            lambda: client("logs").create_log_group(logGroupName="/pacs/app"),
        ),
        (
            "iam",
            "IAM role pacs-collector",
            None,
            lambda: client("iam").create_role(
                RoleName="pacs-collector", AssumeRolePolicyDocument="{}", Tags=OURS_ANOTHER_SPEC
            ),
        ),
        (
            "iam",
            "IAM policy pacs-publish",
            None,
            lambda: client("iam").create_policy(
                PolicyName="pacs-publish",
                PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                '"Action": "s3:ListAllMyBuckets", "Resource": "*"}]}',
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}],
            ),
        ),
        (
            "messages",
            "SSM parameter /pacs-lost/setting",
            None,
            lambda: client("ssm").put_parameter(
                Name="/pacs-lost/setting", Value="theirs", Type="String", Tags=OURS_ANOTHER_SPEC
            ),
        ),
        ("functions", "Lambda function pacs-lost-collector", None, _their_function),
        (
            "messages",
            "SQS queue pacs-lost-undelivered",
            None,
            lambda: client("sqs").create_queue(QueueName="pacs-lost-undelivered", tags={"Team": "dba"}),
        ),
        (
            "alarms",
            "alarm pacs-app-errors",
            None,
            lambda: client("cloudwatch").put_metric_alarm(
                AlarmName="pacs-app-errors",
                MetricName="Theirs",
                Namespace="Other",
                Statistic="Sum",
                Period=60,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanThreshold",
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}],
            ),
        ),
        (
            "alarms",
            "composite alarm pacs-app-degraded",
            None,
            lambda: client("cloudwatch").put_composite_alarm(
                AlarmName="pacs-app-degraded",
                AlarmRule='ALARM("theirs")',
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}],
            ),
        ),
        (
            "alarms",
            "dashboard PACS-Lost",
            None,
            lambda: client("cloudwatch").put_dashboard(
                DashboardName="PACS-Lost", DashboardBody='{"widgets": []}'
            ),
        ),
        (
            "messages",
            "SNS topic pacs-lost-alerts",
            None,
            lambda: client("sns").create_topic(Name="pacs-lost-alerts", Tags=OURS_ANOTHER_SPEC),
        ),
        (
            "functions",
            "EventBridge rule pacs-lost-collector",
            None,
            lambda: client("events").put_rule(
                Name="pacs-lost-collector", ScheduleExpression="rate(1 hour)", Tags=OURS_ANOTHER_SPEC
            ),
        ),
        (
            "functions",
            "permission AllowExecutionFromEventBridge of Lambda function pacs-lost-collector",
            "AddPermission",
            lambda: client("lambda").add_permission(
                FunctionName="pacs-lost-collector",
                StatementId="AllowExecutionFromEventBridge",
                Action="lambda:InvokeFunction",
                Principal="s3.amazonaws.com",
            ),
        ),
        (
            "network",
            "security group pacs-lost-efs",
            None,
            lambda: client("ec2").create_security_group(
                GroupName="pacs-lost-efs",
                Description="theirs",
                VpcId=_vpc_id(),
                TagSpecifications=[{"ResourceType": "security-group", "Tags": OURS_ANOTHER_SPEC}],
            ),
        ),
        ("network", "ingress rule of security group", "AuthorizeSecurityGroupIngress", _their_ingress_rule),
        (
            "network",
            "EFS file system pacs-lost-data",
            None,
            lambda: client("efs").create_file_system(CreationToken="pacs-lost-data", Tags=OURS_ANOTHER_SPEC),
        ),
        (
            "network",
            "EFS mount target of pacs-lost-data in ap-northeast-2a",
            "CreateMountTarget",
            _their_mount_target,
        ),
    ],
)
def test_what_someone_else_made_meanwhile_is_never_adopted(
    seeded_moto: None, tmp_path: Path, name: str, kind: str, when: str | None, make: Callable[[], Any]
) -> None:
    """Made after the plan (or just before the create itself): the create meets it as "already
    exists", and it is not this apply's own first attempt."""
    spec_file = _write(tmp_path, STACKS[name])
    ctx = _context()
    if when is not None:  # (the hook goes in before the plan makes the clients)
        ctx.events.register_first(f"before-send.*.{when}", SomeoneElse(when, make))
    plan = _plan(spec_file, ctx)  # nothing exists yet
    if when is None:
        make()  # then someone else makes one of the same name
    assert plan.values is not None
    problems = failures(apply_plan(plan, plan.values, ctx))
    assert any(kind in p and "not this apply's" in p for p in problems), problems


def test_a_same_content_revision_someone_else_registered_is_never_taken_for_ours(
    seeded_moto: None, tmp_path: Path
) -> None:
    """RegisterTaskDefinition's attempt fails in a way that may have landed (it did not), and
    meanwhile someone else registered the very same content under other tags: the look before the
    retry does not take their revision for the lost one; the retry registers this apply's own."""
    spec_file = _write(tmp_path, STACKS["tasks"])

    def theirs_then_drop(request: Any, event_name: str, **_: Any) -> None:
        if not event_name.endswith(".RegisterTaskDefinition") or theirs:
            return
        body = json.loads(request.body)
        body["tags"] = [{"key": "pacs-reconcile:stack", "value": "other"}]
        theirs.append(client("ecs").register_task_definition(**body)["taskDefinition"]["taskDefinitionArn"])
        raise ConnectionClosedError(endpoint_url=str(request.url))  # ours never got there

    theirs: list[str] = []
    ctx = _context()
    ctx.events.register_first("before-send.ecs.RegisterTaskDefinition", theirs_then_drop)
    plan = _plan(spec_file, ctx)
    assert plan.values is not None
    assert failures(apply_plan(plan, plan.values, ctx)) == []
    ecs = client("ecs")
    latest = ecs.describe_task_definition(taskDefinition="pacs-lost-worker", include=["TAGS"])
    assert latest["taskDefinition"]["taskDefinitionArn"] != theirs[0]
    assert {t["key"]: t["value"] for t in latest["tags"]}["pacs-reconcile:stack"] == STACK


@pytest.mark.parametrize(
    ("caught", "status", "landed"),
    [
        (ConnectionClosedError(endpoint_url="u"), 0, True),  # sent, the answer lost
        (ReadTimeoutError(endpoint_url="u"), 0, True),
        (EndpointConnectionError(endpoint_url="u"), 0, False),  # never reached AWS
        (ConnectTimeoutError(endpoint_url="u"), 0, False),
        (None, 503, True),  # a 5xx may come after AWS acted
        (None, 500, True),
        (None, 400, False),  # AWS refused it (throttling included)
        (None, 200, False),
    ],
)
def test_only_an_attempt_that_may_have_reached_aws_is_looked_for(
    caught: BaseException | None, status: int, landed: bool
) -> None:
    response = None if caught is not None else (type("Http", (), {"status_code": status})(), {})
    assert may_have_landed(caught, response) is landed
