"""EC2: VPC flow logs delivered to a CloudWatch Logs group (`ec2_flow_logs`).

A flow log has no name and cannot be changed once created: "You can't change the configuration or
the flow log record format of a flow log after you create it"
(https://docs.aws.amazon.com/vpc/latest/userguide/working-with-flow-logs.html). So:
- the spec's `name` is the identity, kept in the tag `pacs-reconcile:name` (as for security
  groups);
- every attribute forces a replacement (delete, then create): there is no update API;
- CreateFlowLogs is made idempotent with a ClientToken (EC2 API reference, CreateFlowLogs:
  "Unique, case-sensitive identifier that you provide to ensure the idempotency of the request"),
  derived from the stack, the name and the attributes, so a retried create never makes a second
  flow log;
- CreateFlowLogs reports per resource what it could not create (`Unsuccessful`): that is an error;
- a flow log whose delivery fails (`DeliverLogsStatus` FAILED, e.g. the role may not write to the
  group) is reported with AWS's message as a note on the resource.

Only the CloudWatch Logs destination is supported: the stack's flow log feeds a log group and the
metric filters on it. The delivery role must trust vpc-flow-logs.amazonaws.com and may write to
the group (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import ReconcileError
from ._fields import ROLE_ARN, matching
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel
from .common import chunks, error_code, names_with_prefix, read_pages
from .ec2 import EC2_TAGS
from .kind import KindActions, KindMeta
from .registry import register

NAME_TAG = "pacs-reconcile:name"
"""The spec's name of a flow log (AWS gives flow logs none)."""
FILTER_VALUES_MAX = 200
"""EC2 accepts at most 200 values in one filter."""
_RESOURCE_TYPES = {"vpc": "VPC", "subnet": "Subnet", "eni": "NetworkInterface"}
_RESOURCE_ID = re.compile(r"(vpc|subnet|eni)-[0-9a-f]{8,17}")


class FlowLogSpec(SpecModel):
    """A flow log of a VPC, subnet or network interface, published to a CloudWatch Logs group."""

    name: str = Field(min_length=1, max_length=255)
    """The flow log's name in this stack (kept in the tag pacs-reconcile:name; AWS gives flow logs
    no name). Changing it replaces the flow log."""
    resource_id: Annotated[
        str,
        matching(
            _RESOURCE_ID, "must be a VPC, subnet or network interface id (vpc-..., subnet-..., eni-...)"
        ),
    ]
    """What is logged: a VPC (vpc-...), subnet (subnet-...) or network interface (eni-...) id,
    e.g. `${lookups.vpc.id}`."""
    traffic_type: Literal["ACCEPT", "REJECT", "ALL"] = "ALL"
    """Which traffic is recorded: accepted, rejected or all."""
    log_group_name: str = Field(min_length=1, max_length=512)
    """The CloudWatch Logs group the records go to, e.g. `${log_groups.vpc_flow.name}`."""
    deliver_logs_role_arn: Annotated[str, ROLE_ARN]
    """The role AWS assumes to write to the group (trusting vpc-flow-logs.amazonaws.com), e.g.
    `${iam_roles.flow_logs.arn}`."""
    max_aggregation_interval: Literal[60, 600] = 600
    """Seconds over which a flow is captured into one record: 60 or 600."""
    log_format: str | None = None
    """The record format, e.g. `${version} ${srcaddr} ...` (write `$${` for a literal `${`). Unset:
    AWS's default format (not managed)."""


FIELDS = (
    "resource_id",
    "traffic_type",
    "log_group_name",
    "deliver_logs_role_arn",
    "max_aggregation_interval",
)


def _list_flow_logs(ctx: AwsContext, prefix: str) -> list[str]:
    # A flow log has no name of its own: only those this tool named (tag pacs-reconcile:name) can be
    # listed by name.
    flow_logs = read_pages(ctx.client("ec2"), "describe_flow_logs", "FlowLogs")
    names = [tags_from_list(f.get("Tags")).get(NAME_TAG) for f in flow_logs]
    return names_with_prefix([n for n in names if n], prefix)


@register
class FlowLogs(Reconciler):
    meta = KindMeta(
        kind="ec2_flow_logs",
        model=FlowLogSpec,
        title="VPC flow log",
        attributes=("id", "name"),
        force_new=frozenset({"name", *FIELDS, "log_format"}),
        taggable=True,
        lister=_list_flow_logs,
        tag_api=EC2_TAGS,
        actions=KindActions(
            read=frozenset({"ec2:DescribeFlowLogs"}),
            write=frozenset({"ec2:CreateFlowLogs", "ec2:CreateTags", "ec2:DeleteTags"}),
            delete=frozenset({"ec2:DeleteFlowLogs"}),
            passes_role_to="vpc-flow-logs.amazonaws.com",
        ),
    )

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        ec2 = ctx.client("ec2")
        out = self._by_name(_describe(ec2, [{"Name": f"tag:{OWNER_TAG}", "Values": [scope.stack]}]))
        missing = sorted({str(k) for k in keys} - set(out))
        for batch in chunks(missing, FILTER_VALUES_MAX):
            out.update(self._by_name(_describe(ec2, [{"Name": f"tag:{NAME_TAG}", "Values": list(batch)}])))
        return out

    def _by_name(self, flow_logs: Sequence[Mapping[str, Any]]) -> dict[Key, Live]:
        out: dict[Key, Live] = {}
        for flow_log in sorted(flow_logs, key=lambda f: str(f["FlowLogId"])):
            live = self._live(flow_log)
            if live.key in out:  # a second one of one name (made by hand): shown as undeclared
                live = replace(live, key=f"{live.key}#{live.handle}")
            out[live.key] = live
        return out

    def _live(self, flow_log: Mapping[str, Any]) -> Live:
        all_tags = tags_from_list(flow_log.get("Tags"))
        flow_log_id = str(flow_log["FlowLogId"])
        name = all_tags.get(NAME_TAG) or flow_log_id
        state = {
            "name": name,
            "resource_id": flow_log.get("ResourceId", ""),
            "traffic_type": flow_log.get("TrafficType", ""),
            "log_group_name": flow_log.get("LogGroupName", ""),
            "deliver_logs_role_arn": flow_log.get("DeliverLogsPermissionArn", ""),
            "max_aggregation_interval": flow_log.get("MaxAggregationInterval", 600),
            "log_format": flow_log.get("LogFormat", ""),
        }
        notes: tuple[str, ...] = ()
        if flow_log.get("DeliverLogsStatus") == "FAILED":
            reason = flow_log.get("DeliverLogsErrorMessage") or "no reason given"
            notes = (f"delivery to the log group is failing: {reason}",)
        tags = {k: v for k, v in all_tags.items() if k != NAME_TAG}
        return Live(name, state, {"id": flow_log_id, "name": name}, tags, flow_log_id, notes)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        ec2 = ctx.client("ec2")
        state = desired.state
        tags = {**desired.tags, NAME_TAG: state["name"]}
        request: dict[str, Any] = {
            "ResourceIds": [state["resource_id"]],
            "ResourceType": _RESOURCE_TYPES[state["resource_id"].split("-", 1)[0]],
            "TrafficType": state["traffic_type"],
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": state["log_group_name"],
            "DeliverLogsPermissionArn": state["deliver_logs_role_arn"],
            "MaxAggregationInterval": state["max_aggregation_interval"],
            "TagSpecifications": [{"ResourceType": "vpc-flow-log", "Tags": tags_to_list(tags)}],
            # One token per call, kept by botocore for every retry of it: a retry whose first
            # attempt EC2 carried out gets that attempt's flow log. Never the same token for a later
            # create: EC2 answers a reused token with the first result (a flow log deleted since)
            # and creates nothing ("Ensuring idempotency in Amazon EC2 API requests": do not reuse
            # a client token for another call later on).
            "ClientToken": str(uuid.uuid4()),
        }
        if state.get("log_format"):
            request["LogFormat"] = state["log_format"]
        answer = ec2.create_flow_logs(**request)
        failed = answer.get("Unsuccessful") or []
        if failed or not answer.get("FlowLogIds"):
            reasons = (
                "; ".join(str((f.get("Error") or {}).get("Message", f)) for f in failed) or "no flow log id"
            )
            raise ReconcileError(f"CreateFlowLogs did not create {state['name']}: {reasons}")
        flow_log_id = str(answer["FlowLogIds"][0])
        live_state = {**state, "log_format": state.get("log_format") or ""}
        return Live(
            state["name"],
            live_state,
            {"id": flow_log_id, "name": state["name"]},
            dict(desired.tags),
            flow_log_id,
        )

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # Every attribute forces a replacement; only tags change in place (update_tags).
        return live

    def delete(self, ctx: AwsContext, live: Live) -> None:
        try:
            answer = ctx.client("ec2").delete_flow_logs(FlowLogIds=[live.handle])
        except ClientError as error:
            if error_code(error) == "InvalidFlowLogId.NotFound":
                return
            raise
        failed = [f for f in answer.get("Unsuccessful") or [] if "NotFound" not in str(f.get("Error"))]
        if failed:
            raise ReconcileError(f"DeleteFlowLogs did not delete {live.handle}: {failed[0].get('Error')}")


def _describe(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return read_pages(ec2, "describe_flow_logs", "FlowLogs", Filter=filters)
