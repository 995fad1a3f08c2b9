"""Retry-safe creates: a create whose response is lost after AWS acted (the connection drops on
the way back; botocore retries the call) must not fail the apply with "already exists" nor leave a
duplicate. On "already exists" the tool reads the resource back and carries on only when it carries
this stack's owner tag and this spec's fingerprint: its own first attempt. Anything else made
meanwhile by someone else is never adopted.

In-process: a before-send hook lets moto carry the first attempt out, then raises a connection
error to the client. Covered so far: CreateLogGroup, CreateRole, CreatePolicy."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError
from moto import mock_aws

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.plan import Plan, make_plan
from pacs_reconcile.spec.loader import load_spec

from .faults import UNROUTABLE
from .helpers import REGION, failures, pending

SPEC = textwrap.dedent(
    """\
    version: 1
    stack: pacs-lost
    log_groups:
      app: {name: /pacs/app, retention_days: 30}
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
    """
)
CREATES = ("CreateLogGroup", "CreateRole", "CreatePolicy")


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


def _plan(folder: Path, ctx: AwsContext) -> Plan:
    ctx.forget_all()
    return make_plan(load_spec(folder / "monitoring.yaml"), ctx)


@pytest.fixture
def stack(tmp_path: Path) -> Path:
    (tmp_path / "monitoring.yaml").write_text(SPEC, encoding="utf-8")
    return tmp_path


def _context() -> AwsContext:
    return AwsContext(AwsSettings(region=REGION, max_attempts=3), stack="pacs-lost")


def test_a_create_whose_response_is_lost_converges_in_one_apply_without_a_duplicate(stack: Path) -> None:
    with mock_aws():
        ctx = _context()
        lost = LostResponses(CREATES)
        ctx._session.events.register_first("before-send.*.*", lost)
        plan = _plan(stack, ctx)
        assert plan.values is not None
        result = apply_plan(plan, plan.values, ctx)
        assert dict(lost.lost) == dict.fromkeys(CREATES, 1)
        assert failures(result) == []
        assert pending(_plan(stack, _context())) == []
        assert len(ctx.client("logs").describe_log_groups()["logGroups"]) == 1
        iam = ctx.client("iam")
        assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["pacs-collector"]
        (policy,) = iam.list_policies(Scope="Local")["Policies"]
        assert len(iam.list_policy_versions(PolicyArn=policy["Arn"])["Versions"]) == 1


@pytest.mark.parametrize(
    ("kind", "make"),
    [
        ("log group /pacs/app", lambda ctx: ctx.client("logs").create_log_group(logGroupName="/pacs/app")),
        (
            "IAM role pacs-collector",
            lambda ctx: ctx.client("iam").create_role(
                RoleName="pacs-collector",
                AssumeRolePolicyDocument="{}",
                Tags=[{"Key": "pacs-reconcile:stack", "Value": "pacs-lost"}],  # ours, another spec
            ),
        ),
        (
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
def test_what_someone_else_made_meanwhile_is_never_adopted(stack: Path, kind: str, make: Any) -> None:
    with mock_aws():
        ctx = _context()
        plan = _plan(stack, ctx)  # nothing exists yet
        make(ctx)  # then someone else makes one of the same name
        assert plan.values is not None
        problems = failures(apply_plan(plan, plan.values, ctx))
        assert any(kind in p and "not this apply's" in p for p in problems), problems
