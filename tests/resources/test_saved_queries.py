"""Saved Logs Insights queries that name no log group (PutQueryDefinition leaves logGroupNames out:
the query picks its log groups when run, CloudWatch Logs API reference, API_PutQueryDefinition.html).

They cannot be tagged (TagResource: "the only CloudWatch Logs resources that can be tagged are log
groups and destinations"), so the stack's ownership index (/pacs-reconcile/<stack>/saved-queries)
is the only proof that one is ours: these tests hold the kind to it. Nothing the index does not
hold is ever changed or deleted; without the index, plan creates and says so.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from pacs_reconcile import api
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions
from pacs_reconcile.errors import ReconcileError, SpecError
from pacs_reconcile.export import Selection, export, render
from pacs_reconcile.permissions import LOCK_ACTIONS, needs, policy, policy_actions
from pacs_reconcile.resources import ownership_index
from pacs_reconcile.resources.registry import KINDS, load_all
from pacs_reconcile.resources.saved_query_index import RECORD, StoredIndex, decode

REGION = "ap-northeast-2"
STACK = "saved-queries-test"
ERRORS = "fields @timestamp, @message | filter @message like /ERROR/"
SLOW = "fields @duration | filter @duration > 1000"
ADDRESS = "saved_queries.errors"

SPEC = {
    "version": 1,
    "stack": STACK,
    "region": REGION,
    "variables": {"suffix": {"default": ""}},
    "environments": {"prod": {"stack": f"{STACK}-prod", "variables": {"suffix": "-prod"}}},
    "saved_queries": {
        "errors": {"name": "PACS/Errors${var.suffix}", "query": ERRORS},
        "slow": {"name": "PACS/Slow${var.suffix}", "query": SLOW},
    },
}


def write_spec(path: Path, spec: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    return write_spec(tmp_path / "monitoring.yaml", SPEC)


def without(entry: str) -> dict[str, Any]:
    spec = json.loads(json.dumps(SPEC))
    del spec["saved_queries"][entry]
    return spec


def run_context() -> AwsContext:
    """A fresh context: one CLI run (its own memo of reads and its own call counts)."""
    return AwsContext(AwsSettings(region=REGION, max_attempts=2, retry_mode="standard"), stack=STACK)


def plan(spec_file: Path, env: str | None = None) -> tuple[Plan, Counter[str]]:
    ctx = run_context()
    the_plan = api.plan(api.load(spec_file, environment=env), PlanOptions(), aws=ctx)
    return the_plan, Counter(ctx.stats.calls)


def apply(spec_file: Path, env: str | None = None) -> Counter[str]:
    """The mutating calls of one apply, and as "index writes" its PutParameter calls on the index
    (the others are the apply lock's)."""
    ctx = run_context()
    written: list[str] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        if params["Name"].endswith(f"/{RECORD}"):
            written.append(params["Name"])

    ctx.client("ssm").meta.events.register("provide-client-params.ssm.PutParameter", seen)
    result = api.apply(api.load(spec_file, environment=env), aws=ctx)
    assert result.ok
    return Counter(result.result.mutating_calls) + Counter({"index writes": len(written)})


def actions(the_plan: Plan) -> dict[str, Action]:
    return {c.address: c.action for c in the_plan.changes if c.action is not Action.NOOP}


def definitions() -> list[dict[str, Any]]:
    found = run_context().client("logs").describe_query_definitions()["queryDefinitions"]
    return sorted(found, key=lambda d: (d["name"], d["queryDefinitionId"]))


def by_name(name: str) -> list[dict[str, Any]]:
    return [d for d in definitions() if d["name"] == name]


def index(stack: str = STACK) -> StoredIndex:
    ssm = run_context().client("ssm")
    value = ssm.get_parameter(Name=ownership_index.parameter_name(stack, RECORD))["Parameter"]["Value"]
    found = decode(value)
    assert found is not None
    return found


def store_index(owned: dict[str, str], pending: dict[str, str] | None = None) -> None:
    run_context().client("ssm").put_parameter(
        Name=ownership_index.parameter_name(STACK, RECORD),
        Value=StoredIndex(owned, pending or {}).encode(),
        Type="String",
        Overwrite=True,
    )


def by_hand(name: str, query: str = ERRORS, **extra: Any) -> str:
    response = run_context().client("logs").put_query_definition(name=name, queryString=query, **extra)
    return str(response["queryDefinitionId"])


# Declaring and converging ---------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_query_naming_no_log_group_is_created_and_converges(spec_file: Path) -> None:
    first, _ = plan(spec_file)
    assert actions(first) == {ADDRESS: Action.CREATE, "saved_queries.slow": Action.CREATE}

    applied = apply(spec_file)

    assert applied["logs.PutQueryDefinition"] == 2
    stored = {d["name"]: d for d in definitions()}
    assert set(stored) == {"PACS/Errors", "PACS/Slow"}
    assert not stored["PACS/Errors"].get("logGroupNames")  # names no log group
    assert index().owned == {d["queryDefinitionId"]: d["name"] for d in stored.values()}
    assert index().pending == {}
    again, _ = plan(spec_file)
    assert not again.has_changes and again.housekeeping == {}
    noop = apply(spec_file)
    assert sum(v for k, v in noop.items() if k.startswith("logs.")) == 0
    assert noop["index writes"] == 0


@pytest.mark.usefixtures("aws")
def test_a_changed_query_is_an_update_at_its_path(spec_file: Path, tmp_path: Path) -> None:
    apply(spec_file)
    (before,) = by_name("PACS/Errors")
    changed = json.loads(json.dumps(SPEC))
    changed["saved_queries"]["errors"]["query"] = ERRORS + " | limit 20"
    edited = write_spec(tmp_path / "changed.yaml", changed)

    the_plan, _ = plan(edited)

    (change,) = [c for c in the_plan.changes if c.action is not Action.NOOP]
    assert (change.address, change.action) == (ADDRESS, Action.UPDATE)
    assert [d.path for d in change.differences] == ["query"]
    apply(edited)
    (after,) = by_name("PACS/Errors")
    assert after["queryDefinitionId"] == before["queryDefinitionId"]  # in place
    assert after["queryString"].endswith("| limit 20")
    assert not plan(edited)[0].has_changes


@pytest.mark.usefixtures("aws")
def test_a_recorded_definition_edited_by_hand_is_ours_shows_its_diff_and_is_put_back(spec_file: Path) -> None:
    apply(spec_file)
    (ours,) = by_name("PACS/Errors")
    by_hand(
        "PACS/Errors (edited)",
        "fields @message",
        queryDefinitionId=ours["queryDefinitionId"],
        logGroupNames=["/aws/ecs/somewhere"],
    )

    the_plan, _ = plan(spec_file)

    (change,) = [c for c in the_plan.changes if c.action is not Action.NOOP]
    assert (change.address, change.action) == (ADDRESS, Action.UPDATE)
    assert sorted(d.path for d in change.differences) == ["log_groups", "name", "query"]
    apply(spec_file)
    (restored,) = by_name("PACS/Errors")
    assert restored["queryDefinitionId"] == ours["queryDefinitionId"]
    assert restored["queryString"] == ERRORS and not restored.get("logGroupNames")
    assert not plan(spec_file)[0].has_changes


# Pruning: only what the index proves ours -----------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_query_removed_from_the_spec_is_pruned_and_a_namesake_without_record_is_not(
    spec_file: Path, tmp_path: Path
) -> None:
    apply(spec_file)
    theirs = by_hand("PACS/Slow")  # same name, made by someone else: no record
    smaller = write_spec(tmp_path / "smaller.yaml", without("slow"))

    the_plan, _ = plan(smaller)

    assert actions(the_plan) == {'saved_queries["PACS/Slow"]': Action.DELETE}
    apply(smaller)
    assert [d["queryDefinitionId"] for d in by_name("PACS/Slow")] == [theirs]
    assert set(index().owned.values()) == {"PACS/Errors"}
    assert not plan(smaller)[0].has_changes


@pytest.mark.usefixtures("aws")
def test_a_declared_name_held_only_by_someone_elses_definition_is_created_beside_it(spec_file: Path) -> None:
    theirs = by_hand("PACS/Errors", "fields @message | limit 5")
    apply(spec_file)
    found = by_name("PACS/Errors")
    assert len(found) == 2
    assert (
        next(d for d in found if d["queryDefinitionId"] == theirs)["queryString"]
        == "fields @message | limit 5"
    )
    assert not plan(spec_file)[0].has_changes  # theirs is never ours


@pytest.mark.usefixtures("aws")
def test_two_recorded_definitions_of_one_name_keep_the_newest_and_prune_the_other(spec_file: Path) -> None:
    apply(spec_file)
    (ours,) = by_name("PACS/Errors")
    second = by_hand("PACS/Errors")  # newer
    store_index({**index().owned, second: "PACS/Errors"})

    the_plan, _ = plan(spec_file)

    assert actions(the_plan) == {f'saved_queries["PACS/Errors#{ours["queryDefinitionId"]}"]': Action.DELETE}
    apply(spec_file)
    assert [d["queryDefinitionId"] for d in by_name("PACS/Errors")] == [second]


# Without the index -----------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_without_the_index_plan_creates_says_so_and_prunes_nothing(spec_file: Path, tmp_path: Path) -> None:
    apply(spec_file)
    old = {d["name"]: d["queryDefinitionId"] for d in definitions()}
    run_context().client("ssm").delete_parameter(Name=ownership_index.parameter_name(STACK, RECORD))
    smaller = write_spec(tmp_path / "smaller.yaml", without("slow"))

    the_plan, _ = plan(smaller)

    assert actions(the_plan) == {ADDRESS: Action.CREATE}  # nothing proves PACS/Slow ours: kept
    said = the_plan.housekeeping["saved_queries"]
    assert "no saved-queries ownership index" in said and old["PACS/Errors"] in said
    apply(smaller)
    assert {d["queryDefinitionId"] for d in definitions()} >= set(old.values())  # nothing deleted
    assert len(by_name("PACS/Errors")) == 2
    assert old["PACS/Errors"] not in index().owned
    assert not plan(smaller)[0].has_changes


@pytest.mark.usefixtures("aws")
def test_an_index_entry_whose_definition_is_gone_is_dropped(spec_file: Path) -> None:
    apply(spec_file)
    (ours,) = by_name("PACS/Slow")
    run_context().client("logs").delete_query_definition(queryDefinitionId=ours["queryDefinitionId"])

    the_plan, _ = plan(spec_file)

    assert actions(the_plan) == {"saved_queries.slow": Action.CREATE}
    assert "now gone" in the_plan.housekeeping["saved_queries"]
    apply(spec_file)
    assert ours["queryDefinitionId"] not in index().owned and len(index().owned) == 2


@pytest.mark.usefixtures("aws")
def test_an_index_this_version_did_not_write_proves_nothing(spec_file: Path) -> None:
    apply(spec_file)
    run_context().client("ssm").put_parameter(
        Name=ownership_index.parameter_name(STACK, RECORD), Value="not json", Type="String", Overwrite=True
    )
    the_plan, _ = plan(spec_file)
    assert set(actions(the_plan).values()) == {Action.CREATE}


# Recorded ahead ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_creates_are_recorded_before_the_first_put_query_definition(spec_file: Path) -> None:
    ctx = run_context()
    order: list[str] = []
    ctx.client("ssm").meta.events.register(
        "provide-client-params.ssm.PutParameter",
        lambda params, **_: order.append("index") if params["Name"].endswith(RECORD) else None,
    )
    tokens: list[str] = []

    def put(params: dict[str, Any], **_: Any) -> None:
        order.append("put")
        tokens.append(params["clientToken"])

    ctx.client("logs").meta.events.register("provide-client-params.logs.PutQueryDefinition", put)
    assert api.apply(api.load(spec_file), aws=ctx).ok
    assert order[0] == "index" and order.count("put") == 2
    assert len(set(tokens)) == 2  # a token of its own each (recorded ahead with its name)
    assert index().pending == {}  # and replaced by the ids AWS assigned once they were known


@pytest.mark.usefixtures("aws")
def test_a_create_interrupted_before_its_id_was_recorded_is_repeated_with_its_token(spec_file: Path) -> None:
    token = "0123456789abcdef0123456789abcdef0123"
    store_index({}, {"PACS/Errors": token})  # the index as an apply left it, killed after the put
    made = by_hand("PACS/Errors", "fields @message", clientToken=token)

    the_plan, _ = plan(spec_file)

    assert actions(the_plan)[ADDRESS] is Action.CREATE
    assert "interrupted" in the_plan.housekeeping["saved_queries"]
    apply(spec_file)
    (only,) = by_name("PACS/Errors")  # AWS answered the same token with the first attempt's
    assert only["queryDefinitionId"] == made and only["queryString"] == ERRORS
    assert index().owned[made] == "PACS/Errors" and index().pending == {}
    assert not plan(spec_file)[0].has_changes


# Environments ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_each_environments_stack_keeps_its_own_index(spec_file: Path) -> None:
    apply(spec_file)
    apply(spec_file, env="prod")
    dev, prod = index(), index(f"{STACK}-prod")
    assert set(dev.owned.values()) == {"PACS/Errors", "PACS/Slow"}
    assert set(prod.owned.values()) == {"PACS/Errors-prod", "PACS/Slow-prod"}
    smaller = write_spec(spec_file.parent / "smaller.yaml", without("slow"))

    prod_plan, _ = plan(smaller, env="prod")

    assert actions(prod_plan) == {'saved_queries["PACS/Slow-prod"]': Action.DELETE}  # not dev's
    apply(smaller, env="prod")
    assert index() == dev and len(by_name("PACS/Slow")) == 1
    assert not plan(spec_file)[0].has_changes


# Reads, permissions, export ---------------------------------------------------------------------


@pytest.mark.usefixtures("aws")
def test_a_failed_listing_is_an_error_not_absent(spec_file: Path) -> None:
    apply(spec_file)
    ctx = run_context()

    def deny(**_: Any) -> None:
        raise ctx.client("logs").exceptions.ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeQueryDefinitions"
        )

    ctx.client("logs").meta.events.register("before-call.logs.DescribeQueryDefinitions", deny)
    with pytest.raises(ReconcileError):
        api.plan(api.load(spec_file), PlanOptions(), aws=ctx)


@pytest.mark.usefixtures("aws")
def test_a_stack_without_saved_queries_lists_none(tmp_path: Path) -> None:
    bare = write_spec(tmp_path / "bare.yaml", {k: v for k, v in SPEC.items() if k != "saved_queries"})
    _, calls = plan(bare)
    assert calls["logs.DescribeQueryDefinitions"] == 1  # the query_definitions kind's own: none of ours
    assert calls["ssm.GetParameters"] == 1  # every index of the stack in one read


def test_the_policy_grants_the_index_and_the_calls() -> None:
    load_all()
    document = policy(STACK, REGION, needs({"saved_queries"}, set(), KINDS), read_only=False)
    granted = policy_actions(document)
    assert {
        "logs:PutQueryDefinition",
        "logs:DeleteQueryDefinition",
        "logs:DescribeQueryDefinitions",
    } <= granted
    assert "ssm:GetParameters" in granted and granted >= LOCK_ACTIONS
    (lock,) = [s for s in document["Statement"] if s["Sid"] == "ApplyLock"]
    index_arn = f"arn:aws:ssm:{REGION}:123456789012:parameter{ownership_index.parameter_name(STACK, RECORD)}"
    assert index_arn.startswith(lock["Resource"].removesuffix("*").replace(":*:", ":123456789012:"))


@pytest.mark.usefixtures("aws")
def test_export_by_owner_writes_them_back_and_the_exported_spec_plans_nothing(
    spec_file: Path, tmp_path: Path
) -> None:
    apply(spec_file)
    by_hand("PACS/Elsewhere")  # not ours: never exported as ours

    exported = export(run_context(), STACK, Selection(tag=("pacs-reconcile:stack", STACK)))

    text = render(exported, "pacs-reconcile export")
    document = yaml.safe_load(text)
    names = {entry["name"] for entry in document["saved_queries"].values()}
    assert names == {"PACS/Errors", "PACS/Slow"}
    assert all(set(entry) == {"name", "query"} for entry in document["saved_queries"].values())
    round_trip = tmp_path / "exported" / "monitoring.yaml"
    round_trip.parent.mkdir()
    round_trip.write_text(text, encoding="utf-8")
    assert not plan(round_trip)[0].has_changes


def test_undeclarable_before_the_kind_a_log_group_less_query_loads(tmp_path: Path) -> None:
    spec = write_spec(tmp_path / "monitoring.yaml", SPEC)
    try:
        loaded = api.load(spec)
    except SpecError as exc:  # the state before this kind: "no kind 'saved_queries'"
        pytest.fail(f"a saved query naming no log group cannot be declared: {exc}")
    assert {n.kind for n in loaded.resources.values()} == {"saved_queries"}


@pytest.mark.usefixtures("aws")
def test_export_by_prefix_lists_by_name_and_writes_only_what_the_index_proves_ours(spec_file: Path) -> None:
    apply(spec_file)
    by_hand("PACS/Elsewhere")  # matches the prefix, names no log group, not ours

    exported = export(run_context(), STACK, Selection(kinds=("saved_queries",), prefix="PACS/"))

    document = yaml.safe_load(render(exported, "pacs-reconcile export"))
    assert {entry["name"] for entry in document["saved_queries"].values()} == {"PACS/Errors", "PACS/Slow"}


@pytest.mark.usefixtures("aws")
def test_both_query_kinds_share_one_listing_of_the_accounts_definitions(tmp_path: Path) -> None:
    """DescribeQueryDefinitions lists every saved query of the region: the saved queries and the
    queries under the stack's log groups are both found in one listing per plan."""
    spec = json.loads(json.dumps(SPEC))
    queries = {"top": {"name": "PACS/Top", "query": ERRORS}}
    spec["log_groups"] = {"app": {"name": "/pacs/app", "retention_days": 7, "query_definitions": queries}}
    path = write_spec(tmp_path / "both.yaml", spec)
    apply(path)
    the_plan, calls = plan(path)
    assert not the_plan.has_changes and the_plan.housekeeping == {}
    assert calls["logs.DescribeQueryDefinitions"] == 1


@pytest.mark.usefixtures("aws")
def test_one_of_ours_given_a_stack_log_group_is_not_taken_for_its_child(tmp_path: Path) -> None:
    spec = json.loads(json.dumps(SPEC))
    spec["log_groups"] = {"app": {"name": "/pacs/app", "retention_days": 7}}
    path = write_spec(tmp_path / "with-group.yaml", spec)
    apply(path)
    (ours,) = by_name("PACS/Errors")
    by_hand("PACS/Errors", queryDefinitionId=ours["queryDefinitionId"], logGroupNames=["/pacs/app"])

    the_plan, _ = plan(path)

    assert actions(the_plan) == {ADDRESS: Action.UPDATE}  # not also pruned as /pacs/app's child
    apply(path)
    assert [d["queryDefinitionId"] for d in by_name("PACS/Errors")] == [ours["queryDefinitionId"]]
    assert not by_name("PACS/Errors")[0].get("logGroupNames")


@pytest.mark.usefixtures("aws")
def test_a_renamed_query_is_a_new_definition_and_the_old_is_pruned(spec_file: Path, tmp_path: Path) -> None:
    apply(spec_file)
    (old,) = by_name("PACS/Errors")
    renamed = json.loads(json.dumps(SPEC))
    renamed["saved_queries"]["errors"]["name"] = "PACS/Errors renamed"
    path = write_spec(tmp_path / "renamed.yaml", renamed)

    the_plan, _ = plan(path)

    assert actions(the_plan) == {ADDRESS: Action.CREATE, 'saved_queries["PACS/Errors"]': Action.DELETE}
    apply(path)
    assert by_name("PACS/Errors") == [] and len(by_name("PACS/Errors renamed")) == 1
    assert old["queryDefinitionId"] not in index().owned
    assert not plan(path)[0].has_changes


@pytest.mark.usefixtures("aws")
def test_destroy_deletes_ours_only_and_leaves_an_empty_index(spec_file: Path) -> None:
    apply(spec_file)
    theirs = by_hand("PACS/Errors")
    destroy = api.plan(api.load(spec_file), PlanOptions(destroy=True), aws=run_context())
    assert set(actions(destroy).values()) == {Action.DELETE} and len(actions(destroy)) == 2
    assert api.apply(api.load(spec_file), PlanOptions(destroy=True), aws=run_context()).ok
    assert [d["queryDefinitionId"] for d in definitions()] == [theirs]
    assert index() == StoredIndex({}, {})


@pytest.mark.usefixtures("aws")
def test_an_index_that_would_outgrow_its_parameter_is_refused_before_any_create(tmp_path: Path) -> None:
    # Unrecorded, a query could never be proven ours: every later plan would create it again.
    spec = json.loads(json.dumps(SPEC))
    long_name = "x" * 240
    many = {f"q{i}": {"name": f"PACS/{i:02d}/{long_name}", "query": ERRORS} for i in range(20)}
    spec["saved_queries"] = many
    path = write_spec(tmp_path / "many.yaml", spec)
    with pytest.raises(ReconcileError, match="would outgrow"):
        api.apply(api.load(path), aws=run_context())
    assert definitions() == []
