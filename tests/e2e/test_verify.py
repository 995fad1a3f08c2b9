"""`verify`: the guide's test scripts as one check with a pass/fail table and exit code."""

from __future__ import annotations

import json
import re

import pytest
from moto.cloudwatch.models import cloudwatch_backends
from moto.sns.models import sns_backends

from .conftest import REGION, Cli, Server

ACCOUNT = "123456789012"


@pytest.mark.usefixtures("converged")
def test_verify_passes_on_the_applied_stack_and_exercises_the_alert_path(cli: Cli, server: Server) -> None:
    result = cli("verify", "--notify", "--format", "json")
    assert result.exit_code == 0, result.stdout
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["log groups exist"]["outcome"] == "pass"
    assert checks["alarms exist"]["outcome"] == "pass"
    assert checks["alert topic exists"]["outcome"] == "pass"
    assert checks["custom metrics in PACS/Application"]["outcome"] == "warn"  # no log lines yet
    assert checks["test message published to the alert topic"]["outcome"] == "pass"
    assert checks["alarm pacs-backend-error-rate flips to ALARM and back to OK"]["outcome"] == "pass"

    topic = sns_backends[ACCOUNT][REGION].topics[f"arn:aws:sns:{REGION}:{ACCOUNT}:pacs-alerts"]
    assert [n[2] for n in topic.sent_notifications] == ["[pacs-reconcile verify] test notification"]
    alarm = cloudwatch_backends[ACCOUNT][REGION].alarms["pacs-backend-error-rate"]
    # moto's history keeps each state left behind: (type, reason, data, state, time)
    assert ("pacs-reconcile verify: testing the ALARM path", "ALARM") in [(h[1], h[3]) for h in alarm.history]
    assert (alarm.state_value, alarm.state_reason) == ("OK", "pacs-reconcile verify: testing the OK path")


@pytest.mark.usefixtures("converged")
def test_verify_fails_when_a_declared_resource_is_missing(cli: Cli, server: Server) -> None:
    server.client("cloudwatch").delete_alarms(AlarmNames=["rds-connections"])
    result = cli("verify", "--no-notify")
    assert result.exit_code == 1
    assert "missing: alarms.rds_connections" in result.stdout
    assert re.search(r"^\d+ passed, \d+ warnings?, 1 failed \(\d+ checks\)\.$", result.stderr, re.M)


@pytest.mark.usefixtures("converged")
def test_verify_checks_the_running_services_and_warns_without_prometheus(cli: Cli, server: Server) -> None:
    result = cli("verify", "--format", "json")
    assert result.exit_code == 0, result.stdout
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["service prometheus running"] == {
        "check": "service prometheus running",
        "outcome": "pass",
        "detail": "1 of 1 tasks running",
    }
    assert checks["service grafana running"]["outcome"] == "pass"
    # Prometheus runs in the private subnets: unreachable from here is a warning, never a failure
    assert checks["Prometheus scrape targets up"]["outcome"] == "warn"

    server.client("ecs").delete_service(cluster="pacs-cluster", service="grafana", force=True)
    missing = cli("verify", "--format", "json")
    assert missing.exit_code == 1
    checks = {c["check"]: c for c in json.loads(missing.stdout)["checks"]}
    assert checks["service grafana running"]["outcome"] == "fail"
    assert checks["service grafana running"]["detail"] == "missing: ecs_services.grafana"
