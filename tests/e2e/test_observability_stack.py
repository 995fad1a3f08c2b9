"""Prometheus and Grafana on Fargate (task definitions, EFS with mount targets, the EFS security
group, the Grafana password in SSM) through the CLI against a moto server: the whole repo spec
converges, replacements keep the mount targets working, and the password never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import aws as aws_module
from pacs_reconcile.aws import is_mutating
from pacs_reconcile.resources.registry import KINDS

from .conftest import Cli, Server

OBSERVABILITY = {
    "security_groups.efs",
    "efs_file_systems.prometheus_config",
    "efs_file_systems.prometheus_config.mount_targets.zone_a",
    "efs_file_systems.prometheus_config.mount_targets.zone_b",
    "efs_file_systems.grafana_storage",
    "efs_file_systems.grafana_storage.mount_targets.zone_a",
    "efs_file_systems.grafana_storage.mount_targets.zone_b",
    "task_definitions.prometheus",
    "task_definitions.grafana",
    "ssm_parameters.grafana_admin_password",
}
MOUNT_TARGETS = sorted(a for a in OBSERVABILITY if ".mount_targets." in a)
PASSWORD = "Gr4fana-Adm1n-Secr3t-XYZ"
LOCK_PARAMETERS = "/pacs-reconcile/"
"""Where apply keeps the stack's lock (SSM parameters it writes on every run, not a resource)."""


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every mutating AWS call the CLI makes from now on, as "service.Operation", except those on
    the apply lock's parameters."""
    made: list[str] = []
    original = aws_module.AwsContext.__init__

    def init(ctx: aws_module.AwsContext, *args: Any, **kwargs: Any) -> None:
        original(ctx, *args, **kwargs)

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            on_lock = str(params.get("Name", "")).startswith(LOCK_PARAMETERS)
            if is_mutating(model.name) and not on_lock:
                made.append(f"{model.service_model.service_name}.{model.name}")

        ctx.events.register("provide-client-params.*.*", record)

    monkeypatch.setattr(aws_module.AwsContext, "__init__", init)
    return made


def _plan(cli: Cli, **env: str) -> dict[str, dict[str, Any]]:
    planned = cli("plan", "--format", "json", env=env or None)
    assert planned.exit_code in (0, 2), planned.stderr
    return {c["address"]: c for c in json.loads(planned.stdout)["changes"]}


def _apply(cli: Cli, **env: str) -> str:
    applied = cli("apply", "--auto-approve", env=env or None)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    return applied.stdout


def _mount_target_groups(server: Server) -> dict[str, list[str]]:
    """Mount target id -> its security groups, over every file system."""
    efs = server.client("efs")
    out: dict[str, list[str]] = {}
    for fs in efs.describe_file_systems()["FileSystems"]:
        for target in efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]:
            groups = efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])
            out[target["MountTargetId"]] = groups["SecurityGroups"]
    return out


def _efs_group(server: Server) -> dict[str, Any]:
    found = server.client("ec2").describe_security_groups(
        Filters=[{"Name": "tag:pacs-reconcile:name", "Values": ["pacs-efs"]}]
    )["SecurityGroups"]
    assert len(found) == 1, found
    return dict(found[0])


def _only_bookkeeping_elsewhere(planned: dict[str, dict[str, Any]], address: str) -> bool:
    """Nothing but `address` changes, apart from the tool's own tags (the spec fingerprint a parent
    carries for its children)."""
    others = [c for a, c in planned.items() if a != address and c["action"] != "no-op"]
    return all(
        c["action"] == "update"
        and all(d["path"].startswith("tags.pacs-reconcile:") for d in c["differences"])
        for c in others
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_whole_stack_plans_creates_applies_and_converges(
    cli: Cli, server: Server, writes: list[str]
) -> None:
    planned = _plan(cli)
    assert set(planned) >= OBSERVABILITY
    assert {c["action"] for c in planned.values()} == {"create"}

    _apply(cli)
    clean = cli("plan", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.stdout
    writes.clear()
    again = cli("apply", "--auto-approve")
    assert again.exit_code == 0
    assert writes == [], "an unchanged task definition is never registered again"

    ecs = server.client("ecs")
    grafana = ecs.describe_task_definition(taskDefinition="grafana")["taskDefinition"]
    assert grafana["revision"] == 1
    container = grafana["containerDefinitions"][0]
    assert container["image"] == "grafana/grafana:11.1.0"
    assert [s["name"] for s in container["secrets"]] == ["GF_SECURITY_ADMIN_PASSWORD"]
    assert container["secrets"][0]["valueFrom"].endswith(":parameter/pacs/grafana/admin-password")
    assert all("PASSWORD" not in e["name"] for e in container["environment"])
    volume = grafana["volumes"][0]["efsVolumeConfiguration"]
    file_systems = {
        fs["CreationToken"]: fs for fs in server.client("efs").describe_file_systems()["FileSystems"]
    }
    assert volume["fileSystemId"] == file_systems["grafana-storage"]["FileSystemId"]
    assert all(fs["Encrypted"] for fs in file_systems.values())
    assert len(_mount_target_groups(server)) == 4
    assert _efs_group(server)["IpPermissionsEgress"] == [], "AWS's default egress rule was removed"


def test_the_grafana_password_goes_to_ssm_and_never_shows(cli: Cli, server: Server) -> None:
    env = {"GRAFANA_ADMIN_PASSWORD": PASSWORD}
    text = cli("plan", env=env)
    as_json = cli("plan", "--format", "json", env=env)
    applied = cli("apply", "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    stored = server.client("ssm").get_parameter(Name="/pacs/grafana/admin-password", WithDecryption=True)
    assert stored["Parameter"]["Value"] == PASSWORD
    assert stored["Parameter"]["Type"] == "SecureString"

    server.client("ssm").put_parameter(
        Name="/pacs/grafana/admin-password", Value="changed-by-hand", Type="SecureString", Overwrite=True
    )
    drift = cli("plan", "--format", "json", env=env)
    change = next(
        c
        for c in json.loads(drift.stdout)["changes"]
        if c["address"] == "ssm_parameters.grafana_admin_password"
    )
    assert [d["path"] for d in change["differences"]] == ["value"]
    difference = change["differences"][0]
    # format_version 2 marks a sensitive value beside it and never writes it (render.difference_json)
    assert difference["old_sensitive"] is True and difference["new_sensitive"] is True
    assert difference["old"] is None and difference["new"] is None
    repaired = cli("apply", "--auto-approve", env=env)
    for result in (text, as_json, applied, drift, repaired):
        for output in (result.stdout, result.stderr):
            assert PASSWORD not in output
            assert "changed-by-hand" not in output
    assert "(sensitive value)" in text.stdout


def test_a_security_group_description_change_moves_mount_targets_before_the_old_group_goes(
    cli: Cli, server: Server, stack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _apply(cli)
    old = _efs_group(server)["GroupId"]
    _edit(
        stack_dir / "specs" / "prometheus.yaml", "NFS from the PACS VPC to", "NFS (v2) from the PACS VPC to"
    )

    planned = _plan(cli)
    assert planned["security_groups.efs"]["action"] == "replace"
    assert "description" in planned["security_groups.efs"]["reason"]
    assert {a: planned[a]["action"] for a in MOUNT_TARGETS} == dict.fromkeys(MOUNT_TARGETS, "update")

    # Whenever the old group is deleted, no mount target may still use it.
    groups = KINDS["security_groups"]
    original_delete = groups.delete
    in_use_at_delete: list[list[str]] = []

    def checking_delete(ctx: Any, live: Any) -> None:
        in_use_at_delete.append([m for m, g in _mount_target_groups(server).items() if live.handle in g])
        original_delete(ctx, live)

    monkeypatch.setattr(groups, "delete", checking_delete)
    stdout = _apply(cli)
    assert "1 replaced" in stdout and "4 changed" in stdout
    assert in_use_at_delete == [[]], "the old group was deleted only after every mount target left it"

    new = _efs_group(server)
    assert new["GroupId"] != old and new["GroupName"] == "pacs-efs-2"
    assert set(map(tuple, _mount_target_groups(server).values())) == {(new["GroupId"],)}
    ec2 = server.client("ec2")
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [old]}])["SecurityGroups"]
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_mount_target_subnet_change_is_a_replacement(cli: Cli, server: Server, stack_dir: Path) -> None:
    _apply(cli)
    grafana = stack_dir / "specs" / "grafana.yaml"
    # Another subnet of the same zone (the seed's public subnet in zone a).
    grafana.write_text(
        "lookups:\n  public_subnet_a: {kind: subnet, tags: {Name: pacs-public-a}}\n\n"
        + grafana.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    _edit(grafana, "subnet_id: ${lookups.private_subnet_a.id}", "subnet_id: ${lookups.public_subnet_a.id}")

    planned = _plan(cli)
    address = "efs_file_systems.grafana_storage.mount_targets.zone_a"
    assert planned[address]["action"] == "replace"
    assert [d["path"] for d in planned[address]["differences"]] == ["subnet_id"]
    assert _only_bookkeeping_elsewhere(planned, address)

    stdout = _apply(cli)
    assert "1 replaced" in stdout
    public_a = server.client("ec2").describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": ["pacs-public-a"]}]
    )
    efs = server.client("efs")
    fs_id = next(
        fs["FileSystemId"]
        for fs in efs.describe_file_systems()["FileSystems"]
        if fs["CreationToken"] == "grafana-storage"
    )
    subnets = {
        t["AvailabilityZoneName"]: t["SubnetId"]
        for t in efs.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]
    }
    assert subnets["ap-northeast-2a"] == public_a["Subnets"][0]["SubnetId"]
    assert len(subnets) == 2
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_new_image_registers_one_revision_and_keeps_the_previous(
    cli: Cli, server: Server, stack_dir: Path, writes: list[str]
) -> None:
    _apply(cli)
    _edit(stack_dir / "specs" / "prometheus.yaml", "prom/prometheus:v2.53.0", "prom/prometheus:v2.54.1")
    planned = _plan(cli)
    change = planned["task_definitions.prometheus"]
    assert change["action"] == "update"
    paths = [d["path"] for d in change["differences"] if not d["path"].startswith("tags.pacs-reconcile:")]
    assert paths == ["containers.prometheus.image"]

    writes.clear()
    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout
    # one new revision, its tags in the same call; the service running it rolls onto it
    assert writes == ["ecs.RegisterTaskDefinition", "ecs.UpdateService"]
    _edit(stack_dir / "specs" / "prometheus.yaml", "prom/prometheus:v2.54.1", "prom/prometheus:v2.55.0")
    assert cli("apply", "--auto-approve").exit_code == 0
    active = server.client("ecs").list_task_definitions(familyPrefix="prometheus", status="ACTIVE")
    assert sorted(arn.rsplit(":", 1)[1] for arn in active["taskDefinitionArns"]) == ["2", "3"]
    assert cli("plan", "--detailed-exitcode").exit_code == 0
