"""`--target` and `--exclude` on the whole stack, through the CLI against a moto server: apply touches
exactly the selection (a target with its dependencies and children), and the rest stays to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import REPO, Cli

ALARM = "alarms.pacs_backend_error_rate"
TOPIC = "sns_topics.alerts"
BACKEND = "log_groups.pacs_backend"


@pytest.fixture(autouse=True)
def function_code(stack_dir: Path) -> None:
    """The stack's Lambda code next to the copied spec (the spec names it by relative folder)."""
    if (REPO / "functions").is_dir() and not (stack_dir / "functions").exists():
        shutil.copytree(REPO / "functions", stack_dir / "functions")


def _planned(cli: Cli, *args: str) -> dict[str, str]:
    result = cli("plan", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return {c["address"]: c["action"] for c in json.loads(result.stdout)["changes"]}


def test_apply_with_a_target_creates_it_with_its_dependencies_only(cli: Cli) -> None:
    everything = _planned(cli)
    selected = _planned(cli, "--target", ALARM)
    # the topic's children come along, and with the notifier's subscription what it depends on
    notifier = {
        f"{TOPIC}.subscriptions.notifier",
        "lambda_functions.notifier",
        "lambda_functions.notifier.permissions.alerts",
        "iam_roles.notifier",
        "iam_roles.notifier.policy_attachments.notifier",
        "iam_policies.notifier",
        "log_groups.notifier",
        "sns_topics.undelivered",
        "sns_topics.undelivered.subscriptions.email",
    }
    assert {ALARM, TOPIC, f"{TOPIC}.subscriptions.email", *notifier} == set(selected)
    assert set(selected.values()) == {"create"}

    applied = cli("apply", "--auto-approve", "--target", ALARM)
    assert applied.exit_code == 0, applied.stderr
    after = _planned(cli)
    assert {a for a, action in after.items() if action == "no-op"} == set(selected)
    assert {a for a, action in after.items() if action == "create"} == set(everything) - set(selected)
    assert "delete" not in after.values()  # a targeted run never prunes what it did not look at


def test_exclude_leaves_a_resource_and_its_children_out(cli: Cli) -> None:
    everything = _planned(cli)
    children = {a for a in everything if a.startswith(BACKEND + ".")}
    assert children, "the backend log group has metric filters and queries"
    applied = cli("apply", "--auto-approve", "--exclude", BACKEND)
    assert applied.exit_code == 0, applied.stderr
    after = _planned(cli)
    assert {a for a, action in after.items() if action != "no-op"} == {BACKEND, *children}
