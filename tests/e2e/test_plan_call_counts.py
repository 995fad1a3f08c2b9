"""The exact AWS calls a plan of the converged repository stack makes, per kind and operation.

Reads are deterministic (the same spec against the same account makes the same calls), so they
are asserted exactly: a new call in any kind's read shows up here and must be justified (or, if it
is a saving, the table is lowered). benchmarks/run.py measures the same plan at 40 ms per call,
with AWS's page sizes; wall times live in BENCHMARKS.md only, never in tests.
"""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import Cli

PLAN_CALLS_BY_KIND = {
    "engine": {
        # The one owner-tag sweep every kind shares: ~30 resources, one page of AWS's 100; moto
        # pages it by tags (about 100 tags, 18 resources here), hence 2.
        "resourcegroupstaggingapi.GetResources": 2,
        "sts.GetCallerIdentity": 1,  # the account id, for ARNs the reads build
    },
    "alarms": {"cloudwatch.DescribeAlarms": 1},
    "dashboards": {
        "ssm.GetParameters": 1,  # the stack's ownership index and version record, in one call
        "cloudwatch.ListTagsForResource": 2,  # each indexed dashboard checked against its own tags
        "cloudwatch.ListDashboards": 1,  # the versions: both unchanged since the apply, no body read
    },
    "log groups, metric filters, queries": {
        "logs.DescribeLogGroups": 1,
        "logs.DescribeMetricFilters": 1,
        "logs.DescribeQueryDefinitions": 1,
    },
    "sns topics and subscriptions": {
        "sns.GetTopicAttributes": 2,
        "sns.ListSubscriptionsByTopic": 2,
        "sns.GetSubscriptionAttributes": 3,  # the confirmed ones
    },
    "efs": {
        "efs.DescribeFileSystems": 1,
        "efs.DescribeLifecycleConfiguration": 2,
        "efs.DescribeMountTargets": 2,
        "ec2.DescribeNetworkInterfaces": 1,
    },
    "security groups": {"ec2.DescribeSecurityGroups": 1},
    "flow logs": {"ec2.DescribeFlowLogs": 1},
    "ecs task definitions": {
        "ecs.ListTaskDefinitions": 1,  # the account's ACTIVE revisions, not one listing a family
        "ecs.DescribeTaskDefinition": 2,  # each family's latest, with its tags
    },
    "ecs services": {"ecs.DescribeServices": 1},  # both services of the cluster, tags included
    "cloud map": {
        "servicediscovery.ListNamespaces": 1,
        "servicediscovery.ListTagsForResource": 1,  # the namespace: Cloud Map's tags are in no list
        "route53.GetHostedZone": 1,  # the namespace's VPC, held by its hosted zone
        "servicediscovery.ListServices": 1,  # the namespace's services, one page
    },
    "iam": {
        "iam.GetAccountAuthorizationDetails": 1,  # roles (trust, tags), policies, attachments
        "iam.ListPolicyTags": 4,  # policy tags are in no list
    },  # roles' descriptions and sessions: from the lookups' ListRoles, no GetRole each
    "lambda": {"lambda.GetFunction": 2, "lambda.GetPolicy": 2},
    "events": {"events.ListRules": 1, "events.ListTargetsByRule": 1, "events.ListTagsForResource": 1},
    "ssm parameters": {"ssm.DescribeParameters": 1, "ssm.GetParameters": 1},
    "lookups": {
        "application-autoscaling.DescribeScalingPolicies": 1,
        "autoscaling.DescribeAutoScalingGroups": 1,
        "ec2.DescribeSubnets": 1,
        "ec2.DescribeVpcs": 1,
        "ecs.DescribeServices": 1,
        "elbv2.DescribeLoadBalancers": 1,
        "iam.ListRoles": 1,  # shared with the iam_roles kind
        "rds.DescribeDBInstances": 1,
        "s3.HeadBucket": 1,
    },
}


def expected_calls() -> Counter[str]:
    total: Counter[str] = Counter()
    for calls in PLAN_CALLS_BY_KIND.values():
        total.update(calls)
    return total


@pytest.mark.usefixtures("converged")
def test_a_plan_of_the_converged_repository_stack_makes_exactly_these_calls(cli: Cli) -> None:
    planned = cli("plan", "--detailed-exitcode")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert Counter(planned.calls) == expected_calls()
    assert planned.mutating_calls == {}


@pytest.mark.usefixtures("converged")
def test_full_scan_reads_every_dashboards_tags_and_finds_the_index_right(cli: Cli) -> None:
    for command in ("plan", "drift"):
        scanned = cli(command, "--full-scan", "--detailed-exitcode" if command == "plan" else "--format=text")
        assert scanned.exit_code == 0, scanned.stdout + scanned.stderr
        assert scanned.calls["cloudwatch.ListDashboards"] == 1
        assert scanned.calls["cloudwatch.GetDashboard"] == 2  # a full scan reads every body
        assert "ownership index" not in scanned.stdout + scanned.stderr  # the apply wrote it right
