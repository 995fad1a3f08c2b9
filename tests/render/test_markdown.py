"""Markdown plans, drift reports and apply results (pull-request comments, job summaries).

Golden files: tests/golden/markdown/*.md. After an intended change of the output:
    UPDATE_GOLDEN=1 .venv/bin/pytest tests/render/test_markdown.py
and review the diff of the golden files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pacs_reconcile.engine.drift import classify
from pacs_reconcile.render_markdown import (
    COMMENT_LIMIT,
    DEFAULT_LIMIT,
    apply_markdown,
    drift_markdown,
    plan_markdown,
)

from .sample_plans import SECRET, apply_result_of, every_action_plan, large_plan, no_change_plan, redactor

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "markdown"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")


def test_plan_with_every_action_matches_its_golden_file() -> None:
    assert_golden("plan-every-action.md", plan_markdown(every_action_plan(), redactor()))


def test_plan_without_changes_matches_its_golden_file() -> None:
    assert_golden("plan-no-changes.md", plan_markdown(no_change_plan(), redactor()))


def test_drift_with_every_class_matches_its_golden_file() -> None:
    assert_golden("drift-every-class.md", drift_markdown(classify(every_action_plan()), redactor()))


def test_drift_without_findings_matches_its_golden_file() -> None:
    assert_golden("drift-clean.md", drift_markdown(classify(no_change_plan()), redactor()))


def test_apply_result_matches_its_golden_file() -> None:
    plan = every_action_plan()
    assert_golden("apply.md", apply_markdown(plan, apply_result_of(plan), redactor()))


def test_truncated_plan_matches_its_golden_file() -> None:
    assert_golden("plan-truncated.md", plan_markdown(large_plan(12), redactor(), limit=3_000))


def test_plan_separates_drift_from_pending_work() -> None:
    text = plan_markdown(every_action_plan(), redactor())
    drift = _section(text, "Drift: changed in AWS outside pacs-reconcile")
    pending = _section(text, "Pending: the spec changed since the last apply")
    assert "alarms.backend_errors" in drift and "dashboards.main" in drift
    assert "log_groups.keycloak" not in drift
    assert "log_groups.keycloak" in pending and "ssm_parameters.grafana_admin" in pending
    assert "alarms.backend_errors" not in pending


def test_every_action_and_class_has_its_row() -> None:
    plan_text = plan_markdown(every_action_plan(), redactor())
    for row in ("+ create", "~ update", "-/+ replace", "- delete", "= retained", "! refused"):
        assert f"| {row} |" in plan_text
    drift_text = drift_markdown(classify(every_action_plan()), redactor())
    for finding in ("drifted", "pending", "missing", "unmanaged", "conflict"):
        assert re.search(rf"^\| {finding} \| \d+ \|", drift_text, re.M), finding
    assert "awaiting confirmation" in drift_text  # the info item, as a note


def test_sensitive_values_are_masked() -> None:
    plan = every_action_plan()
    outputs = [
        plan_markdown(plan, redactor()),
        drift_markdown(classify(plan), redactor()),
        apply_markdown(plan, apply_result_of(plan), redactor()),
    ]
    for text in outputs:
        assert SECRET not in text
        assert "old-password-value" not in text  # a sensitive path's old value too, not only known secrets
        assert "~ value = (sensitive value) -> (sensitive value)" in text


def test_values_cannot_break_out_of_their_fence_or_inject_html() -> None:
    text = plan_markdown(every_action_plan(), redactor())
    block = text[text.index("alarms.backend_errors</code> will") :]
    block = block[: block.index("\n</details>")]
    assert "\n````diff\n" in block and "\n````\n" in block  # longer than the ``` inside the value
    summaries = re.findall(r"<summary>(.*?)</summary>", text)
    assert summaries and all("<script>" not in s and "</details>" not in s for s in summaries)


def test_a_long_plan_is_cut_to_the_comment_limit_with_a_note() -> None:
    full = plan_markdown(large_plan(400), redactor(), limit=10**9)
    assert len(full) > COMMENT_LIMIT
    cut = plan_markdown(large_plan(400), redactor())
    assert len(cut) <= DEFAULT_LIMIT < COMMENT_LIMIT  # room left for the action's marker line
    assert f"Cut to {DEFAULT_LIMIT:,} characters (a GitHub comment holds 65,536 at most)" in cut
    assert cut.count("<details>") == cut.count("</details>")  # no block cut in half
    assert cut.count("```") % 2 == 0
    shown = cut.count("<details>")
    assert 0 < shown < 400
    assert f"{400 - shown} of 400 sections are not shown" in cut
    assert "**Plan: 400 to add, 0 to change, 0 to replace, 0 to destroy.**" in cut


def _section(text: str, heading: str) -> str:
    start = text.index(f"#### {heading}")
    end = text.find("\n#### ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.parametrize("resources", [0, 1, 5])
def test_short_plans_are_not_cut(resources: int) -> None:
    text = plan_markdown(large_plan(resources), redactor())
    assert "Cut to" not in text
    assert text.count("<details>") == resources
