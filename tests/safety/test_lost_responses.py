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

import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ConnectionClosedError

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.plan import Plan, make_plan
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
        dashboards:
          main:
            name: PACS-Lost
            body:
              widgets:
                - {type: text, x: 0, y: 0, width: 6, height: 2, properties: {markdown: "# PACS"}}
        """,
        ("PutMetricAlarm", "PutDashboard"),
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
        event_rules:
          collector:
            name: pacs-lost-collector
            schedule: rate(5 minutes)
            targets:
              collector: {id: CollectorTarget, arn: "${lambda_functions.collector.arn}"}
        """,
        ("CreateFunction", "AddPermission", "PutRule", "PutTargets"),
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
        """,
        ("RegisterTaskDefinition",),
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
    by resource, task definition revisions and security group rules."""
    found = duplicates()
    definitions = client("logs").describe_query_definitions()["queryDefinitions"]
    names = Counter(d["name"] for d in definitions)
    flow_logs = Counter(f["ResourceId"] for f in client("ec2").describe_flow_logs()["FlowLogs"])
    ecs = client("ecs")
    revisions = Counter(
        arn.rsplit("/", 1)[1].split(":")[0]
        for arn in ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    )
    for what, counts in (("query definitions", names), ("flow logs", flow_logs), ("revisions", revisions)):
        extra = sorted(n for n, count in counts.items() if count > 1)
        if extra:
            found[what] = extra
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
    ctx._session.events.register_first("before-send.*.*", lost)
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


@pytest.mark.parametrize(
    ("name", "kind", "make"),
    [
        (
            "logs",
            "log group /pacs/app",
            lambda ctx: ctx.client("logs").create_log_group(logGroupName="/pacs/app"),
        ),
        (
            "iam",
            "IAM role pacs-collector",
            lambda ctx: ctx.client("iam").create_role(
                RoleName="pacs-collector",
                AssumeRolePolicyDocument="{}",
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "pacs-lost"}],  # ours, another spec
            ),
        ),
        (
            "iam",
            "IAM policy pacs-publish",
            lambda ctx: ctx.client("iam").create_policy(
                PolicyName="pacs-publish",
                PolicyDocument='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
                '"Action": "s3:ListAllMyBuckets", "Resource": "*"}]}',
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "other"}],
            ),
        ),
    ],
)
def test_what_someone_else_made_meanwhile_is_never_adopted(
    seeded_moto: None, tmp_path: Path, name: str, kind: str, make: Any
) -> None:
    spec_file = _write(tmp_path, STACKS[name])
    ctx = _context()
    plan = _plan(spec_file, ctx)  # nothing exists yet
    make(ctx)  # then someone else makes one of the same name
    assert plan.values is not None
    problems = failures(apply_plan(plan, plan.values, ctx))
    assert any(kind in p and "not this apply's" in p for p in problems), problems
