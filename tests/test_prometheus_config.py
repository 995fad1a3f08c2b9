"""configs/prometheus.yml: parses, and says what the guide's prometheus-config.yml says (intervals,
every scrape job with its targets, the alertmanager), in a form Prometheus accepts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "prometheus.yml"

# The guide's scrape jobs: name -> (targets, scrape interval or None for the global one, metrics path).
GUIDE_JOBS: dict[str, tuple[list[str], str | None, str]] = {
    "prometheus": (["localhost:9090"], None, "/metrics"),
    "pacs-backend": (["pacs-backend-service:8080"], "30s", "/metrics"),
    "postgresql": (["postgres-exporter:9187"], "30s", "/metrics"),
    "redis": (["redis-exporter:9121"], "30s", "/metrics"),
    "node-exporter": (["node-exporter:9100"], "30s", "/metrics"),
    "cadvisor": (["cadvisor:8080"], "30s", "/metrics"),
}
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


def test_every_scrape_job_of_the_guide_with_its_targets(jobs: dict[str, dict[str, Any]]) -> None:
    assert set(jobs) == set(GUIDE_JOBS)
    for name, (targets, interval, path) in GUIDE_JOBS.items():
        job = jobs[name]
        found = [t for static in job["static_configs"] for t in static["targets"]]
        assert found == targets, name
        assert job.get("scrape_interval") == interval, name
        assert job.get("metrics_path", "/metrics") == path, name


def test_targets_and_durations_are_well_formed(
    config: dict[str, Any], jobs: dict[str, dict[str, Any]]
) -> None:
    durations = [config["global"]["scrape_interval"], config["global"]["evaluation_interval"]]
    durations += [job["scrape_interval"] for job in jobs.values() if "scrape_interval" in job]
    assert all(DURATION.match(d) for d in durations), durations
    targets = [t for job in jobs.values() for static in job["static_configs"] for t in static["targets"]]
    targets += [
        t for am in config["alerting"]["alertmanagers"] for s in am["static_configs"] for t in s["targets"]
    ]
    assert all(TARGET.match(t) and 0 < int(t.rsplit(":", 1)[1]) < 65536 for t in targets), targets


def test_alerts_go_to_the_alertmanager(config: dict[str, Any]) -> None:
    managers = config["alerting"]["alertmanagers"]
    targets = [t for manager in managers for static in manager["static_configs"] for t in static["targets"]]
    assert targets == ["alertmanager:9093"]
    assert config["rule_files"] == ["rules/*.yml"]
