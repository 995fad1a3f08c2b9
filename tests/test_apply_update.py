"""apply's update step, in-process on moto: it compares as the plan does (managed_delta: fields,
tags, ignore_changes) and leaves the plan's recorded live state as it was read."""

from __future__ import annotations

import copy
from pathlib import Path

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import make_plan
from pacs_reconcile.spec.loader import load_spec

GROUP = "/pacs/apply-update"


def _spec(folder: Path, tags: str, extra: str = "") -> Path:
    path = folder / "monitoring.yaml"
    path.write_text(
        "version: 1\nstack: pacs-test\nregion: ap-northeast-2\n"
        f"log_groups:\n  app:\n    name: {GROUP}\n    retention_days: 7\n    tags: {tags}\n{extra}",
        encoding="utf-8",
    )
    return path


def _converge(aws: AwsContext, path: Path) -> None:
    spec = load_spec(path, environ={})
    plan = make_plan(spec, aws)
    assert plan.values is not None
    assert apply_plan(plan, plan.values, aws).ok


def _group_tags(aws: AwsContext) -> dict[str, str]:
    logs = aws.client("logs")
    arn = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["arn"].removesuffix(":*")
    return dict(logs.list_tags_for_resource(resourceArn=arn)["tags"])


def test_a_tag_update_leaves_the_plans_live_state_as_it_was_read(aws: AwsContext, tmp_path: Path) -> None:
    _converge(aws, _spec(tmp_path, "{Team: a, Old: x}"))
    spec = load_spec(_spec(tmp_path, "{Team: b}"), environ={})
    plan = make_plan(spec, aws)
    (change,) = [c for c in plan.changes if c.action is Action.UPDATE]
    assert change.live is not None
    before = copy.deepcopy(change.live.tags)
    assert plan.values is not None
    assert apply_plan(plan, plan.values, aws).ok
    assert change.live.tags == before  # the plan still says what it was computed from
    tags = _group_tags(aws)
    assert tags["Team"] == "b" and "Old" not in tags


def test_ignored_tags_are_neither_set_nor_removed(aws: AwsContext, tmp_path: Path) -> None:
    _converge(aws, _spec(tmp_path, "{Team: a, Old: x}"))
    ignore = "    lifecycle: {ignore_changes: [tags.Old, retention_days]}\n"
    _converge(aws, _spec(tmp_path, "{Team: b}", ignore))
    tags = _group_tags(aws)
    assert tags["Team"] == "b" and tags["Old"] == "x"
