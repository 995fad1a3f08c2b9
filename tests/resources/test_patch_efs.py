"""The emulator's EFS patch: UpdateFileSystem as the EFS API reference describes it, and the file
system reconciler's throughput changes converging on it (create -> change -> read -> no difference)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.efs import FileSystems, FileSystemSpec

FILE_SYSTEMS = FileSystems()
TOKEN = "pacs-prometheus-config"


def efs(aws: AwsContext) -> Any:
    return aws.client("efs")


def test_throughput_mode_and_amount_change_in_place(aws: AwsContext) -> None:
    fs = efs(aws).create_file_system(CreationToken=TOKEN)["FileSystemId"]

    answer = efs(aws).update_file_system(
        FileSystemId=fs, ThroughputMode="provisioned", ProvisionedThroughputInMibps=64.0
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert (answer["ThroughputMode"], answer["ProvisionedThroughputInMibps"]) == ("provisioned", 64.0)

    efs(aws).update_file_system(FileSystemId=fs, ProvisionedThroughputInMibps=128.0)
    described = efs(aws).describe_file_systems(FileSystemId=fs)["FileSystems"][0]
    assert (described["ThroughputMode"], described["ProvisionedThroughputInMibps"]) == ("provisioned", 128.0)

    efs(aws).update_file_system(FileSystemId=fs, ThroughputMode="elastic")
    described = efs(aws).describe_file_systems(FileSystemId=fs)["FileSystems"][0]
    assert described["ThroughputMode"] == "elastic"
    assert described.get("ProvisionedThroughputInMibps") is None


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        ({"ThroughputMode": "provisioned"}, "BadRequest"),
        ({"ThroughputMode": "elastic", "ProvisionedThroughputInMibps": 10.0}, "BadRequest"),
        ({"FileSystemId": "fs-00000000", "ThroughputMode": "elastic"}, "FileSystemNotFound"),
    ],
)
def test_what_aws_refuses_is_refused(aws: AwsContext, arguments: dict[str, Any], code: str) -> None:
    fs = efs(aws).create_file_system(CreationToken=TOKEN)["FileSystemId"]
    with pytest.raises(ClientError) as caught:
        efs(aws).update_file_system(**{"FileSystemId": fs, **arguments})
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {"throughput_mode": "provisioned", "provisioned_throughput_mibps": 64}),
        (
            {"throughput_mode": "provisioned", "provisioned_throughput_mibps": 64},
            {"provisioned_throughput_mibps": 256},
        ),
        (
            {"throughput_mode": "provisioned", "provisioned_throughput_mibps": 64},
            {"throughput_mode": "elastic", "provisioned_throughput_mibps": None},
        ),
        ({"throughput_mode": "elastic"}, {"throughput_mode": "bursting"}),
    ],
)
def test_throughput_changes_converge(aws: AwsContext, before: dict[str, Any], after: dict[str, Any]) -> None:
    first = desired(aws, {"creation_token": TOKEN, **before})
    FILE_SYSTEMS.create(aws, first)
    wanted = desired(aws, {"creation_token": TOKEN, **before, **after})
    live = FILE_SYSTEMS.read(aws, [TOKEN], ReadScope(aws.stack))[TOKEN]
    delta = diff_states(wanted.state, FILE_SYSTEMS.canonical(dict(live.state)))
    assert delta.paths() and all(
        p in ("throughput_mode", "provisioned_throughput_mibps") for p in delta.paths()
    )
    before_calls = dict(aws.stats.mutating())
    FILE_SYSTEMS.update(aws, wanted, live, delta)
    assert {
        k: v - before_calls.get(k, 0) for k, v in aws.stats.mutating().items() if v != before_calls.get(k, 0)
    } == {"efs.UpdateFileSystem": 1}
    again = FILE_SYSTEMS.read(aws, [TOKEN], ReadScope(aws.stack))[TOKEN]
    assert diff_states(wanted.state, FILE_SYSTEMS.canonical(dict(again.state))).paths() == []


def desired(aws: AwsContext, spec: dict[str, Any]) -> Desired:
    state = FILE_SYSTEMS.canonical(FileSystemSpec.model_validate(spec).model_dump(mode="json"))
    return Desired("efs_file_systems.test", TOKEN, state, {OWNER_TAG: aws.stack})


def test_a_repeated_access_point_client_token_answers_with_the_first_access_point(aws: AwsContext) -> None:
    """CreateAccessPoint's ClientToken "ensures idempotent creation" (EFS API reference): the
    retries of one call (botocore keeps its token) make one access point; another call another."""
    fs = efs(aws).create_file_system(CreationToken=TOKEN)["FileSystemId"]
    first = efs(aws).create_access_point(FileSystemId=fs, ClientToken="retry-of-one-call")
    again = efs(aws).create_access_point(FileSystemId=fs, ClientToken="retry-of-one-call")
    assert again["AccessPointId"] == first["AccessPointId"]
    efs(aws).create_access_point(FileSystemId=fs)
    assert len(efs(aws).describe_access_points(FileSystemId=fs)["AccessPoints"]) == 2


def test_a_mount_target_is_never_listed_half_made(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto registers a mount target with its file system before giving it a zone; the emulator
    serves one request per thread, so a listing beside a create must wait for the create."""
    from moto.ec2.models.subnets import Subnet

    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]
    fs = efs(aws).create_file_system(CreationToken=TOKEN)["FileSystemId"]

    halfway, go_on = threading.Event(), threading.Event()
    take_address = Subnet.get_available_subnet_ip

    def slow_address(self: Any, *args: Any) -> Any:  # the create stops after registering
        halfway.set()
        go_on.wait(10)
        return take_address(self, *args)

    monkeypatch.setattr(Subnet, "get_available_subnet_ip", slow_address)
    creating = threading.Thread(
        target=lambda: efs(aws).create_mount_target(FileSystemId=fs, SubnetId=subnet["SubnetId"])
    )
    creating.start()
    assert halfway.wait(10)
    listed: list[dict[str, Any]] = []
    listing = threading.Thread(
        target=lambda: listed.extend(efs(aws).describe_mount_targets(FileSystemId=fs)["MountTargets"])
    )
    listing.start()
    listing.join(2)  # without the patch the listing answers now, with the mount target half made
    go_on.set()
    creating.join(10)
    listing.join(10)
    assert [t.get("AvailabilityZoneName") for t in listed] == [subnet["AvailabilityZone"]]
