"""Least privilege: the IAM policy a spec needs, for plan/drift (read-only) or for apply/destroy.

The actions come from each kind's own declaration (`KindMeta.actions`, `LookupMeta.actions`, next
to the code that calls them), per phase: `read` (what `read()` calls: every plan
reads every registered kind, since owned resources of a kind no longer declared must be found to
be pruned), `write` (create, update and tags) and `delete`. Plus the engine's own calls: the
owner-tag sweep (tag:GetResources), the account id (sts), the apply lock (three ssm calls on one
parameter path) and drift's alerts (PutMetricData, and Publish with the digest tag on the topic).

A test records every AWS action a whole cycle performs (plan, apply, out-of-band repairs, drift
with metric and notification, destroy) and checks these tables against it, and against the calls
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
from .resources.kind import KindActions
from .resources.registry import KINDS, LOOKUPS, load_all


def kind_actions() -> dict[str, KindActions]:
    """Every registered kind's IAM actions, as its module declares them (`KindMeta.actions`)."""
    load_all()
    return {kind: reconciler.meta.actions for kind, reconciler in KINDS.items()}


def lookup_actions() -> dict[str, frozenset[str]]:
    """Every registered lookup's IAM actions (`LookupMeta.actions`)."""
    load_all()
    return {kind: lookup.meta.actions for kind, lookup in LOOKUPS.items()}


ENGINE_READ = frozenset({"tag:GetResources", "sts:GetCallerIdentity"})
"""The owner-tag sweep every kind shares, and the account id (ARNs)."""
LOCK_ACTIONS = frozenset({"ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"})
"""The apply lock (engine/lock.py), and the ownership indexes apply writes
(resources/ownership_index.py): parameters under one path per stack."""
DRIFT_METRIC = frozenset({"cloudwatch:PutMetricData"})
DRIFT_NOTIFY = frozenset({"sns:ListTagsForResource", "sns:Publish", "sns:TagResource"})
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
    kinds, lookups = kind_actions(), lookup_actions()
    read = set(ENGINE_READ)
    change: set[str] = set()
    passes: set[str] = set()
    for kind in all_kinds:
        actions = kinds[kind]
        read |= actions.read
        change |= actions.delete
        if kind in declared:
            change |= actions.write | actions.required_by_aws
            if actions.passes_role_to:
                passes.add(actions.passes_role_to)
    for lookup in lookup_kinds:
        read |= lookups[lookup]
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
            statements.append(_statement("PassRole", frozenset({"iam:PassRole"}), roles, passed_to))
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
