"""`verify`'s kubectl-like checks: each declared ECS service runs its desired count with its
deployment settled (DescribeServices), and Prometheus's targets are up (its HTTP API,
GET /api/v1/targets), a warning when Prometheus cannot be reached, never a failure."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from moto.ecs.models import ecs_backends
from typer.testing import CliRunner

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app
from pacs_reconcile.engine.changes import Action, Change
from pacs_reconcile.engine.plan import Plan, PlanOptions
from pacs_reconcile.spec.model import Lifecycle, Location, ResourceNode
from pacs_reconcile.verify import Check, Outcome, prometheus_targets, run_checks, service_check

CLUSTER = (
    "verify-services-test"  # not the repository stack's cluster: the e2e servers share this process's moto
)


def deployment(
    rollout: str, running: int, desired: int, failed: int = 0, status: str = "PRIMARY"
) -> dict[str, Any]:
    """A Deployment as DescribeServices returns it (ECS API reference, Deployment)."""
    return {
        "id": f"ecs-svc/{rollout.lower()}{running}",
        "status": status,
        "taskDefinition": "arn:aws:ecs:ap-northeast-2:123456789012:task-definition/prometheus:3",
        "desiredCount": desired,
        "pendingCount": desired - running,
        "runningCount": running,
        "failedTasks": failed,
        "launchType": "FARGATE",
        "platformVersion": "1.4.0",
        "rolloutState": rollout,
        "rolloutStateReason": f"ECS deployment ecs-svc/1 {rollout.lower().replace('_', ' ')}.",
    }


def service(
    running: int, desired: int, *deployments: dict[str, Any], status: str = "ACTIVE"
) -> dict[str, Any]:
    return {
        "serviceArn": f"arn:aws:ecs:ap-northeast-2:123456789012:service/{CLUSTER}/prometheus",
        "serviceName": "prometheus",
        "clusterArn": f"arn:aws:ecs:ap-northeast-2:123456789012:cluster/{CLUSTER}",
        "status": status,
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": desired - running,
        "launchType": "FARGATE",
        "deployments": list(deployments),
    }


@pytest.mark.parametrize(
    ("described", "outcome", "detail"),
    [
        (service(1, 1, deployment("COMPLETED", 1, 1)), Outcome.PASS, "1 of 1 tasks running"),
        (
            service(1, 1, deployment("IN_PROGRESS", 0, 1), deployment("COMPLETED", 1, 1, status="ACTIVE")),
            Outcome.WARN,
            "1 of 1 tasks running; a deployment is still rolling out (2 deployments)",
        ),
        (service(0, 1, deployment("IN_PROGRESS", 0, 1)), Outcome.WARN, "0 of 1 tasks running; a deployment"),
        (service(0, 1, deployment("IN_PROGRESS", 0, 1, failed=3)), Outcome.FAIL, "3 tasks failed to start"),
        (service(0, 1, deployment("FAILED", 0, 1, failed=5)), Outcome.FAIL, "rollout failed: ECS deployment"),
        (service(0, 2, deployment("COMPLETED", 0, 2)), Outcome.FAIL, "0 of 2 tasks running"),
        (service(0, 0, status="DRAINING"), Outcome.FAIL, "status DRAINING"),
    ],
    ids=["steady", "rolling", "starting", "crash-looping", "rolled-back", "short", "draining"],
)
def test_a_service_passes_only_when_its_desired_count_runs_and_its_deployment_settled(
    described: dict[str, Any], outcome: Outcome, detail: str
) -> None:
    check = service_check(described)
    assert (check.name, check.outcome) == ("service prometheus running", outcome)
    assert detail in check.detail


def declared_service(name: str, action: Action) -> Change:
    node = ResourceNode(
        address=f"ecs_services.{name}",
        kind="ecs_services",
        name=name,
        config={"name": name, "cluster": CLUSTER, "desired_count": 1},
        tags={},
        lifecycle=Lifecycle(),
        location=Location("monitoring.yaml", 1, 1),
    )
    return Change(node.address, "ecs_services", action, f"{CLUSTER}/{name}", node=node)


def plan_of(*changes: Change) -> Plan:
    return Plan("verify-services", "ap-northeast-2", "", list(changes), PlanOptions())


def checks_named(checks: list[Check], prefix: str) -> dict[str, Check]:
    return {c.name: c for c in checks if c.name.startswith(prefix)}


def test_declared_services_are_described_and_a_missing_one_fails(aws: AwsContext) -> None:
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    family = ecs.register_task_definition(
        family="prometheus",
        containerDefinitions=[{"name": "p", "image": "prom/prometheus:v2.53.0", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=CLUSTER, serviceName="prometheus", taskDefinition=family, desiredCount=1)
    ecs.create_service(cluster=CLUSTER, serviceName="grafana", taskDefinition=family, desiredCount=1)
    # grafana's tasks still starting: what DescribeServices shows while a rollout is under way
    starting = ecs_backends[aws.account_id][aws.region].services[f"{CLUSTER}:grafana"]
    starting.running_count = 0
    starting.deployments[0].update(runningCount=0, pendingCount=1, rolloutState="IN_PROGRESS")

    plan = plan_of(
        declared_service("prometheus", Action.NOOP),
        declared_service("grafana", Action.NOOP),
        declared_service("alertmanager", Action.CREATE),
    )
    checks = run_checks(plan, aws, notify=False, alarm_name=None)
    services = checks_named(checks, "service ")
    assert services["service prometheus running"].outcome is Outcome.PASS
    assert services["service grafana running"].outcome is Outcome.WARN  # 0 of 1, rollout in progress
    assert services["service alertmanager running"] == Check(
        "service alertmanager running", Outcome.FAIL, "missing: ecs_services.alertmanager"
    )
    # services are declared: Prometheus's targets are checked, and without an address that is a warning
    (prometheus,) = [c for c in checks if c.name == "Prometheus scrape targets up"]
    assert prometheus.outcome is Outcome.WARN and "--prometheus-url" in prometheus.detail


def test_a_stack_without_services_checks_neither_services_nor_prometheus(aws: AwsContext) -> None:
    checks = run_checks(plan_of(), aws, notify=False, alarm_name=None)
    assert not [c for c in checks if c.name.startswith(("service ", "Prometheus"))]


# Prometheus ---------------------------------------------------------------------------------------


def target(job: str, instance: str, health: str, error: str = "") -> dict[str, Any]:
    """An active target as GET /api/v1/targets returns it
    (https://prometheus.io/docs/prometheus/latest/querying/api/#targets)."""
    return {
        "discoveredLabels": {"__address__": instance, "__metrics_path__": "/metrics", "job": job},
        "labels": {"instance": instance, "job": job},
        "scrapePool": job,
        "scrapeUrl": f"http://{instance}/metrics",
        "globalUrl": f"http://{instance}/metrics",
        "lastError": error,
        "lastScrape": "2026-12-04T18:00:01.123456789Z",
        "lastScrapeDuration": 0.0043,
        "health": health,
        "scrapeInterval": "15s",
        "scrapeTimeout": "10s",
    }


@pytest.fixture
def prometheus() -> Iterator[tuple[str, list[Any]]]:
    """A stand-in Prometheus on 127.0.0.1 answering /api/v1/targets with what the test puts in
    `answer[0]` (a document, or an int: that HTTP status)."""
    answer: list[Any] = [None]
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            body = answer[0]
            if isinstance(body, int):
                self.send_error(body)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", answer
        assert all(p == "/api/v1/targets?state=active" for p in paths), paths
    finally:
        server.shutdown()
        server.server_close()


def targets_document(*targets: dict[str, Any]) -> dict[str, Any]:
    return {"status": "success", "data": {"activeTargets": list(targets), "droppedTargets": []}}


@pytest.mark.parametrize(
    ("targets", "outcome", "detail"),
    [
        ([target("prometheus", "localhost:9090", "up"), target("grafana", "grafana.pacs.local:3000", "up")],
         Outcome.PASS, "2 targets up"),
        ([target("prometheus", "localhost:9090", "up"),
          target("pacs-backend", "backend.pacs.local:8080", "down", "dial tcp: i/o timeout")],
         Outcome.FAIL, "down: pacs-backend backend.pacs.local:8080 (dial tcp: i/o timeout)"),
        ([target("grafana", "grafana.pacs.local:3000", "unknown")],
         Outcome.WARN, "not scraped yet: grafana grafana.pacs.local:3000"),
        ([], Outcome.WARN, "Prometheus has no active targets"),
    ],
    ids=["all-up", "one-down", "not-scraped-yet", "none"],
)  # fmt: skip
def test_target_health_through_the_prometheus_api(
    prometheus: tuple[str, list[Any]], targets: list[dict[str, Any]], outcome: Outcome, detail: str
) -> None:
    url, answer = prometheus
    answer[0] = targets_document(*targets)
    assert prometheus_targets(url) == Check("Prometheus scrape targets up", outcome, detail)


def test_an_unreachable_or_broken_prometheus_is_a_warning_never_a_failure(
    prometheus: tuple[str, list[Any]],
) -> None:
    url, answer = prometheus
    answer[0] = 503
    assert prometheus_targets(url).outcome is Outcome.WARN
    assert "(HTTP 503)" in prometheus_targets(url).detail
    answer[0] = {"status": "success", "data": {}}
    assert "not a Prometheus targets response" in prometheus_targets(url).detail

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    unreachable = prometheus_targets(f"http://127.0.0.1:{port}", timeout=2)
    assert unreachable.outcome is Outcome.WARN
    assert unreachable.detail.startswith(
        f"not checked: http://127.0.0.1:{port}/api/v1/targets?state=active did not answer"
    )


def test_the_prometheus_url_option_takes_only_http_addresses(tmp_path: Any) -> None:
    spec = tmp_path / "monitoring.yaml"
    spec.write_text("version: 1\nstack: verify-services\nregion: ap-northeast-2\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--no-color", "verify", "-f", str(spec), "--prometheus-url", "file:///etc/passwd"]
    )
    assert result.exit_code == 3
    assert "--prometheus-url file:///etc/passwd: an http:// or https:// address" in result.stderr
