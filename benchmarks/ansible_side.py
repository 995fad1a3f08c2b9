"""The side-by-side: Ansible's amazon.aws modules in check mode on the same emulator and stack.

Ansible is a benchmark dependency, not a runtime one: it lives in a virtualenv of its own,
benchmarks/.ansible-venv (made on first use with `pip install ansible boto3`; the `ansible`
package bundles the amazon.aws collection). The playbook is written from the LIVE state of the
stack pacs-reconcile converged (log groups with retention and tags, their metric filters, the
single-metric alarms with their actions), so check mode compares against exactly what exists and
has nothing to change: what it measures is the cost of reading, as a `plan` does.

Counted from outside like the plan: the process's wall time, and the AWS requests the emulator
served meanwhile (Ansible has no --stats).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VENV = Path(__file__).resolve().parent / ".ansible-venv"
PIP_REQUIREMENTS = ("ansible", "boto3")
MODULES = "amazon.aws"


@dataclass
class AnsibleRun:
    resources: int
    """Tasks in the playbook, one resource each."""
    by_module: dict[str, int]
    wall_s: float
    aws_requests: int
    changed: int
    """Tasks check mode would change (0 expected: the playbook is written from live state)."""
    changed_tasks: list[str]
    ansible_version: str
    exit_code: int
    output_tail: str = ""


def ensure_venv() -> Path:
    """benchmarks/.ansible-venv/bin/ansible-playbook, installing Ansible there if missing."""
    playbook = VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        print("[ansible] making benchmarks/.ansible-venv (pip install ansible boto3)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *PIP_REQUIREMENTS], check=True)
    return playbook


def ansible_version() -> str:
    done = subprocess.run(
        [str(VENV / "bin" / "python"), "-c", "import ansible.release as r; print(r.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def tasks_from_live(session: Any, spec_names: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One task per resource, each stating the live resource exactly (so nothing is to change).

    `spec_names`: log group names and alarm names the repository's spec declares."""
    logs = session.client("logs")
    cloudwatch = session.client("cloudwatch")
    tasks: list[dict[str, Any]] = []
    for name in spec_names["log_groups"]:
        group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        group = next(g for g in group if g["logGroupName"] == name)
        arn = group["arn"].removesuffix(":*")
        tags = logs.list_tags_for_resource(resourceArn=arn).get("tags", {})
        task: dict[str, Any] = {"log_group_name": name, "state": "present", "tags": tags, "purge_tags": True}
        if group.get("retentionInDays"):
            task["retention"] = group["retentionInDays"]
        tasks.append({"name": f"log group {name}", f"{MODULES}.cloudwatchlogs_log_group": task})
        for found in logs.describe_metric_filters(logGroupName=name)["metricFilters"]:
            transformation = found["metricTransformations"][0]
            metric: dict[str, Any] = {
                "metric_name": transformation["metricName"],
                "metric_namespace": transformation["metricNamespace"],
                "metric_value": transformation["metricValue"],
            }
            if "defaultValue" in transformation:
                metric["default_value"] = transformation["defaultValue"]
            tasks.append(
                {
                    "name": f"metric filter {found['filterName']}",
                    f"{MODULES}.cloudwatchlogs_log_group_metric_filter": {
                        "state": "present",
                        "log_group_name": name,
                        "filter_name": found["filterName"],
                        "filter_pattern": found["filterPattern"],
                        "metric_transformation": metric,
                    },
                }
            )
    alarms = cloudwatch.describe_alarms(AlarmNames=spec_names["alarms"], MaxRecords=100)["MetricAlarms"]
    for alarm in alarms:
        if "MetricName" not in alarm:  # metric math: the module states it differently; left out
            continue
        task = {
            "state": "present",
            "name": alarm["AlarmName"],
            "metric_name": alarm["MetricName"],
            "namespace": alarm["Namespace"],
            "comparison": alarm["ComparisonOperator"],
            "threshold": alarm["Threshold"],
            "period": alarm["Period"],
            "evaluation_periods": alarm["EvaluationPeriods"],
            "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
            "alarm_actions": alarm.get("AlarmActions", []),
            "ok_actions": alarm.get("OKActions", []),
            "insufficient_data_actions": alarm.get("InsufficientDataActions", []),
            "treat_missing_data": alarm.get("TreatMissingData", "missing"),
        }
        for field, key in (("statistic", "Statistic"), ("description", "AlarmDescription"), ("unit", "Unit")):
            if alarm.get(key):
                task[field] = alarm[key]
        if alarm.get("DatapointsToAlarm"):
            task["datapoints_to_alarm"] = alarm["DatapointsToAlarm"]
        tasks.append({"name": f"alarm {alarm['AlarmName']}", f"{MODULES}.cloudwatch_metric_alarm": task})
    return tasks


def playbook(tasks: list[dict[str, Any]], endpoint: str, region: str) -> list[dict[str, Any]]:
    return [
        {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": str(VENV / "bin" / "python")},
            "module_defaults": {"group/aws": {"region": region, "endpoint_url": endpoint}},
            "tasks": tasks,
        }
    ]


def run_check_mode(
    tasks: list[dict[str, Any]], endpoint: str, region: str, requests_served: Any
) -> AnsibleRun:
    """`ansible-playbook --check` of `tasks`; `requests_served()` reads the emulator's counter."""
    command = ensure_venv()
    by_module = Counter(
        next(k for k in task if k.startswith(MODULES)).removeprefix(MODULES + ".") for task in tasks
    )
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_NOCOLOR": "1",
    }
    env.pop("PYTHONPATH", None)
    with tempfile.TemporaryDirectory(prefix="pacs-ansible-") as tmp:
        book = Path(tmp) / "check.yml"
        book.write_text(json.dumps(playbook(tasks, endpoint, region), indent=1))  # JSON is YAML
        before = requests_served()
        started = time.perf_counter()
        done = subprocess.run(
            [str(command), "-i", "localhost,", "--check", str(book)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
        wall = time.perf_counter() - started
        requests = requests_served() - before
    changed, changed_tasks = _changed(done.stdout)
    return AnsibleRun(
        resources=len(tasks),
        by_module=dict(by_module),
        wall_s=wall,
        aws_requests=requests,
        changed=changed,
        changed_tasks=changed_tasks,
        ansible_version=ansible_version(),
        exit_code=done.returncode,
        output_tail=(done.stdout[-1500:] + done.stderr[-1500:]) if done.returncode or changed else "",
    )


def _changed(stdout: str) -> tuple[int, list[str]]:
    """(tasks reported changed, their names) from the json callback's report."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return -1, []
    names = [
        task["task"]["name"]
        for play in report.get("plays", [])
        for task in play.get("tasks", [])
        if any(host.get("changed") for host in task.get("hosts", {}).values())
    ]
    return len(names), names
