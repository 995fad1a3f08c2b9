"""`pacs-reconcile graph`: nodes and edges of a loaded spec, as Mermaid and DOT, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pacs_reconcile.cli import app
from pacs_reconcile.graph import Edge, build, dot, mermaid
from pacs_reconcile.spec.loader import load_spec

SPEC = """\
version: 1
stack: graph-test
region: ap-northeast-2
lookups:
  rds: {kind: rds_instance, identifier: pacs-postgresql}
sns_topics:
  alerts:
    name: pacs-alerts
    subscriptions:
      email: {protocol: email, endpoint: oncall@example.com}
log_groups:
  app:
    for_each: [a, b]
    name: /app/${each.key}
alarms:
  rds_cpu:
    name: rds-cpu
    metric:
      name: CPUUtilization
      namespace: AWS/RDS
      statistic: Average
      period: 300
      dimensions: {DBInstanceIdentifier: "${lookups.rds.id}"}
    comparison: GreaterThanThreshold
    threshold: 80
    evaluation_periods: 2
    alarm_actions: ["${sns_topics.alerts.arn}"]
    depends_on: ['log_groups.app["a"]']
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_edges_run_from_what_comes_first_to_what_waits(spec_file: Path) -> None:
    graph = build(load_spec(spec_file))
    assert graph.lookups == ["lookups.rds"]
    assert set(graph.resources) == {
        "sns_topics.alerts",
        "sns_topics.alerts.subscriptions.email",
        'log_groups.app["a"]',
        'log_groups.app["b"]',
        "alarms.rds_cpu",
    }
    assert set(graph.edges) == {
        Edge("lookups.rds", "alarms.rds_cpu", "lookup"),
        Edge("sns_topics.alerts", "alarms.rds_cpu", "reference"),
        Edge("sns_topics.alerts", "sns_topics.alerts.subscriptions.email", "parent"),
        Edge('log_groups.app["a"]', "alarms.rds_cpu", "depends_on"),
    }
    # dependencies come before their dependents
    assert graph.resources.index("sns_topics.alerts") < graph.resources.index("alarms.rds_cpu")


def test_mermaid_output(spec_file: Path) -> None:
    text = mermaid(build(load_spec(spec_file)))
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    ids = {
        line.split('"')[1].replace("#quot;", '"'): line.split()[0].split("[")[0].split("(")[0]
        for line in lines
        if '"' in line
    }
    assert f'  {ids["lookups.rds"]}(["lookups.rds"])' in lines  # lookups are rounded
    assert '["log_groups.app[#quot;a#quot;]"]' in text  # quotes in labels are escaped
    assert f"  {ids['sns_topics.alerts']} -.-> {ids['sns_topics.alerts.subscriptions.email']}" in lines
    assert f"  {ids['sns_topics.alerts']} --> {ids['alarms.rds_cpu']}" in lines
    instance = ids['log_groups.app["a"]']
    assert f"  {instance} -- depends_on --> {ids['alarms.rds_cpu']}" in lines
    assert f"  class {ids['lookups.rds']} lookup" in lines


def test_dot_output(spec_file: Path) -> None:
    text = dot(build(load_spec(spec_file)))
    assert text.startswith('digraph "graph-test" {\n  rankdir=LR;')
    assert '  "lookups.rds" [shape=ellipse, style=dashed];' in text
    assert '  "log_groups.app[\\"a\\"]" -> "alarms.rds_cpu" [style=dashed, label="depends_on"];' in text
    assert '  "sns_topics.alerts" -> "sns_topics.alerts.subscriptions.email" [style=dotted];' in text
    assert '  "lookups.rds" -> "alarms.rds_cpu";' in text
    assert text.rstrip().endswith("}")


def test_graph_command_prints_to_stdout_only(spec_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "-f", str(spec_file), "--format", "dot"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("digraph") and result.stderr == ""
    out = tmp_path / "graph.mmd"
    written = runner.invoke(app, ["graph", "-f", str(spec_file), "--out", str(out)])
    assert written.exit_code == 0 and written.stdout == ""
    assert out.read_text().startswith("flowchart LR")


def test_graph_command_refuses_an_unknown_format_and_an_invalid_spec(spec_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["graph", "-f", str(spec_file), "--format", "svg"])
    assert result.exit_code == 3 and "mermaid or dot" in result.stderr and result.stdout == ""
    broken = tmp_path / "broken.yaml"
    broken.write_text(SPEC.replace("${sns_topics.alerts.arn}", "${sns_topics.alert.arn}"), encoding="utf-8")
    invalid = runner.invoke(app, ["graph", "-f", str(broken)])
    assert invalid.exit_code == 3 and "sns_topics.alert" in invalid.stderr and invalid.stdout == ""


def test_the_repository_spec_graph_has_every_resource() -> None:
    repo = Path(__file__).resolve().parents[1]
    spec = load_spec(repo / "monitoring.yaml")
    graph = build(spec)
    assert set(graph.resources) == set(spec.resources)
    children = {address for address, node in spec.resources.items() if node.parent}
    assert {e.target for e in graph.edges if e.kind == "parent"} == children


def test_mermaid_ids_are_readable_and_unique() -> None:
    from pacs_reconcile.graph import _mermaid_ids

    ids = _mermaid_ids(["log_groups.app", 'log_groups.app["a"]', "log_groups_app"])
    assert ids == {
        "log_groups.app": "log_groups_app",
        'log_groups.app["a"]': "log_groups_app_a",
        "log_groups_app": "log_groups_app_2",
    }
