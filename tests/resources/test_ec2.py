"""Security groups against moto: the create/read/drift/update/delete cycle, rules as sets, AWS's
default egress rule (AWS-NOTES item 8), create-before-destroy naming, and the subnet lookup."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import LookupFailed, ReconcileError
from pacs_reconcile.resources import _retry
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.ec2 import (
    GENERATION_TAG,
    NAME_TAG,
    SecurityGroups,
    SecurityGroupSpec,
    canonical_rules,
)
from pacs_reconcile.resources.lookups import SubnetLookup
from pacs_reconcile.resources.registry import KINDS, LOOKUPS

from .exported import exported_state

GROUPS = SecurityGroups()
NAME = "pacs-efs"
NFS = {
    "protocol": "tcp",
    "from_port": 2049,
    "cidr_blocks": ["10.0.0.0/16"],
    "description": "NFS from the VPC",
}
ALL_OUT = {"protocol": "all", "cidr_blocks": ["0.0.0.0/0"]}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "POLL_SECONDS", 0.0)


@pytest.fixture
def vpc(aws: AwsContext) -> str:
    # A client of its own: set-up calls do not count among the reconciler's.
    made = boto3.client("ec2", region_name=aws.region).create_vpc(CidrBlock="10.0.0.0/16")
    return str(made["Vpc"]["VpcId"])


def desired_of(spec: dict[str, Any], aws: AwsContext, **tags: str) -> Desired:
    state = GROUPS.canonical(SecurityGroupSpec.model_validate(spec).model_dump(mode="json"))
    return Desired("security_groups.test", state["name"], state, {OWNER_TAG: aws.stack, **tags})


def spec_of(vpc: str, **extra: Any) -> dict[str, Any]:
    return {"name": NAME, "description": "EFS mount targets", "vpc_id": vpc, "ingress": [NFS], **extra}


def delta_of(desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, GROUPS.canonical(dict(live.state)))


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return GROUPS.read(aws, list(names), ReadScope(aws.stack))


def mutations(aws: AwsContext, before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in aws.stats.mutating().items() if v != before.get(k, 0)}


def ec2(aws: AwsContext) -> Any:
    return aws.client("ec2")


# Registry ----------------------------------------------------------------------------------------


def test_kind_is_registered_with_its_metadata() -> None:
    kind = KINDS["security_groups"]
    assert isinstance(kind, SecurityGroups) and kind.meta.taggable
    assert kind.meta.create_before_destroy
    assert kind.meta.force_new == frozenset({"name", "description", "vpc_id"})
    assert set(kind.meta.attributes) == {"id", "arn", "name"}
    assert isinstance(LOOKUPS["subnet"], SubnetLookup)


# The cycle -----------------------------------------------------------------------------------------


def test_create_read_drift_update_delete(aws: AwsContext, vpc: str) -> None:
    desired = desired_of(spec_of(vpc), aws, Name="pacs-efs-sg")
    created = GROUPS.create(aws, desired)
    assert created.attrs["name"] == NAME and created.attrs["id"].startswith("sg-")
    assert created.attrs["arn"].endswith(f":security-group/{created.attrs['id']}")
    assert aws.stats.mutating() == {"ec2.CreateSecurityGroup": 1, "ec2.AuthorizeSecurityGroupIngress": 1}

    live = read(aws, NAME)[NAME]
    assert delta_of(desired, live).paths() == []
    assert live.tags == desired.tags, "bookkeeping tags are not the resource's tags"
    assert live.state["egress"] == canonical_rules([ALL_OUT]), "AWS's default egress is there, unmanaged"

    # By hand: an extra ingress source, a changed rule description, a tag removed and one added.
    group_id = live.handle
    ec2(aws).authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    ec2(aws).delete_tags(Resources=[group_id], Tags=[{"Key": "Name"}])
    ec2(aws).create_tags(Resources=[group_id], Tags=[{"Key": "Rogue", "Value": "yes"}])

    drifted = read(aws, NAME)[NAME]
    delta = delta_of(desired, drifted)
    assert delta.paths() == ["ingress"]
    tag_changes = compare_tags(drifted.tags, desired.tags)
    assert (tag_changes.to_set, tag_changes.to_unset) == ({"Name": "pacs-efs-sg"}, ["Rogue"])

    before = dict(aws.stats.mutating())
    GROUPS.update(aws, desired, drifted, delta)
    GROUPS.update_tags(aws, drifted, tag_changes)
    assert mutations(aws, before) == {
        "ec2.RevokeSecurityGroupIngress": 1,
        "ec2.CreateTags": 1,
        "ec2.DeleteTags": 1,
    }

    fixed = read(aws, NAME)[NAME]
    assert delta_of(desired, fixed).paths() == []
    assert fixed.tags == desired.tags

    GROUPS.delete(aws, fixed)
    assert read(aws, NAME) == {}


def test_an_update_adds_before_it_revokes_and_fixes_descriptions_in_place(aws: AwsContext, vpc: str) -> None:
    GROUPS.create(aws, desired_of(spec_of(vpc), aws))
    live = read(aws, NAME)[NAME]
    wanted = desired_of(
        spec_of(
            vpc,
            ingress=[
                {**NFS, "description": "NFS (renamed)"},
                {"protocol": "tcp", "from_port": 9090, "to_port": 9091, "self_group": True},
            ],
        ),
        aws,
    )
    calls: list[str] = []
    ec2(aws).meta.events.register("before-call.ec2.*", lambda model, **_: calls.append(model.name))

    GROUPS.update(aws, wanted, live, delta_of(wanted, live))

    assert calls == ["AuthorizeSecurityGroupIngress", "UpdateSecurityGroupRuleDescriptionsIngress"]
    after = read(aws, NAME)[NAME]
    assert delta_of(wanted, after).paths() == []
    assert after.state["ingress"][1]["self_group"] is True, "the group's own id reads back as self_group"
    permissions = ec2(aws).describe_security_groups(GroupIds=[live.handle])["SecurityGroups"][0][
        "IpPermissions"
    ]
    assert {"UserId": "123456789012", "GroupId": live.handle} in permissions[-1]["UserIdGroupPairs"]


# Trap 8: AWS's default egress rule -----------------------------------------------------------------


def test_unset_egress_is_not_managed(aws: AwsContext, vpc: str) -> None:
    desired = desired_of(spec_of(vpc), aws)
    GROUPS.create(aws, desired)
    assert desired.state["egress"] is None
    live = read(aws, NAME)[NAME]
    assert live.state["egress"] != []
    assert delta_of(desired, live).paths() == []


def test_empty_egress_removes_the_default_rule_at_create(aws: AwsContext, vpc: str) -> None:
    desired = desired_of(spec_of(vpc, egress=[]), aws)
    created = GROUPS.create(aws, desired)
    assert created.state["egress"] == []
    live = read(aws, NAME)[NAME]
    assert live.state["egress"] == []
    assert delta_of(desired, live).paths() == []
    assert aws.stats.mutating()["ec2.RevokeSecurityGroupEgress"] == 1


def test_export_writes_a_group_without_egress_rules_as_egress_empty(aws: AwsContext, vpc: str) -> None:
    """Not unmanaged: a group made from an export without `egress` would get AWS's allow-all rule."""
    GROUPS.create(aws, desired_of(spec_of(vpc, egress=[]), aws))
    exported, _ = exported_state(aws, "security_groups", NAME)
    assert exported["egress"] == []
    GROUPS.create(aws, desired_of(spec_of(vpc, name="pacs-open"), aws))
    assert exported_state(aws, "security_groups", "pacs-open")[0]["egress"] == [canonical_rules([ALL_OUT])[0]]


def test_declared_egress_keeps_only_what_is_declared(aws: AwsContext, vpc: str) -> None:
    https_out = {"protocol": "tcp", "from_port": 443, "cidr_blocks": ["0.0.0.0/0"]}
    desired = desired_of(spec_of(vpc, egress=[https_out]), aws)
    GROUPS.create(aws, desired)
    live = read(aws, NAME)[NAME]
    assert live.state["egress"] == canonical_rules([https_out])
    assert delta_of(desired, live).paths() == []

    # Someone puts the allow-all rule back: it is a difference, and update removes it again.
    ec2(aws).authorize_security_group_egress(
        GroupId=live.handle, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    )
    drifted = read(aws, NAME)[NAME]
    assert delta_of(desired, drifted).paths() == ["egress"]
    GROUPS.update(aws, desired, drifted, delta_of(desired, drifted))
    assert delta_of(desired, read(aws, NAME)[NAME]).paths() == []


# Rules are sets ----------------------------------------------------------------------------------


def test_grouping_and_order_of_rules_do_not_matter() -> None:
    split = [
        {"protocol": "tcp", "from_port": 2049, "cidr_blocks": ["10.1.0.0/16"]},
        {"protocol": "6", "from_port": 2049, "to_port": 2049, "cidr_blocks": ["10.0.0.0/16"]},
    ]
    merged = [
        {"protocol": "tcp", "from_port": 2049, "to_port": 2049, "cidr_blocks": ["10.0.0.0/16", "10.1.0.0/16"]}
    ]
    assert canonical_rules(split) == canonical_rules(list(reversed(merged)))
    assert canonical_rules(
        [{"protocol": "-1", "from_port": -1, "to_port": -1, "cidr_blocks": ["0.0.0.0/0"]}]
    ) == canonical_rules([ALL_OUT])
    described = [{**split[0], "description": "x"}, split[1]]
    assert canonical_rules(described) != canonical_rules(split), "a description is part of the rule"


# Create before destroy ---------------------------------------------------------------------------


def test_a_replacement_gets_a_generation_name_and_becomes_the_group(aws: AwsContext, vpc: str) -> None:
    old = GROUPS.create(aws, desired_of(spec_of(vpc), aws))
    replacement_desired = desired_of(spec_of(vpc, description="EFS mount targets (v2)"), aws)

    new = GROUPS.create(aws, replacement_desired)  # the old group still exists, with the same name

    assert new.attrs["group_name"] == f"{NAME}-2"
    assert new.attrs["name"] == NAME, "the identity stays the spec's name"
    found = read(aws, NAME)
    assert found[NAME].handle == new.handle, "the newest generation is the group"
    assert delta_of(replacement_desired, found[NAME]).paths() == []
    stale = found[f"{NAME}#{old.handle}"]
    assert stale.handle == old.handle, "the older generation is reported apart, to be deleted"

    GROUPS.delete(aws, old)
    assert set(read(aws, NAME)) == {NAME}


def test_a_retried_create_reuses_the_group_its_first_attempt_made(aws: AwsContext, vpc: str) -> None:
    state = desired_of(spec_of(vpc), aws).state
    tags = {OWNER_TAG: aws.stack, NAME_TAG: NAME, GENERATION_TAG: "1"}
    first = SecurityGroups._create_group(ec2(aws), NAME, state, tags)
    again = SecurityGroups._create_group(ec2(aws), NAME, state, tags)
    assert again == first
    assert (
        len(
            ec2(aws).describe_security_groups(Filters=[{"Name": "group-name", "Values": [NAME]}])[
                "SecurityGroups"
            ]
        )
        == 1
    )


def test_a_name_taken_by_a_foreign_group_is_an_error(aws: AwsContext, vpc: str) -> None:
    ec2(aws).create_security_group(GroupName=NAME, Description="someone else's", VpcId=vpc)
    state = desired_of(spec_of(vpc), aws).state
    with pytest.raises(ReconcileError, match=r"taken in .* by a group this stack does not own"):
        SecurityGroups._create_group(ec2(aws), NAME, state, {OWNER_TAG: aws.stack, NAME_TAG: NAME})


# Reads ---------------------------------------------------------------------------------------------


def test_read_covers_owned_groups_and_requested_unowned_ones(aws: AwsContext, vpc: str) -> None:
    GROUPS.create(aws, desired_of(spec_of(vpc), aws))  # owned, not requested
    unowned = ec2(aws).create_security_group(
        GroupName="hand-made",
        Description="x",
        VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Team", "Value": "pacs"}]}],
    )
    ec2(aws).create_security_group(
        GroupName="other-stack",
        Description="x",
        VpcId=vpc,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": OWNER_TAG, "Value": "other"}]}
        ],
    )

    before = aws.stats.calls["ec2.DescribeSecurityGroups"]
    found = read(aws, "hand-made", "absent")

    assert set(found) == {NAME, "hand-made"}
    assert found["hand-made"].handle == unowned["GroupId"]
    assert found["hand-made"].tags == {"Team": "pacs"}
    assert aws.stats.calls["ec2.DescribeSecurityGroups"] - before == 2, (
        "owned by tag filter, the rest by name"
    )


def test_read_errors_propagate(aws: AwsContext) -> None:
    with Stubber(ec2(aws)) as stub:
        stub.add_client_error("describe_security_groups", "UnauthorizedOperation", http_status_code=403)
        with pytest.raises(ClientError, match="UnauthorizedOperation"):
            read(aws, NAME)


def test_delete_waits_while_a_network_interface_still_holds_the_group(aws: AwsContext) -> None:
    live = Live(NAME, {}, {}, {}, "sg-0123456789abcdef0")
    with Stubber(ec2(aws)) as stub:
        stub.add_client_error("delete_security_group", "DependencyViolation")
        stub.add_response("delete_security_group", {}, {"GroupId": live.handle})
        GROUPS.delete(aws, live)
        stub.assert_no_pending_responses()


def test_delete_of_a_group_already_gone_is_quiet(aws: AwsContext) -> None:
    GROUPS.delete(aws, Live(NAME, {}, {}, {}, "sg-0123456789abcdef0"))


# Validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"name": "sg-efs"}, 'names starting with "sg-" are reserved'),
        ({"name": "default"}, "default group"),
        ({"vpc_id": "vpc_main"}, "not a VPC id"),
        ({"ingress": [{"protocol": "tcp", "cidr_blocks": ["10.0.0.0/16"]}]}, "needs from_port"),
        (
            {"ingress": [{"protocol": "tcp", "from_port": 90, "to_port": 80, "cidr_blocks": ["10.0.0.0/8"]}]},
            "0 <= from_port <= to_port <= 65535",
        ),
        (
            {"ingress": [{"protocol": "all", "from_port": 0, "cidr_blocks": ["10.0.0.0/8"]}]},
            "covers every port",
        ),
        ({"ingress": [{"protocol": "tcp", "from_port": 80}]}, "names no source"),
        (
            {"ingress": [{"protocol": "tcp", "from_port": 80, "cidr_blocks": ["10.0.0.1/16"]}]},
            "host bits set; write 10.0.0.0/16",
        ),
        (
            {"ingress": [{"protocol": "tcp", "from_port": 80, "cidr_blocks": ["::/0"]}]},
            "put it in ipv6_cidr_blocks",
        ),
        (
            {"ingress": [{"protocol": "tcp", "from_port": 80, "security_groups": ["efs"]}]},
            "not an id such as sg-",
        ),
        ({"description": "naïve"}, "may not contain"),
    ],
)
def test_validation(change: dict[str, Any], expected: str) -> None:
    spec = {**spec_of("vpc-0123456789abcdef0"), **change}
    with pytest.raises(ValidationError, match=expected):
        SecurityGroupSpec.model_validate(spec)


def test_references_are_not_validated_before_they_resolve() -> None:
    spec = spec_of(
        "${lookups.vpc.id}",
        ingress=[
            {
                "protocol": "tcp",
                "from_port": 2049,
                "cidr_blocks": ["${lookups.vpc.cidr_block}"],
                "security_groups": ["${security_groups.app.id}"],
            }
        ],
    )
    assert SecurityGroupSpec.model_validate(spec).vpc_id == "${lookups.vpc.id}"


# The subnet lookup -------------------------------------------------------------------------------


def test_subnet_lookup_finds_one_subnet_with_its_zone(aws: AwsContext, vpc: str) -> None:
    subnet = ec2(aws).create_subnet(
        VpcId=vpc,
        CidrBlock="10.0.1.0/24",
        AvailabilityZone="ap-northeast-2a",
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": "pacs-private-a"}]}],
    )["Subnet"]
    found = LOOKUPS["subnet"].resolve(aws, {"kind": "subnet", "tags": {"Name": "pacs-private-a"}})
    assert found["id"] == subnet["SubnetId"]
    assert found["availability_zone"] == "ap-northeast-2a"
    assert (found["vpc_id"], found["cidr_block"]) == (vpc, "10.0.1.0/24")


def test_subnet_lookup_fails_clearly_when_missing_or_ambiguous(aws: AwsContext, vpc: str) -> None:
    with pytest.raises(LookupFailed, match="Subnet with tags Name=nope not found in ap-northeast-2"):
        LOOKUPS["subnet"].resolve(aws, {"kind": "subnet", "tags": {"Name": "nope"}})
    for cidr in ("10.0.1.0/24", "10.0.2.0/24"):
        ec2(aws).create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Tier", "Value": "private"}]}],
        )
    with pytest.raises(LookupFailed, match=r"ambiguous .* 2 match"):
        LOOKUPS["subnet"].resolve(aws, {"kind": "subnet", "tags": {"Tier": "private"}})
