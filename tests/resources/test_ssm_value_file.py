"""An SSM parameter whose value is a file next to the spec (`value_file`): the file's content is the
value, an edit is a plan diff on the parameter and, through the `value_sha256` attribute, on a task
definition that carries it (a new revision: the service rolls out the new value). The file obeys
the value's size limits (Parameter Store quotas: 4 KB Standard, 8 KB Advanced) and the path rules
of the spec's other files (inside the spec's folder)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.engine.plan import Plan, PlanOptions, make_plan
from pacs_reconcile.spec.loader import load_spec

CONFIG = "global:\n  scrape_interval: 15s\n"
SPEC = """\
version: 1
stack: pacs-test
region: ap-northeast-2
ssm_parameters:
  config:
    name: /pacs/prometheus/config
    value_file: {value_file}
{extra}
task_definitions:
  prometheus:
    family: prometheus
    cpu: 512
    memory: 1024
    execution_role_arn: arn:aws:iam::123456789012:role/pacs-monitoring-task-execution
    containers:
      prometheus:
        image: prom/prometheus:v2.53.0
        secrets: {{PROMETHEUS_CONFIG: "${{ssm_parameters.config.arn}}"}}
        environment: {{PROMETHEUS_CONFIG_SHA256: "${{ssm_parameters.config.value_sha256}}"}}
"""


def write_spec(folder: Path, value_file: str = "configs/prometheus.yml", extra: str = "") -> Path:
    path = folder / "monitoring.yaml"
    path.write_text(SPEC.format(value_file=value_file, extra=extra), encoding="utf-8")
    return path


def write_config(folder: Path, content: str | bytes) -> None:
    (folder / "configs").mkdir(exist_ok=True)
    target = folder / "configs" / "prometheus.yml"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")


def plan_of(folder: Path, aws: AwsContext) -> Plan:
    return make_plan(load_spec(write_spec(folder)), aws, PlanOptions())


def applied(folder: Path, aws: AwsContext) -> Plan:
    plan = plan_of(folder, aws)
    assert plan.values is not None
    result = apply_plan(plan, plan.values, aws)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    return plan


def validate(folder: Path, **spec: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--no-color", "validate", "-f", str(write_spec(folder, **spec))])
    return result.exit_code, result.stderr


def test_the_value_is_the_files_content_and_its_hash_is_known_before_plan(tmp_path: Path) -> None:
    write_config(tmp_path, CONFIG)
    spec = load_spec(write_spec(tmp_path))
    config = spec.resources["ssm_parameters.config"].config
    assert config["value"] == CONFIG
    assert config["value_sha256"] == hashlib.sha256(CONFIG.encode()).hexdigest()


def test_an_edit_of_the_file_updates_the_parameter_and_the_task_definition(
    tmp_path: Path, aws: AwsContext
) -> None:
    write_config(tmp_path, CONFIG)
    first = applied(tmp_path, aws)
    assert {c.address: c.action for c in first.changes} == {
        "ssm_parameters.config": Action.CREATE,
        "task_definitions.prometheus": Action.CREATE,
    }
    ssm = aws.client("ssm")
    assert ssm.get_parameter(Name="/pacs/prometheus/config")["Parameter"]["Value"] == CONFIG
    assert all(c.action is Action.NOOP for c in plan_of(tmp_path, aws).changes)

    edited = CONFIG.replace("15s", "30s")
    write_config(tmp_path, edited)
    plan = applied(tmp_path, aws)
    changes = plan.by_address()
    assert changes["ssm_parameters.config"].action is Action.UPDATE
    assert "value" in [d.path for d in changes["ssm_parameters.config"].differences]
    task = changes["task_definitions.prometheus"]
    assert task.action is Action.UPDATE
    variable = "containers.prometheus.environment.PROMETHEUS_CONFIG_SHA256"
    (difference,) = [d for d in task.differences if d.path == variable]
    assert difference.new == hashlib.sha256(edited.encode()).hexdigest()
    assert [d.path for d in task.differences if not d.path.startswith("tags.")] == [variable]

    assert ssm.get_parameter(Name="/pacs/prometheus/config")["Parameter"]["Value"] == edited
    revisions = aws.client("ecs").list_task_definitions(familyPrefix="prometheus")["taskDefinitionArns"]
    assert [arn.rsplit(":", 1)[1] for arn in revisions][-1] == "2", "a new revision for the new value"
    assert all(c.action is Action.NOOP for c in plan_of(tmp_path, aws).changes)


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("x" * 4097, "", "value_file: 4097 bytes is over the 4096-byte limit of tier Standard (the default)"),
        (
            "x" * 8193,
            "    tier: Advanced",
            "value_file: 8193 bytes is over the 8192-byte limit of tier Advanced",
        ),
        (b"\xff\xfe not text", "", "value_file: configs/prometheus.yml is not UTF-8 text"),
        ("", "", "value_file: configs/prometheus.yml is empty"),
        (CONFIG, "    value: inline", "give exactly one of value and value_file"),
    ],
    ids=["over-standard", "over-advanced", "not-utf8", "empty", "both"],
)
def test_a_file_the_parameter_cannot_hold_is_a_spec_error(
    tmp_path: Path, content: str | bytes, extra: str, message: str
) -> None:
    write_config(tmp_path, content)
    code, stderr = validate(tmp_path, extra=extra)
    assert code == 3, stderr
    assert "monitoring.yaml:5:3: ssm_parameters.config" in stderr
    assert message in stderr
    assert "Traceback" not in stderr


def test_an_advanced_parameter_holds_up_to_8_kb(tmp_path: Path) -> None:
    write_config(tmp_path, "x" * 8192)
    code, stderr = validate(tmp_path, extra="    tier: Advanced")
    assert code == 0, stderr


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    code, stderr = validate(tmp_path, value_file="configs/absent.yml")
    assert code == 3
    assert "value_file: no file configs/absent.yml in" in stderr


def test_a_link_loop_is_named(tmp_path: Path) -> None:
    # Two links that point at each other ended validate as an internal RuntimeError (exit 1).
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "a.yml").symlink_to(tmp_path / "configs" / "b.yml")
    (tmp_path / "configs" / "b.yml").symlink_to(tmp_path / "configs" / "a.yml")
    code, stderr = validate(tmp_path, value_file="configs/a.yml")
    assert code == 3, stderr
    assert "value_file: configs/a.yml is a link that leads round in a loop" in stderr
