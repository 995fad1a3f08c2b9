"""A KMS key is the resource, its alias one of its attributes (as Terraform and CloudFormation see
it): a key whose alias was deleted by hand is found again by its bookkeeping tag
`pacs-reconcile:alias`, the plan shows the alias missing, and apply re-creates it on the same key:
no new key, and no ScheduleKeyDeletion of the old one (whose data would become unreadable when
the window ends). A key made before the tag gets it on its next apply, in place; the alias wins
over the tag; the tag is bookkeeping, never shown among the key's tags or exported.

"Each alias is associated with only one KMS key at a time" and DeleteAlias "Deletes the specified
alias ... Because an alias is not a property of a KMS key, you can delete and change the aliases of
a KMS key without affecting the KMS key" (KMS API reference, UpdateAlias / DeleteAlias)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.drift import Finding, classify
from pacs_reconcile.export import Selection, check, export, render
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.kms import NAME_TAG, KmsKeys
from pacs_reconcile.resources.registry import KINDS

from .spec_cycle import actions, applied, plan_of

KEYS: KmsKeys = KINDS["kms_keys"]  # type: ignore[assignment]
NAME = "pacs-logs"
ALIAS = f"alias/{NAME}"
SPEC = yaml.safe_dump(
    {
        "version": 1,
        "stack": "pacs-test",
        "kms_keys": {"logs": {"name": NAME, "description": "PACS logs", "tags": {"Name": NAME}}},
        "sqs_queues": {"events": {"name": "pacs-events", "kms_master_key_id": "${kms_keys.logs.alias}"}},
    }
)


def kms(aws: AwsContext) -> Any:
    return aws.client("kms")


def target_of(aws: AwsContext, name: str = NAME) -> str | None:
    listed = kms(aws).list_aliases()["Aliases"]
    return next((a.get("TargetKeyId") for a in listed if a["AliasName"] == f"alias/{name}"), None)


def tags_of(aws: AwsContext, key_id: str) -> dict[str, str]:
    return {t["TagKey"]: t["TagValue"] for t in kms(aws).list_resource_tags(KeyId=key_id)["Tags"]}


def owned_key_ids(aws: AwsContext) -> set[str]:
    return {k["KeyId"] for k in kms(aws).list_keys()["Keys"] if tags_of(aws, k["KeyId"]).get(OWNER_TAG)}


def applied_then_alias_deleted(tmp_path: Path, aws: AwsContext) -> str:
    applied(tmp_path, aws, SPEC)
    key_id = target_of(aws)
    assert key_id is not None
    kms(aws).delete_alias(AliasName=ALIAS)
    return key_id


def kept_and_says_why(tmp_path: Path, aws: AwsContext, declared: str, kept: str, why: str) -> None:
    """The plan takes `declared` for the declared key and keeps `kept` (stateful, undeclared);
    named for deletion, `kept` is deleted with a note saying `why` it is not the declared key."""
    plan = plan_of(tmp_path, aws, SPEC)
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert change.live is not None and change.live.handle.key_id == declared
    (undeclared,) = [c for c in plan.changes if c.kind == "kms_keys" and c.address != "kms_keys.logs"]
    assert undeclared.action == Action.RETAINED and kept in undeclared.address
    named = plan_of(tmp_path, aws, SPEC, allow_destroy=(undeclared.address,))
    (deleted,) = [c for c in named.changes if c.address == undeclared.address]
    assert deleted.action == Action.DELETE
    assert any(why in note for note in deleted.notes), deleted.notes


def test_an_alias_deleted_by_hand_is_recreated_on_the_same_key(tmp_path: Path, aws: AwsContext) -> None:
    key_id = applied_then_alias_deleted(tmp_path, aws)
    plan = plan_of(tmp_path, aws, SPEC)
    assert actions(plan) == {"kms_keys.logs": Action.UPDATE}, "not a new key and a deletion of the old"
    # (nor a change to the queue that names the key by its alias: the alias is the same once back)
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert [d.path for d in change.differences] == ["name"]
    assert change.live is not None and change.live.handle.key_id == key_id

    aws.stats.calls.clear()
    assert plan.values is not None
    result = apply_plan(plan, plan.values, aws)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    assert target_of(aws) == key_id, "the alias points at the key it named"
    writes = aws.stats.mutating()
    assert writes.get("kms.CreateAlias") == 1
    assert "kms.ScheduleKeyDeletion" not in writes and "kms.CreateKey" not in writes
    assert kms(aws).describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Enabled"
    assert owned_key_ids(aws) == {key_id}
    assert actions(plan_of(tmp_path, aws, SPEC)) == {}


def test_drift_reports_the_deleted_alias_as_drift_of_the_key(tmp_path: Path, aws: AwsContext) -> None:
    applied_then_alias_deleted(tmp_path, aws)
    report = classify(plan_of(tmp_path, aws, SPEC))
    assert [(i.address, i.finding, i.paths) for i in report.findings] == [
        ("kms_keys.logs", Finding.DRIFTED, ["name"])
    ], "not a missing key and an unmanaged one"


def test_a_key_made_before_the_tag_gets_it_in_place(tmp_path: Path, aws: AwsContext) -> None:
    """A stack applied before the tag existed: its next apply adds it (TagResource), nothing else;
    then the alias deleted by hand is recreated on that key."""
    applied(tmp_path, aws, SPEC)
    key_id = target_of(aws)
    assert key_id is not None
    kms(aws).untag_resource(KeyId=key_id, TagKeys=[NAME_TAG])

    plan = plan_of(tmp_path, aws, SPEC)
    assert actions(plan) == {"kms_keys.logs": Action.UPDATE}
    report = classify(plan)
    assert [(i.address, i.paths) for i in report.findings] == [("kms_keys.logs", ["recorded_alias"])]
    aws.stats.calls.clear()
    assert plan.values is not None
    apply_plan(plan, plan.values, aws)
    assert tags_of(aws, key_id)[NAME_TAG] == NAME
    writes = aws.stats.mutating()
    assert writes == {"kms.TagResource": 1}, writes
    assert actions(plan_of(tmp_path, aws, SPEC)) == {}

    kms(aws).delete_alias(AliasName=ALIAS)
    applied(tmp_path, aws, SPEC)
    assert target_of(aws) == key_id and owned_key_ids(aws) == {key_id}


def test_the_tag_is_bookkeeping_not_a_tag_of_the_key(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, SPEC)
    key_id = target_of(aws)
    assert key_id is not None and tags_of(aws, key_id)[NAME_TAG] == NAME, "tagged on create"
    live = KEYS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    assert live.tags is not None and NAME_TAG not in live.tags
    result = export(aws, aws.stack, Selection(kinds=("kms_keys",), prefix="pacs-"))
    (entry,) = result.entries["kms_keys"]
    assert NAME_TAG not in (entry.config.get("tags") or {}) and "recorded_alias" not in entry.config
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    exported = tmp_path / "exported"
    exported.mkdir()
    planned = actions(plan_of(exported, aws, text))
    assert not any(a.startswith("kms_keys") for a in planned), "no change to the key"


def test_the_alias_wins_over_the_tag(tmp_path: Path, aws: AwsContext) -> None:
    """The alias moved by hand to another key of the stack: that key is the declared one; the key
    the tag names is kept (stateful); named for deletion, the plan says why it is not the declared one."""
    key_id = applied_then_alias_deleted(tmp_path, aws)
    other = kms(aws).create_key(Tags=[{"TagKey": OWNER_TAG, "TagValue": aws.stack}])["KeyMetadata"]["KeyId"]
    kms(aws).create_alias(AliasName=ALIAS, TargetKeyId=other)

    kept_and_says_why(tmp_path, aws, declared=other, kept=key_id, why="points at key " + other)


def test_of_two_keys_claiming_a_name_without_its_alias_the_older_is_the_key(
    tmp_path: Path, aws: AwsContext
) -> None:
    key_id = applied_then_alias_deleted(tmp_path, aws)
    tags = [{"TagKey": OWNER_TAG, "TagValue": aws.stack}, {"TagKey": NAME_TAG, "TagValue": NAME}]
    younger = kms(aws).create_key(Tags=tags)["KeyMetadata"]["KeyId"]

    kept_and_says_why(tmp_path, aws, declared=key_id, kept=younger, why="older key " + key_id)


def test_a_key_pending_deletion_is_not_taken_by_its_tag(tmp_path: Path, aws: AwsContext) -> None:
    """Deleted (its alias first, then its deletion scheduled, as a delete does): being deleted
    already, the declared name gets a new key, as before the tag."""
    key_id = applied_then_alias_deleted(tmp_path, aws)
    kms(aws).schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    planned = actions(plan_of(tmp_path, aws, SPEC))
    assert {a: x for a, x in planned.items() if a.startswith("kms_keys")} == {"kms_keys.logs": Action.CREATE}


def test_a_key_keeping_a_further_alias_is_still_found_by_its_tag(tmp_path: Path, aws: AwsContext) -> None:
    """Only the key's name (its first alias) deleted by hand: the further alias it keeps is not
    taken for the key's identity."""
    config = yaml.safe_load(SPEC)
    config["kms_keys"]["logs"]["aliases"] = ["pacs-logs-legacy"]
    text = yaml.safe_dump(config)
    applied(tmp_path, aws, text)
    key_id = target_of(aws)
    kms(aws).delete_alias(AliasName=ALIAS)
    plan = plan_of(tmp_path, aws, text)
    assert actions(plan) == {"kms_keys.logs": Action.UPDATE}
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert [d.path for d in change.differences] == ["name"]
    applied(tmp_path, aws, text)
    assert target_of(aws) == key_id == target_of(aws, "pacs-logs-legacy")
    assert actions(plan_of(tmp_path, aws, text)) == {}
