"""Running the engine in-process on the repository's spec (moto in-process), and reading back
what exists, to check a run left no duplicates and nothing untagged."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.apply import ApplyResult, apply_plan
from pacs_reconcile.engine.plan import Plan, PlanOptions, make_plan
from pacs_reconcile.spec.loader import load_spec
from pacs_reconcile.spec.model import Spec

REGION = "ap-northeast-2"
REPO = Path(__file__).resolve().parents[2]
OWNER_TAG = "pacs-reconcile:stack"
KEEP_REVISIONS = 1
"""task_definitions' default keep_revisions (the repository's spec keeps it): the latest ACTIVE
revision plus this many superseded ones is what the kind promises, more is a duplicate."""


def repo_spec(root: Path | None = None, variables: dict[str, str] | None = None) -> Spec:
    return load_spec(
        (root or REPO) / "monitoring.yaml", environment=None, cli_vars=variables or {}, environ={}
    )


def context(spec: Spec, **settings: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=REGION, **settings), stack=spec.stack)


def plan(spec: Spec, ctx: AwsContext | None = None, options: PlanOptions | None = None) -> Plan:
    return make_plan(spec, ctx or context(spec), options)


def apply(
    spec: Spec, ctx: AwsContext | None = None, options: PlanOptions | None = None
) -> tuple[Plan, ApplyResult]:
    ctx = ctx or context(spec)
    the_plan = make_plan(spec, ctx, options)
    assert not the_plan.refused, [(c.address, c.reason) for c in the_plan.refused]
    assert the_plan.values is not None
    return the_plan, apply_plan(the_plan, the_plan.values, ctx)


def pending(the_plan: Plan) -> list[str]:
    return [f"{c.address}: {c.action}" for c in the_plan.changes if c.action.mutates]


def failures(result: ApplyResult) -> list[str]:
    return [f"{o.address}: {o.status}: {o.message}" for o in result.outcomes if str(o.status) != "done"]


def client(service: str, endpoint: str | None = None) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint)


def duplicates(endpoint: str | None = None) -> dict[str, list[str]]:
    """Names that exist more than once where AWS would let a retried create make a second one."""
    found: dict[str, list[str]] = {}

    def twice(what: str, names: list[str]) -> None:
        extra = sorted(n for n, count in Counter(names).items() if count > 1)
        if extra:
            found[what] = extra

    efs = client("efs", endpoint).describe_file_systems()["FileSystems"]
    twice("file systems by creation token", [f["CreationToken"] for f in efs])
    twice("file systems by Name", [f.get("Name", "") for f in efs if f.get("Name")])
    ecs = client("ecs", endpoint)
    for family in ecs.list_task_definition_families(status="ACTIVE")["families"]:
        revisions = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
        if len(revisions) > 1 + KEEP_REVISIONS:
            found.setdefault("active task definition revisions", []).append(f"{family}: {len(revisions)}")
    sns = client("sns", endpoint)
    subscriptions = [
        (s["TopicArn"], s["Protocol"], s["Endpoint"]) for s in sns.list_subscriptions()["Subscriptions"]
    ]
    twice("subscriptions", [" ".join(s) for s in subscriptions])
    lam = client("lambda", endpoint)
    for function in lam.list_functions()["Functions"]:
        try:
            policy = lam.get_policy(FunctionName=function["FunctionName"])["Policy"]
        except lam.exceptions.ResourceNotFoundException:
            continue
        import json

        statements = json.loads(policy)["Statement"]
        twice(
            f"permissions of {function['FunctionName']}",
            [json.dumps({k: v for k, v in s.items() if k != "Sid"}, sort_keys=True) for s in statements],
        )
    iam = client("iam", endpoint)
    for policy in iam.list_policies(Scope="Local")["Policies"]:
        versions = iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]
        if len(versions) > 1:
            found.setdefault("policy versions", []).append(f"{policy['PolicyName']}: {len(versions)}")
    groups = client("ec2", endpoint).describe_security_groups()["SecurityGroups"]
    twice("security groups", [f"{g['VpcId']} {g['GroupName']}" for g in groups])
    targets = client("efs", endpoint)
    for fs in efs:
        zones = [
            t["AvailabilityZoneName"]
            for t in targets.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]
        ]
        twice(f"mount targets of {fs['CreationToken']}", zones)
    return found


def untagged(stack: str, endpoint: str | None = None) -> list[str]:
    """Resources of the stack's names that exist without the stack's owner tag (orphans)."""
    out: list[str] = []
    logs = client("logs", endpoint)
    for group in logs.describe_log_groups()["logGroups"]:
        tags = logs.list_tags_for_resource(resourceArn=group["logGroupArn"].removesuffix(":*"))["tags"]
        if tags.get(OWNER_TAG) != stack:
            out.append(f"log group {group['logGroupName']}")
    cloudwatch = client("cloudwatch", endpoint)
    for alarm in cloudwatch.describe_alarms()["MetricAlarms"]:
        tags = {
            t["Key"]: t["Value"]
            for t in cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        }
        if tags.get(OWNER_TAG) != stack:
            out.append(f"alarm {alarm['AlarmName']}")
    sns = client("sns", endpoint)
    for topic in sns.list_topics()["Topics"]:
        tags = {
            t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=topic["TopicArn"])["Tags"]
        }
        if tags.get(OWNER_TAG) != stack:
            out.append(f"topic {topic['TopicArn']}")
    efs = client("efs", endpoint)
    for fs in efs.describe_file_systems()["FileSystems"]:
        tags = {t["Key"]: t["Value"] for t in fs.get("Tags", [])}
        if tags.get(OWNER_TAG) != stack:
            out.append(f"file system {fs['CreationToken']}")
    ssm = client("ssm", endpoint)
    for parameter in ssm.describe_parameters()["Parameters"]:
        if parameter["Name"].startswith("/pacs-reconcile/"):
            continue  # the apply lock is untagged on purpose
        tags = {
            t["Key"]: t["Value"]
            for t in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=parameter["Name"])[
                "TagList"
            ]
        }
        if tags.get(OWNER_TAG) != stack:
            out.append(f"parameter {parameter['Name']}")
    lam = client("lambda", endpoint)
    for function in lam.list_functions()["Functions"]:
        tags = lam.list_tags(Resource=function["FunctionArn"])["Tags"]
        if tags.get(OWNER_TAG) != stack:
            out.append(f"function {function['FunctionName']}")
    return out
