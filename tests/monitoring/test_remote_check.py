"""`plan --remote-check`: TestMetricFilter's answers (botocore Stubber, shaped like AWS's) compared
with the offline engine; the emulator's stand-in only proves the wiring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from typer.testing import CliRunner

from pacs_reconcile.cli import app
from pacs_reconcile.monitoring.remote_check import MAX_MESSAGES, remote_check
from pacs_reconcile.spec.loader import load_spec

from .sample import LOG_GROUP_WITH_A_FILTER, write_spec

PATTERN = '[ts, request_id, level="ERROR", ...]'
ERROR_LINE = 't1 r1 ERROR "boom"'
INFO_LINE = 't2 r2 INFO "fine"'


def _spec(tmp_path: Path, lines: list[tuple[str, bool]]) -> Any:
    examples = "".join(
        f"          - {{line: '{line}', match: {str(match).lower()}}}\n" for line, match in lines
    )
    return load_spec(write_spec(tmp_path, LOG_GROUP_WITH_A_FILTER + "        tests:\n" + examples))


def _client() -> Any:
    return boto3.client("logs", region_name="ap-northeast-2")


def _match(number: int, message: str, **extracted: str) -> dict[str, Any]:
    return {"eventNumber": number, "eventMessage": message, "extractedValues": extracted}


def test_no_disagreement_when_aws_answers_as_the_engine(tmp_path: Path) -> None:
    spec = _spec(tmp_path, [(ERROR_LINE, True), (INFO_LINE, False)])
    logs = _client()
    with Stubber(logs) as stub:
        stub.add_response(
            "test_metric_filter",
            {"matches": [_match(1, ERROR_LINE, **{"$ts": "t1", "$request_id": "r1", "$level": "ERROR"})]},
            {"filterPattern": PATTERN, "logEventMessages": [ERROR_LINE, INFO_LINE]},
        )
        result = remote_check(spec, logs)
        stub.assert_no_pending_responses()
    assert (result.patterns, result.lines, result.disagreements) == (1, 2, [])


def test_a_line_aws_matches_and_the_engine_does_not_is_reported_at_its_example(tmp_path: Path) -> None:
    spec = _spec(tmp_path, [(ERROR_LINE, True), (INFO_LINE, False)])
    logs = _client()
    with Stubber(logs) as stub:
        stub.add_response("test_metric_filter", {"matches": [_match(1, ERROR_LINE), _match(2, INFO_LINE)]})
        result = remote_check(spec, logs)
    (disagreement,) = result.disagreements
    assert disagreement.location.line == 13
    assert disagreement.detail.startswith(f"AWS matches {INFO_LINE!r}, the engine does not (field 3 (level)")


def test_a_line_the_engine_matches_and_aws_does_not(tmp_path: Path) -> None:
    spec = _spec(tmp_path, [(ERROR_LINE, True)])
    logs = _client()
    with Stubber(logs) as stub:
        stub.add_response("test_metric_filter", {"matches": []})
        result = remote_check(spec, logs)
    assert [d.detail for d in result.disagreements] == [f"the engine matches {ERROR_LINE!r}, AWS does not"]


def test_a_field_aws_extracts_differently(tmp_path: Path) -> None:
    spec = _spec(tmp_path, [(ERROR_LINE, True)])
    logs = _client()
    with Stubber(logs) as stub:
        stub.add_response(
            "test_metric_filter", {"matches": [_match(1, ERROR_LINE, **{"$request_id": "r1 ERROR"})]}
        )
        result = remote_check(spec, logs)
    assert [d.detail for d in result.disagreements] == [
        f"{ERROR_LINE!r}: AWS extracts $request_id = 'r1 ERROR', the engine 'r1'"
    ]


def test_a_pattern_aws_refuses(tmp_path: Path) -> None:
    spec = _spec(tmp_path, [(ERROR_LINE, True)])
    logs = _client()
    with Stubber(logs) as stub:
        stub.add_client_error(
            "test_metric_filter", "InvalidParameterException", "Invalid metric filter pattern"
        )
        result = remote_check(spec, logs)
    assert result.patterns == 0
    assert "AWS refuses the pattern" in result.disagreements[0].detail


def test_more_examples_than_one_call_takes_are_sent_in_batches_of_50(tmp_path: Path) -> None:
    lines = [(f't{n} r{n} INFO "fine"', False) for n in range(MAX_MESSAGES + 3)]
    spec = _spec(tmp_path, lines)
    logs = _client()
    with Stubber(logs) as stub:
        for batch in ([line for line, _ in lines[:MAX_MESSAGES]], [line for line, _ in lines[MAX_MESSAGES:]]):
            stub.add_response(
                "test_metric_filter", {"matches": []}, {"filterPattern": PATTERN, "logEventMessages": batch}
            )
        result = remote_check(spec, logs)
        stub.assert_no_pending_responses()
    assert (result.lines, result.disagreements) == (MAX_MESSAGES + 3, [])


def test_plan_remote_check_reports_in_its_json(tmp_path: Path) -> None:
    # The emulator's TestMetricFilter is a stand-in answered by the same engine: this shows the wiring
    # (the call is made, its answer read and reported), not agreement with AWS.
    examples = f"        tests:\n          - {{line: '{ERROR_LINE}'}}\n"
    examples += f"          - {{line: '{INFO_LINE}', match: false}}\n"
    path = write_spec(tmp_path, LOG_GROUP_WITH_A_FILTER + examples)
    with mock_aws():
        result = CliRunner().invoke(
            app, ["plan", "-f", str(path), "--remote-check", "--format", "json"], catch_exceptions=False
        )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["remote_check"] == {"patterns": 1, "lines": 2, "disagreements": []}
    assert "2 example lines of 1 metric filters asked of TestMetricFilter; 0 disagreements" in result.stderr


def test_the_emulator_stand_in_answers_in_aws_shape() -> None:
    with mock_aws():
        response = _client().test_metric_filter(
            filterPattern=PATTERN, logEventMessages=[INFO_LINE, ERROR_LINE]
        )
        assert response["matches"] == [
            _match(2, ERROR_LINE, **{"$ts": "t1", "$request_id": "r1", "$level": "ERROR"})
        ]
        with pytest.raises(_client().exceptions.InvalidParameterException):
            _client().test_metric_filter(filterPattern="?ERROR WARN", logEventMessages=[ERROR_LINE])
