"""Every JSON document the CLI prints validates against its published schema (schema/output/), and
unknown and sensitive values are marked beside the value, never written into it. In-process moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from jsonschema import Draft202012Validator
from typer.testing import CliRunner, Result

from output_schemas import SCHEMAS, check
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app
from pacs_reconcile.emulator.server import free_port

REGION = "ap-northeast-2"
SECRET = "s3cr3t-webhook-token-value"
SPEC = """\
version: 1
stack: schemas
region: ap-northeast-2
variables:
  token: {sensitive: true, from_env: SCHEMAS_TOKEN}
sns_topics:
  alerts:
    name: schemas-alerts
    subscriptions:
      oncall: {protocol: email, endpoint: oncall@example.com}
log_groups:
  app: {name: /schemas/app, retention_days: 7}
alarms:
  errors:
    name: schemas-errors
    metric: {name: Errors, namespace: Schemas/Application, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
ssm_parameters:
  token:
    name: /schemas/token
    type: SecureString
    value: ${var.token}
"""


def cli(*args: str) -> Result:
    return CliRunner().invoke(
        app, ["--no-color", *args], env={"SCHEMAS_TOKEN": SECRET}, catch_exceptions=False
    )


def json_of(result: Result) -> dict[str, Any]:
    document = json.loads(result.stdout)  # exactly one document on stdout
    assert isinstance(document, dict)
    return document


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


@pytest.fixture
def spec(tmp_path: Path, aws: AwsContext) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_every_schema_is_a_valid_json_schema() -> None:
    names = sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    assert {
        "plan.v2.schema.json",
        "apply.v2.schema.json",
        "drift.v2.schema.json",
        "error.v1.schema.json",
    } <= set(names)
    for name in names:
        Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def test_the_plan_marks_unknown_and_sensitive_values_beside_them(spec: Path) -> None:
    result = cli("plan", "-f", str(spec), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document = json_of(result)
    check(document, "plan.v2")
    changes = {c["address"]: c for c in document["changes"]}
    actions = next(d for d in changes["alarms.errors"]["differences"] if d["path"] == "alarm_actions")
    assert (actions["new"], actions["new_unknown"]) == ([None], [True])
    value = next(d for d in changes["ssm_parameters.token"]["differences"] if d["path"] == "value")
    assert (value["new"], value["new_sensitive"], value["new_unknown"]) == (None, True, False)
    texts = list(strings_in(document))
    assert not any("(known after apply)" in t or "(sensitive value)" in t or SECRET in t for t in texts)


def test_apply_no_op_apply_destroy_and_validate_documents(spec: Path) -> None:
    applied = cli("apply", "-f", str(spec), "--auto-approve", "--format", "json")
    assert applied.exit_code == 0, applied.stderr
    document = json_of(applied)
    check(document, "apply.v2")
    assert document["applied"]["ok"] and len(document["applied"]["outcomes"]) == len(
        [c for c in document["changes"] if c["action"] != "no-op"]
    )
    again = cli("apply", "-f", str(spec), "--auto-approve", "--format", "json")
    check(json_of(again), "apply.v2")
    assert json_of(again)["applied"]["outcomes"] == []
    check(json_of(cli("validate", "-f", str(spec), "--format", "json")), "validate.v1")
    destroyed = cli(
        "destroy", "-f", str(spec), "--auto-approve", "--allow-destroy", "log_groups.app", "--format", "json"
    )
    assert destroyed.exit_code == 0, destroyed.stderr
    check(json_of(destroyed), "apply.v2")


def test_drift_and_verify_documents(spec: Path, tmp_path: Path) -> None:
    assert cli("apply", "-f", str(spec), "--auto-approve").exit_code == 0
    boto3.client("logs", region_name=REGION).put_retention_policy(
        logGroupName="/schemas/app", retentionInDays=1
    )
    report = tmp_path / "report.json"
    drifted = cli("drift", "-f", str(spec), "--format", "json", "--report", str(report))
    assert drifted.exit_code == 2, drifted.stderr
    document = json_of(drifted)
    check(document, "drift.v2")
    check(json.loads(report.read_text(encoding="utf-8")), "drift.v2")
    finding = next(f for f in document["findings"] if f["address"] == "log_groups.app")
    difference = next(d for d in finding["differences"] if d["path"] == "retention_days")
    assert (difference["old"], difference["new"]) == (1, 7)  # old: live in AWS, new: the spec
    check(json_of(cli("verify", "-f", str(spec), "--format", "json")), "verify.v1")


@pytest.mark.parametrize(
    ("args", "error_type", "code"),
    [
        (["plan", "--targett", "x"], "usage", 3),
        (["plan", "-f", "{spec}", "--var", "nope"], "usage", 3),
        (["plan", "-f", "{broken}"], "invalid_spec", 3),
        (["validate", "-f", "{broken}"], "invalid_spec", 3),
        (["--endpoint-url", "{closed}", "plan", "-f", "{spec}"], "aws", 1),
        (["apply", "{missing_plan}"], "usage", 3),
    ],
)
def test_error_documents(
    spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], error_type: str, code: int
) -> None:
    from pacs_reconcile import aws as aws_module

    monkeypatch.setattr(aws_module, "CONNECT_ATTEMPTS", 1)
    broken = tmp_path / "broken.yaml"
    broken.write_text(SPEC.replace("retention_days: 7", "retention_days: 8"), encoding="utf-8")
    values = {
        "spec": str(spec),
        "broken": str(broken),
        "closed": f"http://127.0.0.1:{free_port()}",
        "missing_plan": str(tmp_path / "nope.json"),
    }
    result = cli(*[a.format(**values) for a in args], "--format", "json")
    assert result.exit_code == code, result.stderr
    document = json_of(result)
    check(document, "error.v1")
    assert document["error"]["type"] == error_type
    if error_type == "invalid_spec":
        assert document["error"]["diagnostics"][0]["help"] == "the nearest allowed values are 7 and 14"
