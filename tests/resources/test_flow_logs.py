"""ec2_flow_logs against moto: the cycle (create, read back equal, a hand-made change at its path,
delete), replacement as the only change, the idempotent create, delivery failures as notes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.exceptions import ConnectionClosedError
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import compare_tags, diff_states
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.flow_logs import FlowLogs, FlowLogSpec
from pacs_reconcile.resources.registry import KINDS

FLOW_LOGS = FlowLogs()
NAME = "pacs-vpc"
GROUP = "/aws/vpc/flowlogs"


@pytest.fixture
def network(aws: AwsContext) -> dict[str, str]:
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    aws.client("logs").create_log_group(logGroupName=GROUP)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.client("iam").create_role(RoleName="flow-logs", AssumeRolePolicyDocument=json.dumps(trust))
    return {"vpc": vpc, "role": role["Role"]["Arn"]}


def desired(aws: AwsContext, network: dict[str, str], **changes: Any) -> Desired:
    spec = {
        "name": NAME,
        "resource_id": network["vpc"],
        "log_group_name": GROUP,
        "deliver_logs_role_arn": network["role"],
        **changes,
    }
    state = FlowLogSpec.model_validate(spec).model_dump(mode="json")
    return Desired("ec2_flow_logs.vpc", NAME, state, {OWNER_TAG: aws.stack, "Name": "vpc-flow"}, None, None)


def read(aws: AwsContext) -> Any:
    return FLOW_LOGS.read(aws, [NAME], ReadScope(aws.stack))


def test_cycle_create_read_change_by_hand_delete(aws: AwsContext, network: dict[str, str]) -> None:
    want = desired(aws, network)
    created = FLOW_LOGS.create(aws, want)
    assert created.handle.startswith("fl-")
    live = read(aws)[NAME]
    assert live.attrs == {"id": created.handle, "name": NAME}
    assert live.tags == want.tags, "the name tag is bookkeeping, not shown"
    assert not diff_states(want.state, live.state)

    aws.client("ec2").create_tags(Resources=[created.handle], Tags=[{"Key": "Owner", "Value": "bob"}])
    changes = compare_tags(read(aws)[NAME].tags, want.tags)
    assert changes.to_unset == ["Owner"]
    FLOW_LOGS.update_tags(aws, read(aws)[NAME], changes)
    assert read(aws)[NAME].tags == want.tags

    FLOW_LOGS.delete(aws, live)
    assert read(aws) == {}
    FLOW_LOGS.delete(aws, live)  # already gone: fine


def test_every_attribute_is_a_replacement(aws: AwsContext, network: dict[str, str]) -> None:
    FLOW_LOGS.create(aws, desired(aws, network))
    delta = diff_states(desired(aws, network, traffic_type="REJECT").state, read(aws)[NAME].state)
    assert delta.paths() == ["traffic_type"]
    assert set(delta.paths()) <= FLOW_LOGS.meta.force_new


def test_the_retries_of_a_create_carry_one_client_token_and_a_later_create_a_new_one(
    aws: AwsContext, network: dict[str, str]
) -> None:
    """EC2 answers a request repeated with the same ClientToken with the first one's result and
    makes nothing more (EC2 API reference, CreateFlowLogs; "Ensuring idempotency in Amazon EC2 API
    requests": do not reuse a client token for another call later on). So every retry of one call
    carries its token (a retry after a lost response makes no second flow log), and a later create
    carries a new one (the same token would be answered with the flow log deleted since)."""
    sent: list[str] = []

    def attempt(request: Any, **_: Any) -> None:
        body = request.body if isinstance(request.body, str) else request.body.decode()
        sent.append(parse_qs(body)["ClientToken"][0])
        if len(sent) == 1:  # the first attempt never gets through: botocore retries it
            raise ConnectionClosedError(endpoint_url=str(request.url))

    aws.client("ec2").meta.events.register_first("before-send.ec2.CreateFlowLogs", attempt)
    FLOW_LOGS.create(aws, desired(aws, network))
    FLOW_LOGS.delete(aws, read(aws)[NAME])
    FLOW_LOGS.create(aws, desired(aws, network))
    FLOW_LOGS.delete(aws, read(aws)[NAME])  # created again: the new token made a new flow log
    FLOW_LOGS.create(aws, desired(aws, network, traffic_type="REJECT"))
    assert len(sent) == 4 and sent[0] == sent[1]
    assert len(set(sent[1:])) == 3
    assert all(0 < len(token) <= 64 for token in sent)


def test_a_failing_delivery_is_a_note(aws: AwsContext, network: dict[str, str]) -> None:
    FLOW_LOGS.create(aws, desired(aws, network, log_group_name="/no/such/group"))
    assert read(aws)[NAME].notes == ("delivery to the log group is failing: Access error",)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"resource_id": "i-0123456789abcdef0"}, "must be a VPC, subnet or network interface id"),
        ({"deliver_logs_role_arn": "flow-logs"}, "must be a role ARN"),
        ({"traffic_type": "SOME"}, "Input should be 'ACCEPT', 'REJECT' or 'ALL'"),
        ({"max_aggregation_interval": 300}, "Input should be 60 or 600"),
    ],
)
def test_validation(changes: dict[str, Any], message: str) -> None:
    spec = {
        "name": NAME,
        "resource_id": "vpc-0123456789abcdef0",
        "log_group_name": GROUP,
        "deliver_logs_role_arn": "arn:aws:iam::123456789012:role/flow-logs",
        **changes,
    }
    with pytest.raises(ValidationError, match=message):
        FlowLogSpec.model_validate(spec)


def test_registered() -> None:
    assert isinstance(KINDS["ec2_flow_logs"], FlowLogs)
