"""Every metric the repository's stack reads (alarms and dashboard widgets) is one something
publishes: AWS's, checked against the table taken from AWS's metric lists
(`pacs_reconcile.monitoring.aws_metrics`), or the stack's own, produced by a metric filter, the
metrics collector or the drift check. Plus the rest of what an operator would otherwise find out
by staring at an empty graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import copy_repository_spec
from pacs_reconcile import api
from pacs_reconcile.engine import alerts
from pacs_reconcile.monitoring.aws_metrics import (
    MetricUse,
    dashboard_metrics,
    is_aws_namespace,
    metric_uses,
    problem,
)

REPO = Path(__file__).resolve().parents[1]
COLLECTOR = REPO / "functions" / "metrics_collector" / "index.py"

# What the metrics collector publishes, as its module docstring lists it (names checked against
# its code below), and what `drift --publish-metric` publishes (engine/alerts.py).
COLLECTOR_METRICS = {
    "StorageBucketSizeBytes": {"BucketName"},
    "StorageObjectCount": {"BucketName"},
    "DatabaseAvailable": {"DBInstanceIdentifier"},
    "DatabaseConnections": {"DBInstanceIdentifier"},
}
DRIFT_METRICS = {
    ("PACS/Reconcile", alerts.METRIC_NAME): [{"Stack"}, {"Stack", "Kind"}],
    ("PACS/Reconcile", alerts.PENDING_METRIC_NAME): [{"Stack"}],
}


@pytest.fixture(scope="module")
def spec() -> api.Spec:
    return api.load(REPO / "monitoring.yaml")


def own_metrics(spec: api.Spec) -> dict[tuple[str, str], list[set[str]]]:
    """(namespace, name) -> the dimension-name sets the stack's own producers publish."""
    produced: dict[tuple[str, str], list[set[str]]] = {k: list(v) for k, v in DRIFT_METRICS.items()}
    namespace = spec.variables["custom_metrics_namespace"].value
    for name, dimensions in COLLECTOR_METRICS.items():
        produced[(namespace, name)] = [dimensions]
    for node in spec.resources.values():
        if node.kind == "metric_filters":
            metric = node.config["metric"]
            produced.setdefault((metric["namespace"], metric["name"]), []).append(
                set(metric["dimensions"] or {})
            )
    return produced


def test_the_collector_publishes_the_metrics_this_test_expects() -> None:
    source = COLLECTOR.read_text()
    for name in COLLECTOR_METRICS:
        assert f'Metric("{name}"' in source


def test_every_metric_of_every_alarm_and_widget_is_published(spec: api.Spec) -> None:
    produced = own_metrics(spec)
    uses = list(metric_uses(spec.resources))
    assert len(uses) > 30  # the walk reaches the alarms and every widget row
    found: list[str] = []
    for use in uses:
        if is_aws_namespace(use.namespace):
            why = problem(use)
        elif (use.namespace, use.name) not in produced:
            why = f"nothing in the stack publishes {use.namespace} {use.name}"
        elif set(use.dimensions) not in produced[(use.namespace, use.name)]:
            why = (
                f"{use.namespace} {use.name} is published with other dimensions than {sorted(use.dimensions)}"
            )
        else:
            why = None
        if why:
            found.append(f"{use.where}: {why}")
    assert found == []


def test_the_collectors_metrics_are_on_a_dashboard_and_an_alarm(spec: api.Spec) -> None:
    uses = list(metric_uses(spec.resources))
    custom = {(u.where.split(".")[0], u.name) for u in uses if u.namespace == "PACS/Custom"}
    assert {name for kind, name in custom if kind == "dashboards"} == set(COLLECTOR_METRICS)
    assert ("alarms", "DatabaseAvailable") in custom


@pytest.mark.parametrize(
    ("use", "reason"),
    [
        (
            MetricUse("x", "AWS/ECS", "RunningTaskCount", {"ClusterName": "c", "ServiceName": "s"}),
            "AWS/ECS has no metric RunningTaskCount",
        ),
        (
            MetricUse("x", "AWS/VPC", "PacketsIn", {"VpcId": "vpc-1"}),
            "AWS/VPC is not a namespace this table knows",
        ),
        (
            MetricUse(
                "x", "AWS/S3", "NumberOfObjects", {"BucketName": "b", "StorageType": "StandardStorage"}
            ),
            "has StorageType 'StandardStorage' never; it uses AllStorageTypes",
        ),
        (
            MetricUse("x", "AWS/RDS", "CPUUtilization", {"DBInstanceId": "pacs"}),
            "is published with dimensions",
        ),
    ],
)
def test_the_guides_dashboard_mistakes_are_found(use: MetricUse, reason: str) -> None:
    assert reason in (problem(use) or "")


def test_the_fixed_forms_pass() -> None:
    ecs = {"ClusterName": "c", "ServiceName": "s"}
    assert problem(MetricUse("x", "ECS/ContainerInsights", "RunningTaskCount", ecs)) is None
    objects = {"BucketName": "b", "StorageType": "AllStorageTypes"}
    assert problem(MetricUse("x", "AWS/S3", "NumberOfObjects", objects)) is None


def test_dashboard_shorthand_repeats_the_row_above() -> None:
    body = {
        "widgets": [
            {"type": "text", "properties": {"markdown": "hi"}},
            {
                "type": "metric",
                "properties": {
                    "metrics": [
                        ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "pacs"],
                        [".", "FreeableMemory", ".", ".", {"yAxis": "right"}],
                        [{"expression": "m1 * 2"}],
                    ]
                },
            },
        ]
    }
    uses = list(dashboard_metrics("dashboards.d", body))
    assert [(u.where, u.namespace, u.name, dict(u.dimensions)) for u in uses] == [
        (
            "dashboards.d.body.widgets[1].properties.metrics[0]",
            "AWS/RDS",
            "CPUUtilization",
            {"DBInstanceIdentifier": "pacs"},
        ),
        (
            "dashboards.d.body.widgets[1].properties.metrics[1]",
            "AWS/RDS",
            "FreeableMemory",
            {"DBInstanceIdentifier": "pacs"},
        ),
    ]


def test_widget_regions_follow_the_stacks_region(tmp_path: Path) -> None:
    # The spec and every folder it reads (functions/, configs/), as the end-to-end tests copy it.
    copy = copy_repository_spec(tmp_path)
    root = (REPO / "monitoring.yaml").read_text().replace("region: ap-northeast-2", "region: eu-central-1", 1)
    (copy / "monitoring.yaml").write_text(root)
    moved = api.load(copy / "monitoring.yaml")
    regions = {
        widget["properties"]["region"]
        for node in moved.resources.values()
        if node.kind == "dashboards"
        for widget in node.config["body"]["widgets"]
        if widget["type"] == "metric"
    }
    assert regions == {"eu-central-1"}


def test_grafana_installs_no_angular_plugin(spec: api.Spec) -> None:
    """Grafana 11 turns AngularJS plugins off by default; the guide's piechart and worldmap panels
    are AngularJS ones (https://grafana.com/docs/grafana/v11.0/developers/angular_deprecation/angular-plugins/)."""
    container = spec.resources["task_definitions.grafana"].config["containers"]["grafana"]
    assert container["image"].startswith("grafana/grafana:11.")
    plugins = (container.get("environment") or {}).get("GF_INSTALL_PLUGINS", "")
    assert not {"grafana-piechart-panel", "grafana-worldmap-panel"} & set(plugins.split(","))


def test_no_log_group_for_alb_access_logs(spec: api.Spec) -> None:
    """ALB access logs go to S3 only: a log group for them never receives an event."""
    names = {node.config["name"] for node in spec.resources.values() if node.kind == "log_groups"}
    assert not any(name.startswith("/aws/applicationloadbalancer/") for name in names)
