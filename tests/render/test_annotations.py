"""`validate --format github` (workflow annotations) and `--format sarif` (code scanning)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pacs_reconcile import commands
from pacs_reconcile.annotations import github_annotations, sarif_log
from pacs_reconcile.commands import GlobalOptions, Session, SpecInputs
from pacs_reconcile.errors import Diagnostic, SpecError

BROKEN = Path(__file__).resolve().parents[1] / "golden" / "broken"
SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
REPO = Path(__file__).resolve().parents[2]


def _validate(spec: Path, output_format: str, capsys: pytest.CaptureFixture[str]) -> tuple[int | None, str]:
    session = Session(GlobalOptions(color=False), output_format=output_format)
    try:
        code: int | None = commands.validate(SpecInputs(spec, None, {}), session)
    except SpecError:
        code = None
    return code, capsys.readouterr().out


def test_github_annotations_point_at_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _validate(BROKEN / "58-several-errors-sorted" / "monitoring.yaml", "github", capsys)
    assert code is None  # the SpecError goes on to the usual handler (stderr text, exit 3)
    lines = out.splitlines()
    assert len(lines) == 5
    assert all(line.startswith("::error file=") for line in lines)
    assert any(
        line.startswith("::error file=")
        and ",line=14,col=21," in line
        and "::log_groups.app.retention_days: 45 is not a retention CloudWatch Logs accepts; " in line
        for line in lines
    )
    # a property value's ':' and ',' are escaped, or the runner would cut the title there
    tag_line = next(line for line in lines if "aws:team" in line)
    assert "title=invalid spec%3A alarms.errors.tags.aws%3Ateam::" in tag_line


def test_annotations_escape_what_would_end_the_command() -> None:
    text = github_annotations([Diagnostic("a,b:c.yaml", 3, 7, "f", "100% wrong\nsecond line")])
    assert (
        text
        == "::error file=a%2Cb%3Ac.yaml,line=3,col=7,title=invalid spec%3A f::f: 100%25 wrong%0Asecond line\n"
    )


def test_annotations_mask_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    _, out = _validate(BROKEN / "70-sensitive-value-is-masked" / "monitoring.yaml", "github", capsys)
    assert "(sensitive value)" in out
    assert "not-for-your-eyes" not in out and "hooks.example.com" not in out


def test_sarif_log_of_a_broken_spec(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _validate(BROKEN / "58-several-errors-sorted" / "monitoring.yaml", "sarif", capsys)
    assert code is None
    log = json.loads(out)
    _assert_valid_sarif(log)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "pacs-reconcile"
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert len(run["results"]) == 5
    for result in run["results"]:
        assert result["ruleId"] in rule_ids and result["level"] == "error"
        assert result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"].endswith("monitoring.yaml")
        assert (
            physical["region"]["startLine"] >= 1 and physical["region"]["startColumn"] >= 1
        )  # GitHub needs it


def test_sarif_log_of_a_valid_spec_has_no_result(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _validate(REPO / "monitoring.yaml", "sarif", capsys)
    assert code == 0
    _assert_valid_sarif(json.loads(out))
    assert json.loads(out)["runs"][0]["results"] == []


def test_a_problem_without_a_line_has_no_region() -> None:
    log = sarif_log([Diagnostic("--var", 0, 0, "", "expected NAME=VALUE")])
    _assert_valid_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert "region" not in result["locations"][0]["physicalLocation"]
    assert (
        github_annotations([Diagnostic("--var", 0, 0, "", "x")])
        == "::error file=--var,title=invalid spec%3A file::x\n"
    )


def _assert_valid_sarif(log: dict[str, object]) -> None:
    """Against the OASIS SARIF 2.1.0 schema (tests/fixtures/sarif)."""
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def test_the_schema_check_catches_a_broken_log() -> None:
    log = sarif_log([Diagnostic("monitoring.yaml", 3, 1, "f", "m")])
    log["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    with pytest.raises(AssertionError, match="fatal"):
        _assert_valid_sarif(log)
