"""A kind's cycles in-process (moto): a small spec planned and applied to convergence, and one
attribute changed by hand, seen and repaired."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import compare_tags, diff_states
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions, make_plan
from pacs_reconcile.export import Export, check, render
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.spec.loader import load_spec


def plan_of(folder: Path, aws: AwsContext, text: str, **options: Any) -> Plan:
    """The plan of `text`, written as monitoring.yaml in `folder`."""
    path = folder / "monitoring.yaml"
    path.write_text(text, encoding="utf-8")
    return make_plan(load_spec(path), aws, PlanOptions(**options))


def applied(folder: Path, aws: AwsContext, text: str, **options: Any) -> Plan:
    """Plan `text` and apply the plan; every change must succeed."""
    plan = plan_of(folder, aws, text, **options)
    assert plan.values is not None
    result = apply_plan(plan, plan.values, aws)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    return plan


def actions(plan: Plan) -> dict[str, Action]:
    """Address -> action of every change that is not a no-op."""
    return {c.address: c.action for c in plan.changes if c.action != Action.NOOP}


def converges(folder: Path, aws: AwsContext, text: str) -> Plan:
    """Apply `text`; then its plan is empty and applying that plan makes no mutating call."""
    applied(folder, aws, text)
    again = plan_of(folder, aws, text)
    assert actions(again) == {}, [(c.address, c.differences) for c in again.changes if c.differences]
    before = aws.stats.mutating()
    assert again.values is not None
    apply_plan(again, again.values, aws)
    assert aws.stats.mutating() == before, "a converged stack: no write"
    return again


def exported_plans_nothing(folder: Path, aws: AwsContext, result: Export) -> None:
    """`result` rendered as a spec checks clean and, planned from a folder of its own, changes nothing."""
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    exported = folder / "exported"
    exported.mkdir()
    assert actions(plan_of(exported, aws, text)) == {}


def repaired_by_hand_change(
    kind: Reconciler, aws: AwsContext, want: Desired, mutate: Callable[[AwsContext], Any], path: str
) -> tuple[Live, Live]:
    """The out-of-band case of one attribute, on the reconciler: `want` is created and reads back
    equal; `mutate` changes it by hand; the read shows a difference at `path` alone (a space-
    separated list for several; "tags" for a tag added by hand), in place; update (or update_tags)
    repairs it. Returns the live state before and after the repair."""
    kind.create(aws, want)
    assert _differences(kind, want, _read(kind, aws, want)) == []
    mutate(aws)
    live = _read(kind, aws, want)
    tags = compare_tags(live.tags, want.tags)
    if path == "tags":
        assert tags.to_unset and _differences(kind, want, live) == []
        kind.update_tags(aws, live, tags)
        repaired = _read(kind, aws, want)
        assert repaired.tags == want.tags
        return live, repaired
    delta = diff_states(want.state, kind.canonical(dict(live.state)))
    assert sorted({p.split(".")[0] for p in delta.paths()}) == sorted(path.split()), delta.paths()
    assert not tags and not kind.replacing_paths(delta)
    kind.update(aws, want, live, delta)
    repaired = _read(kind, aws, want)
    assert _differences(kind, want, repaired) == []
    return live, repaired


def _read(kind: Reconciler, aws: AwsContext, want: Desired) -> Live:
    return kind.read(aws, [want.key], ReadScope(aws.stack))[want.key]


def _differences(kind: Reconciler, want: Desired, live: Live) -> list[str]:
    return diff_states(want.state, kind.canonical(dict(live.state))).paths()
