"""EFS against moto: file systems (crash-safe create, AWS-NOTES item 13; lifecycle policies; tags) and
mount targets (zone identity, security groups in place, subnet checks), with Stubbers where moto
lacks an API (UpdateFileSystem) or never shows a transitional state."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import PlanRefused, ReconcileError
from pacs_reconcile.resources import _retry
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler
from pacs_reconcile.resources.efs import FileSystems, FileSystemSpec, MountTargets, MountTargetSpec
from pacs_reconcile.resources.registry import KINDS

FILE_SYSTEMS = FileSystems()
MOUNT_TARGETS = MountTargets()
TOKEN = "prometheus-config"
ZONE_A, ZONE_B = "ap-northeast-2a", "ap-northeast-2b"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "POLL_SECONDS", 0.0)


@pytest.fixture
def network(aws: AwsContext) -> dict[str, str]:
    """A VPC with two subnets in zone a, one in zone b, and two security groups (set-up client)."""
    ec2 = boto3.client("ec2", region_name=aws.region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, zone: str) -> str:
        return str(ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"])

    def group(name: str) -> str:
        return str(ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"])

    return {
        "vpc": vpc,
        "a": subnet("10.0.1.0/24", ZONE_A),
        "a2": subnet("10.0.3.0/24", ZONE_A),
        "b": subnet("10.0.2.0/24", ZONE_B),
        "sg": group("efs"),
        "sg2": group("efs-2"),
    }


def desired_of(
    kind: Reconciler, spec: dict[str, Any], tags: dict[str, str] | None = None, parent: Live | None = None
) -> Desired:
    state = kind.canonical(kind.meta.model.model_validate(spec).model_dump(mode="json"))
    key = kind.key(state, parent.key if parent else None)
    return Desired(f"{kind.meta.kind}.test", key, state, tags or {}, parent)


def delta_of(kind: Reconciler, desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, kind.canonical(dict(live.state)))


def owned(aws: AwsContext, **extra: str) -> dict[str, str]:
    return {OWNER_TAG: aws.stack, **extra}


def read_fs(aws: AwsContext, *tokens: str) -> dict[Any, Live]:
    return FILE_SYSTEMS.read(aws, list(tokens), ReadScope(aws.stack))


def make_fs(aws: AwsContext, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(FILE_SYSTEMS, {"creation_token": TOKEN, **spec}, owned(aws, Name=TOKEN))
    return desired, FILE_SYSTEMS.create(aws, desired)


def efs(aws: AwsContext) -> Any:
    return aws.client("efs")


def mutations(aws: AwsContext, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in aws.stats.mutating().items() if v != before.get(k, 0)}


# Registry ------------------------------------------------------------------------------------------


def test_kinds_are_registered_with_their_metadata() -> None:
    file_systems, mount_targets = KINDS["efs_file_systems"], KINDS["mount_targets"]
    assert isinstance(file_systems, FileSystems)
    assert file_systems.meta.stateful and file_systems.meta.taggable
    assert file_systems.meta.identity == "creation_token"
    assert file_systems.meta.force_new == frozenset(
        {"creation_token", "encrypted", "performance_mode", "kms_key_id", "availability_zone_name"}
    )
    assert {"id", "arn"} <= set(file_systems.meta.attributes)
    assert isinstance(mount_targets, MountTargets)
    assert mount_targets.meta.parent == "efs_file_systems" and not mount_targets.meta.taggable
    assert (
        "subnet_id" in mount_targets.meta.force_new and "security_groups" not in mount_targets.meta.force_new
    )


# File systems --------------------------------------------------------------------------------------


def test_file_system_create_read_drift_update_delete(aws: AwsContext) -> None:
    desired, created = make_fs(aws, lifecycle_policies={"transition_to_ia": "AFTER_30_DAYS"})
    assert created.attrs["id"].startswith("fs-") and ":file-system/" in created.attrs["arn"]
    assert aws.stats.mutating() == {"efs.CreateFileSystem": 1, "efs.PutLifecycleConfiguration": 1}
    assert aws.stats.calls.get("efs.TagResource") is None, "tags go in the create call"

    live = read_fs(aws, TOKEN)[TOKEN]
    assert delta_of(FILE_SYSTEMS, desired, live).paths() == []
    assert live.tags == desired.tags

    # By hand: another transition and an extra one, a tag removed and one added.
    efs(aws).put_lifecycle_configuration(
        FileSystemId=live.handle,
        LifecyclePolicies=[
            {"TransitionToIA": "AFTER_7_DAYS"},
            {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"},
        ],
    )
    efs(aws).untag_resource(ResourceId=live.handle, TagKeys=["Name"])
    efs(aws).tag_resource(ResourceId=live.handle, Tags=[{"Key": "Rogue", "Value": "yes"}])

    drifted = read_fs(aws, TOKEN)[TOKEN]
    delta = delta_of(FILE_SYSTEMS, desired, drifted)
    assert delta.paths() == [
        "lifecycle_policies.transition_to_ia",
        "lifecycle_policies.transition_to_primary_storage_class",
    ]
    tag_changes = compare_tags(drifted.tags, desired.tags)
    assert (tag_changes.to_set, tag_changes.to_unset) == ({"Name": TOKEN}, ["Rogue"])

    before = dict(aws.stats.mutating())
    FILE_SYSTEMS.update(aws, desired, drifted, delta)
    FILE_SYSTEMS.update_tags(aws, drifted, tag_changes)
    assert mutations(aws, before) == {
        "efs.PutLifecycleConfiguration": 1,
        "efs.TagResource": 1,
        "efs.UntagResource": 1,
    }
    fixed = read_fs(aws, TOKEN)[TOKEN]
    assert delta_of(FILE_SYSTEMS, desired, fixed).paths() == []
    assert fixed.tags == desired.tags

    FILE_SYSTEMS.delete(aws, fixed)
    assert read_fs(aws, TOKEN) == {}


def test_unmanaged_lifecycle_is_never_diffed_and_empty_means_none(aws: AwsContext) -> None:
    desired, _ = make_fs(aws)
    live = read_fs(aws, TOKEN)[TOKEN]
    efs(aws).put_lifecycle_configuration(
        FileSystemId=live.handle, LifecyclePolicies=[{"TransitionToIA": "AFTER_7_DAYS"}]
    )
    assert delta_of(FILE_SYSTEMS, desired, read_fs(aws, TOKEN)[TOKEN]).paths() == []

    none = desired_of(FILE_SYSTEMS, {"creation_token": TOKEN, "lifecycle_policies": {}})
    assert delta_of(FILE_SYSTEMS, none, read_fs(aws, TOKEN)[TOKEN]).paths() == ["lifecycle_policies"]


def test_read_finds_requested_tokens_and_owned_file_systems_in_one_listing(aws: AwsContext) -> None:
    make_fs(aws)  # owned, not requested
    efs(aws).create_file_system(CreationToken="hand-made", Tags=[{"Key": "Team", "Value": "pacs"}])
    efs(aws).create_file_system(CreationToken="other", Tags=[{"Key": OWNER_TAG, "Value": "other-stack"}])
    before = dict(aws.stats.calls)

    found = read_fs(aws, "hand-made", "absent")

    assert set(found) == {TOKEN, "hand-made"}
    assert found["hand-made"].tags == {"Team": "pacs"}
    calls = {k: v - before.get(k, 0) for k, v in aws.stats.calls.items() if v != before.get(k, 0)}
    assert calls == {"efs.DescribeFileSystems": 1, "efs.DescribeLifecycleConfiguration": 2}


# Trap 13: creation is idempotent by token ------------------------------------------------------------


def test_a_repeated_create_finds_the_file_system_by_its_token(aws: AwsContext) -> None:
    desired, first = make_fs(aws)
    again = FILE_SYSTEMS.create(aws, desired)  # e.g. a retried request whose first attempt went through
    assert again.handle == first.handle
    assert [fs["FileSystemId"] for fs in efs(aws).describe_file_systems()["FileSystems"]] == [first.handle]


def test_a_rerun_after_a_crash_finds_the_file_system_and_only_finishes_the_job(aws: AwsContext) -> None:
    # The first run stopped right after CreateFileSystem (tags were in that call).
    efs(aws).create_file_system(
        CreationToken=TOKEN, Encrypted=True, Tags=[{"Key": OWNER_TAG, "Value": aws.stack}]
    )
    desired = desired_of(
        FILE_SYSTEMS,
        {"creation_token": TOKEN, "lifecycle_policies": {"transition_to_ia": "AFTER_30_DAYS"}},
        owned(aws),
    )
    live = read_fs(aws, TOKEN)[TOKEN]
    assert delta_of(FILE_SYSTEMS, desired, live).paths() == ["lifecycle_policies.transition_to_ia"]


def test_a_same_token_file_system_of_another_owner_is_refused(aws: AwsContext) -> None:
    efs(aws).create_file_system(CreationToken=TOKEN, Tags=[{"Key": OWNER_TAG, "Value": "other-stack"}])
    desired = desired_of(FILE_SYSTEMS, {"creation_token": TOKEN}, owned(aws))
    with pytest.raises(PlanRefused, match="belongs to stack 'other-stack'"):
        FILE_SYSTEMS.create(aws, desired)


def _description(state: str, **extra: Any) -> dict[str, Any]:
    return {
        "OwnerId": "123456789012",
        "CreationToken": TOKEN,
        "FileSystemId": "fs-12345678",
        "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
        "LifeCycleState": state,
        "NumberOfMountTargets": 0,
        "SizeInBytes": {"Value": 0},
        "PerformanceMode": "generalPurpose",
        "Encrypted": True,
        "ThroughputMode": "bursting",
        "Tags": [],
        **extra,
    }


def test_create_waits_until_the_file_system_is_available(aws: AwsContext) -> None:
    desired = desired_of(FILE_SYSTEMS, {"creation_token": TOKEN}, owned(aws))
    with Stubber(efs(aws)) as stub:
        stub.add_response(
            "create_file_system",
            _description("creating"),
            {
                "CreationToken": TOKEN,
                "Encrypted": True,
                "PerformanceMode": "generalPurpose",
                "ThroughputMode": "bursting",
                "Tags": ANY,
            },
        )
        stub.add_response(
            "describe_file_systems",
            {"FileSystems": [_description("creating")]},
            {"FileSystemId": "fs-12345678"},
        )
        stub.add_response(
            "describe_file_systems",
            {"FileSystems": [_description("available")]},
            {"FileSystemId": "fs-12345678"},
        )
        live = FILE_SYSTEMS.create(aws, desired)
        stub.assert_no_pending_responses()
    assert live.handle == "fs-12345678"


def test_throughput_changes_in_place(aws: AwsContext) -> None:
    desired = desired_of(
        FILE_SYSTEMS,
        {"creation_token": TOKEN, "throughput_mode": "provisioned", "provisioned_throughput_mibps": 64},
    )
    live = Live(
        TOKEN,
        {**desired.state, "throughput_mode": "bursting", "provisioned_throughput_mibps": None},
        {"id": "fs-12345678"},
        {},
        "fs-12345678",
    )
    delta = delta_of(FILE_SYSTEMS, desired, live)
    assert delta.paths() == ["throughput_mode", "provisioned_throughput_mibps"]
    with Stubber(efs(aws)) as stub:  # moto has no UpdateFileSystem
        stub.add_response(
            "update_file_system",
            _description("updating"),
            {
                "FileSystemId": "fs-12345678",
                "ThroughputMode": "provisioned",
                "ProvisionedThroughputInMibps": 64.0,
            },
        )
        updated = FILE_SYSTEMS.update(aws, desired, live, delta)
        stub.assert_no_pending_responses()
    assert delta_of(FILE_SYSTEMS, desired, updated).paths() == []


def test_delete_removes_the_mount_targets_first(aws: AwsContext, network: dict[str, str]) -> None:
    _, fs = make_fs(aws)
    efs(aws).create_mount_target(
        FileSystemId=fs.handle, SubnetId=network["a"], SecurityGroups=[network["sg"]]
    )
    FILE_SYSTEMS.delete(aws, fs)
    assert efs(aws).describe_file_systems()["FileSystems"] == []


# Mount targets ---------------------------------------------------------------------------------------


def mount_target_spec(
    network: dict[str, str], zone: str = ZONE_A, subnet: str = "a", sg: str = "sg"
) -> dict[str, Any]:
    return {"availability_zone": zone, "subnet_id": network[subnet], "security_groups": [network[sg]]}


def read_targets(aws: AwsContext, parent: Live) -> dict[Any, Live]:
    return MOUNT_TARGETS.read(aws, [], ReadScope(aws.stack, {parent.key: parent}))


def test_mount_target_create_read_drift_update_delete(aws: AwsContext, network: dict[str, str]) -> None:
    _, fs = make_fs(aws)
    desired = desired_of(MOUNT_TARGETS, mount_target_spec(network), parent=fs)
    created = MOUNT_TARGETS.create(aws, desired)
    assert created.key == (TOKEN, ZONE_A)
    assert created.attrs["id"].startswith("fsmt-") and created.attrs["ip_address"]

    live = read_targets(aws, fs)[(TOKEN, ZONE_A)]
    assert delta_of(MOUNT_TARGETS, desired, live).paths() == []

    # By hand: another security group, and an extra mount target in zone b.
    efs(aws).modify_mount_target_security_groups(MountTargetId=live.handle, SecurityGroups=[network["sg2"]])
    efs(aws).create_mount_target(
        FileSystemId=fs.handle, SubnetId=network["b"], SecurityGroups=[network["sg"]]
    )
    found = read_targets(aws, fs)
    assert set(found) == {(TOKEN, ZONE_A), (TOKEN, ZONE_B)}, (
        "undeclared children of an owned parent are listed"
    )
    delta = delta_of(MOUNT_TARGETS, desired, found[(TOKEN, ZONE_A)])
    assert delta.paths() == ["security_groups"]

    before = dict(aws.stats.mutating())
    MOUNT_TARGETS.update(aws, desired, found[(TOKEN, ZONE_A)], delta)
    assert mutations(aws, before) == {"efs.ModifyMountTargetSecurityGroups": 1}
    assert delta_of(MOUNT_TARGETS, desired, read_targets(aws, fs)[(TOKEN, ZONE_A)]).paths() == []

    MOUNT_TARGETS.delete(aws, found[(TOKEN, ZONE_B)])
    assert set(read_targets(aws, fs)) == {(TOKEN, ZONE_A)}


def test_a_subnet_change_in_the_same_zone_is_a_replacement(aws: AwsContext, network: dict[str, str]) -> None:
    _, fs = make_fs(aws)
    MOUNT_TARGETS.create(aws, desired_of(MOUNT_TARGETS, mount_target_spec(network), parent=fs))
    moved = desired_of(MOUNT_TARGETS, mount_target_spec(network, subnet="a2"), parent=fs)
    live = read_targets(aws, fs)[(TOKEN, ZONE_A)]
    delta = delta_of(MOUNT_TARGETS, moved, live)
    assert delta.paths() == ["subnet_id"]
    assert [p for p in MOUNT_TARGETS.meta.force_new if delta.different_at(p)] == ["subnet_id"]

    # What the engine does for it: delete (which waits until the zone is free), then create.
    MOUNT_TARGETS.delete(aws, live)
    MOUNT_TARGETS.create(aws, moved)
    assert delta_of(MOUNT_TARGETS, moved, read_targets(aws, fs)[(TOKEN, ZONE_A)]).paths() == []


def test_a_subnet_of_another_zone_is_refused_before_anything_is_made(
    aws: AwsContext, network: dict[str, str]
) -> None:
    _, fs = make_fs(aws)
    wrong = desired_of(MOUNT_TARGETS, mount_target_spec(network, zone=ZONE_A, subnet="b"), parent=fs)
    with pytest.raises(ReconcileError, match=f"is in {ZONE_B}, not in {ZONE_A}"):
        MOUNT_TARGETS.create(aws, wrong)
    assert read_targets(aws, fs) == {}


def test_requested_mount_targets_of_a_parent_not_owned_are_read_alone(
    aws: AwsContext, network: dict[str, str]
) -> None:
    fs_id = efs(aws).create_file_system(CreationToken="foreign")["FileSystemId"]
    for subnet in ("a", "b"):
        efs(aws).create_mount_target(
            FileSystemId=fs_id, SubnetId=network[subnet], SecurityGroups=[network["sg"]]
        )
    found = MOUNT_TARGETS.read(aws, [("foreign", ZONE_B)], ReadScope(aws.stack))
    assert set(found) == {("foreign", ZONE_B)}
    assert found[("foreign", ZONE_B)].state["subnet_id"] == network["b"]


def test_the_mount_targets_of_several_file_systems_are_listed_side_by_side(
    aws: AwsContext, network: dict[str, str]
) -> None:
    """One DescribeMountTargets a file system, not one after another: the first is held until the
    second is made (a rendezvous; the listing in turn waited out the timeout and failed)."""
    parents = {}
    for token in ("pacs-a", "pacs-b"):
        _, fs = make_fs(aws, creation_token=token)
        MOUNT_TARGETS.create(aws, desired_of(MOUNT_TARGETS, mount_target_spec(network), parent=fs))
        parents[fs.key] = fs
    second = threading.Event()
    calls: list[int] = []
    met: list[bool] = []

    def hold_the_first(**_: Any) -> None:
        calls.append(1)  # (atomic)
        if len(calls) == 1:
            met.append(second.wait(5.0))
        else:
            second.set()

    event = "before-call.efs.DescribeMountTargets"
    efs(aws).meta.events.register(event, hold_the_first)
    try:
        found = MOUNT_TARGETS.read(aws, [], ReadScope(aws.stack, parents))
    finally:
        efs(aws).meta.events.unregister(event, hold_the_first)
    assert met == [True]
    assert set(found) == {("pacs-a", ZONE_A), ("pacs-b", ZONE_A)}


def test_the_declared_mount_targets_are_read_ahead_and_the_read_takes_them_up(
    aws: AwsContext, network: dict[str, str]
) -> None:
    """Their file system found in the region's listing (the file systems' read makes it), their
    mount targets listed before the file systems are read: the read lists nothing again."""
    _, fs = make_fs(aws)
    MOUNT_TARGETS.create(aws, desired_of(MOUNT_TARGETS, mount_target_spec(network), parent=fs))
    keys = [(TOKEN, ZONE_A)]
    before = Counter(aws.stats.calls)
    MOUNT_TARGETS.read_ahead(aws, keys, aws.stack)
    ahead = Counter(aws.stats.calls) - before
    assert dict(ahead) == {"efs.DescribeFileSystems": 1, "efs.DescribeMountTargets": 1}
    assert set(read_fs(aws, TOKEN)) == {TOKEN}
    found = MOUNT_TARGETS.read(aws, keys, ReadScope(aws.stack, {fs.key: fs}))
    made = Counter(aws.stats.calls) - before - ahead
    assert set(found) == {(TOKEN, ZONE_A)}
    assert "efs.DescribeFileSystems" not in made and "efs.DescribeMountTargets" not in made, made


def test_mount_targets_of_a_missing_file_system_are_absent(aws: AwsContext) -> None:
    assert MOUNT_TARGETS.read(aws, [("absent", ZONE_A)], ReadScope(aws.stack)) == {}


# Validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"throughput_mode": "provisioned"}, "needs provisioned_throughput_mibps"),
        ({"provisioned_throughput_mibps": 10}, "applies only to throughput_mode: provisioned"),
        ({"performance_mode": "maxIO", "throughput_mode": "elastic"}, "elastic throughput needs"),
        (
            {"lifecycle_policies": {"transition_to_archive": "AFTER_90_DAYS"}},
            "needs throughput_mode: elastic",
        ),
        ({"lifecycle_policies": {"transition_to_ia": "AFTER_2_DAYS"}}, "AFTER_30_DAYS"),
        ({"lifecycle": {"transition_to_ia": "AFTER_30_DAYS"}}, "Extra inputs"),
    ],
)
def test_file_system_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        FileSystemSpec.model_validate({"creation_token": TOKEN, **spec})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"availability_zone": "apne2-az1"}, "not an availability zone name"),
        ({"subnet_id": "subnet_a"}, "not a subnet id"),
        ({"security_groups": []}, "at least 1 item"),
        ({"security_groups": [f"sg-{i:08x}" for i in range(6)]}, "at most 5 items"),
    ],
)
def test_mount_target_validation(spec: dict[str, Any], expected: str) -> None:
    base = {
        "availability_zone": ZONE_A,
        "subnet_id": "subnet-0123456789abcdef0",
        "security_groups": ["${security_groups.efs.id}"],
    }
    with pytest.raises(ValidationError, match=expected):
        MountTargetSpec.model_validate({**base, **spec})


def test_security_groups_of_every_mount_target_come_from_one_interface_listing(
    aws: AwsContext, network: dict[str, str]
) -> None:
    """Two mount targets with different groups: DescribeMountTargets once, DescribeNetworkInterfaces
    once, and no DescribeMountTargetSecurityGroups (which takes one call per mount target)."""
    _, fs = make_fs(aws)
    efs(aws).create_mount_target(
        FileSystemId=fs.handle, SubnetId=network["a"], SecurityGroups=[network["sg"]]
    )
    efs(aws).create_mount_target(
        FileSystemId=fs.handle, SubnetId=network["b"], SecurityGroups=[network["sg2"], network["sg"]]
    )
    before = Counter(aws.stats.calls)
    found = read_targets(aws, fs)
    calls = dict(Counter(aws.stats.calls) - before)
    assert calls == {"efs.DescribeMountTargets": 1, "ec2.DescribeNetworkInterfaces": 1}
    assert found[(TOKEN, ZONE_A)].state["security_groups"] == [network["sg"]]
    assert sorted(found[(TOKEN, ZONE_B)].state["security_groups"]) == sorted([network["sg"], network["sg2"]])


def test_a_mount_target_without_a_listed_interface_is_asked_directly(
    aws: AwsContext, network: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ec2:DescribeNetworkInterfaces not granted: the groups still come, one call per mount target."""
    _, fs = make_fs(aws)
    efs(aws).create_mount_target(
        FileSystemId=fs.handle, SubnetId=network["a"], SecurityGroups=[network["sg"]]
    )
    ec2 = aws.client("ec2")

    def denied(**_: Any) -> None:
        error = {"Error": {"Code": "UnauthorizedOperation", "Message": "not authorized"}}
        raise ClientError(error, "DescribeNetworkInterfaces")  # type: ignore[arg-type]

    monkeypatch.setattr(ec2, "describe_network_interfaces", denied)
    before = Counter(aws.stats.calls)
    found = read_targets(aws, fs)
    assert dict(Counter(aws.stats.calls) - before) == {
        "efs.DescribeMountTargets": 1,
        "efs.DescribeMountTargetSecurityGroups": 1,
    }
    assert found[(TOKEN, ZONE_A)].state["security_groups"] == [network["sg"]]
