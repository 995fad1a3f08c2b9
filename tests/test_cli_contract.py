"""The command line's contract with CI and on-call: every command, driven in-process with typos,
missing values, unknown commands, global options in either place, JSON errors; exit codes and the
stdout/stderr split asserted. Usage errors are answered before any AWS call, so none is made here."""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner, Result

from output_schemas import check
from pacs_reconcile.cli import OUTPUT_FORMATS, app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]
FORMAT_COMMANDS = sorted(OUTPUT_FORMATS)
JSON_COMMANDS = sorted(c for c, formats in OUTPUT_FORMATS.items() if "json" in formats)
GLOBAL_OPTIONS = (
    "--region",
    "--profile",
    "--endpoint-url",
    "--no-color",
    "--verbose",
    "--debug",
    "--traceback",
    "--stats",
)

VALID = """\
version: 1
stack: contract
region: ap-northeast-2
log_groups:
  app: {name: /contract/app, retention_days: 7}
"""


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(VALID, encoding="utf-8")
    return path


def test_every_command_is_covered() -> None:
    """The control: the parametrized tests below see every command the app has."""
    assert {"validate", "plan", "apply", "destroy", "drift", "verify", "export", "version"} <= set(COMMANDS)


# Usage errors exit 3 (2 means "changes present" to CI) -------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_a_typod_option_exits_3_on_every_command(name: str) -> None:
    result = invoke(name, "--regoin", "eu-west-1")
    assert result.exit_code == 3, result.output
    assert "No such option: --regoin" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", COMMANDS)
def test_a_missing_value_exits_3_on_every_command(name: str) -> None:
    result = invoke(name, "--region")
    assert result.exit_code == 3, result.output
    assert "--region" in result.stderr and "requires an argument" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--detailed-exitcode", "--targett", "x"],
        ["drift", "--publish-metrics"],
        ["nope"],
        [],
        ["--regoin", "x", "plan"],
        ["plan", "--format", "yaml"],
        ["apply", "--parallelism", "0"],
        ["plan", "one", "two"],
    ],
    ids=["typo", "drift-typo", "unknown-command", "no-command", "group-typo", "bad-choice", "range", "extra"],
)
def test_usage_errors_from_the_issue_exit_3(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""


def test_the_systemd_unit_does_not_count_a_usage_error_as_success() -> None:
    unit = (ROOT / "deploy" / "pacs-reconcile-drift@.service").read_text(encoding="utf-8")
    success = {int(code) for code in re.search(r"^SuccessExitStatus=(.*)$", unit, re.M)[1].split()}  # type: ignore[index]
    assert invoke("drift", "--publish-metrics").exit_code not in success | {0}


@pytest.mark.parametrize("name", JSON_COMMANDS)
@pytest.mark.parametrize("form", [("--format", "json"), ("--format=json",)])
def test_a_usage_error_with_format_json_prints_one_json_error_document(
    name: str, form: tuple[str, ...]
) -> None:
    result = invoke(name, *form, "--targett", "x")
    assert result.exit_code == 3
    document = json.loads(result.stdout)
    check(document, "error.v1")
    assert document["format_version"] == 1
    assert document["error"]["type"] == "usage"
    assert "--targett" in document["error"]["message"]
    assert "No such option" in result.stderr  # people still get the text


def test_an_unknown_command_with_format_json_is_a_json_usage_error() -> None:
    result = invoke("plna", "--format", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["type"] == "usage"


def test_a_bad_format_names_the_choices() -> None:
    result = invoke("plan", "--format", "yaml")
    assert result.exit_code == 3
    assert "must be text or json or markdown, not 'yaml'" in result.stderr


def test_a_malformed_var_is_a_usage_error_in_json(spec: Path) -> None:
    result = invoke("validate", "-f", str(spec), "--var", "novalue", "--format", "json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["type"] == "usage"


# --version -------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--version"], ["version"]])
def test_version_prints_the_installed_package_version(args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == metadata.version("pacs-reconcile")


# Global options in either place ------------------------------------------------------------------


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_lists_the_global_options_in_its_help(name: str) -> None:
    result = invoke(name, "--help")
    assert result.exit_code == 0
    for option in GLOBAL_OPTIONS:
        assert option in result.stdout, f"{name} --help lacks {option}"


@pytest.mark.parametrize("name", COMMANDS)
def test_help_shows_real_metavars(name: str) -> None:
    options = [line for line in invoke(name, "--help").stdout.splitlines() if line.lstrip().startswith("-")]
    assert options
    for line in options:
        assert not re.search(r"<[a-z\[\]]+>|\bTEXT\b|\bINTEGER\b", line), line


def test_metavars_of_the_plan_options() -> None:
    text = invoke("plan", "--help").stdout
    assert "--target KIND.NAME" in text
    assert "--format [text|json|markdown]" in text
    assert "--var NAME=VALUE" in text


@pytest.mark.parametrize("args", [["plan", "--no-color"], ["--no-color", "plan"]])
def test_no_color_is_accepted_in_either_place(spec: Path, args: list[str]) -> None:
    # --target of an address the spec lacks stops the command before any AWS call
    result = invoke(*args, "-f", str(spec), "--target", "log_groups.nope")
    assert result.exit_code == 3
    assert "no such resource" in result.stderr


def test_global_options_after_the_command_reach_the_session(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pacs_reconcile import commands

    seen = []
    monkeypatch.setattr(commands, "validate", lambda inputs, session: seen.append(session.options) or 0)
    assert invoke("validate", "-f", str(spec), "--region", "eu-west-1", "--stats", "-v").exit_code == 0
    assert invoke("-v", "--profile", "p", "validate", "-f", str(spec), "-v", "--no-color").exit_code == 0
    first, second = seen
    assert (first.region, first.stats, first.verbose) == ("eu-west-1", True, 1)
    assert (second.profile, second.verbose, second.color) == ("p", 2, False)


def test_an_option_after_the_command_wins_over_the_same_before_it(
    spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pacs_reconcile import commands

    seen = []
    monkeypatch.setattr(commands, "validate", lambda inputs, session: seen.append(session.options) or 0)
    assert (
        invoke("--region", "us-east-1", "validate", "-f", str(spec), "--region", "eu-west-1").exit_code == 0
    )
    assert seen[0].region == "eu-west-1"


# Did-you-mean for the addresses and environments named on the command line ---------------------


def test_a_misspelled_target_and_exclude_get_a_suggestion(spec: Path) -> None:
    result = invoke("plan", "-f", str(spec), "--target", "log_groups.ap", "--exclude", "log_group.app")
    assert result.exit_code == 3
    assert (
        "--target log_groups.ap: no such resource in the spec; did you mean 'log_groups.app'?"
        in result.stderr
    )
    assert "--exclude log_group.app: no such resource in the spec; did you mean 'log_groups.app'?" in (
        result.stderr
    )


def test_a_misspelled_environment_gets_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.yaml"
    path.write_text(VALID + "environments:\n  dev: {}\n  prod: {}\n", encoding="utf-8")
    result = invoke("--no-color", "validate", "-f", str(path), "--env", "prd")
    assert result.exit_code == 3
    assert "--env: prd: no such environment (known: dev and prod)" in result.stderr
    assert "help: did you mean 'prod'?" in result.stderr


# NO_COLOR and a stdout that is not a terminal --------------------------------------------------

ANSI = re.compile(r"\x1b\[")
COLOR_TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm-256color"}
OFFLINE = [
    ["validate", "-f", "{spec}"],
    ["graph", "-f", "{spec}"],
    ["permissions", "-f", "{spec}"],
    ["version"],
]


@pytest.mark.parametrize("args", OFFLINE, ids=lambda a: a[0])
@pytest.mark.parametrize("where", ["before", "after"])
def test_no_color_option_removes_every_escape_in_either_place(
    spec: Path, args: list[str], where: str
) -> None:
    argv = [a.format(spec=spec) for a in args]
    argv = ["--no-color", *argv] if where == "before" else [*argv, "--no-color"]
    result = invoke(*argv, env=COLOR_TERMINAL)
    assert result.exit_code == 0, result.stderr
    assert not ANSI.search(result.stdout + result.stderr)


@pytest.mark.parametrize("args", OFFLINE, ids=lambda a: a[0])
def test_no_color_variable_removes_every_escape(spec: Path, args: list[str]) -> None:
    result = invoke(*[a.format(spec=spec) for a in args], env={**COLOR_TERMINAL, "NO_COLOR": "1"})
    assert result.exit_code == 0, result.stderr
    assert not ANSI.search(result.stdout + result.stderr)


@pytest.mark.parametrize("name", COMMANDS)
def test_usage_errors_are_plain_on_a_color_terminal_with_no_color(name: str) -> None:
    result = invoke(name, "--regoin", "x", env={**COLOR_TERMINAL, "NO_COLOR": "1"})
    assert result.exit_code == 3
    assert not ANSI.search(result.stdout + result.stderr)


@pytest.mark.parametrize(
    "args", [*OFFLINE[1:], ["validate", "-f", "{spec}", "--format", "json"]], ids=lambda a: a[0]
)
def test_stdout_that_is_not_a_terminal_gets_no_escapes(spec: Path, args: list[str]) -> None:
    """CliRunner's stdout is a pipe, as in `pacs-reconcile ... | jq`: plain bytes without NO_COLOR."""
    result = invoke(*[a.format(spec=spec) for a in args], env={"TERM": "xterm-256color"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout and not ANSI.search(result.stdout)


def test_permissions_without_any_region_is_a_usage_error(tmp_path: Path) -> None:
    """It crashed on None.startswith (an internal error) when neither the spec nor --region named one."""
    path = tmp_path / "monitoring.yaml"
    path.write_text(VALID.replace("region: ap-northeast-2\n", "", 1), encoding="utf-8")
    result = invoke("permissions", "-f", str(path))
    assert result.exit_code == 3
    assert "the spec sets no region: name it with --region REGION" in result.stderr
    assert invoke("permissions", "-f", str(path), "--region", "eu-west-1").exit_code == 0


def test_export_region_after_the_command_reaches_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """`export --region X` was rejected: the global options worked only before the command."""
    from pacs_reconcile import export

    seen = []
    monkeypatch.setattr(export, "run", lambda session, **_: seen.append(session.options.region) or 0)
    assert invoke("export", "--prefix", "/pacs", "--region", "eu-west-1").exit_code == 0
    assert seen == ["eu-west-1"]


def test_a_run_builds_the_command_it_runs_alone_and_help_lists_every_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """typer built all 19 commands' click objects on every run (~10 ms, 1-2% of a plan): each is
    built when looked up. Help still lists every command in the order declared, and a mistyped
    name is still answered with the close ones."""
    import pacs_reconcile.cli_framework as framework

    built: list[str] = []
    build = framework.get_command_from_info

    def counted(info: object, **settings: object) -> object:
        built.append(str(info.name))  # type: ignore[attr-defined]
        return build(info, **settings)  # type: ignore[arg-type]

    monkeypatch.setattr(framework, "get_command_from_info", counted)
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(VALID)
    result = CliRunner().invoke(app, ["--no-color", "validate", "-f", str(spec)])
    assert result.exit_code == 0, result.output
    assert built == ["validate"]

    listed = CliRunner().invoke(app, ["--help"])
    assert listed.exit_code == 0
    shown = re.findall(r"^[│ ]\s+([a-z][a-z-]+)\s{2,}", listed.output, flags=re.MULTILINE)
    assert shown == list(get_command(app).commands)  # type: ignore[attr-defined]
    assert len(shown) == len(COMMANDS) == 19

    mistyped = CliRunner().invoke(app, ["plna"])
    assert mistyped.exit_code == 3
    assert "Did you mean 'plan'" in mistyped.output
