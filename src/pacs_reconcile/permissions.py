"""Least privilege: the IAM policy a spec needs, for plan/drift (read-only) or for apply/destroy.

The actions come from one table, per kind and per phase: `read` (what `read()` calls: every plan
reads every registered kind, since owned resources of a kind no longer declared must be found to
be pruned), `write` (create, update and tags) and `delete`. Plus the engine's own calls: the
owner-tag sweep (tag:GetResources), the account id (sts), the apply lock (three ssm calls on one
parameter path) and drift's alerts (PutMetricData, and Publish with the digest tag on the topic).

A test records every AWS action a whole cycle performs (plan, apply, out-of-band repairs, drift
with metric and notification, destroy) and checks this table against it, and against the calls
each kind's module can make (tests/safety/test_permissions.py).

Resources are "*" where the actions do not support resource-level permissions or the names are
only known after apply; the lock is scoped to its parameter path and iam:PassRole to the services
the spec's kinds pass roles to.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .commands import Session, SpecInputs
from .errors import ExitStatus, UsageError


@dataclass(frozen=True)
class KindActions:
    read: frozenset[str]
    """Called by read(): needed by plan, drift and apply alike."""
    write: frozenset[str] = frozenset()
    """Called by create/update/update_tags (reads they make included)."""
    delete: frozenset[str] = frozenset()
    """Called by delete() (reads it makes included)."""
    passes_role_to: str | None = None
    """The service a role named in the spec is passed to (iam:PassRole, never an API call)."""


def _a(*actions: str) -> frozenset[str]:
    return frozenset(actions)


KIND_ACTIONS: dict[str, KindActions] = {
    # CloudWatch
    "alarms": KindActions(
        read=_a("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
        write=_a(
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        delete=_a("cloudwatch:DeleteAlarms"),
    ),
    "dashboards": KindActions(
        read=_a("cloudwatch:ListDashboards", "cloudwatch:GetDashboard", "cloudwatch:ListTagsForResource"),
        write=_a(
            "cloudwatch:PutDashboard",
            "cloudwatch:GetDashboard",
            "cloudwatch:TagResource",
            "cloudwatch:UntagResource",
        ),
        delete=_a("cloudwatch:DeleteDashboards"),
    ),
    # CloudWatch Logs
    "log_groups": KindActions(
        read=_a("logs:DescribeLogGroups", "logs:ListTagsForResource"),
        write=_a(
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DeleteRetentionPolicy",
            "logs:AssociateKmsKey",
            "logs:DisassociateKmsKey",
            "logs:TagResource",
            "logs:UntagResource",
        ),
        delete=_a("logs:DeleteLogGroup"),
    ),
    "metric_filters": KindActions(
        read=_a("logs:DescribeMetricFilters"),
        write=_a("logs:PutMetricFilter", "logs:DeleteMetricFilter"),
        delete=_a("logs:DeleteMetricFilter"),
    ),
    "query_definitions": KindActions(
        read=_a("logs:DescribeQueryDefinitions"),
        write=_a("logs:PutQueryDefinition", "logs:DeleteQueryDefinition"),
        delete=_a("logs:DeleteQueryDefinition"),
    ),
    # SNS
    "sns_topics": KindActions(
        read=_a("sns:GetTopicAttributes", "sns:ListTagsForResource"),
        write=_a("sns:CreateTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"),
        delete=_a("sns:DeleteTopic"),
    ),
    "subscriptions": KindActions(
        read=_a("sns:ListSubscriptionsByTopic", "sns:GetSubscriptionAttributes"),
        write=_a("sns:Subscribe", "sns:SetSubscriptionAttributes", "sns:GetSubscriptionAttributes"),
        delete=_a("sns:Unsubscribe"),
    ),
    # EC2 security groups
    "security_groups": KindActions(
        read=_a("ec2:DescribeSecurityGroups"),
        write=_a(
            "ec2:CreateSecurityGroup",
            "ec2:DescribeSecurityGroups",
            "ec2:CreateTags",
            "ec2:DeleteTags",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
            "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        ),
        delete=_a("ec2:DeleteSecurityGroup"),
    ),
    # EC2 flow logs
    "ec2_flow_logs": KindActions(
        read=_a("ec2:DescribeFlowLogs"),
        write=_a("ec2:CreateFlowLogs", "ec2:CreateTags", "ec2:DeleteTags"),
        delete=_a("ec2:DeleteFlowLogs"),
        passes_role_to="vpc-flow-logs.amazonaws.com",
    ),
    # ECS
    "task_definitions": KindActions(
        read=_a("ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"),
        write=_a(
            "ecs:RegisterTaskDefinition",
            "ecs:DeregisterTaskDefinition",
            "ecs:ListTaskDefinitions",
            "ecs:TagResource",
            "ecs:UntagResource",
        ),
        delete=_a("ecs:DeregisterTaskDefinition", "ecs:ListTaskDefinitions"),
        passes_role_to="ecs-tasks.amazonaws.com",
    ),
    # EFS
    "efs_file_systems": KindActions(
        read=_a("elasticfilesystem:DescribeFileSystems", "elasticfilesystem:DescribeLifecycleConfiguration"),
        write=_a(
            "elasticfilesystem:CreateFileSystem",
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:UpdateFileSystem",
            "elasticfilesystem:PutLifecycleConfiguration",
            "elasticfilesystem:TagResource",
            "elasticfilesystem:UntagResource",
        ),
        delete=_a(
            "elasticfilesystem:DeleteFileSystem",
            "elasticfilesystem:DescribeMountTargets",
            "elasticfilesystem:DeleteMountTarget",
        ),
    ),
    "mount_targets": KindActions(
        read=_a(
            "elasticfilesystem:DescribeMountTargets",
            "ec2:DescribeNetworkInterfaces",  # every mount target's groups in one call
            "elasticfilesystem:DescribeMountTargetSecurityGroups",  # a mount target not listed there
        ),
        write=_a(
            "elasticfilesystem:CreateMountTarget",
            "elasticfilesystem:DescribeMountTargets",
            "elasticfilesystem:ModifyMountTargetSecurityGroups",
            "elasticfilesystem:DescribeFileSystems",
            "ec2:DescribeSubnets",
        ),
        delete=_a("elasticfilesystem:DeleteMountTarget", "elasticfilesystem:DescribeMountTargets"),
    ),
    # EventBridge
    "event_rules": KindActions(
        read=_a("events:ListRules", "events:ListTagsForResource"),
        write=_a("events:PutRule", "events:TagResource", "events:UntagResource"),
        delete=_a("events:ListTargetsByRule", "events:RemoveTargets", "events:DeleteRule"),
    ),
    "targets": KindActions(
        read=_a("events:ListTargetsByRule"),
        write=_a("events:PutTargets", "events:RemoveTargets"),
        delete=_a("events:RemoveTargets"),
        passes_role_to="events.amazonaws.com",
    ),
    # IAM
    "iam_roles": KindActions(
        read=_a("iam:GetAccountAuthorizationDetails", "iam:GetRole"),
        write=_a(
            "iam:CreateRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole"
        ),
        delete=_a(
            "iam:ListRolePolicies",
            "iam:DeleteRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:DetachRolePolicy",
            "iam:ListInstanceProfilesForRole",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:DeleteRole",
        ),
    ),
    "inline_policies": KindActions(
        read=_a("iam:GetAccountAuthorizationDetails"),
        write=_a("iam:PutRolePolicy"),
        delete=_a("iam:DeleteRolePolicy"),
    ),
    "policy_attachments": KindActions(
        read=_a("iam:GetAccountAuthorizationDetails"),
        write=_a("iam:AttachRolePolicy"),
        delete=_a("iam:DetachRolePolicy"),
    ),
    "iam_policies": KindActions(
        read=_a("iam:GetAccountAuthorizationDetails", "iam:ListPolicyTags"),
        write=_a(
            "iam:CreatePolicy",
            "iam:AttachRolePolicy",
            "iam:ListPolicyVersions",
            "iam:CreatePolicyVersion",
            "iam:DeletePolicyVersion",
            "iam:TagPolicy",
            "iam:UntagPolicy",
        ),
        delete=_a(
            "iam:ListEntitiesForPolicy",
            "iam:ListRoleTags",  # which roles the policy is attached to are this stack's
            "iam:DetachRolePolicy",
            "iam:ListPolicyVersions",
            "iam:DeletePolicyVersion",
            "iam:DeletePolicy",
        ),
    ),
    # Lambda
    "lambda_functions": KindActions(
        read=_a("lambda:GetFunction"),
        write=_a(
            "lambda:CreateFunction",
            "lambda:GetFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:TagResource",
            "lambda:UntagResource",
        ),
        delete=_a("lambda:DeleteFunction"),
        passes_role_to="lambda.amazonaws.com",
    ),
    "permissions": KindActions(
        read=_a("lambda:GetPolicy"), write=_a("lambda:AddPermission"), delete=_a("lambda:RemovePermission")
    ),
    # SQS
    "sqs_queues": KindActions(
        read=_a("sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"),
        write=_a("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
        delete=_a("sqs:DeleteQueue"),
    ),
    # SSM Parameter Store
    "ssm_parameters": KindActions(
        read=_a("ssm:GetParameters", "ssm:DescribeParameters", "ssm:ListTagsForResource"),
        write=_a("ssm:PutParameter", "ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"),
        delete=_a("ssm:DeleteParameter"),
    ),
}

LOOKUP_ACTIONS: dict[str, frozenset[str]] = {
    "vpc": _a("ec2:DescribeVpcs"),
    "subnet": _a("ec2:DescribeSubnets"),
    "subnets": _a("ec2:DescribeSubnets"),
    "rds_instance": _a("rds:DescribeDBInstances"),
    "s3_bucket": _a("s3:ListBucket"),  # what HeadBucket is authorized as
    "load_balancer": _a("elasticloadbalancing:DescribeLoadBalancers"),
    "autoscaling_group": _a("autoscaling:DescribeAutoScalingGroups"),
    "ecs_service": _a("ecs:DescribeServices"),
    "scaling_policy": _a("application-autoscaling:DescribeScalingPolicies"),
    "iam_role": _a("iam:ListRoles", "iam:GetRole"),
    "kms_key": _a("kms:ListAliases", "kms:DescribeKey"),
    "sqs_queue": _a("sqs:GetQueueUrl"),
    "event_bus": _a("events:ListEventBuses", "events:DescribeEventBus"),
    "firehose_stream": _a("firehose:DescribeDeliveryStream"),
    "ec2_instance": _a("ec2:DescribeInstances"),
}

ENGINE_READ = _a("tag:GetResources", "sts:GetCallerIdentity")
"""The owner-tag sweep every kind shares, and the account id (ARNs)."""
LOCK_ACTIONS = _a("ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter")
"""The apply lock (engine/lock.py): one parameter path per stack."""
DRIFT_METRIC = _a("cloudwatch:PutMetricData")
DRIFT_NOTIFY = _a("sns:ListTagsForResource", "sns:Publish", "sns:TagResource")
"""drift --notify-topic: the digest of the last announcement is a tag on the topic."""
DEFAULT_METRIC_NAMESPACE = "PACS/Reconcile"

SERVICE_PREFIXES = {"cloudwatch": "cloudwatch", "resourcegroupstaggingapi": "tag"}
"""botocore service names whose IAM prefix is not their signing name (CloudWatch signs as
`monitoring`, the tagging API as `tagging`)."""
ACTION_NAMES = {("s3", "HeadBucket"): "ListBucket"}
"""API operations authorized under another action name."""


def iam_action(service_name: str, signing_name: str, operation: str) -> str:
    """The IAM action a botocore call is authorized as, e.g. ("cloudwatch", "monitoring",
    "PutMetricAlarm") -> "cloudwatch:PutMetricAlarm"."""
    prefix = SERVICE_PREFIXES.get(service_name, signing_name)
    return f"{prefix}:{ACTION_NAMES.get((service_name, operation), operation)}"


@dataclass(frozen=True)
class Needs:
    """What one spec needs, before it is written as a policy document."""

    read: frozenset[str]
    change: frozenset[str]
    pass_role_to: frozenset[str]


def needs(spec_kinds: Iterable[str], lookup_kinds: Iterable[str], all_kinds: Iterable[str]) -> Needs:
    """Reads of every registered kind (plan looks for owned resources of each), writes of the spec's
    kinds, deletes of every kind (apply prunes what the stack owns and no longer declares)."""
    declared = set(spec_kinds)
    read = set(ENGINE_READ)
    change: set[str] = set()
    passes: set[str] = set()
    for kind in all_kinds:
        actions = KIND_ACTIONS[kind]
        read |= actions.read
        change |= actions.delete
        if kind in declared:
            change |= actions.write
            if actions.passes_role_to:
                passes.add(actions.passes_role_to)
    for lookup in lookup_kinds:
        read |= LOOKUP_ACTIONS[lookup]
    return Needs(frozenset(read), frozenset(change - read), frozenset(passes))


def policy(
    stack: str,
    region: str,
    spec_needs: Needs,
    *,
    read_only: bool,
    metric_namespace: str = DEFAULT_METRIC_NAMESPACE,
    partition: str = "aws",
) -> dict[str, Any]:
    """The IAM policy document (the account is a wildcard: the policy works in any account)."""
    statements: list[dict[str, Any]] = [_statement("Read", spec_needs.read, "*")]
    if read_only:
        statements.append(
            _statement(
                "DriftMetric", DRIFT_METRIC, "*", {"StringEquals": {"cloudwatch:namespace": metric_namespace}}
            )
        )
        statements.append(
            _statement(
                "DriftNotification", DRIFT_NOTIFY - spec_needs.read, f"arn:{partition}:sns:{region}:*:*"
            )
        )
    else:
        statements.append(_statement("Change", spec_needs.change, "*"))
        statements.append(
            _statement(
                "ApplyLock",
                LOCK_ACTIONS,
                f"arn:{partition}:ssm:{region}:*:parameter/pacs-reconcile/{stack}/*",
            )
        )
        if spec_needs.pass_role_to:
            passed_to = {"StringEquals": {"iam:PassedToService": sorted(spec_needs.pass_role_to)}}
            roles = f"arn:{partition}:iam::*:role/*"
            statements.append(_statement("PassRole", _a("iam:PassRole"), roles, passed_to))
    return {"Version": "2012-10-17", "Statement": [s for s in statements if s["Action"]]}


def _statement(
    sid: str, actions: Iterable[str], resource: str, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def policy_actions(document: dict[str, Any]) -> set[str]:
    return {action for statement in document["Statement"] for action in statement["Action"]}


def run(inputs: SpecInputs, session: Session, *, read_only: bool, metric_namespace: str) -> int:
    """`pacs-reconcile permissions`: print the policy for this spec on stdout (offline)."""
    from . import commands
    from .resources.registry import KINDS

    spec = commands.load(inputs, session)
    region = session.options.region or spec.region
    if region is None:  # the policy's ARNs name the region
        raise UsageError("the spec sets no region: name it with --region REGION")
    kinds = {node.kind for node in spec.resources.values()}
    spec_needs = needs(kinds, {lookup.kind for lookup in spec.lookups.values()}, KINDS)
    document = policy(
        spec.stack,
        region,
        spec_needs,
        read_only=read_only,
        metric_namespace=metric_namespace,
        partition="aws-cn" if region.startswith("cn-") else "aws",
    )
    sys.stdout.write(json.dumps(document, indent=2) + "\n")
    sys.stdout.flush()
    what = "plan and drift (read-only)" if read_only else "plan, apply and destroy"
    session.say(
        f"The IAM policy stack {spec.stack} in {region} needs for {what}: "
        f"{len(policy_actions(document))} actions."
    )
    return ExitStatus.OK
