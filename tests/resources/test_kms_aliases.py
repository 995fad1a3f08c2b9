"""A KMS key's further aliases (`aliases`, besides its name): they converge (apply -> empty plan ->
zero writes), a change shows at `aliases` and is made with CreateAlias / DeleteAlias, one deleted
or re-pointed by hand is seen and put back (UpdateAlias from another key of the stack), one that
points at a key not of this stack is refused by plan and never touched, unset they are not managed,
a deleted key takes its further aliases along, and export round-trips them.

"Each alias is associated with only one KMS key at a time, although a KMS key can have multiple
aliases"; UpdateAlias "Associates an existing KMS alias with a different KMS key" (KMS API
reference, UpdateAlias); an alias is not a taggable resource (TagResource takes a key), so which
aliases are the stack's follows from the key they point at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.errors import ReconcileError, SpecError
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.kms import KmsKeys, KmsKeySpec
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.spec.loader import load_spec

from .spec_cycle import actions, applied, converges, exported_plans_nothing, plan_of, repaired_by_hand_change

KEYS: KmsKeys = KINDS["kms_keys"]  # type: ignore[assignment]
NAME = "pacs-logs"
ADDRESS = 'kms_keys["pacs-logs"]'


def spec(*aliases: str, name: str = NAME, others: dict[str, Any] | None = None) -> str:
    keys: dict[str, Any] = {"logs": {"name": name, "aliases": list(aliases)}, **(others or {})}
    return yaml.safe_dump({"version": 1, "stack": "pacs-test", "kms_keys": keys})


def kms(aws: AwsContext) -> Any:
    return aws.client("kms")


def target_of(aws: AwsContext, name: str) -> str | None:
    listed = kms(aws).list_aliases()["Aliases"]
    return next((a.get("TargetKeyId") for a in listed if a["AliasName"] == f"alias/{name}"), None)


def foreign_key(aws: AwsContext) -> str:
    """A key this stack does not own (no owner tag)."""
    return str(kms(aws).create_key(Description="someone else's")["KeyMetadata"]["KeyId"])


def desired(aws: AwsContext, *aliases: str) -> Desired:
    state = KEYS.canonical(KmsKeySpec.model_validate({"name": NAME, "aliases": list(aliases)}).model_dump())
    return Desired("kms_keys.logs", NAME, state, {OWNER_TAG: aws.stack})


def test_further_aliases_converge_and_point_at_the_key(tmp_path: Path, aws: AwsContext) -> None:
    converges(tmp_path, aws, spec("pacs-logs-audit", "pacs/legacy"))
    key = target_of(aws, NAME)
    assert key is not None
    assert target_of(aws, "pacs-logs-audit") == key and target_of(aws, "pacs/legacy") == key
    live = KEYS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    assert live.state["aliases"] == ["pacs-logs-audit", "pacs/legacy"]


def test_a_change_shows_at_aliases_and_is_made_alias_by_alias(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, spec("pacs-logs-audit", "pacs-logs-old"))
    plan = plan_of(tmp_path, aws, spec("pacs-logs-audit", "pacs-logs-new"))
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert change.action == Action.UPDATE
    shown = [(d.path, d.old, d.new) for d in change.differences if not d.path.startswith("tags.")]
    assert shown == [("aliases", ["pacs-logs-audit", "pacs-logs-old"], ["pacs-logs-audit", "pacs-logs-new"])]
    aws.stats.calls.clear()
    assert plan.values is not None
    apply_plan(plan, plan.values, aws)
    writes = aws.stats.mutating()
    assert (
        writes["kms.CreateAlias"] == 1 and writes["kms.DeleteAlias"] == 1 and "kms.UpdateAlias" not in writes
    )
    key = target_of(aws, NAME)
    assert target_of(aws, "pacs-logs-new") == key and target_of(aws, "pacs-logs-old") is None
    assert actions(plan_of(tmp_path, aws, spec("pacs-logs-audit", "pacs-logs-new"))) == {}


def test_an_alias_deleted_by_hand_shows_and_is_made_again(aws: AwsContext) -> None:
    repaired_by_hand_change(
        KEYS,
        aws,
        desired(aws, "pacs-logs-audit"),
        lambda a: kms(a).delete_alias(AliasName="alias/pacs-logs-audit"),
        "aliases",
    )
    assert target_of(aws, "pacs-logs-audit") == target_of(aws, NAME)


def test_an_alias_added_to_the_key_by_hand_is_deleted_when_aliases_are_managed(aws: AwsContext) -> None:
    def add(a: AwsContext) -> None:
        kms(a).create_alias(AliasName="alias/pacs-logs-extra", TargetKeyId=target_of(a, NAME))

    repaired_by_hand_change(KEYS, aws, desired(aws, "pacs-logs-audit"), add, "aliases")
    assert target_of(aws, "pacs-logs-extra") is None


def test_unset_aliases_are_not_managed(tmp_path: Path, aws: AwsContext) -> None:
    """Unset, as before `aliases` existed: an alias someone gave the key is left alone."""
    text = yaml.safe_dump({"version": 1, "stack": "pacs-test", "kms_keys": {"logs": {"name": NAME}}})
    applied(tmp_path, aws, text)
    kms(aws).create_alias(AliasName="alias/pacs-logs-extra", TargetKeyId=target_of(aws, NAME))
    assert actions(plan_of(tmp_path, aws, text)) == {}


def test_an_alias_moved_by_hand_to_another_key_of_the_stack_is_moved_back(
    tmp_path: Path, aws: AwsContext
) -> None:
    """The other key manages no further aliases (unset): only UpdateAlias can take the alias back."""
    other = {"other": {"name": "pacs-other"}}
    applied(tmp_path, aws, spec("pacs-logs-audit", others=other))
    kms(aws).update_alias(AliasName="alias/pacs-logs-audit", TargetKeyId=target_of(aws, "pacs-other"))
    plan = plan_of(tmp_path, aws, spec("pacs-logs-audit", others=other))
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert change.action == Action.UPDATE and "aliases" in [d.path for d in change.differences]
    aws.stats.calls.clear()
    assert plan.values is not None
    apply_plan(plan, plan.values, aws)
    assert target_of(aws, "pacs-logs-audit") == target_of(aws, NAME)
    assert aws.stats.mutating().get("kms.UpdateAlias") == 1
    assert actions(plan_of(tmp_path, aws, spec("pacs-logs-audit", others=other))) == {}


def test_an_alias_declared_on_another_key_of_the_stack_moves_to_it(tmp_path: Path, aws: AwsContext) -> None:
    """Moved in the spec from one key to the other: the one apply moves it, whichever key goes first
    (the key that gives it up deletes it only while it still points at that key)."""
    applied(tmp_path, aws, spec("pacs-shared", others={"other": {"name": "pacs-other", "aliases": []}}))
    moved = spec(others={"other": {"name": "pacs-other", "aliases": ["pacs-shared"]}})
    applied(tmp_path, aws, moved)
    assert target_of(aws, "pacs-shared") == target_of(aws, "pacs-other")
    assert actions(plan_of(tmp_path, aws, moved)) == {}


@pytest.mark.parametrize("exists", [True, False], ids=["key-exists", "key-created"])
def test_an_alias_pointing_at_a_key_not_of_this_stack_is_refused_and_left_alone(
    tmp_path: Path, aws: AwsContext, exists: bool
) -> None:
    if exists:
        applied(tmp_path, aws, spec())
    theirs = foreign_key(aws)
    kms(aws).create_alias(AliasName="alias/pacs-theirs", TargetKeyId=theirs)
    plan = plan_of(tmp_path, aws, spec("pacs-theirs"))
    (change,) = [c for c in plan.changes if c.address == "kms_keys.logs"]
    assert change.action == Action.REFUSED
    assert f"KMS alias alias/pacs-theirs points at key {theirs}, which is not this stack's" in change.reason
    assert "leave it out of aliases" in change.reason
    assert target_of(aws, "pacs-theirs") == theirs


def test_the_key_refuses_at_apply_an_alias_taken_since_the_plan(aws: AwsContext) -> None:
    KEYS.create(aws, desired(aws))
    live = KEYS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    theirs = foreign_key(aws)
    kms(aws).create_alias(AliasName="alias/pacs-theirs", TargetKeyId=theirs)
    want = desired(aws, "pacs-theirs")
    with pytest.raises(ReconcileError, match=r"points at key .*, which is not this stack's"):
        KEYS.update(aws, want, live, diff_states(want.state, live.state))
    assert target_of(aws, "pacs-theirs") == theirs


def test_a_deleted_key_takes_its_further_aliases_along(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, spec("pacs-logs-audit"))
    header = yaml.safe_dump({"version": 1, "stack": "pacs-test"})
    plan = plan_of(tmp_path, aws, header, allow_destroy=(ADDRESS,))
    assert plan.values is not None
    apply_plan(plan, plan.values, aws)
    assert target_of(aws, "pacs-logs-audit") is None and target_of(aws, NAME) is None


def test_export_round_trips_further_aliases(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, spec("pacs-logs-audit"))
    result = export(aws, aws.stack, Selection(kinds=("kms_keys",), prefix="pacs-"))
    (entry,) = result.entries["kms_keys"]
    assert entry.config["aliases"] == ["pacs-logs-audit"]
    exported_plans_nothing(tmp_path, aws, result)


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        (["alias/pacs-x"], "without alias/"),
        (["aws/x"], "reserved"),
        (["pacs x"], "letters, digits"),
        (["pacs-x", "pacs-x"], "'pacs-x' is listed twice"),
        ([NAME], "is the key's name"),
    ],
)
def test_validation(aliases: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KmsKeySpec.model_validate({"name": NAME, "aliases": aliases})


def test_an_alias_two_keys_declare_is_refused_offline(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(spec("pacs-shared", others={"other": {"name": "pacs-other", "aliases": ["pacs-shared"]}}))
    with pytest.raises(SpecError, match=r"KMS key name 'pacs-shared' \(an alias\) is declared twice"):
        load_spec(path)
    path.write_text(spec("pacs-other", others={"other": {"name": "pacs-other"}}))
    with pytest.raises(SpecError, match="KMS key 'pacs-other' is declared twice"):
        load_spec(path)
