"""AWS Cloud Map: private DNS namespaces (`service_discovery_namespaces`) and their services
(`services`, declared under their namespace), the names ECS services register their tasks under so
that others find them (`prometheus.NAMESPACE` resolves, inside the VPC, to the running tasks).

Sources (Cloud Map API reference): CreatePrivateDnsNamespace, UpdatePrivateDnsNamespace,
DeleteNamespace, ListNamespaces, CreateService, UpdateService, DeleteService, ListServices,
GetOperation; Route 53 GetHostedZone.

Namespaces. A private DNS namespace is a Route 53 private hosted zone of one VPC. Creating,
changing and deleting one are asynchronous: the call answers an OperationId, and GetOperation's
status goes SUBMITTED -> PENDING -> SUCCESS or FAIL (with ErrorMessage); apply waits for it, at
most OPERATION_SECONDS. CreatePrivateDnsNamespace takes a CreatorRequestId "that allows failed
requests to be retried without the risk of running the operation twice": it is derived from the
stack, name and VPC, so a retried create never makes a second namespace. Its name and VPC cannot
change (UpdatePrivateDnsNamespace changes the description and the SOA record only): both replace
it. Cloud Map does not report the VPC: it is read from the hosted zone (Route 53 GetHostedZone,
VPCs). Tags: TagResource / UntagResource; reads take ListTagsForResource a namespace (an account
has few).

Services. A service is a child of its namespace (its name is unique there): owned through the
namespace, untagged. Its DNS records (type -> TTL) and description change in place with
UpdateService, which "updates the TTL setting for existing DnsRecords configurations" (the record
types, the routing policy and the custom health check cannot change: they replace the service);
UpdateService drops what its request omits, so the whole DNS configuration is always sent. ECS
tasks register through the ECS service's `service_registries`; a custom health check
(HealthCheckCustomConfig) lets ECS report each task's health to Cloud Map. DeleteService fails
while instances are registered: the ECS services that register into it go first (they reference
it). Reads: ListServices filtered by namespace (it returns the DNS and health configuration).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field, field_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import ReconcileError
from ._retry import wait_until
from .base import (
    Desired,
    Key,
    KindActions,
    KindMeta,
    Live,
    ReadScope,
    Reconciler,
    SpecModel,
    TagApi,
    is_unresolved,
)
from .common import (
    both,
    claim_after_lost_create,
    concurrently,
    error_code,
    gone_is_fine,
    memo_until_write,
    names_with_prefix,
    read_pages,
)
from .registry import register

OPERATION_SECONDS = 300.0
"""How long apply waits for a namespace or service operation to succeed."""
PRIVATE_DNS = "DNS_PRIVATE"
RecordType = Literal["A", "AAAA", "SRV", "CNAME"]
RoutingPolicy = Literal["MULTIVALUE", "WEIGHTED"]
_LABEL = r"(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_VPC_ID = re.compile(r"vpc-[0-9a-f]{8,17}")


class OperationFailed(ReconcileError):
    """A Cloud Map operation ended in FAIL."""


# Namespaces -----------------------------------------------------------------------------------


class NamespaceSpec(SpecModel):
    """A Cloud Map private DNS namespace in a VPC: its services are DNS names only the VPC resolves."""

    name: str = Field(min_length=1, max_length=253)
    """The domain, e.g. `pacs-monitoring.local`: a service `prometheus` in it is
    `prometheus.pacs-monitoring.local`. A change replaces the namespace."""
    vpc_id: str
    """The VPC whose resolver answers for the domain, usually `${lookups.vpc.id}`. A change replaces
    the namespace."""
    description: str = Field(default="", max_length=1024)
    """What the namespace is for."""

    @field_validator("name")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not is_unresolved(value) and not _DNS_NAME.fullmatch(value):
            raise ValueError("must be a domain name: labels of letters, digits, _ and -, joined by dots")
        return value

    @field_validator("vpc_id")
    @classmethod
    def _vpc(cls, value: str) -> str:
        if not is_unresolved(value) and not _VPC_ID.fullmatch(value):
            raise ValueError("must be a VPC id (vpc-...), e.g. ${lookups.vpc.id}")
        return value


def _private_namespaces(ctx: AwsContext) -> list[dict[str, Any]]:
    """The region's private DNS namespaces, listed once for the namespaces' read and the services'
    (their read ahead, and their read for namespaces this stack does not own), until the run writes."""
    return memo_until_write(ctx, "servicediscovery:namespaces", lambda: _list_private_namespaces(ctx))


def _list_private_namespaces(ctx: AwsContext) -> list[dict[str, Any]]:
    found = read_pages(
        ctx.client("servicediscovery"),
        "list_namespaces",
        "Namespaces",
        Filters=[{"Name": "TYPE", "Values": [PRIVATE_DNS], "Condition": "EQ"}],
    )
    return [n for n in found if n.get("Type") == PRIVATE_DNS]  # an emulator may ignore the filter


def _list_namespaces(ctx: AwsContext, prefix: str) -> list[str]:
    return names_with_prefix([str(n["Name"]) for n in _private_namespaces(ctx)], prefix)


@register
class Namespaces(Reconciler):
    meta = KindMeta(
        kind="service_discovery_namespaces",
        model=NamespaceSpec,
        title="Cloud Map private DNS namespace",
        attributes=("id", "arn", "name", "hosted_zone_id"),
        force_new=frozenset({"name", "vpc_id"}),
        lister=_list_namespaces,
        tag_api=TagApi("servicediscovery", "tag_resource", "untag_resource", "ResourceARN", "arn"),
        actions=KindActions(
            read=frozenset(
                {
                    "servicediscovery:ListNamespaces",
                    "servicediscovery:ListTagsForResource",
                    "route53:GetHostedZone",
                }
            ),
            write=frozenset(
                {
                    "servicediscovery:CreatePrivateDnsNamespace",
                    "servicediscovery:UpdatePrivateDnsNamespace",
                    "servicediscovery:GetOperation",
                    "servicediscovery:GetNamespace",
                    "servicediscovery:ListTagsForResource",
                    "servicediscovery:TagResource",
                    "servicediscovery:UntagResource",
                }
            ),
            delete=frozenset({"servicediscovery:DeleteNamespace", "servicediscovery:GetOperation"}),
            # AWS Cloud Map API permissions reference, CreatePrivateDnsNamespace's required
            # permissions (https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-api-permissions-ref.html)
            required_by_aws=frozenset(
                {
                    "route53:CreateHostedZone",
                    "route53:GetHostedZone",
                    "route53:ListHostedZonesByName",
                    "ec2:DescribeVpcs",
                    "ec2:DescribeRegions",
                }
            ),
        ),
    )

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        namespaces = _private_namespaces(ctx)
        wanted = {str(k) for k in keys}

        def tags_and_vpc(namespace: Mapping[str, Any]) -> tuple[dict[str, str], str | None]:
            """Its tags, and its VPC if it is declared (read at the same time) or this stack's."""
            if namespace["Name"] in wanted:
                return both(lambda: _tags(ctx, str(namespace["Arn"])), lambda: _vpc_of(ctx, namespace))
            tags = _tags(ctx, str(namespace["Arn"]))
            return tags, _vpc_of(ctx, namespace) if tags.get(OWNER_TAG) == scope.stack else None

        read = concurrently(tags_and_vpc, namespaces)
        chosen = [
            ((n, t), vpc)
            for n, (t, vpc) in zip(namespaces, read, strict=True)
            if n["Name"] in wanted or t.get(OWNER_TAG) == scope.stack
        ]
        vpcs = [str(vpc) for _, vpc in chosen]
        chosen_pairs = [pair for pair, _ in chosen]
        out: dict[Key, Live] = {}
        # Owned first: of two namespaces of one name (another VPC's, made by hand), this stack's
        # answers to the name; the other shows as undeclared.
        ordered = sorted(
            zip(chosen_pairs, vpcs, strict=True), key=lambda p: p[0][1].get(OWNER_TAG) != scope.stack
        )
        for (namespace, namespace_tags), vpc in ordered:
            live = self._live(namespace, namespace_tags, vpc)
            if live.key in out:
                live = replace(live, key=f"{live.key}#{live.handle}")
            out[live.key] = live
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        state = desired.state
        client = ctx.client("servicediscovery")
        request_id = _creator_request_id(desired, state["vpc_id"])
        try:
            operation = client.create_private_dns_namespace(
                Name=state["name"],
                CreatorRequestId=request_id,
                Description=state.get("description") or "",
                Vpc=state["vpc_id"],
                Tags=tags_to_list(desired.tags),
            )["OperationId"]
        except ClientError as error:
            # The same request again (a retry after a lost answer) meets its first attempt: still
            # running (DuplicateRequest, its operation to wait for) or done (NamespaceAlreadyExists,
            # naming it); either only when the CreatorRequestId is this request's.
            answer: Mapping[str, Any] = error.response
            ours = answer.get("CreatorRequestId") == request_id
            if error_code(error) == "DuplicateRequest" and answer.get("DuplicateOperationId"):
                operation = str(answer["DuplicateOperationId"])
            elif error_code(error) == "NamespaceAlreadyExists" and ours:
                return self._claimed(ctx, desired, str(answer["NamespaceId"]))
            else:
                raise
        return self._claimed(ctx, desired, wait_for_operation(ctx, operation)["NAMESPACE"])

    def _claimed(self, ctx: AwsContext, desired: Desired, namespace_id: str) -> Live:
        namespace = ctx.client("servicediscovery").get_namespace(Id=namespace_id)["Namespace"]
        tags = _tags(ctx, str(namespace["Arn"]))
        claim_after_lost_create(f"Cloud Map namespace {namespace['Name']}", tags, desired.tags)
        return self._live(namespace, tags, desired.state["vpc_id"])

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # Only the description changes in place (name and VPC replace the namespace).
        description = desired.state.get("description") or ""
        operation = ctx.client("servicediscovery").update_private_dns_namespace(
            Id=live.handle, Namespace={"Description": description}
        )["OperationId"]
        wait_for_operation(ctx, operation)
        return replace(live, state={**live.state, "description": description})

    def delete(self, ctx: AwsContext, live: Live) -> None:
        try:
            operation = ctx.client("servicediscovery").delete_namespace(Id=live.handle)["OperationId"]
        except ClientError as error:
            if error_code(error) == "NamespaceNotFound":
                return
            raise
        wait_for_operation(ctx, operation)

    @staticmethod
    def _live(namespace: Mapping[str, Any], tags: dict[str, str], vpc_id: str) -> Live:
        dns = ((namespace.get("Properties") or {}).get("DnsProperties")) or {}
        name = str(namespace["Name"])
        state = {"name": name, "vpc_id": vpc_id, "description": namespace.get("Description") or ""}
        attrs = {
            "id": namespace["Id"],
            "arn": namespace["Arn"],
            "name": name,
            "hosted_zone_id": dns.get("HostedZoneId", ""),
        }
        return Live(name, state, attrs, tags, str(namespace["Id"]))


def _tags(ctx: AwsContext, arn: str) -> dict[str, str]:
    answer = ctx.client("servicediscovery").list_tags_for_resource(ResourceARN=arn)
    return tags_from_list(answer.get("Tags"))


def _vpc_of(ctx: AwsContext, namespace: Mapping[str, Any]) -> str:
    """The namespace's VPC in this region, from its hosted zone (Cloud Map does not report it)."""
    zone = (((namespace.get("Properties") or {}).get("DnsProperties")) or {}).get("HostedZoneId")
    if not zone:
        return ""
    vpcs = ctx.client("route53").get_hosted_zone(Id=zone).get("VPCs", [])
    here = [v["VPCId"] for v in vpcs if v.get("VPCRegion") in (None, ctx.region)]
    return str(here[0]) if here else ""


def _creator_request_id(desired: Desired, *parts: str) -> str:
    """The same request (stack, address, what it creates) always carries the same id (64 characters
    at most), so AWS answers a retried create with the first one's result."""
    what = "\n".join([desired.tags.get(OWNER_TAG, ""), desired.address, *parts])
    return hashlib.sha256(what.encode()).hexdigest()[:64]


def wait_for_operation(ctx: AwsContext, operation_id: str) -> dict[str, str]:
    """Wait for a Cloud Map operation to succeed; its targets (NAMESPACE/SERVICE -> id)."""
    client = ctx.client("servicediscovery")
    seen: dict[str, Any] = {}

    def done() -> bool:
        seen.update(client.get_operation(OperationId=operation_id)["Operation"])
        if seen.get("Status") == "FAIL":
            raise OperationFailed(
                f"Cloud Map operation {operation_id} ({seen.get('Type', '?')}) failed: "
                f"{seen.get('ErrorCode', '')} {seen.get('ErrorMessage', '')}".strip()
            )
        return seen.get("Status") == "SUCCESS"

    wait_until(f"Cloud Map operation {operation_id}", done, OPERATION_SECONDS)
    return {str(k): str(v) for k, v in (seen.get("Targets") or {}).items()}


# Services -------------------------------------------------------------------------------------


def _one_a_record() -> dict[RecordType, int]:
    return {"A": 10}


class DiscoveryServiceSpec(SpecModel):
    """A name in the namespace that ECS tasks register under (the ECS service's
    `service_registries`), answered with one DNS record per healthy task."""

    name: str = Field(min_length=1, max_length=127)
    """The service's name: its DNS name is NAME.NAMESPACE. A change replaces the service."""
    description: str = Field(default="", max_length=1024)
    """What the service is for."""
    dns_records: dict[RecordType, int] = Field(default_factory=_one_a_record, min_length=1)
    """Record type -> TTL in seconds: `A` (a task's IP address, for awsvpc tasks) and `SRV` (address
    and port, for a registry that names a container port). TTLs change in place; another set of
    types replaces the service."""
    routing_policy: RoutingPolicy = "MULTIVALUE"
    """`MULTIVALUE` (up to eight healthy records per answer) or `WEIGHTED` (one record picked at
    random). A change replaces the service."""
    custom_health_check: bool = True
    """ECS reports each task's health to Cloud Map, which answers only with healthy tasks. Cannot
    change after creation: a change replaces the service."""

    @field_validator("name")
    @classmethod
    def _label(cls, value: str) -> str:
        if not is_unresolved(value) and not _DNS_NAME.fullmatch(value):
            raise ValueError("must be a DNS name: letters, digits, _ and -, labels joined by dots")
        return value

    @field_validator("dns_records")
    @classmethod
    def _ttls(cls, value: dict[str, int]) -> dict[str, int]:
        for record, ttl in value.items():
            if not 0 <= ttl <= 2147483647:
                raise ValueError(f"{record}: a TTL is 0 to 2147483647 seconds")
        if "CNAME" in value and len(value) > 1:
            raise ValueError("a CNAME record cannot be combined with other record types")
        return value


@register
class DiscoveryServices(Reconciler):
    meta = KindMeta(
        kind="services",
        model=DiscoveryServiceSpec,
        title="Cloud Map service",
        attributes=("id", "arn", "name"),
        force_new=frozenset({"name", "routing_policy", "custom_health_check"}),
        taggable=False,
        parent="service_discovery_namespaces",
        actions=KindActions(
            read=frozenset({"servicediscovery:ListServices", "servicediscovery:ListNamespaces"}),
            write=frozenset(
                {
                    "servicediscovery:CreateService",
                    "servicediscovery:UpdateService",
                    "servicediscovery:GetOperation",
                    "servicediscovery:GetService",
                }
            ),
            delete=frozenset({"servicediscovery:DeleteService"}),
        ),
    )

    def replacing_paths(self, delta: Delta) -> list[str]:
        # A record type added or removed replaces the service; a TTL changes in place.
        types_changed = [
            d.path
            for d in delta.differences
            if d.path.startswith("dns_records") and (d.old is None or d.new is None)
        ]
        return super().replacing_paths(delta) + types_changed

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        """Every service of the owned namespaces, plus the requested ones of other namespaces."""
        parents: dict[str, str | None] = {str(k): v.handle for k, v in scope.parents.items()}
        for key in keys:
            parents.setdefault(str(key[0]), None)  # type: ignore[index]
        unowned = [name for name, namespace_id in parents.items() if namespace_id is None]
        if unowned:
            ids = {str(n["Name"]): str(n["Id"]) for n in _private_namespaces(ctx)}
            parents.update({name: ids.get(name) for name in unowned})
        wanted = set(keys)
        listed = sorted((parent, namespace_id) for parent, namespace_id in parents.items() if namespace_id)
        services = concurrently(lambda pair: _listed_services(ctx, str(pair[1])), listed)
        out: dict[Key, Live] = {}
        for (parent, _), found in zip(listed, services, strict=True):
            owned_parent = parent in {str(k) for k in scope.parents}
            for service in found:
                live = self._live(parent, service)
                if owned_parent or live.key in wanted:
                    out[live.key] = live
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        # The services of the declared services' namespaces, each found by a name no other
        # namespace has (the read lists those whoever owns them; of two namesakes it lists only
        # the owned one's, which only the namespaces' read tells).
        names = {str(key[0]) for key in keys}  # type: ignore[index]
        namespaces = _private_namespaces(ctx)
        count = Counter(str(n["Name"]) for n in namespaces)
        ids = [str(n["Id"]) for n in namespaces if n["Name"] in names and count[str(n["Name"])] == 1]
        concurrently(lambda namespace_id: _listed_services(ctx, namespace_id), ids)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        assert desired.parent is not None, "a service is created inside its namespace"
        state = desired.state
        namespace_id = str(desired.parent.handle)
        request: dict[str, Any] = {
            "Name": state["name"],
            "NamespaceId": namespace_id,
            "CreatorRequestId": _creator_request_id(desired, namespace_id),
            "Description": state.get("description") or "",
            "DnsConfig": _dns_config(state, with_policy=True),
        }
        if state["custom_health_check"]:
            request["HealthCheckCustomConfig"] = {}
        client = ctx.client("servicediscovery")
        try:
            service = client.create_service(**request)["Service"]
        except ClientError as error:
            # a retried create whose first answer was lost meets its own first attempt (the same
            # CreatorRequestId); a namesake made otherwise is someone else's
            answer: Mapping[str, Any] = error.response
            if (
                error_code(error) != "ServiceAlreadyExists"
                or answer.get("CreatorRequestId") != request["CreatorRequestId"]
            ):
                raise
            service = client.get_service(Id=answer["ServiceId"])["Service"]
        return self._live(str(desired.parent.key), service)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        state = desired.state
        operation = ctx.client("servicediscovery").update_service(
            Id=live.handle,
            Service={"Description": state.get("description") or "", "DnsConfig": _dns_config(state)},
        )["OperationId"]
        wait_for_operation(ctx, operation)
        changed = {"description": state.get("description") or "", "dns_records": dict(state["dns_records"])}
        return replace(live, state={**live.state, **changed})

    def delete(self, ctx: AwsContext, live: Live) -> None:
        with gone_is_fine("ServiceNotFound"):
            ctx.client("servicediscovery").delete_service(Id=live.handle)

    @staticmethod
    def _live(parent: str, service: Mapping[str, Any]) -> Live:
        dns = service.get("DnsConfig") or {}
        name = str(service["Name"])
        state = {
            "name": name,
            "description": service.get("Description") or "",
            "dns_records": {r["Type"]: int(r["TTL"]) for r in dns.get("DnsRecords", [])},
            "routing_policy": dns.get("RoutingPolicy", "MULTIVALUE"),
            "custom_health_check": service.get("HealthCheckCustomConfig") is not None,
        }
        attrs = {"id": service["Id"], "arn": service["Arn"], "name": name}
        return Live((parent, name), state, attrs, None, str(service["Id"]))


def _listed_services(ctx: AwsContext, namespace_id: str) -> list[dict[str, Any]]:
    """_services_of as a plan reads them: once, shared by the read ahead and the read, until the
    run writes."""
    key = f"servicediscovery:services:{namespace_id}"
    return memo_until_write(ctx, key, lambda: _services_of(ctx, namespace_id))


def _services_of(ctx: AwsContext, namespace_id: str) -> list[dict[str, Any]]:
    found = read_pages(
        ctx.client("servicediscovery"),
        "list_services",
        "Services",
        Filters=[{"Name": "NAMESPACE_ID", "Values": [namespace_id], "Condition": "EQ"}],
    )
    # The filter is what ties a summary to its namespace (ServiceSummary has no NamespaceId but the
    # deprecated DnsConfig.NamespaceId): where that is given, it must agree.
    return [s for s in found if (s.get("DnsConfig") or {}).get("NamespaceId", namespace_id) == namespace_id]


def _dns_config(state: Mapping[str, Any], *, with_policy: bool = False) -> dict[str, Any]:
    records = [{"Type": kind, "TTL": ttl} for kind, ttl in sorted(state["dns_records"].items())]
    config: dict[str, Any] = {"DnsRecords": records}
    if with_policy:  # UpdateService takes the records only: the policy cannot change
        config["RoutingPolicy"] = state["routing_policy"]
    return config
