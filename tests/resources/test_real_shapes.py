"""Every kind against responses as AWS returns them (tests/fixtures/aws): the spec that produced a
resource plans no change, and a real edit of the spec shows at its path and nowhere else.

AWS answers with more fields, defaults, orderings and encodings than the emulator; each fixture
names where its response comes from (an API reference example, botocore's examples, or a
perpetual-diff report in the Terraform AWS provider's or amazon.aws' tracker). See real_shapes.py
for the format and docs/aws-behaviours.md for what each kind handles.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ParamValidationError, StubAssertionError, UnStubbedResponseError

from pacs_reconcile.engine import plan as planning
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.spec.loader import load_spec

from .real_shapes import (
    FIXTURES,
    Fixture,
    FixtureContext,
    all_fixtures,
    differing_paths,
    kinds_read,
    set_path,
    spec_document,
)

FIXTURE_LIST = all_fixtures()
DOCS = Path(__file__).resolve().parents[2] / "docs" / "aws-behaviours.md"
MIN_FIXTURES_PER_KIND = 5


def plan_against(fixture: Fixture, sections: dict[str, Any], tmp_path: Path, monkeypatch: Any) -> Any:
    """The plan of `sections` with every AWS read answered by the fixture's responses."""
    for relative, text in fixture.data.get("files", {}).items():  # e.g. a function's code folder
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    spec_file = tmp_path / "monitoring.yaml"
    spec_file.write_text(json.dumps(spec_document(sections), indent=1))
    spec = load_spec(spec_file)
    top, children = kinds_read(sections)
    # Only the kinds this spec declares are read (a full run reads every kind, each from its own calls).
    monkeypatch.setattr(planning, "top_level_kinds", lambda: top)
    monkeypatch.setattr(
        planning, "child_kinds", lambda parent: [c for c in children if KINDS[c].meta.parent == parent]
    )
    ctx = FixtureContext()
    ctx.queue(fixture.data["calls"])
    result = planning.make_plan(spec, ctx)
    assert ctx.unused() == [], "the read did not make every call the fixture answers"
    return result


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=lambda f: f.id)
def test_the_spec_that_produced_it_plans_no_change(
    fixture: Fixture, tmp_path: Path, monkeypatch: Any
) -> None:
    result = plan_against(fixture, fixture.data["spec"], tmp_path, monkeypatch)

    changed = {
        c.address: (c.action, differing_paths(c), c.reason)
        for c in result.changes
        if c.action is not Action.NOOP
    }
    assert changed == {}
    assert result.changes, "the fixture's resources were not planned at all"


@pytest.mark.parametrize("fixture", FIXTURE_LIST, ids=lambda f: f.id)
def test_a_real_change_shows_at_its_path(fixture: Fixture, tmp_path: Path, monkeypatch: Any) -> None:
    edit = fixture.data["change"]
    sections = copy.deepcopy(fixture.data["spec"])
    for path, value in edit["set"].items():
        set_path(sections, path, value)

    result = plan_against(fixture, sections, tmp_path, monkeypatch)

    change = result.by_address()[edit["address"]]
    # A change of identity (e.g. an attachment's policy) is a new resource beside the old one's removal.
    in_place = [Action.UPDATE, Action.REPLACE, Action.REFUSED]
    expected = [Action(edit["action"])] if "action" in edit else in_place
    assert change.action in expected, change
    assert differing_paths(change) == sorted(edit["paths"])
    others = sorted(c.address for c in result.changes if c.action is not Action.NOOP and c is not change)
    assert others == sorted(edit.get("also", []))


def test_fixtures_are_well_formed() -> None:
    for fixture in FIXTURE_LIST:
        data = fixture.data
        assert data["kind"] in KINDS, fixture.id
        assert data["sources"], f"{fixture.id} names no source"
        assert fixture.path.parent.parent == FIXTURES


def test_every_kind_has_its_fixtures() -> None:
    counts = Counter(f.kind for f in FIXTURE_LIST)
    short = {kind: counts[kind] for kind in KINDS if counts[kind] < MIN_FIXTURES_PER_KIND}
    assert short == {}


def test_the_behaviours_table_lists_every_kind() -> None:
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", DOCS.read_text(), flags=re.MULTILINE)
    assert sorted(listed) == sorted(KINDS)


def test_a_field_aws_does_not_return_is_refused() -> None:
    with pytest.raises(ParamValidationError, match="inventedField"):
        FixtureContext().queue(
            [
                {
                    "service": "logs",
                    "operation": "describe_log_groups",
                    "response": {"logGroups": [{"logGroupName": "/x", "inventedField": 1}]},
                }
            ]
        )


def test_a_value_outside_an_enumeration_is_refused() -> None:
    with pytest.raises(ValueError, match="LogGroupClass"):
        FixtureContext().queue(
            [
                {
                    "service": "logs",
                    "operation": "describe_log_groups",
                    "response": {"logGroups": [{"logGroupName": "/x", "logGroupClass": "COLD"}]},
                }
            ]
        )


def test_calls_are_matched_by_operation_and_params_and_unused_answers_are_reported() -> None:
    topic = "arn:aws:sns:ap-northeast-2:123456789012:"
    ctx = FixtureContext()
    call = {"service": "sns", "operation": "get_topic_attributes", "response": {}}
    ctx.queue([{**call, "params": {"TopicArn": topic + name}} for name in ("a", "b")])
    sns = ctx.client("sns")
    sns.get_topic_attributes(TopicArn=topic + "b")
    with pytest.raises(StubAssertionError):
        sns.get_topic_attributes(TopicArn=topic + "c")
    with pytest.raises(UnStubbedResponseError):
        sns.list_topics()
    assert ctx.unused() == [f"sns.GetTopicAttributes {{'TopicArn': '{topic}a'}}"]
