"""Lifecycle: releasing resources without deleting them (declaratively with `removed:`, or with the
`release` command), `--allow-destroy` patterns, `plan --destroy` and `destroy --include-stateful`.

On a small stack of its own (log groups, alarms, an EFS file system) on an unseeded emulator: the
behaviour is the engine's, the same for every kind, and the repo's stack would only add minutes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.cloudwatch.models import cloudwatch_backends

from pacs_reconcile.engine.plan import PROTECTED_TAG

from .conftest import REGION, Cli, Server

ACCOUNT = "123456789012"
SPEC = """\
version: 1
stack: lifecycle-test
region: ap-northeast-2
log_groups:
  app: {name: /lc/app, retention_days: 7, tags: {Name: app}}
  legacy: {name: /lc/legacy, retention_days: 7, tags: {Name: legacy}}
  old_one: {name: /lc/old/one, retention_days: 7}
  old_two: {name: /lc/old/two, retention_days: 7}
alarms:
  errors:
    name: lc-errors
    metric: {name: Errors, namespace: LC/App, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
    lifecycle: {prevent_destroy: true}
  quiet:
    name: lc-quiet
    metric: {name: Quiet, namespace: LC/App, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
efs_file_systems:
  data: {creation_token: lc-data}
"""
LEGACY = 'log_groups["/lc/legacy"]'
OLD_ONE = 'log_groups["/lc/old/one"]'
OLD_TWO = 'log_groups["/lc/old/two"]'
LOCK_CALLS = {"ssm.PutParameter", "ssm.DeleteParameter"}
"""The stack's apply lock."""


@pytest.fixture
def lc(moto_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    moto_server.reset()
    (tmp_path / "monitoring.yaml").write_text(SPEC)
    return Cli(moto_server, tmp_path, monkeypatch)


def _spec(cli: Cli) -> Path:
    return cli.spec_dir / "monitoring.yaml"


def _drop(cli: Cli, *entries: str) -> None:
    """Take entries (one line each, or an alarm block) out of the spec."""
    lines = _spec(cli).read_text().splitlines(keepends=True)
    out, skipping = [], False
    for line in lines:
        if not line.startswith("   "):
            skipping = line.strip().split(":")[0] in entries
        if not skipping:
            out.append(line)
    _spec(cli).write_text("".join(out))


def _log_group_tags(server: Server, name: str) -> dict[str, str]:
    logs = server.client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [name], "the log group must still exist"
    arn = groups[0]["arn"].removesuffix(":*")
    return dict(logs.list_tags_for_resource(resourceArn=arn)["tags"])


def _latest_drift_metric() -> float:
    """The last DriftedResources datapoint of the stack (not the per-kind ones) moto received."""
    data = [
        d
        for d in cloudwatch_backends[ACCOUNT][REGION].metric_data
        if d.name == "DriftedResources" and [x.name for x in d.dimensions] == ["Stack"]
    ]
    return float(data[-1].value)


def _actions(cli: Cli, *args: str) -> dict[str, str]:
    planned = cli("plan", "--format", "json", *args)
    assert planned.exit_code == 0, planned.stderr
    return {
        c["address"]: c["action"] for c in json.loads(planned.stdout)["changes"] if c["action"] != "no-op"
    }


def test_removed_section_releases_and_drift_comes_back_clean(lc: Cli) -> None:
    assert lc("apply", "--auto-approve").exit_code == 0
    _drop(lc, "legacy")
    unmanaged = lc("drift", "--publish-metric", "--format", "json")
    assert unmanaged.exit_code == 2
    assert json.loads(unmanaged.stdout)["drifted_resources"] == 1
    assert _latest_drift_metric() == 1.0

    _spec(lc).write_text(_spec(lc).read_text() + f"removed:\n  - from: '{LEGACY}'\n    destroy: false\n")
    planned = lc("plan")
    assert planned.exit_code == 0, planned.stderr
    assert f"{LEGACY} will be released (no longer managed, not deleted)" in planned.stdout
    assert "1 to release" in planned.stdout
    pending = lc("drift", "--format", "json")
    assert [(f["address"], f["class"]) for f in json.loads(pending.stdout)["findings"]] == [
        (LEGACY, "pending")
    ]

    applied = lc("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    released = {k: v for k, v in applied.mutating_calls.items() if k not in LOCK_CALLS}
    assert released == {"logs.UntagResource": 1}, "a release only takes tags off"
    tags = _log_group_tags(lc.server, "/lc/legacy")
    assert not [k for k in tags if k.startswith("pacs-reconcile:")]
    assert tags["Name"] == "legacy", "the user's tags stay"

    clean = lc("drift", "--publish-metric", "--format", "json")
    assert clean.exit_code == 0, clean.stdout
    assert json.loads(clean.stdout)["findings"] == []
    assert _latest_drift_metric() == 0.0
    assert lc("plan", "--detailed-exitcode").exit_code == 0
    assert lc("destroy", "--auto-approve", "--include-stateful", "--allow-destroy", "alarms.*").exit_code == 0
    assert _log_group_tags(lc.server, "/lc/legacy")["Name"] == "legacy", "released: destroy forgets it"


def test_release_command_then_drift_is_clean(lc: Cli) -> None:
    assert lc("apply", "--auto-approve").exit_code == 0
    _drop(lc, "old_one", "old_two")
    assert lc("drift", "--publish-metric").exit_code == 2
    assert _latest_drift_metric() == 2.0
    spec = str(_spec(lc))

    declared = lc("release", "log_groups.app", "-f", spec)
    assert declared.exit_code == 3
    assert "still declared, as log_groups.app" in declared.stderr
    assert declared.calls == {}, "refused before any AWS call"
    nothing = lc("release", 'log_groups["/lc/nothing"]', "-f", spec, "--auto-approve")
    assert nothing.exit_code == 3
    assert 'nothing of this stack to release at: log_groups["/lc/nothing"]' in nothing.stderr
    assert nothing.mutating_calls == {}

    released = lc("release", OLD_ONE, "log_groups['/lc/old/two']", "-f", spec, "--auto-approve")
    assert released.exit_code == 0, released.stdout + released.stderr
    assert f"{OLD_ONE} will be released" in released.stdout
    assert "2 released" in released.stdout
    for name in ("/lc/old/one", "/lc/old/two"):
        assert "pacs-reconcile:stack" not in _log_group_tags(lc.server, name)
    assert lc("drift", "--publish-metric").exit_code == 0
    assert _latest_drift_metric() == 0.0


def test_allow_destroy_takes_patterns_and_refuses_what_matches_nothing(lc: Cli) -> None:
    assert lc("apply", "--auto-approve").exit_code == 0
    _drop(lc, "legacy", "old_one", "old_two")
    kept = {LEGACY: "retained", OLD_ONE: "retained", OLD_TWO: "retained"}
    assert _actions(lc) == kept
    assert _actions(lc, "--allow-destroy", 'log_groups["/lc/old/*"]') == {
        **kept,
        OLD_ONE: "delete",
        OLD_TWO: "delete",
    }
    assert set(_actions(lc, "--allow-destroy", "log_groups.*").values()) == {"delete"}
    # A declared resource answers to its address and to its identity address.
    assert _actions(lc, "--allow-destroy", "log_groups.app") == kept
    assert _actions(lc, "--allow-destroy", 'log_groups["/lc/app"]') == kept

    typo = lc("plan", "--allow-destroy", "log_group.*")
    assert typo.exit_code == 3
    assert "no kind 'log_group'; did you mean 'log_groups'?" in typo.stderr
    assert typo.calls == {}, "a wrong kind is found offline"
    nothing = lc("plan", "--allow-destroy", 'log_groups["/lc/nope/*"]')
    assert nothing.exit_code == 3
    assert 'log_groups["/lc/nope/*"]: matches no resource of this stack' in nothing.stderr

    applied = lc("apply", "--auto-approve", "--allow-destroy", OLD_TWO)
    assert applied.exit_code == 0
    assert not lc.server.client("logs").describe_log_groups(logGroupNamePrefix="/lc/old/two")["logGroups"]


def test_plan_destroy_previews_and_include_stateful_deletes_data_holders(lc: Cli) -> None:
    assert lc("apply", "--auto-approve").exit_code == 0
    preview = lc("plan", "--destroy", "--format", "json")
    assert preview.exit_code == 0
    actions = {c["address"]: c["action"] for c in json.loads(preview.stdout)["changes"]}
    assert actions == {
        "log_groups.app": "retained",
        "log_groups.legacy": "retained",
        "log_groups.old_one": "retained",
        "log_groups.old_two": "retained",
        "alarms.errors": "retained",
        "alarms.quiet": "delete",
        "efs_file_systems.data": "retained",
    }
    assert preview.mutating_calls == {}
    text = lc("plan", "--destroy", "--detailed-exitcode")
    assert text.exit_code == 2
    assert "5 kept (stateful), 1 kept (protected)" in text.stdout

    everything = lc("plan", "--destroy", "--include-stateful", "--format", "json")
    assert {c["action"] for c in json.loads(everything.stdout)["changes"]} == {"delete"}
    destroyed = lc("destroy", "--auto-approve", "--include-stateful")
    assert destroyed.exit_code == 0, destroyed.stdout + destroyed.stderr
    assert lc.server.client("efs").describe_file_systems()["FileSystems"] == []
    assert lc.server.client("logs").describe_log_groups(logGroupNamePrefix="/lc/")["logGroups"] == []
    assert lc.server.client("cloudwatch").describe_alarms()["MetricAlarms"] == []


def test_a_removed_protected_alarm_is_reported_as_protected(lc: Cli) -> None:
    assert lc("apply", "--auto-approve").exit_code == 0
    _drop(lc, "errors")
    planned = lc("plan")
    assert (
        'alarms["lc-errors"] is kept (no longer declared; kept because lifecycle.prevent_destroy'
        in planned.stdout
    )
    assert "1 kept (protected)" in planned.stdout
    assert "stateful" not in planned.stdout
    release = lc("release", 'alarms["lc-errors"]', "-f", str(_spec(lc)), "--auto-approve")
    assert release.exit_code == 0, release.stderr
    cloudwatch = lc.server.client("cloudwatch")
    arn = cloudwatch.describe_alarms(AlarmNames=["lc-errors"])["MetricAlarms"][0]["AlarmArn"]
    tags = {t["Key"] for t in cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]}
    assert PROTECTED_TAG not in tags and "pacs-reconcile:stack" not in tags


def test_include_stateful_asks_again_naming_what_holds_data(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from types import SimpleNamespace

    from pacs_reconcile import commands
    from pacs_reconcile.engine.changes import Action, Change
    from pacs_reconcile.errors import PlanRefused

    plan = SimpleNamespace(
        changes=[
            Change("log_groups.app", "log_groups", Action.DELETE, "/lc/app"),
            Change("alarms.quiet", "alarms", Action.DELETE, "lc-quiet"),
        ]
    )
    session = commands.Session(commands.GlobalOptions(color=False))
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    with pytest.raises(PlanRefused, match="destroy cancelled; nothing was changed"):
        commands._confirm_data_loss(session, plan)
    shown = capsys.readouterr().err
    assert "  - log_groups.app" in shown and "alarms.quiet" not in shown
    assert "Type 'delete 1 with their data' to go on" in shown
    monkeypatch.setattr("builtins.input", lambda prompt: "delete 1 with their data")
    commands._confirm_data_loss(session, plan)  # answered as asked: goes on
