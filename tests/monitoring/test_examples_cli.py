"""`validate` and `pacs-reconcile test` run the spec's offline examples: a failing one is located at
its file and line with the reason; the repository's own spec passes every example it carries."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner, Result

from output_schemas import check
from pacs_reconcile.cli import app
from pacs_reconcile.monitoring.chain import alarm_states, publish
from pacs_reconcile.monitoring.metric_filter import MetricFilterRule
from pacs_reconcile.monitoring.runner import run_examples
from pacs_reconcile.spec.loader import load_spec

from .sample import LOG_GROUP_WITH_A_FILTER, errors_alarm, write_spec

REPO = Path(__file__).resolve().parents[2]

SPEC = (
    LOG_GROUP_WITH_A_FILTER
    + """\
        tests:
          - {line: 't1 r1 ERROR "boom"', value: 1}
          - {line: 't1 r1 INFO "fine"', value: 1}
"""
    + errors_alarm(evaluation_periods=2)
    + """    tests:
      - {name: pages late, datapoints: [5, 5], expect: [ALARM, ALARM]}
"""
)


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # files are named from the working directory: here, as written
    return write_spec(tmp_path, SPEC)


def test_validate_reports_each_failing_example_at_its_line_with_the_reason(failing: Path) -> None:
    result = _invoke("validate", "-f", str(failing))
    assert result.exit_code == 3
    assert (
        "monitoring.yaml:13:13: log_groups.app.metric_filters.errors.tests[1]: metric filter example fails: "
        'did not match: field 3 (level): level is "INFO" (wanted = "ERROR")'
    ) in result.stderr
    assert (
        "monitoring.yaml:22:9: alarms.errors.tests[0]: alarm example fails: after period 1 (datapoint 5) "
        "the state is INSUFFICIENT_DATA, expected ALARM; states: INSUFFICIENT_DATA ALARM"
    ) in result.stderr
    assert "2 errors in the spec; nothing was sent to AWS." in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_json_lists_the_failing_examples(failing: Path) -> None:
    result = _invoke("validate", "-f", str(failing), "--format", "json")
    assert result.exit_code == 3
    diagnostics = json.loads(result.stdout)["error"]["diagnostics"]
    assert [(d["line"], d["field"]) for d in diagnostics] == [
        (13, "log_groups.app.metric_filters.errors.tests[1]"),
        (22, "alarms.errors.tests[0]"),
    ]


def test_the_test_command_reports_every_example_and_exits_1_on_a_failure(failing: Path) -> None:
    result = _invoke("test", "-f", str(failing))
    assert result.exit_code == 1
    assert "PASS monitoring.yaml:12:13: metric filter: t1 r1 ERROR" in result.stderr
    assert "FAIL monitoring.yaml:13:13: metric filter: t1 r1 INFO" in result.stderr
    assert "1 passed, 2 failed (3 examples, offline)." in result.stderr


def test_the_test_command_json_and_junit(failing: Path) -> None:
    document = json.loads(_invoke("test", "-f", str(failing), "--format", "json").stdout)
    check(document, "test.v1")
    assert (document["passed"], document["failed"]) == (1, 2)
    assert document["examples"][1]["failure"].startswith("did not match: field 3 (level)")
    junit = _invoke("test", "-f", str(failing), "--format", "junit")
    assert junit.exit_code == 1
    suite = ElementTree.fromstring(junit.stdout.encode())
    assert (suite.get("tests"), suite.get("failures")) == ("3", "2")
    failures = [case.find("failure") for case in suite.iter("testcase")]
    assert [f is not None for f in failures] == [False, True, True]  # in file order


def test_the_test_command_refuses_an_unknown_format(failing: Path) -> None:
    result = _invoke("test", "-f", str(failing), "--format", "xml")
    assert result.exit_code == 3
    assert "must be text or json or junit, not 'xml'" in result.stderr


def test_the_repository_spec_passes_its_own_examples() -> None:
    result = _invoke("test", "-f", str(REPO / "monitoring.yaml"))
    assert result.exit_code == 0, result.stderr
    assert _invoke("validate", "-f", str(REPO / "monitoring.yaml")).exit_code == 0


def test_every_metric_filter_and_alarm_of_the_repository_spec_has_examples() -> None:
    spec = load_spec(REPO / "monitoring.yaml")
    tested = {r.address for r in run_examples(spec)}
    declared = {a for a, n in spec.resources.items() if n.kind in ("metric_filters", "alarms")}
    assert declared and declared <= tested, sorted(declared - tested)
    filter_results = [r for r in run_examples(spec) if r.kind == "metric filter"]
    for address in (a for a in declared if ".metric_filters." in a):  # each has a line that must not match
        assert any(r.address == address and "match: false" in _source_line(r) for r in filter_results)


def _source_line(result: object) -> str:
    location = result.location  # type: ignore[attr-defined]
    return (REPO / location.file).read_text(encoding="utf-8").splitlines()[location.line - 1]


def test_backend_error_lines_drive_the_repository_error_rate_alarm_to_alarm() -> None:
    spec = load_spec(REPO / "monitoring.yaml")
    filters = [
        MetricFilterRule.from_config(n.config)
        for n in spec.resources.values()
        if n.parent == "log_groups.pacs_backend" and n.kind == "metric_filters"
    ]
    error = '2024-01-15T10:30:10.120Z req-7f3a9c ERROR "Failed to store DICOM instance"'
    ok = '2024-01-15T10:30:11.000Z req-7f3a9d INFO "Request completed" 120'
    alarm = spec.resources["alarms.pacs_backend_error_rate"].config
    lines = [(60.0 * minute + 1, error) for minute in range(15) for _ in range(3)]  # 15 errors / 5 min
    lines += [(60.0 * minute + 2, ok) for minute in range(15) for _ in range(50)]
    states = alarm_states(alarm, publish(filters, lines), until=900)
    assert states == ["OK", "ALARM", "ALARM"]  # Sum 15 > 10 in two consecutive 300 s periods
    quiet = [(t, line) for t, line in lines if t < 300 or line == ok]  # the errors stop after 5 minutes
    assert alarm_states(alarm, publish(filters, quiet), until=900) == ["OK", "OK", "OK"]


def test_the_documentation_examples_pass_their_own_tests(tmp_path: Path) -> None:
    docs = REPO / "docs" / "examples"
    included = tmp_path / "examples"
    included.mkdir()
    for name in ("metric_filters.yaml", "alarms.yaml", "sns_topics.yaml", "lookups.yaml"):
        (included / name).write_text((docs / name).read_text(encoding="utf-8"), encoding="utf-8")
    variables = "{alert_email: {default: a@example.com}, slack_webhook_url: {default: ''}}"
    root = f"version: 1\nstack: docs\ninclude: [examples/*.yaml]\nvariables: {variables}\n"
    spec = load_spec(write_spec(tmp_path, root))
    results = run_examples(spec)
    assert {r.kind for r in results} == {"metric filter", "alarm", "chain"}
    assert [r.failure for r in results if r.failure] == []
