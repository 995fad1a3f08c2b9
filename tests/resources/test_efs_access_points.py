"""efs_access_points on the emulator: an access point on a file system (by reference) converges
(apply -> empty plan -> zero writes); DescribeAccessPoints' defaults (root `/`) are no difference;
every attribute is a replacement (EFS has no UpdateAccessPoint) while tags change in place; one
deleted by hand is planned again; reads list each file system once; export round-trips; and the
spec refuses what EFS refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.export import Selection, check, export, render
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.efs_access_points import NAME_TAG, AccessPoints, AccessPointSpec
from pacs_reconcile.resources.registry import KINDS

from .spec_cycle import actions, converges, plan_of, repaired_by_hand_change

ACCESS_POINTS: AccessPoints = KINDS["efs_access_points"]  # type: ignore[assignment]
NAME = "grafana-data"
ROOT = {"path": "/grafana", "creation_info": {"owner_uid": 472, "owner_gid": 0, "permissions": "0755"}}
SPEC = """\
version: 1
stack: pacs-test
efs_file_systems:
  grafana_storage: {creation_token: grafana-storage}
efs_access_points:
  grafana_data:
    name: grafana-data
    file_system_id: ${efs_file_systems.grafana_storage.id}
    posix_user: {uid: 472, gid: 0, secondary_gids: [1001, 1000]}
    root_directory:
      path: /grafana
      creation_info: {owner_uid: 472, owner_gid: 0, permissions: "0755"}
    tags: {Name: grafana-data}
  whole:
    name: whole-file-system
    file_system_id: ${efs_file_systems.grafana_storage.id}
"""


@pytest.fixture
def file_system(aws: AwsContext) -> str:
    return str(aws.client("efs").create_file_system(CreationToken="grafana-storage")["FileSystemId"])


def desired(aws: AwsContext, file_system: str, **spec: Any) -> Desired:
    model = AccessPointSpec.model_validate({"name": NAME, "file_system_id": file_system, **spec})
    state = ACCESS_POINTS.canonical(model.model_dump(mode="json"))
    return Desired("efs_access_points.grafana_data", NAME, state, {OWNER_TAG: aws.stack, "Name": NAME})


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return ACCESS_POINTS.read(aws, list(names), ReadScope(aws.stack))


def test_registered_with_every_attribute_forcing_a_replacement() -> None:
    assert ACCESS_POINTS.meta.taggable and not ACCESS_POINTS.meta.stateful
    fields = set(AccessPointSpec.model_fields)
    assert ACCESS_POINTS.meta.force_new == fields, "EFS has no UpdateAccessPoint"


def test_access_points_converge_on_a_file_system_by_reference(tmp_path: Path, aws: AwsContext) -> None:
    assert set(actions(plan_of(tmp_path, aws, SPEC)).values()) == {Action.CREATE}
    converges(tmp_path, aws, SPEC)
    efs = aws.client("efs")
    system = efs.describe_file_systems(CreationToken="grafana-storage")["FileSystems"][0]["FileSystemId"]
    listed = {
        {t["Key"]: t["Value"] for t in ap["Tags"]}[NAME_TAG]: ap
        for ap in efs.describe_access_points(FileSystemId=system)["AccessPoints"]
    }
    assert set(listed) == {"grafana-data", "whole-file-system"}
    grafana = listed["grafana-data"]
    assert grafana["PosixUser"] == {"Uid": 472, "Gid": 0, "SecondaryGids": [1000, 1001]}
    assert grafana["RootDirectory"]["CreationInfo"]["Permissions"] == "0755"
    assert {t["Key"]: t["Value"] for t in grafana["Tags"]}[OWNER_TAG] == "pacs-test", "tagged on create"
    assert listed["whole-file-system"]["RootDirectory"] == {"Path": "/"}
    assert "efs.TagResource" not in aws.stats.mutating()


def test_aws_defaults_are_no_difference(aws: AwsContext, file_system: str) -> None:
    aws.client("efs").create_access_point(
        FileSystemId=file_system, Tags=[{"Key": NAME_TAG, "Value": NAME}]
    )  # no user, no root directory: AWS reports the root `/`
    live = read(aws, NAME)[NAME]
    assert diff_states(desired(aws, file_system).state, live.state).paths() == []
    slash = desired(aws, file_system, root_directory={"path": "/"})
    assert diff_states(slash.state, live.state).paths() == []


@pytest.mark.parametrize(
    ("changes", "forced"),
    [
        ({"posix_user": {"uid": 1, "gid": 1}}, ["posix_user"]),
        ({"root_directory": {**ROOT, "path": "/other"}}, ["root_directory"]),
        ({"root_directory": {"path": "/grafana"}}, ["root_directory"]),
    ],
)
def test_every_change_is_a_replacement(
    aws: AwsContext, file_system: str, changes: dict[str, Any], forced: list[str]
) -> None:
    base: dict[str, Any] = {"posix_user": {"uid": 472, "gid": 0}, "root_directory": ROOT}
    ACCESS_POINTS.create(aws, desired(aws, file_system, **base))
    changed = desired(aws, file_system, **{**base, **changes})
    delta = diff_states(changed.state, read(aws, NAME)[NAME].state)
    assert sorted({p.split(".")[0] for p in delta.paths()}) == forced
    assert ACCESS_POINTS.replacing_paths(delta) == forced


def test_a_tag_changed_by_hand_is_repaired_in_place(aws: AwsContext, file_system: str) -> None:
    def tag_by_hand(aws: AwsContext) -> None:
        ap_id = read(aws, NAME)[NAME].handle
        aws.client("efs").tag_resource(ResourceId=ap_id, Tags=[{"Key": "Owner", "Value": "bob"}])

    repaired_by_hand_change(
        ACCESS_POINTS, aws, desired(aws, file_system, root_directory=ROOT), tag_by_hand, "tags"
    )


def test_one_deleted_by_hand_is_created_again(tmp_path: Path, aws: AwsContext) -> None:
    converges(tmp_path, aws, SPEC)
    live = read(aws, NAME)[NAME]
    aws.client("efs").delete_access_point(AccessPointId=live.handle)
    assert actions(plan_of(tmp_path, aws, SPEC)) == {"efs_access_points.grafana_data": Action.CREATE}
    converges(tmp_path, aws, SPEC)


def test_reads_list_each_file_system_once(aws: AwsContext, file_system: str) -> None:
    other = str(aws.client("efs").create_file_system(CreationToken="other")["FileSystemId"])
    for index, system in enumerate([file_system, file_system, other]):
        ACCESS_POINTS.create(aws, desired(aws, system, name=f"ap-{index}"))
    aws.stats.calls.clear()
    assert set(read(aws, "ap-0")) == {"ap-0", "ap-1", "ap-2"}, "owned ones found too"
    calls = dict(aws.stats.calls)
    assert calls["efs.DescribeFileSystems"] == 1 and calls["efs.DescribeAccessPoints"] == 2


def test_nothing_declared_nor_owned_reads_nothing(aws: AwsContext, file_system: str) -> None:
    aws.client("efs").create_access_point(FileSystemId=file_system)
    aws.stats.calls.clear()
    assert read(aws) == {}
    assert [c for c in aws.stats.calls if c.startswith("efs.")] == []


def test_export_round_trips(tmp_path: Path, aws: AwsContext) -> None:
    converges(tmp_path, aws, SPEC)
    result = export(
        aws, aws.stack, Selection(kinds=("efs_access_points", "efs_file_systems"), prefix="grafana")
    )
    (entry,) = result.entries["efs_access_points"]
    assert entry.config["file_system_id"] == "${efs_file_systems.grafana_storage.id}"
    assert entry.config["root_directory"] == ROOT
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    exported = tmp_path / "exported"
    exported.mkdir()
    planned = actions(plan_of(exported, aws, text))
    assert {a: x for a, x in planned.items() if not a.startswith('efs_access_points["whole')} == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"file_system_id": "grafana"}, "must be a file system id"),
        ({"posix_user": {"uid": -1, "gid": 0}}, "greater than or equal to 0"),
        ({"posix_user": {"uid": 0, "gid": 0, "secondary_gids": list(range(17))}}, "at most 16"),
        ({"root_directory": {"path": "grafana"}}, "must be / or /a/path"),
        ({"root_directory": {"path": "/a/b/c/d/e"}}, "at most four levels"),
        (
            {"root_directory": {**ROOT, "creation_info": {**ROOT["creation_info"], "permissions": 755}}},
            "quote the mode",
        ),  # type: ignore[dict-item]
        (
            {"root_directory": {**ROOT, "creation_info": {**ROOT["creation_info"], "permissions": "0789"}}},
            "octal",
        ),  # type: ignore[dict-item]
    ],
)
def test_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AccessPointSpec.model_validate({"name": NAME, "file_system_id": "fs-0123abcd", **spec})


def test_a_repeated_client_token_answers_the_same_access_point(aws: AwsContext, file_system: str) -> None:
    """The emulator's patch: CreateAccessPoint is idempotent by ClientToken, as EFS is (a retried
    create whose response was lost gets the access point its first attempt made)."""
    efs = aws.client("efs")
    first = efs.create_access_point(ClientToken="retried-call", FileSystemId=file_system)["AccessPointId"]
    again = efs.create_access_point(ClientToken="retried-call", FileSystemId=file_system)["AccessPointId"]
    other = efs.create_access_point(ClientToken="another-call", FileSystemId=file_system)["AccessPointId"]
    assert first == again != other
    assert len(efs.describe_access_points(FileSystemId=file_system)["AccessPoints"]) == 2
