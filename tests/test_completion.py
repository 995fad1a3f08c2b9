"""Shell completion completes values (the spec's addresses, its environments, formats), and zsh and
fish get their own scripts (`--show-completion zsh` used to print bash's)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pacs_reconcile.cli import app

SPEC = """\
version: 1
stack: completion
region: ap-northeast-2
environments:
  dev: {}
  prod: {}
log_groups:
  app: {name: /completion/app}
  audit: {name: /completion/audit}
sns_topics:
  alerts: {name: completion-alerts}
"""


@pytest.fixture(autouse=True)
def in_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "monitoring.yaml").write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def complete_bash(line: str) -> list[str]:
    words = line.split(" ")
    env = {"_PACS_RECONCILE_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
    result = CliRunner().invoke(app, [], env=env, prog_name="pacs-reconcile")
    assert result.exit_code == 0, result.output
    return result.stdout.split()


@pytest.mark.parametrize("option", ["--target", "--exclude", "--allow-destroy"])
def test_addresses_complete_from_the_spec(option: str) -> None:
    assert complete_bash(f"pacs-reconcile plan {option} log_groups.a") == [
        "log_groups.app",
        "log_groups.audit",
    ]


def test_addresses_come_from_the_spec_named_with_f(in_a_project: Path) -> None:
    other = in_a_project / "other"
    other.mkdir()
    (other / "monitoring.yaml").write_text(SPEC.replace("alerts:", "pages:"), encoding="utf-8")
    assert complete_bash("pacs-reconcile plan -f other/monitoring.yaml --target sns") == ["sns_topics.pages"]


def test_environments_and_formats_complete() -> None:
    assert complete_bash("pacs-reconcile plan --env p") == ["prod"]
    assert complete_bash("pacs-reconcile validate --env ") == ["dev", "prod"]
    assert complete_bash("pacs-reconcile plan --format j") == ["json"]


def test_a_broken_spec_completes_nothing_quietly(in_a_project: Path) -> None:
    (in_a_project / "monitoring.yaml").write_text("version: [", encoding="utf-8")
    assert complete_bash("pacs-reconcile plan --target log") == []
    assert complete_bash("pacs-reconcile plan --env ") == []


def test_zsh_completes_values_too() -> None:
    env = {"_PACS_RECONCILE_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "pacs-reconcile plan --env p"}
    result = CliRunner().invoke(app, [], env=env, prog_name="pacs-reconcile")
    assert "prod" in result.stdout


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o default -F _pacs_reconcile_completion pacs-reconcile"),
        ("zsh", "#compdef pacs-reconcile"),
        ("fish", "complete --command pacs-reconcile"),
    ],
)
def test_each_shell_gets_its_own_script(shell: str, marker: str) -> None:
    result: Result = CliRunner().invoke(app, ["completion", shell])
    assert result.exit_code == 0
    assert marker in result.stdout
    others = {"bash", "zsh", "fish"} - {shell}
    assert all(CliRunner().invoke(app, ["completion", o]).stdout != result.stdout for o in others)


def test_an_unknown_shell_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["completion", "tcsh"])
    assert result.exit_code == 3
    assert "not a shell this supports" in result.stderr
