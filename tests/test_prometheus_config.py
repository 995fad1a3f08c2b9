"""configs/prometheus.yml: parses, and says what the guide's prometheus-config.yml says (intervals,
every scrape job with its port, the alertmanager), in a form Prometheus accepts; its targets are
found in AWS by DNS service discovery, under names the stack declares in Cloud Map
(specs/discovery.yaml), on ports the Prometheus tasks' security group lets them reach."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pacs_reconcile import api

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "prometheus.yml"

# The guide's scrape jobs: name -> (the guide's target, scrape interval or None for the global one,
# metrics path). The guide's host names resolve nowhere in AWS: each (but Prometheus itself) is now
# the Cloud Map service of the same role, on the guide's port.
GUIDE_JOBS: dict[str, tuple[str, str | None, str]] = {
    "prometheus": ("localhost:9090", None, "/metrics"),
    "pacs-backend": ("pacs-backend.__DISCOVERY_NAMESPACE__:8080", "30s", "/metrics"),
    "postgresql": ("postgres-exporter.__DISCOVERY_NAMESPACE__:9187", "30s", "/metrics"),
    "redis": ("redis-exporter.__DISCOVERY_NAMESPACE__:9121", "30s", "/metrics"),
    "node-exporter": ("node-exporter.__DISCOVERY_NAMESPACE__:9100", "30s", "/metrics"),
    "cadvisor": ("cadvisor.__DISCOVERY_NAMESPACE__:8080", "30s", "/metrics"),
}
NAMESPACE_MARK = ".__DISCOVERY_NAMESPACE__"
"""What the prometheus task replaces with the stack's namespace at start (specs/prometheus.yaml)."""
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")
TARGET = re.compile(r"^[A-Za-z0-9.-]+:\d{1,5}$")
TOP_LEVEL_KEYS = {
    "global",
    "rule_files",
    "alerting",
    "scrape_configs",
    "remote_write",
    "remote_read",
    "storage",
    "tracing",
    "scrape_config_files",
}
JOB_KEYS = {
    "job_name",
    "static_configs",
    "dns_sd_configs",
    "scrape_interval",
    "scrape_timeout",
    "metrics_path",
    "scheme",
    "honor_labels",
    "params",
    "relabel_configs",
    "metric_relabel_configs",
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    loaded = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "the configuration must be a YAML mapping"
    return loaded


@pytest.fixture(scope="module")
def jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    names = [job["job_name"] for job in config["scrape_configs"]]
    assert len(names) == len(set(names)), f"job names must be unique: {names}"
    return {job["job_name"]: job for job in config["scrape_configs"]}


def test_only_keys_prometheus_knows(config: dict[str, Any], jobs: dict[str, dict[str, Any]]) -> None:
    assert set(config) <= TOP_LEVEL_KEYS
    for name, job in jobs.items():
        assert set(job) <= JOB_KEYS, f"job {name}: unknown keys {set(job) - JOB_KEYS}"


def test_global_intervals(config: dict[str, Any]) -> None:
    assert config["global"]["scrape_interval"] == "15s"
    assert config["global"]["evaluation_interval"] == "15s"


def targets_of(job: dict[str, Any]) -> list[str]:
    """host:port of every target a job names, static or looked up by DNS (A records on a port)."""
    found = [t for static in job.get("static_configs", []) for t in static["targets"]]
    for dns in job.get("dns_sd_configs", []):
        assert dns["type"] == "A", "Cloud Map services of awsvpc tasks answer A records"
        found += [f"{name}:{dns['port']}" for name in dns["names"]]
    return found


def test_every_scrape_job_of_the_guide_with_its_targets(jobs: dict[str, dict[str, Any]]) -> None:
    assert set(jobs) == set(GUIDE_JOBS)
    for name, (target, interval, path) in GUIDE_JOBS.items():
        job = jobs[name]
        assert targets_of(job) == [target], name
        assert job.get("scrape_interval") == interval, name
        assert job.get("metrics_path", "/metrics") == path, name


def test_targets_and_durations_are_well_formed(
    config: dict[str, Any], jobs: dict[str, dict[str, Any]]
) -> None:
    durations = [config["global"]["scrape_interval"], config["global"]["evaluation_interval"]]
    durations += [job["scrape_interval"] for job in jobs.values() if "scrape_interval" in job]
    assert all(DURATION.match(d) for d in durations), durations
    targets = [
        t.replace(NAMESPACE_MARK, ".pacs-monitoring.local") for job in jobs.values() for t in targets_of(job)
    ]
    targets += [
        t for am in config["alerting"]["alertmanagers"] for s in am["static_configs"] for t in s["targets"]
    ]
    assert all(TARGET.match(t) and 0 < int(t.rsplit(":", 1)[1]) < 65536 for t in targets), targets


def test_discovered_targets_are_names_the_stack_declares_on_ports_prometheus_may_reach(
    jobs: dict[str, dict[str, Any]],
) -> None:
    spec = api.load(REPO / "monitoring.yaml")
    declared = {
        node.config["name"]
        for address, node in spec.resources.items()
        if address.startswith("service_discovery_namespaces.monitoring.services.")
    }
    egress = spec.resources["security_groups.prometheus"].config["egress"]
    reachable = {rule["from_port"] for rule in egress if rule["protocol"] == "tcp"}
    discovered = [t for job in jobs.values() for t in targets_of(job) if NAMESPACE_MARK in t]
    assert len(discovered) == 5
    for target in discovered:
        host, port = target.rsplit(":", 1)
        assert host.removesuffix(NAMESPACE_MARK) in declared, target
        assert int(port) in reachable, f"{target}: the Prometheus tasks' group does not let it out"


def test_alerts_go_to_the_alertmanager(config: dict[str, Any]) -> None:
    managers = config["alerting"]["alertmanagers"]
    targets = [t for manager in managers for static in manager["static_configs"] for t in static["targets"]]
    assert targets == ["alertmanager:9093"]
    assert config["rule_files"] == ["rules/*.yml"]


def test_the_start_command_writes_the_configuration_for_the_stacks_namespace(tmp_path: Path) -> None:
    """The prometheus container's shell command, run here with /bin/sh: what it writes is this file
    with the namespace in place, and it then starts Prometheus on it."""
    container = (
        api.load(REPO / "monitoring.yaml").resources["task_definitions.prometheus"].config["containers"]
    )
    prometheus = container["prometheus"]
    assert prometheus["entry_point"] == ["/bin/sh", "-c"]
    assert prometheus["secrets"]["PROMETHEUS_CONFIG"] == "${ssm_parameters.prometheus_config.arn}"
    assert (
        prometheus["environment"]["DISCOVERY_NAMESPACE"] == "${service_discovery_namespaces.monitoring.name}"
    )
    (command,) = prometheus["command"]
    written = tmp_path / "prometheus.yml"
    local = command.replace("/etc/prometheus/prometheus.yml", str(written)).replace(
        "exec /bin/prometheus", "exec echo"
    )
    assert local.count(str(written)) == 2 and "exec echo" in local
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PROMETHEUS_CONFIG": CONFIG.read_text(encoding="utf-8"),
        "DISCOVERY_NAMESPACE": "pacs-monitoring-prod.local",
    }
    done = subprocess.run(
        ["/bin/sh", "-c", local], env=environment, capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 0, done.stderr
    expected = CONFIG.read_text(encoding="utf-8").replace(
        "__DISCOVERY_NAMESPACE__", "pacs-monitoring-prod.local"
    )
    assert yaml.safe_load(written.read_text(encoding="utf-8")) == yaml.safe_load(expected)
    assert "__DISCOVERY_NAMESPACE__" not in written.read_text(encoding="utf-8")
    assert f"--config.file={written}" in done.stdout.split()
