"""Point 7, least privilege: `pacs-reconcile permissions [--read-only]` prints the IAM policy a
spec needs for apply/destroy, or for plan and drift. Checked three ways:

- offline and complete: no AWS call; every registered kind and lookup has an entry;
- against the code: each kind module's table equals the AWS operations its source can call
  (an AST scan of method names and paginator names for the services it makes clients of);
- against what the tool does: a whole cycle (plan, apply, every out-of-band change of
  tests/e2e/test_out_of_band.py repaired, drift with metric and notification, destroy of
  everything, stateful kinds named) records every action through botocore events; the policy
  must allow every one (nothing missing), and lists nothing else but the actions named in
  NOT_EXERCISED below, each with the situation that needs it (nothing extra).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.client import BaseClient

from pacs_reconcile import permissions
from pacs_reconcile.resources.kind import TagApi
from pacs_reconcile.resources.registry import KINDS, LOOKUPS, load_all
from source_scan import services_and_names

from .conftest import Cli, Server

REPO = Path(__file__).resolve().parents[2]

_UNLISTED_TAGS = (
    "reading the tags of a declared resource the owner-tag sweep did not list (not owned yet, or the "
    "tagging API lagging)"
)
_UNLISTED_INTERFACE = (
    "reading a mount target's security groups that DescribeNetworkInterfaces did not list (its "
    "interface not made yet, or ec2:DescribeNetworkInterfaces not granted)"
)
_UNDECLARED_KIND = "a kind the repository spec does not declare: read by every plan, pruned by apply"
_UNDECLARED_KINDS_READS = {
    action: f"{_UNDECLARED_KIND} (here nothing of it exists)"
    for action in (
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:ListQueueTags",
        "kms:ListAliases",
        "elasticfilesystem:DescribeAccessPoints",
        "events:DescribeEventBus",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
    )
}
_UNDECLARED_KINDS_DELETES = {
    "sqs:DeleteQueue": f"{_UNDECLARED_KIND} (a queue the stack owns, named)",
    "kms:DeleteAlias": f"{_UNDECLARED_KIND} (a key the stack owns, named)",
    "kms:ScheduleKeyDeletion": f"{_UNDECLARED_KIND} (a key the stack owns, named)",
    "elasticfilesystem:DeleteAccessPoint": f"{_UNDECLARED_KIND} (an access point the stack owns)",
    "events:DeleteEventBus": f"{_UNDECLARED_KIND} (an event bus the stack owns)",
}
NOT_EXERCISED: dict[str, str] = {
    **_UNDECLARED_KINDS_READS,
    **_UNDECLARED_KINDS_DELETES,
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress": "an egress rule's description edited",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress": "an ingress rule's description edited",
    "elasticfilesystem:UpdateFileSystem": "a file system's throughput mode changed",
    "elasticfilesystem:DescribeMountTargetSecurityGroups": _UNLISTED_INTERFACE,
    "iam:GetPolicy": "a CreatePolicyVersion whose response was lost: is its version the default now?",
    "iam:GetPolicyVersion": "the same: the default version's document",
    "iam:ListRoleTags": "deleting a managed policy still attached to roles (only this stack's are detached)",
    "iam:RemoveRoleFromInstanceProfile": "deleting a role someone added to an instance profile",
    "iam:UpdateAssumeRolePolicy": "a role's trust policy changed",
    "servicediscovery:GetService": "a Cloud Map service create retried after its response was lost",
    "logs:AssociateKmsKey": "kms_key_id set on a log group",
    "logs:DisassociateKmsKey": "kms_key_id removed from a log group",
    "logs:DeleteRetentionPolicy": "retention changed to never expire",
    "sns:ListTagsForResource": _UNLISTED_TAGS,
    "sns:SetSubscriptionAttributes": "a subscription's attributes (filter policy, raw delivery) changed",
    "ssm:ListTagsForResource": _UNLISTED_TAGS,
}
"""Actions in the repository spec's apply policy that the cycle does not perform, and the situation
that needs each."""
NOT_EXERCISED_READS: dict[str, str] = {
    **_UNDECLARED_KINDS_READS,
    "ssm:ListTagsForResource": _UNLISTED_TAGS,
    "elasticfilesystem:DescribeMountTargetSecurityGroups": _UNLISTED_INTERFACE,
}
"""The same for the read-only policy."""
DYNAMIC_CALLS = {
    "pacs_reconcile.resources.ec2": {
        f"ec2:{verb}SecurityGroup{what}{direction}"
        for verb, what in (("Authorize", ""), ("Revoke", ""), ("Update", "RuleDescriptions"))
        for direction in ("Ingress", "Egress")
    },
    # access points are listed per file system of efs.describe_file_systems
    "pacs_reconcile.resources.efs_access_points": {"elasticfilesystem:DescribeFileSystems"},
    # composite alarms are read and deleted through cloudwatch.AlarmKind, shared with metric alarms
    "pacs_reconcile.resources.composite_alarms": {
        "cloudwatch:ListTagsForResource",
        "cloudwatch:DeleteAlarms",
    },
    # the dashboards' ownership index, an SSM parameter read through resources/ownership_index.py
    # (its writes are on the apply lock's parameter path: permissions.LOCK_ACTIONS)
    "pacs_reconcile.resources.cloudwatch": {"ssm:GetParameters"},
    # the saved queries' ownership index (the same parameter read), and the listing shared with the
    # query_definitions kind (logs.describe_query_definitions)
    "pacs_reconcile.resources.saved_queries": {"ssm:GetParameters", "logs:DescribeQueryDefinitions"},
    # a file system's key named by its alias is resolved through kms.alias_target (the run's
    # ListAliases, shared with the kms_keys kind)
    "pacs_reconcile.resources.efs": {"kms:ListAliases"},
    # the query_definitions kind reads the saved queries' index (saved_query_index) before pruning
    "pacs_reconcile.resources.logs": {"ssm:GetParameters"},
}
"""Operations a module calls through getattr(client, f"..._{direction}") (ec2._sync_rules), or
through a helper of another module. What a kind's TagApi names is counted as called by that kind's
module (the generic update_tags calls it)."""
NOT_CALLS = {
    "pacs_reconcile.resources.lookups": {"autoscaling:DescribeLoadBalancers"},
    # list_tags_for_resource is called on servicediscovery's client, not route53's
    "pacs_reconcile.resources.servicediscovery": {"route53:ListTagsForResource"},
}
"""Names the scan matches for the wrong client (describe_load_balancers is called on elbv2's)."""


class Recorder:
    """Every AWS action (IAM name) the contexts it is attached to call."""

    def __init__(self) -> None:
        self.actions: set[str] = set()

    def attach(self, events: Any) -> None:
        events.register("before-call.*.*", self.on_call)

    def on_call(self, model: Any, **_: Any) -> None:
        service = model.service_model
        self.actions.add(permissions.iam_action(service.service_name, service.signing_name, model.name))


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []

    def refuse(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        calls.append(operation_name)
        raise AssertionError(f"permissions made an AWS call: {operation_name}")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    yield calls


def _policy(cli: Cli, *args: str) -> dict[str, Any]:
    printed = cli("permissions", "-f", str(cli.spec_dir / "monitoring.yaml"), *args)
    assert printed.exit_code == 0, printed.stderr
    return dict(json.loads(printed.stdout))


# Offline and complete ---------------------------------------------------------------------------


def test_every_kind_and_lookup_has_its_actions() -> None:
    load_all()
    assert set(permissions.kind_actions()) == set(KINDS)
    assert set(permissions.lookup_actions()) == set(LOOKUPS)
    for kind, actions in permissions.kind_actions().items():
        assert actions.read, f"{kind}: KindMeta.actions.read is empty (what does read() call?)"
        assert actions.delete or KINDS[kind].meta.parent, f"{kind}: KindMeta.actions.delete is empty"
        for action in actions.all():
            assert action.count(":") == 1 and action.split(":")[1][0].isupper(), (kind, action)
    for lookup, lookup_actions in permissions.lookup_actions().items():
        assert lookup_actions, f"lookup {lookup}: LookupMeta.actions is empty"


def test_what_aws_checks_on_the_caller_is_granted_with_the_writes() -> None:
    """Cloud Map makes a namespace's Route 53 hosted zone with the caller's permissions: an apply
    policy without them fails at CreatePrivateDnsNamespace on AWS (never on the emulator)."""
    load_all()
    needs = permissions.needs(["service_discovery_namespaces"], [], KINDS)
    granted = needs.read | needs.change
    assert {"route53:CreateHostedZone", "route53:ListHostedZonesByName", "ec2:DescribeRegions"} <= granted
    assert KINDS["service_discovery_namespaces"].meta.actions.required_by_aws <= granted
    assert "route53:CreateHostedZone" not in permissions.needs([], [], KINDS).change, "only when declared"


def test_the_policy_is_printed_offline_and_scoped(cli: Cli, no_aws: list[str]) -> None:
    apply_policy = _policy(cli)
    read_only = _policy(cli, "--read-only")
    assert no_aws == []
    sids = {s["Sid"]: s for s in apply_policy["Statement"]}
    assert set(sids) == {"Read", "Change", "ApplyLock", "PassRole"}
    assert (
        sids["ApplyLock"]["Resource"]
        == "arn:aws:ssm:ap-northeast-2:*:parameter/pacs-reconcile/pacs-monitoring/*"
    )
    assert sids["PassRole"]["Condition"]["StringEquals"]["iam:PassedToService"] == [
        "ecs-tasks.amazonaws.com",
        "events.amazonaws.com",
        "lambda.amazonaws.com",
        "vpc-flow-logs.amazonaws.com",
    ]
    only_read = {s["Sid"]: s for s in read_only["Statement"]}
    assert set(only_read) == {"Read", "DriftMetric", "DriftNotification"}
    assert only_read["DriftMetric"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "PACS/Reconcile"}
    }
    from pacs_reconcile.aws import is_mutating

    writes = {a for a in only_read["Read"]["Action"] if is_mutating(a.split(":")[1])}
    assert writes == set(), writes
    assert only_read["Read"] == sids["Read"]


# Against the code --------------------------------------------------------------------------------


def _module_operations(path: Path) -> set[str]:
    """IAM actions for every operation name the module's source mentions, for the services it makes
    clients of (attribute calls like .put_metric_alarm and paginator names like "describe_alarms")."""
    services, names = services_and_names([path])
    session = botocore.session.get_session()
    found: set[str] = set()
    for service in services:
        model = session.get_service_model(service)
        operations = {xform_name(o): o for o in model.operation_names}
        found |= {
            permissions.iam_action(service, model.signing_name, operations[n])
            for n in names & set(operations)
        }
    return found


def _tag_api_actions(api: TagApi | None) -> set[str]:
    """What the generic update_tags calls for a kind (its TagApi names the operations)."""
    if api is None:
        return set()
    model = botocore.session.get_session().get_service_model(api.service)
    operations = {xform_name(o): o for o in model.operation_names}
    return {
        permissions.iam_action(api.service, model.signing_name, operations[name])
        for name in (api.tag_operation, api.untag_operation)
    }


def test_each_kind_modules_table_is_what_its_code_can_call() -> None:
    modules: dict[str, set[str]] = {}
    tagging: dict[str, set[str]] = {}
    load_all()
    for reconciler in KINDS.values():
        module = type(reconciler).__module__
        modules.setdefault(module, set()).update(reconciler.meta.actions.all())
        tagging.setdefault(module, set()).update(_tag_api_actions(reconciler.meta.tag_api))
    for lookup in LOOKUPS.values():
        modules.setdefault(type(lookup).__module__, set()).update(lookup.meta.actions)
    for module, table in sorted(modules.items()):
        path = REPO / "src" / (module.replace(".", "/") + ".py")
        code = _module_operations(path) | DYNAMIC_CALLS.get(module, set()) | tagging.get(module, set())
        code -= NOT_CALLS.get(module, set())
        assert table - code == set(), f"{module}: in the table, never called: {sorted(table - code)}"
        assert code - table == set(), f"{module}: called, missing from the table: {sorted(code - table)}"


# Against what the tool does ----------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def _protected_addresses(spec_dir: Path) -> list[str]:
    """Declared addresses destroy keeps unless named: stateful kinds and prevent_destroy."""
    from pacs_reconcile.spec.loader import load_spec

    spec = load_spec(spec_dir / "monitoring.yaml", environment=None, cli_vars={}, environ={})
    return sorted(
        a for a, n in spec.resources.items() if KINDS[n.kind].meta.stateful or n.lifecycle.prevent_destroy
    )


def test_the_policy_covers_exactly_what_a_whole_cycle_does(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e2e.test_out_of_band import CASES

    from .faults import inject_into_every_context

    reads, alerts, changes = Recorder(), Recorder(), Recorder()

    def run(recorder: Recorder, *args: str) -> Any:
        with monkeypatch.context() as patch:
            inject_into_every_context(patch, recorder)  # type: ignore[arg-type]
            return cli(*args)

    # an unowned log group of a declared name, adopted: its tags are read apart from the sweep
    server.client("logs").create_log_group(logGroupName="/aws/ecs/keycloak", tags={"Team": "identity"})
    _edit(
        cli.spec_dir / "specs" / "logs.yaml",
        "    name: /aws/ecs/keycloak${var.name_suffix}\n",
        "    name: /aws/ecs/keycloak${var.name_suffix}\n    lifecycle: {adopt: true}\n",
    )
    assert run(reads, "plan").exit_code == 0
    assert run(changes, "apply", "--auto-approve").exit_code == 0
    assert run(reads, "plan", "--detailed-exitcode").exit_code == 0

    for mutate, _, _ in CASES.values():  # every kind changed by hand...
        mutate(server)
    # ...and in the spec: a default tag renamed (a tag set and one removed on every taggable
    # resource) and the collector's code edited
    _edit(
        cli.spec_dir / "monitoring.yaml",
        "    Project: ${var.project_name}\n",
        "    Team: ${var.project_name}\n",
    )
    with (cli.spec_dir / "functions" / "metrics_collector" / "index.py").open("a") as code:
        code.write("\n# edited\n")
    assert run(reads, "drift").exit_code == 2
    assert run(alerts, "drift", "--publish-metric", "--notify-topic", "sns_topics.alerts").exit_code == 2
    repaired = run(changes, "apply", "--auto-approve")
    assert repaired.exit_code == 0, repaired.stdout
    assert run(reads, "plan", "--detailed-exitcode").exit_code == 0
    named = [arg for address in _protected_addresses(cli.spec_dir) for arg in ("--allow-destroy", address)]
    destroyed = run(changes, "destroy", "--auto-approve", *named)
    assert destroyed.exit_code == 0, destroyed.stdout + destroyed.stderr
    assert server.client("logs").describe_log_groups()["logGroups"] == []
    assert server.client("efs").describe_file_systems()["FileSystems"] == []

    apply_policy = permissions.policy_actions(_policy(cli))
    read_only = permissions.policy_actions(_policy(cli, "--read-only"))
    missing = (changes.actions | reads.actions) - apply_policy
    assert missing == set(), f"done but not allowed by `permissions`: {sorted(missing)}"
    missing = (reads.actions | alerts.actions) - read_only
    assert missing == set(), (
        f"done by plan/drift but not allowed by `permissions --read-only`: {sorted(missing)}"
    )
    required_by_aws = {a for reconciler in KINDS.values() for a in reconciler.meta.actions.required_by_aws}
    assert required_by_aws <= apply_policy
    extra = apply_policy - changes.actions - reads.actions - {"iam:PassRole"} - required_by_aws
    extra_reads = read_only - reads.actions - alerts.actions
    done = changes.actions | reads.actions | alerts.actions
    print(
        f"\napply policy: {len(apply_policy)} actions, read-only: {len(read_only)}; the cycle did {len(done)}"
    )
    print("not exercised (apply):", sorted(extra))
    print("not exercised (read-only):", sorted(extra_reads))
    assert extra == set(NOT_EXERCISED), sorted(extra ^ set(NOT_EXERCISED))
    assert extra_reads == set(NOT_EXERCISED_READS), sorted(extra_reads ^ set(NOT_EXERCISED_READS))
