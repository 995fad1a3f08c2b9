"""Point 3, destroy protection that survives removal from the spec: stateful kinds (log groups,
EFS file systems) and anything marked lifecycle.prevent_destroy are deleted only when the command
names them (--allow-destroy), also once their entry is gone from the spec (the mark lives in AWS,
as the tag pacs-reconcile:prevent-destroy); `destroy` deletes only what carries this stack's
owner tag, lists it, and asks for the stack name unless --auto-approve."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from pacs_reconcile.engine.plan import PROTECTED_TAG

from .conftest import Cli, Server

STACK = "pacs-monitoring"
S3_ALARM = "alarms.s3_bucket_size"
S3_ALARM_UNDECLARED = 'alarms["s3-bucket-size"]'


def _protect_s3_alarm(stack_dir: Path) -> Path:
    alarms = stack_dir / "specs" / "alarms.yaml"
    text = alarms.read_text()
    marker = "    name: s3-bucket-size${var.name_suffix}\n"
    assert marker in text
    alarms.write_text(text.replace(marker, marker + "    lifecycle: {prevent_destroy: true}\n"))
    return alarms


def _remove_s3_alarm(alarms: Path) -> None:
    text = alarms.read_text()
    alarms.write_text(text[: text.index("  s3_bucket_size:")] + text[text.index("  auto_scaling_cpu:") :])


def _changes(cli: Cli, *args: str) -> dict[str, dict[str, object]]:
    planned = cli("plan", "--format", "json", *args)
    assert planned.exit_code in (0, 2), planned.stderr
    return {c["address"]: c for c in json.loads(planned.stdout)["changes"] if c["action"] != "no-op"}


def _alarm_exists(server: Server, name: str = "s3-bucket-size") -> bool:
    return bool(server.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"])


def _alarm_tags(server: Server, name: str = "s3-bucket-size") -> dict[str, str]:
    cloudwatch = server.client("cloudwatch")
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return {t["Key"]: t["Value"] for t in cloudwatch.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def test_prevent_destroy_survives_the_removal_of_the_entry_from_the_spec(
    cli: Cli, server: Server, stack_dir: Path
) -> None:
    alarms = _protect_s3_alarm(stack_dir)
    assert cli("apply", "--auto-approve").exit_code == 0
    assert _alarm_tags(server)[PROTECTED_TAG] == "true"

    _remove_s3_alarm(alarms)
    kept = _changes(cli)[S3_ALARM_UNDECLARED]
    assert kept["action"] == "retained"
    assert "lifecycle.prevent_destroy was set when it was last applied" in str(kept["reason"])
    assert f"--allow-destroy '{S3_ALARM_UNDECLARED}'" in str(kept["reason"])
    assert cli("apply", "--auto-approve").exit_code == 0
    assert _alarm_exists(server)
    assert cli("destroy", "--auto-approve").exit_code == 0
    assert _alarm_exists(server), "destroy without naming it keeps a protected resource too"

    named = cli("destroy", "--auto-approve", "--allow-destroy", S3_ALARM_UNDECLARED)
    assert named.exit_code == 0, named.stdout + named.stderr
    assert not _alarm_exists(server)


def test_dropping_prevent_destroy_lifts_the_protection(cli: Cli, server: Server, stack_dir: Path) -> None:
    alarms = _protect_s3_alarm(stack_dir)
    assert cli("apply", "--auto-approve").exit_code == 0
    alarms.write_text(alarms.read_text().replace("    lifecycle: {prevent_destroy: true}\n", ""))
    lifted = _changes(cli)[S3_ALARM]
    assert lifted["action"] == "update"
    paths = {d["path"] for d in lifted["differences"]}  # type: ignore[union-attr]
    assert paths == {f"tags.{PROTECTED_TAG}", "tags.pacs-reconcile:fingerprint"}
    assert cli("apply", "--auto-approve").exit_code == 0
    assert _alarm_tags(server)[PROTECTED_TAG] == "false"
    _remove_s3_alarm(alarms)
    assert _changes(cli)[S3_ALARM_UNDECLARED]["action"] == "delete"
    assert cli("apply", "--auto-approve").exit_code == 0
    assert not _alarm_exists(server)


@pytest.mark.usefixtures("converged")
def test_a_protected_resource_is_not_replaced_unless_named(cli: Cli, server: Server, stack_dir: Path) -> None:
    prometheus = stack_dir / "specs" / "prometheus.yaml"
    text = prometheus.read_text()
    encrypted = "    creation_token: prometheus-config${var.name_suffix}\n    encrypted: true\n"
    assert encrypted in text
    prometheus.write_text(text.replace(encrypted, encrypted.replace("encrypted: true", "encrypted: false")))
    refused = cli("plan")
    assert refused.exit_code == 1
    assert "efs_file_systems.prometheus_config: changing encrypted needs a replacement" in refused.stderr
    assert "--allow-destroy efs_file_systems.prometheus_config" in refused.stderr
    assert cli("apply", "--auto-approve").exit_code == 1
    tokens = {f["CreationToken"] for f in server.client("efs").describe_file_systems()["FileSystems"]}
    assert tokens == {"prometheus-config", "grafana-storage"}


@pytest.mark.usefixtures("converged")
def test_destroy_keeps_stateful_kinds_and_what_it_does_not_own_and_lists_what_it_deletes(
    cli: Cli, server: Server
) -> None:
    cloudwatch = server.client("cloudwatch")
    common = dict(
        MetricName="m",
        Namespace="n",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.put_metric_alarm(AlarmName="someone-elses", **common)
    cloudwatch.put_metric_alarm(
        AlarmName="another-stacks", Tags=[{"Key": "pacs-reconcile:stack", "Value": "x"}], **common
    )
    # An address naming nothing is refused (a typo would otherwise protect or allow nothing).
    unknown = cli("plan", "--allow-destroy", "nothing-named")
    assert unknown.exit_code == 3
    assert "--allow-destroy nothing-named: no kind 'nothing-named'" in unknown.stderr
    destroyed = cli("destroy", "--auto-approve")
    assert destroyed.exit_code == 0, destroyed.stdout + destroyed.stderr
    assert "alarms.rds_connections will be destroyed" in destroyed.stdout
    assert "log_groups.pacs_backend" in destroyed.stdout and "kept because it holds data" in destroyed.stdout
    names = {a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert names == {"someone-elses", "another-stacks"}
    assert len(server.client("logs").describe_log_groups()["logGroups"]) >= 7
    assert len(server.client("efs").describe_file_systems()["FileSystems"]) == 2
    again = cli("plan", "--detailed-exitcode")
    assert again.exit_code == 2  # the deleted resources are declared: plan wants them back


def _destroy_on_a_terminal(server: Server, stack_dir: Path, answer: str) -> subprocess.CompletedProcess[str]:
    """`destroy` with a real terminal on stdin, answering its question with `answer`."""
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        NO_COLOR="1",
    )
    try:
        os.write(controller, f"{answer}\n".encode())
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pacs_reconcile.cli",
                "--endpoint-url",
                server.endpoint,
                "destroy",
                "-f",
                str(stack_dir / "monitoring.yaml"),
            ],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
    finally:
        os.close(controller)
        os.close(terminal)


@pytest.mark.usefixtures("converged")
def test_destroy_asks_for_the_stack_name_on_a_terminal(cli: Cli, server: Server, stack_dir: Path) -> None:
    wrong = _destroy_on_a_terminal(server, stack_dir, "yes")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert f"Type the stack name ({STACK}) to destroy everything it owns" in wrong.stderr
    assert "destroy cancelled; nothing was changed" in wrong.stderr
    assert _alarm_exists(server, "rds-connections")

    right = _destroy_on_a_terminal(server, stack_dir, STACK)
    assert right.returncode == 0, right.stdout + right.stderr
    assert not _alarm_exists(server, "rds-connections")


@pytest.mark.usefixtures("converged")
def test_destroy_without_a_terminal_or_auto_approve_refuses(cli: Cli, server: Server) -> None:
    refused = cli("destroy", input="pacs-monitoring\n")
    assert refused.exit_code == 3
    assert "no terminal to ask on; pass --auto-approve" in refused.stderr
    assert refused.mutating_calls.keys() <= {"ssm.PutParameter", "ssm.DeleteParameter"}  # only the lock
    assert _alarm_exists(server, "rds-connections")
