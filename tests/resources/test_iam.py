"""IAM kinds against moto: roles, inline policies, attachments and managed policies through the
create -> read -> empty diff -> out-of-band change -> exact path -> repair -> delete cycle, the
canonical policy form (AWS-NOTES item 2), the five-version limit, ownership and validation."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import AwsError
from pacs_reconcile.resources._retry import RetryWindow
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.resources.iam import (
    InlinePolicies,
    ManagedPolicies,
    PolicyAttachments,
    Roles,
    forget_account_iam,
)
from pacs_reconcile.resources.registry import KINDS

from .aws_faults import answer, fail

ROLE = "pacs-lambda-custom-metrics"
POLICY = "pacs-lambda-custom-metrics"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def allow(*actions: str, resource: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}],
    }


# Helpers ---------------------------------------------------------------------------------------


def desired_of(
    kind: Reconciler, spec: dict[str, Any], *, parent: Live | None = None, tags: dict[str, str] | None = None
) -> Desired:
    """What the engine hands to create/update: the validated, dumped, canonical spec."""
    state = kind.canonical(kind.meta.model.model_validate(spec).model_dump(mode="json"))
    key = kind.key(state, parent.key if parent else None)
    return Desired(f"{kind.meta.kind}.test", key, state, tags or {}, parent)


def delta_of(kind: Reconciler, desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, kind.canonical(live.state))


def read(
    kind: Reconciler, aws: AwsContext, keys: list[Any], parents: dict[Any, Live] | None = None
) -> dict[Any, Live]:
    """A fresh read, as a new run would do it (the account sweep is taken again)."""
    forget_account_iam(aws)
    return kind.read(aws, keys, ReadScope(aws.stack, parents or {}))


def read_one(kind: Reconciler, aws: AwsContext, key: Any, parents: dict[Any, Live] | None = None) -> Live:
    found = read(kind, aws, [key], parents)
    assert key in found, f"{key!r} not read back; got {sorted(map(str, found))}"
    return found[key]


def owner(aws: AwsContext, **extra: str) -> dict[str, str]:
    return {OWNER_TAG: aws.stack, **extra}


def make_role(aws: AwsContext, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(
        Roles(), {"name": ROLE, "assume_role_policy": TRUST, **spec}, tags=owner(aws, Name=ROLE)
    )
    return desired, Roles().create(aws, desired)


def make_policy(aws: AwsContext, document: dict[str, Any] | None = None, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(
        ManagedPolicies(),
        {"name": POLICY, "document": document or allow("s3:ListBucket"), **spec},
        tags=owner(aws),
    )
    return desired, ManagedPolicies().create(aws, desired)


def iam(aws: AwsContext) -> Any:
    return aws.client("iam")


# Registry ----------------------------------------------------------------------------------------


def test_kinds_are_registered_with_their_metadata() -> None:
    assert isinstance(KINDS["iam_roles"], Roles)
    assert isinstance(KINDS["iam_policies"], ManagedPolicies)
    assert KINDS["inline_policies"].meta.parent == "iam_roles"
    assert KINDS["policy_attachments"].meta.parent == "iam_roles"
    assert KINDS["policy_attachments"].meta.identity == "policy"
    assert {"arn", "name"} <= set(KINDS["iam_roles"].meta.attributes)
    assert {"arn", "name"} <= set(KINDS["iam_policies"].meta.attributes)
    assert Roles.meta.force_new == {"name", "path"}
    assert ManagedPolicies.meta.force_new == {"name", "path", "description"}
    assert not KINDS["inline_policies"].meta.taggable and not KINDS["policy_attachments"].meta.taggable


# Roles -------------------------------------------------------------------------------------------


def test_role_cycle_create_read_drift_repair_delete(aws: AwsContext) -> None:
    desired, created = make_role(aws, description="Runs the collector", max_session_duration=7200)
    assert created.attrs["arn"] == f"arn:aws:iam::123456789012:role/{ROLE}"

    live = read_one(Roles(), aws, ROLE)
    assert not delta_of(Roles(), desired, live), "an unchanged role must diff empty"
    assert live.tags == owner(aws, Name=ROLE)

    # (moto resets a setting UpdateRole is not given; IAM keeps it: send both, as IAM would keep them)
    iam(aws).update_role(RoleName=ROLE, Description="changed by hand", MaxSessionDuration=7200)
    drifted = read_one(Roles(), aws, ROLE)
    delta = delta_of(Roles(), desired, drifted)
    assert delta.paths() == ["description"]

    Roles().update(aws, desired, drifted, delta)
    assert not delta_of(Roles(), desired, read_one(Roles(), aws, ROLE))

    Roles().delete(aws, live)
    assert read(Roles(), aws, [ROLE]) == {}


def test_role_trust_policy_and_max_session_are_updated_in_place(aws: AwsContext) -> None:
    desired, _ = make_role(aws)
    iam(aws).update_assume_role_policy(
        RoleName=ROLE,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam(aws).update_role(RoleName=ROLE, MaxSessionDuration=10800)
    drifted = read_one(Roles(), aws, ROLE)
    delta = delta_of(Roles(), desired, drifted)
    assert sorted(delta.paths()) == ["assume_role_policy.Statement", "max_session_duration"]

    Roles().update(aws, desired, drifted, delta)
    assert not delta_of(Roles(), desired, read_one(Roles(), aws, ROLE))


def test_role_update_sends_only_what_differs(aws: AwsContext) -> None:
    """A description ignored by lifecycle.ignore_changes must not be overwritten by a session change."""
    desired, _ = make_role(aws, description="from the spec")
    iam(aws).update_role(RoleName=ROLE, Description="kept by ignore_changes", MaxSessionDuration=7200)
    drifted = read_one(Roles(), aws, ROLE)
    delta = delta_of(Roles(), desired, drifted).without(["description"])
    Roles().update(aws, desired, drifted, delta)
    role = iam(aws).get_role(RoleName=ROLE)["Role"]
    assert (role["Description"], role["MaxSessionDuration"]) == ("kept by ignore_changes", 3600)


def test_role_tags_drift_and_repair(aws: AwsContext) -> None:
    _, _ = make_role(aws)
    iam(aws).tag_role(RoleName=ROLE, Tags=[{"Key": "Owner", "Value": "bob"}])
    iam(aws).untag_role(RoleName=ROLE, TagKeys=["Name"])
    live = read_one(Roles(), aws, ROLE)
    changes = compare_tags(live.tags, owner(aws, Name=ROLE))
    assert changes.to_set == {"Name": ROLE} and changes.to_unset == ["Owner"]

    Roles().update_tags(aws, live, changes)
    assert read_one(Roles(), aws, ROLE).tags == owner(aws, Name=ROLE)


def test_owned_roles_are_found_without_being_asked_for_and_others_are_not(aws: AwsContext) -> None:
    make_role(aws)
    iam(aws).create_role(
        RoleName="someone-elses",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Tags=[{"Key": OWNER_TAG, "Value": "another-stack"}],
    )
    iam(aws).create_role(RoleName="untagged", AssumeRolePolicyDocument=json.dumps(TRUST))
    found = read(Roles(), aws, [])
    assert set(found) == {ROLE}
    assert set(read(Roles(), aws, ["untagged"])) == {ROLE, "untagged"}


def test_a_declared_role_the_sweep_does_not_list_yet_is_still_read(aws: AwsContext) -> None:
    from pacs_reconcile.resources.iam import account_iam

    assert account_iam(aws).roles == {}  # the run's sweep, taken before the role exists
    desired, _ = make_role(aws)
    found = Roles().read(aws, [ROLE], ReadScope(aws.stack))  # no forget: the sweep is stale
    assert not delta_of(Roles(), desired, found[ROLE])


def test_roles_are_read_from_the_account_lists_without_a_get_role_each(aws: AwsContext) -> None:
    names = [f"{ROLE}-{i}" for i in range(3)]
    wanted = {}
    for i, name in enumerate(names):
        spec = {"name": name, "assume_role_policy": TRUST, "description": f"role {i}"}
        wanted[name] = desired_of(Roles(), spec, tags=owner(aws, Name=name))
        Roles().create(aws, wanted[name])
    before = Counter(aws.stats.calls)

    found = read(Roles(), aws, names)

    calls = Counter(aws.stats.calls) - before
    assert calls == {"iam.GetAccountAuthorizationDetails": 1, "iam.ListRoles": 1}  # not a GetRole each
    for name in names:
        assert not delta_of(Roles(), wanted[name], found[name]), name
        assert found[name].tags == owner(aws, Name=name)


def test_roles_are_read_one_by_one_when_list_roles_is_denied(aws: AwsContext) -> None:
    desired, _ = make_role(aws, description="Runs the collector")
    fail(iam(aws), "ListRoles", "AccessDenied", "not allowed", status=403)
    before = aws.stats.calls["iam.GetRole"]
    live = read_one(Roles(), aws, ROLE)
    assert aws.stats.calls["iam.GetRole"] - before == 1
    assert not delta_of(Roles(), desired, live)


def test_deleting_a_role_empties_it_first(aws: AwsContext) -> None:
    _, role = make_role(aws)
    _, policy = make_policy(aws)
    iam(aws).attach_role_policy(RoleName=ROLE, PolicyArn=policy.attrs["arn"])
    iam(aws).put_role_policy(
        RoleName=ROLE, PolicyName="inline", PolicyDocument=json.dumps(allow("s3:GetObject"))
    )
    iam(aws).create_instance_profile(InstanceProfileName="profile")
    iam(aws).add_role_to_instance_profile(InstanceProfileName="profile", RoleName=ROLE)

    Roles().delete(aws, role)

    assert read(Roles(), aws, [ROLE]) == {}
    Roles().delete(aws, role)  # already gone: no error


def test_a_failed_read_is_never_absent(aws: AwsContext) -> None:
    fail(iam(aws), "GetAccountAuthorizationDetails", "AccessDenied", "not allowed", status=403)
    with pytest.raises(ClientError, match="AccessDenied"):
        read(Roles(), aws, [ROLE])


# Canonical policy documents (AWS-NOTES item 2) ---------------------------------------------------------

EQUIVALENT_DOCUMENTS = {
    "scalar vs one-element list": (
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]},
    ),
    "a single statement as a mapping": (
        {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}},
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]},
    ),
    "principal star": (
        {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]},
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]},
    ),
    "statement and action order": (
        {
            "Statement": [
                {"Effect": "Allow", "Action": ["b:B", "a:A"], "Resource": "*"},
                {"Effect": "Deny", "Action": "c:C", "Resource": "*"},
            ]
        },
        {
            "Statement": [
                {"Effect": "Deny", "Action": "c:C", "Resource": "*"},
                {"Effect": "Allow", "Action": ["a:A", "b:B"], "Resource": "*"},
            ]
        },
    ),
    "condition values as text": (
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": False}},
                }
            ]
        },
        {
            "Statement": [
                {
                    "Effect": "Deny",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": ["false"]}},
                }
            ]
        },
    ),
}


@pytest.mark.parametrize("case", sorted(EQUIVALENT_DOCUMENTS))
def test_equivalent_documents_compare_equal(case: str) -> None:
    spec, live = EQUIVALENT_DOCUMENTS[case]
    for kind in (Roles(), ManagedPolicies()):
        field = "assume_role_policy" if isinstance(kind, Roles) else "document"
        assert kind.canonical({field: spec}) == kind.canonical({field: live})


def test_a_trust_policy_written_one_way_and_stored_another_diffs_empty(aws: AwsContext) -> None:
    """Created from one form, read back as boto3 returns it (URL-decoded dict), compared to another."""
    written = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole"],
            "Principal": {"Service": ["lambda.amazonaws.com"]},
        },
    }
    iam(aws).create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(written),
        Tags=[{"Key": OWNER_TAG, "Value": aws.stack}],
    )
    desired = desired_of(Roles(), {"name": ROLE, "assume_role_policy": TRUST})
    assert not delta_of(Roles(), desired, read_one(Roles(), aws, ROLE))


def test_different_documents_still_differ() -> None:
    one = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    other = {"Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}
    assert ManagedPolicies().canonical({"document": one}) != ManagedPolicies().canonical({"document": other})


# Inline policies ------------------------------------------------------------------------------------


def test_inline_policy_cycle_and_an_extra_one_made_by_hand(aws: AwsContext) -> None:
    _, role = make_role(aws)
    kind = InlinePolicies()
    desired = desired_of(kind, {"name": "read-archive", "document": allow("s3:GetObject")}, parent=role)
    kind.create(aws, desired)
    parents = {ROLE: role}

    live = read_one(kind, aws, (ROLE, "read-archive"), parents)
    assert not delta_of(kind, desired, live)

    iam(aws).put_role_policy(
        RoleName=ROLE,
        PolicyName="read-archive",
        PolicyDocument=json.dumps(allow("s3:GetObject", "s3:DeleteObject")),
    )
    iam(aws).put_role_policy(RoleName=ROLE, PolicyName="hand-made", PolicyDocument=json.dumps(allow("s3:*")))
    found = read(kind, aws, [(ROLE, "read-archive")], parents)
    assert set(found) == {(ROLE, "read-archive"), (ROLE, "hand-made")}
    delta = delta_of(kind, desired, found[(ROLE, "read-archive")])
    assert delta.paths() == ["document.Statement"]

    kind.update(aws, desired, found[(ROLE, "read-archive")], delta)
    kind.delete(aws, found[(ROLE, "hand-made")])
    found = read(kind, aws, [(ROLE, "read-archive")], parents)
    assert set(found) == {(ROLE, "read-archive")}
    assert not delta_of(kind, desired, found[(ROLE, "read-archive")])


def test_children_of_an_unowned_role_are_read_only_when_asked_for(aws: AwsContext) -> None:
    iam(aws).create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam(aws).put_role_policy(RoleName="other", PolicyName="a", PolicyDocument=json.dumps(allow("s3:*")))
    iam(aws).put_role_policy(RoleName="other", PolicyName="b", PolicyDocument=json.dumps(allow("s3:*")))
    assert set(read(InlinePolicies(), aws, [("other", "a")])) == {("other", "a")}


# Attachments ---------------------------------------------------------------------------------------


def test_attachment_to_a_policy_created_in_the_same_run(aws: AwsContext) -> None:
    _, role = make_role(aws)
    kind = PolicyAttachments()
    account_sweep_before = read(Roles(), aws, [ROLE])  # the run's sweep predates the policy
    assert ROLE in account_sweep_before
    _, policy = make_policy(aws)

    desired = desired_of(kind, {"policy": POLICY}, parent=role)
    assert desired.key == (ROLE, POLICY)
    kind.create(aws, desired)

    attached = iam(aws).list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [policy.attrs["arn"]]
    live = read_one(kind, aws, (ROLE, POLICY), {ROLE: role})
    assert not delta_of(kind, desired, live)


def test_attachment_to_a_policy_made_elsewhere_since_the_sweep(aws: AwsContext) -> None:
    _, role = make_role(aws)
    read(Roles(), aws, [ROLE])
    arn = iam(aws).create_policy(PolicyName="made-meanwhile", PolicyDocument=json.dumps(allow("s3:*")))[
        "Policy"
    ]["Arn"]
    PolicyAttachments().create(
        aws, desired_of(PolicyAttachments(), {"policy": "made-meanwhile"}, parent=role)
    )
    attached = iam(aws).list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [arn]


def test_attaching_a_policy_that_does_not_exist_says_what_to_do(aws: AwsContext) -> None:
    _, role = make_role(aws)
    with pytest.raises(AwsError, match=r"no customer managed policy named 'nope'.*depends_on"):
        PolicyAttachments().create(aws, desired_of(PolicyAttachments(), {"policy": "nope"}, parent=role))


def test_extra_and_removed_attachments_are_seen_and_detached(aws: AwsContext) -> None:
    _, role = make_role(aws)
    _, policy = make_policy(aws)
    extra = iam(aws).create_policy(PolicyName="extra", PolicyDocument=json.dumps(allow("s3:*")))["Policy"][
        "Arn"
    ]
    iam(aws).attach_role_policy(RoleName=ROLE, PolicyArn=extra)
    kind = PolicyAttachments()
    found = read(kind, aws, [(ROLE, POLICY)], {ROLE: role})
    assert set(found) == {(ROLE, "extra")}, "the declared one is missing, the hand-made one is there"

    kind.delete(aws, found[(ROLE, "extra")])
    assert read(kind, aws, [], {ROLE: role}) == {}
    kind.delete(aws, found[(ROLE, "extra")])  # already detached: no error
    assert policy.attrs["arn"].endswith(POLICY)


def test_aws_managed_policies_are_keyed_by_arn(aws: AwsContext) -> None:
    from pacs_reconcile.resources.iam import attachment_name

    aws_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert attachment_name(aws_arn, "AWSLambdaBasicExecutionRole") == aws_arn
    assert attachment_name("arn:aws:iam::123456789012:policy/x/mine", "mine") == "mine"


# Managed policies ----------------------------------------------------------------------------------


def test_policy_cycle_create_read_drift_repair_delete(aws: AwsContext) -> None:
    desired, created = make_policy(aws, description="Only what the collector calls")
    assert created.attrs["arn"] == f"arn:aws:iam::123456789012:policy/{POLICY}"
    live = read_one(ManagedPolicies(), aws, POLICY)
    assert not delta_of(ManagedPolicies(), desired, live)
    assert live.tags == owner(aws)

    iam(aws).create_policy_version(
        PolicyArn=created.attrs["arn"], PolicyDocument=json.dumps(allow("s3:*")), SetAsDefault=True
    )
    drifted = read_one(ManagedPolicies(), aws, POLICY)
    delta = delta_of(ManagedPolicies(), desired, drifted)
    assert delta.paths() == ["document.Statement"]

    ManagedPolicies().update(aws, desired, drifted, delta)
    assert not delta_of(ManagedPolicies(), desired, read_one(ManagedPolicies(), aws, POLICY))

    ManagedPolicies().delete(aws, live)
    assert read(ManagedPolicies(), aws, [POLICY]) == {}


def test_an_update_never_hits_the_five_version_limit(aws: AwsContext) -> None:
    desired, created = make_policy(aws)
    arn = created.attrs["arn"]
    for index in range(4):  # v2..v5: the policy now has the most versions IAM allows
        iam(aws).create_policy_version(
            PolicyArn=arn, PolicyDocument=json.dumps(allow(f"s3:Get{index}")), SetAsDefault=index < 3
        )
    versions = {v["VersionId"]: v for v in iam(aws).list_policy_versions(PolicyArn=arn)["Versions"]}
    assert len(versions) == 5 and versions["v4"]["IsDefaultVersion"]

    drifted = read_one(ManagedPolicies(), aws, POLICY)
    ManagedPolicies().update(aws, desired, drifted, delta_of(ManagedPolicies(), desired, drifted))

    after = {v["VersionId"]: v for v in iam(aws).list_policy_versions(PolicyArn=arn)["Versions"]}
    assert len(after) == 5
    assert "v1" not in after, "the oldest non-default version makes room"
    assert "v4" in after, "the default version in use is never deleted"
    assert not delta_of(ManagedPolicies(), desired, read_one(ManagedPolicies(), aws, POLICY))


def test_deleting_a_policy_removes_its_other_versions_first(aws: AwsContext) -> None:
    _, created = make_policy(aws)
    iam(aws).create_policy_version(PolicyArn=created.attrs["arn"], PolicyDocument=json.dumps(allow("s3:*")))
    ManagedPolicies().delete(aws, created)
    assert read(ManagedPolicies(), aws, [POLICY]) == {}
    ManagedPolicies().delete(aws, created)  # already gone: no error


def test_a_policy_still_attached_elsewhere_is_not_deleted_and_the_error_says_where(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto deletes attached policies; IAM refuses (DeleteConflict). A conflict lasting beyond the
    window (attachments of this apply would be gone by then) names what holds the policy."""
    _, created = make_policy(aws)
    iam(aws).create_role(RoleName="someone-elses", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam(aws).attach_role_policy(RoleName="someone-elses", PolicyArn=created.attrs["arn"])
    calls = fail(
        iam(aws),
        "DeletePolicy",
        "DeleteConflict",
        "Cannot delete a policy attached to entities.",
        times=10,
        status=409,
    )
    sleeps: list[float] = []
    clock = iter(range(100))
    monkeypatch.setattr(
        ManagedPolicies,
        "conflict_window",
        RetryWindow(seconds=2.5, sleep=sleeps.append, clock=lambda: float(next(clock))),
    )

    with pytest.raises(AwsError, match="still attached to role someone-elses"):
        ManagedPolicies().delete(aws, created)
    assert len(calls) > 1 and sleeps, "a conflict is retried for a while before giving up"


def test_a_conflict_that_clears_is_retried_until_the_policy_is_deleted(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, created = make_policy(aws)
    calls = fail(iam(aws), "DeletePolicy", "DeleteConflict", "attached", times=2, status=409)
    monkeypatch.setattr(ManagedPolicies, "conflict_window", RetryWindow(seconds=30, sleep=lambda s: None))
    ManagedPolicies().delete(aws, created)
    assert len(calls) == 3
    assert read(ManagedPolicies(), aws, [POLICY]) == {}


def test_a_replaced_policy_is_attached_again_to_the_stacks_roles(aws: AwsContext) -> None:
    """A description can only change by replacement; the attachment (keyed by the policy's name)
    does not change, so the policy's own delete and create carry the attachment over."""
    _, role = make_role(aws)
    _, old = make_policy(aws, description="old words")
    PolicyAttachments().create(aws, desired_of(PolicyAttachments(), {"policy": POLICY}, parent=role))
    new, _ = make_policy_desired(aws, description="new words")

    ManagedPolicies().replace(aws, new, read_one(ManagedPolicies(), aws, POLICY))

    live = read_one(ManagedPolicies(), aws, POLICY)
    assert live.state["description"] == "new words"
    attached = iam(aws).list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [live.attrs["arn"]]
    assert not delta_of(
        PolicyAttachments(),
        desired_of(PolicyAttachments(), {"policy": POLICY}, parent=role),
        read_one(PolicyAttachments(), aws, (ROLE, POLICY), {ROLE: role}),
    )
    assert old.attrs["arn"] == live.attrs["arn"], "same name and path: same ARN"


def test_a_deleted_policy_made_again_later_is_not_attached_to_its_old_roles(aws: AwsContext) -> None:
    """Only a replacement carries the roles over: a policy deleted outright, then created anew by a
    later apply in the same session, starts with no attachment its spec does not declare."""
    _, role = make_role(aws)
    make_policy(aws)
    PolicyAttachments().create(aws, desired_of(PolicyAttachments(), {"policy": POLICY}, parent=role))

    ManagedPolicies().delete(aws, read_one(ManagedPolicies(), aws, POLICY))
    new, _ = make_policy_desired(aws)
    ManagedPolicies().create(aws, new)

    assert iam(aws).list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []


def test_updates_keep_the_notes_of_the_live_they_were_given(aws: AwsContext) -> None:
    role_desired, _ = make_role(aws, description="from the spec")
    iam(aws).update_role(RoleName=ROLE, Description="changed by hand")
    role = replace(read_one(Roles(), aws, ROLE), notes=("a remark for the plan",))
    updated = Roles().update(aws, role_desired, role, delta_of(Roles(), role_desired, role))
    assert updated == replace(role, state=updated.state)

    make_policy(aws)
    changed, _ = make_policy_desired(aws, document=allow("s3:GetObject"))
    policy = replace(read_one(ManagedPolicies(), aws, POLICY), notes=("a remark for the plan",))
    updated = ManagedPolicies().update(aws, changed, policy, delta_of(ManagedPolicies(), changed, policy))
    assert updated == replace(policy, state=updated.state)


def test_deleting_a_policy_detaches_it_from_owned_roles_only(aws: AwsContext) -> None:
    make_role(aws)
    _, policy = make_policy(aws)
    iam(aws).create_role(RoleName="someone-elses", AssumeRolePolicyDocument=json.dumps(TRUST))
    for name in (ROLE, "someone-elses"):
        iam(aws).attach_role_policy(RoleName=name, PolicyArn=policy.attrs["arn"])
    detached = answer(iam(aws), "DetachRolePolicy", {}, times=0)  # only records the calls

    ManagedPolicies().delete(aws, policy)

    assert [call["body"]["RoleName"] for call in detached] == [ROLE]  # IAM's query-protocol request
    assert read(ManagedPolicies(), aws, [POLICY]) == {}


def make_policy_desired(aws: AwsContext, **spec: Any) -> tuple[Desired, None]:
    desired = desired_of(
        ManagedPolicies(), {"name": POLICY, "document": allow("s3:ListBucket"), **spec}, tags=owner(aws)
    )
    return desired, None


def test_policy_ownership_and_tags(aws: AwsContext) -> None:
    _, created = make_policy(aws)
    iam(aws).create_policy(
        PolicyName="foreign",
        PolicyDocument=json.dumps(allow("s3:*")),
        Tags=[{"Key": OWNER_TAG, "Value": "another-stack"}],
    )
    assert set(read(ManagedPolicies(), aws, [])) == {POLICY}

    iam(aws).tag_policy(PolicyArn=created.attrs["arn"], Tags=[{"Key": "Owner", "Value": "bob"}])
    live = read_one(ManagedPolicies(), aws, POLICY)
    changes = compare_tags(live.tags, owner(aws))
    assert changes.to_unset == ["Owner"]
    ManagedPolicies().update_tags(aws, live, changes)
    assert read_one(ManagedPolicies(), aws, POLICY).tags == owner(aws)


# Validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "spec", "message"),
    [
        (Roles, {"name": "bad name", "assume_role_policy": TRUST}, "role names are 1-64"),
        (
            Roles,
            {"name": "r", "path": "service-role", "assume_role_policy": TRUST},
            "starts and ends with '/'",
        ),
        (Roles, {"name": "r", "assume_role_policy": {"Version": "2012-10-17"}}, "needs a 'Statement'"),
        (Roles, {"name": "r", "assume_role_policy": {"Statement": [{"Effect": "allow"}]}}, "Allow or Deny"),
        (
            Roles,
            {"name": "r", "assume_role_policy": TRUST, "max_session_duration": 60},
            "greater than or equal",
        ),
        (ManagedPolicies, {"name": "p", "document": allow("s3:" + "x" * 7000)}, "IAM allows at most 6144"),
        (PolicyAttachments, {"policy": "arn:aws:iam::123456789012:policy/mine"}, "by name ('mine')"),
        (PolicyAttachments, {"policy": "arn:aws:s3:::bucket"}, "AWS managed policy"),
    ],
)
def test_spec_validation(model: type[Reconciler], spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        model.meta.model.model_validate(spec)


def test_references_are_left_for_plan_time() -> None:
    document = {
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "${lookups.storage.arn}"}]
    }
    assert ManagedPolicies.meta.model.model_validate({"name": "p", "document": document})
    aws_managed = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    assert PolicyAttachments.meta.model.model_validate({"policy": aws_managed})
