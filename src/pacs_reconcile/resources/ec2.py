"""EC2: security groups.

Security groups
---------------
Rules are sets. Both sides are broken down into atomic rules (protocol, ports, one source) and
regrouped in one canonical order, so the same rules written in another grouping or order (or
merged by AWS into one permission) compare equal. An update authorizes what is missing first,
then fixes descriptions, then revokes what is extra: traffic the spec allows never stops.

AWS adds an allow-all egress rule to every new group. `egress` unset means egress is not managed
(that rule stays); `egress: []` or a list means exactly those rules (AWS's is removed).

The description cannot change (AWS-NOTES item 8), so a change replaces the group, create before
destroy: the engine creates the new group, moves dependents (e.g. EFS mount targets) to it and
only then deletes the old one. Group names are unique per VPC, so while both exist they cannot
share the name. Hence:
- the spec's `name` is the identity, kept in the bookkeeping tag `pacs-reconcile:name`;
- each group this tool creates carries a generation number (`pacs-reconcile:generation`); the
  first generation is named exactly `name`, later ones `name-2`, `name-3`, ...;
- when several owned groups carry the same identity (a run stopped between creating a
  replacement and deleting the old group), the highest generation is the group; the others are
  reported under the key `name#sg-...` as undeclared, so the next apply moves dependents to the
  current group and deletes them.
Groups not made by this tool (adopted, or requested by name) are identified by their GroupName.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, field_validator, model_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, tags_from_list, tags_to_list
from ..errors import ReconcileError
from . import _retry
from ._fields import matching
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    chunks,
    claim_after_lost_create,
    claim_identical_after_lost_create,
    error_code,
    gone_is_fine,
    names_with_prefix,
    read_pages,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

NAME_TAG = "pacs-reconcile:name"
"""The spec's name of a group this tool created (its GroupName may carry a generation suffix)."""
GENERATION_TAG = "pacs-reconcile:generation"
BOOKKEEPING_TAGS = frozenset({NAME_TAG, GENERATION_TAG})
"""Written at create, never shown as the resource's tags (the spec does not declare them)."""
FILTER_VALUES_MAX = 200
"""EC2 accepts at most 200 values in one filter."""
DESCRIBE_PAGE_SIZE = 1000
DELETE_TIMEOUT = 300.0
"""How long a deletion waits for network interfaces (e.g. EFS mount targets just moved) to let go."""
APPEAR_TIMEOUT = 60.0
"""How long a new group may take to show in DescribeSecurityGroups (eventual consistency)."""

RuleProtocol = Literal["tcp", "udp", "icmp", "icmpv6", "all"]
_PROTOCOL_NAMES = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_SOURCE_KINDS = ("cidr_blocks", "ipv6_cidr_blocks", "security_groups", "prefix_list_ids")
_SELF = "self_group"
_GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}")
_PREFIX_LIST_ID = re.compile(r"pl-[0-9a-f]{8,17}")
_GROUP_TEXT = re.compile(r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")
"""Characters AWS allows in group names and descriptions (and rule descriptions) in a VPC."""

EC2_TAGS = TagApi(
    "ec2",
    "create_tags",
    "delete_tags",
    "Resources",
    resource_in_list=True,
    keys_param="Tags",
    keys_shape="tags",
)
"""EC2 tags resources by id (`Live.handle`): CreateTags sets, DeleteTags removes by key."""


# Spec models ----------------------------------------------------------------------------------


def ec2_id(prefix: str, what: str) -> AfterValidator:
    """A field holding one EC2 resource id (`prefix-` and 8 or 17 hex digits)."""
    return matching(
        re.compile(rf"{prefix}-[0-9a-f]{{8,17}}"),
        lambda value: f"{value!r} is not a {what} id such as {prefix}-0123456789abcdef0",
    )


def _check_text(value: str, what: str) -> str:
    if not is_unresolved(value) and not _GROUP_TEXT.fullmatch(value):
        bad = sorted({ch for ch in value if not _GROUP_TEXT.fullmatch(ch)})
        raise ValueError(f"{what} may not contain {' '.join(repr(ch) for ch in bad)}")
    return value


def _check_cidrs(values: list[str], version: int) -> list[str]:
    for value in values:
        if is_unresolved(value):
            continue
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IPv{version} CIDR block such as "
                + ("10.0.0.0/16" if version == 4 else "2001:db8::/32")
            ) from None
        if network.version != version:
            raise ValueError(
                f"{value!r} is an IPv{network.version} block; put it in "
                + ("ipv6_cidr_blocks" if network.version == 6 else "cidr_blocks")
            )
        if str(network) != value:
            raise ValueError(f"{value!r} has host bits set; write {network}")
    return values


def _check_ids(values: list[str], pattern: re.Pattern[str], example: str) -> list[str]:
    for value in values:
        if not is_unresolved(value) and not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not an id such as {example}")
    return values


class RuleSpec(SpecModel):
    """One rule: traffic of a protocol and port range from (ingress) or to (egress) its sources."""

    protocol: RuleProtocol
    """`tcp`, `udp`, `icmp`, `icmpv6`, or `all` (every protocol and port)."""
    from_port: int | None = None
    """First port (tcp, udp), or the ICMP type (-1: every type). Not set for `all`."""
    to_port: int | None = None
    """Last port (tcp, udp; default: from_port), or the ICMP code (-1: every code)."""
    cidr_blocks: Annotated[list[str], AfterValidator(lambda values: _check_cidrs(values, 4))] = Field(
        default_factory=list
    )
    """IPv4 sources/destinations, e.g. `${lookups.vpc.cidr_block}` or 0.0.0.0/0."""
    ipv6_cidr_blocks: Annotated[list[str], AfterValidator(lambda values: _check_cidrs(values, 6))] = Field(
        default_factory=list
    )
    """IPv6 sources/destinations."""
    security_groups: Annotated[
        list[str], AfterValidator(lambda values: _check_ids(values, _GROUP_ID, "sg-0123456789abcdef0"))
    ] = Field(default_factory=list)
    """Ids of other security groups whose members are allowed (e.g. `${security_groups.app.id}`)."""
    prefix_list_ids: Annotated[
        list[str], AfterValidator(lambda values: _check_ids(values, _PREFIX_LIST_ID, "pl-0123456789abcdef0"))
    ] = Field(default_factory=list)
    """Managed prefix lists (pl-...)."""
    self_group: bool = False
    """Also allow the members of this group itself."""
    description: Annotated[str, AfterValidator(lambda value: _check_text(value, "a rule description"))] = (
        Field(default="", max_length=255)
    )
    """Shown in the console next to each source of the rule."""

    @model_validator(mode="after")
    def _ports_and_sources(self) -> RuleSpec:
        if self.protocol == "all":
            if self.from_port is not None or self.to_port is not None:
                raise ValueError("a rule for all protocols covers every port: remove from_port and to_port")
        elif self.protocol in ("tcp", "udp"):
            self._check_port_range()
        else:
            for name, value in (("from_port", self.from_port), ("to_port", self.to_port)):
                if value is not None and not -1 <= value <= 255:
                    raise ValueError(f"{name} is an ICMP type or code here: -1 to 255")
        if not any(getattr(self, kind) for kind in _SOURCE_KINDS) and not self.self_group:
            raise ValueError(
                "names no source: give cidr_blocks, ipv6_cidr_blocks, security_groups, "
                "prefix_list_ids or self_group: true"
            )
        return self

    def _check_port_range(self) -> None:
        if self.from_port is None:
            raise ValueError(f"a {self.protocol} rule needs from_port (and to_port for a range)")
        to_port = self.from_port if self.to_port is None else self.to_port
        if not 0 <= self.from_port <= to_port <= 65535:
            raise ValueError(
                f"ports must satisfy 0 <= from_port <= to_port <= 65535 (got {self.from_port}-{to_port})"
            )


class SecurityGroupSpec(SpecModel):
    """A VPC security group; its rules are compared as sets."""

    name: str = Field(min_length=1, max_length=250)
    """The group's name and identity. A replacement (see `description`) is named NAME-2, NAME-3...
    while the old group still exists; the tag pacs-reconcile:name keeps the identity."""
    description: Annotated[str, AfterValidator(lambda value: _check_text(value, "a group description"))] = (
        Field(min_length=1, max_length=255)
    )
    """What the group is for. AWS cannot change it: a change replaces the group (the new one is
    created first and dependents are moved to it before the old one is deleted)."""
    vpc_id: Annotated[str, ec2_id("vpc", "VPC")]
    """The VPC, usually `${lookups.vpc.id}`. A change replaces the group."""
    ingress: list[RuleSpec] = Field(default_factory=list)
    """Inbound rules (a set: order and grouping do not matter). Empty: no inbound traffic."""
    egress: list[RuleSpec] | None = None
    """Outbound rules. Unset: not managed (AWS's default allow-all rule stays); a list (even
    empty) is exactly the outbound rules, and AWS's default one is removed if not in it."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if is_unresolved(value):
            return value
        if value.lower().startswith("sg-"):
            raise ValueError('names starting with "sg-" are reserved by AWS')
        if value == "default":
            raise ValueError('"default" is the name of every VPC\'s default group; choose another')
        return _check_text(value, "a group name")


# Rules in canonical form -----------------------------------------------------------------------

Atom = tuple[str, Any, Any, str, Any]
"""(protocol, from_port, to_port, source kind, source): one rule with one source."""


def _protocol_name(protocol: Any) -> str:
    text = str(protocol).lower()
    return _PROTOCOL_NAMES.get(text, text)


def _ports(protocol: str, from_port: Any, to_port: Any) -> tuple[Any, Any]:
    if protocol == "all":
        return None, None
    if protocol in ("icmp", "icmpv6"):
        return (-1 if from_port is None else from_port), (-1 if to_port is None else to_port)
    return from_port, (from_port if to_port is None else to_port)


def rule_atoms(rules: Iterable[Mapping[str, Any]]) -> dict[Atom, str]:
    """Every (protocol, ports, single source) of the rules, with its description."""
    atoms: dict[Atom, str] = {}
    for rule in rules:
        protocol = _protocol_name(rule["protocol"])
        from_port, to_port = _ports(protocol, rule.get("from_port"), rule.get("to_port"))
        description = rule.get("description") or ""
        for kind in _SOURCE_KINDS:
            for source in rule.get(kind) or ():
                atoms[(protocol, from_port, to_port, kind, source)] = description
        if rule.get(_SELF):
            atoms[(protocol, from_port, to_port, _SELF, True)] = description
    return atoms


def canonical_rules(rules: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rules regrouped by (protocol, ports, description), sources sorted, rules in one order."""
    grouped: dict[tuple[str, Any, Any, str], dict[str, Any]] = {}
    for (protocol, from_port, to_port, kind, source), description in rule_atoms(rules).items():
        rule = grouped.setdefault(
            (protocol, from_port, to_port, description),
            _empty_rule(protocol, from_port, to_port, description),
        )
        if kind == _SELF:
            rule[_SELF] = True
        else:
            rule[kind].append(source)
    return [_compact(grouped[key]) for key in sorted(grouped, key=str)]


def _empty_rule(protocol: str, from_port: Any, to_port: Any, description: str) -> dict[str, Any]:
    return {
        "protocol": protocol,
        "from_port": from_port,
        "to_port": to_port,
        **{kind: [] for kind in _SOURCE_KINDS},
        _SELF: False,
        "description": description,
    }


def _compact(rule: dict[str, Any]) -> dict[str, Any]:
    """Sources sorted; empty source lists, `self_group: false` and no description left out (a
    plan then shows each rule as it would be written)."""
    out = {k: rule[k] for k in ("protocol", "from_port", "to_port") if rule[k] is not None}
    for kind in _SOURCE_KINDS:
        if rule[kind]:
            out[kind] = sorted(rule[kind], key=str)
    if rule[_SELF]:
        out[_SELF] = True
    if rule["description"]:
        out["description"] = rule["description"]
    return out


def rules_from_permissions(permissions: Iterable[Mapping[str, Any]], group_id: str) -> list[dict[str, Any]]:
    """AWS IpPermissions as spec-shaped rules (one per source: descriptions are per source)."""
    out: list[dict[str, Any]] = []
    for permission in permissions:
        base = {
            "protocol": permission["IpProtocol"],
            "from_port": permission.get("FromPort"),
            "to_port": permission.get("ToPort"),
        }
        sources: list[tuple[str, Any, Mapping[str, Any]]] = [
            *(("cidr_blocks", r["CidrIp"], r) for r in permission.get("IpRanges", [])),
            *(("ipv6_cidr_blocks", r["CidrIpv6"], r) for r in permission.get("Ipv6Ranges", [])),
            *(("prefix_list_ids", r["PrefixListId"], r) for r in permission.get("PrefixListIds", [])),
        ]
        for pair in permission.get("UserIdGroupPairs", []):
            if pair.get("GroupId") == group_id:
                sources.append((_SELF, True, pair))
            else:
                sources.append(("security_groups", pair.get("GroupId"), pair))
        for kind, source, entry in sources:
            value: Any = True if kind == _SELF else [source]
            out.append({**base, kind: value, "description": entry.get("Description", "")})
    return out


def permissions_for(
    atoms: Iterable[Atom], descriptions: Mapping[Atom, str], group_id: str
) -> list[dict[str, Any]]:
    """IpPermissions for authorize/revoke/describe-update calls, one per (protocol, ports)."""
    by_ports: dict[tuple[str, Any, Any], dict[str, Any]] = {}
    for atom in sorted(atoms, key=str):
        protocol, from_port, to_port, kind, source = atom
        ports = (protocol, from_port, to_port)
        permission = by_ports.setdefault(ports, _permission(*ports))
        described = {"Description": descriptions[atom]} if descriptions.get(atom) else {}
        if kind == "cidr_blocks":
            permission.setdefault("IpRanges", []).append({"CidrIp": source, **described})
        elif kind == "ipv6_cidr_blocks":
            permission.setdefault("Ipv6Ranges", []).append({"CidrIpv6": source, **described})
        elif kind == "prefix_list_ids":
            permission.setdefault("PrefixListIds", []).append({"PrefixListId": source, **described})
        else:
            group = group_id if kind == _SELF else source
            permission.setdefault("UserIdGroupPairs", []).append({"GroupId": group, **described})
    return list(by_ports.values())


def _permission(protocol: str, from_port: Any, to_port: Any) -> dict[str, Any]:
    permission: dict[str, Any] = {"IpProtocol": "-1" if protocol == "all" else protocol}
    if from_port is not None:
        permission["FromPort"] = from_port
        permission["ToPort"] = to_port
    return permission


# The reconciler ----------------------------------------------------------------------------------


def _list_security_groups(ctx: AwsContext, prefix: str) -> list[str]:
    groups = read_pages(ctx.client("ec2"), "describe_security_groups", "SecurityGroups")
    # A VPC's default group cannot be created or deleted: it is no resource of a stack.
    return names_with_prefix([g["GroupName"] for g in groups if g["GroupName"] != "default"], prefix)


@register
class SecurityGroups(Reconciler):
    meta = KindMeta(
        kind="security_groups",
        model=SecurityGroupSpec,
        title="Security group",
        attributes=("id", "arn", "name"),
        force_new=frozenset({"name", "description", "vpc_id"}),
        taggable=True,
        create_before_destroy=True,
        empty_is_a_setting=frozenset({"egress"}),
        lister=_list_security_groups,
        tag_api=EC2_TAGS,
        actions=KindActions(
            read=frozenset({"ec2:DescribeSecurityGroups"}),
            write=frozenset(
                {
                    "ec2:CreateSecurityGroup",
                    "ec2:DescribeSecurityGroups",
                    "ec2:CreateTags",
                    "ec2:DeleteTags",
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:AuthorizeSecurityGroupEgress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupEgress",
                    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
                    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
                }
            ),
            delete=frozenset({"ec2:DeleteSecurityGroup"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        for direction in ("ingress", "egress"):
            if isinstance(out.get(direction), list):
                out[direction] = canonical_rules(out[direction])
        return out

    # reading ----------------------------------------------------------------------------------
    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        ec2 = ctx.client("ec2")
        out = self._by_identity(ctx, _describe(ec2, [{"Name": f"tag:{OWNER_TAG}", "Values": [scope.stack]}]))
        missing = sorted({str(k) for k in keys} - set(out))
        for batch in chunks(missing, FILTER_VALUES_MAX):
            found = self._by_identity(ctx, _describe(ec2, [{"Name": "group-name", "Values": list(batch)}]))
            out.update({k: live for k, live in found.items() if k in batch})
        return out

    def _by_identity(self, ctx: AwsContext, groups: Iterable[Mapping[str, Any]]) -> dict[Key, Live]:
        """Groups keyed by identity. Of several with one identity, the highest generation (then the
        lowest id) is the group; the others get keys of their own (NAME#sg-...)."""
        ranked = sorted(groups, key=lambda g: (-_generation(g), g["GroupId"]))
        out: dict[Key, Live] = {}
        for group in ranked:
            live = self._live(ctx, group)
            if live.key in out:
                live = replace(
                    live,
                    key=f"{live.key}#{group['GroupId']}",
                    notes=("an older generation of a replaced group",),
                )
            out[live.key] = live
        return out

    def _live(self, ctx: AwsContext, group: Mapping[str, Any]) -> Live:
        all_tags = tags_from_list(group.get("Tags"))
        group_id = str(group["GroupId"])
        identity = all_tags.get(NAME_TAG) or str(group["GroupName"])
        state = {
            "name": identity,
            "description": group.get("Description", ""),
            "vpc_id": group.get("VpcId", ""),
            "ingress": canonical_rules(rules_from_permissions(group.get("IpPermissions", []), group_id)),
            "egress": canonical_rules(rules_from_permissions(group.get("IpPermissionsEgress", []), group_id)),
        }
        owner = group.get("OwnerId") or ctx.account_id
        arn = group.get("SecurityGroupArn") or (
            f"arn:{ctx.partition}:ec2:{ctx.region}:{owner}:security-group/{group_id}"
        )
        attrs = {"id": group_id, "arn": arn, "name": identity, "group_name": group["GroupName"]}
        tags = {k: v for k, v in all_tags.items() if k not in BOOKKEEPING_TAGS}
        return Live(identity, state, attrs, tags, group_id)

    # changing ---------------------------------------------------------------------------------
    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        ec2 = ctx.client("ec2")
        state = desired.state
        name = state["name"]
        stack = desired.tags.get(OWNER_TAG, ctx.stack)
        generation = self._next_generation(ec2, name, stack)
        group_name = name if generation == 1 else f"{name}-{generation}"
        tags = {**desired.tags, NAME_TAG: name, GENERATION_TAG: str(generation)}
        group_id = self._create_group(ec2, group_name, state, tags)
        group = _retry.retry_while(
            {"InvalidGroup.NotFound"},
            lambda: ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0],
            APPEAR_TIMEOUT,
        )
        live = self._live(ctx, group)
        _sync_rules(ec2, group_id, "ingress", state["ingress"], live.state["ingress"])
        if state.get("egress") is not None:
            _sync_rules(ec2, group_id, "egress", state["egress"], live.state["egress"])
        final = {**live.state, "ingress": state["ingress"], "egress": _managed(state, live.state, "egress")}
        return replace(live, state=final, tags=dict(desired.tags))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        ec2 = ctx.client("ec2")
        state = dict(live.state)
        for direction in ("ingress", "egress"):
            if desired.state.get(direction) is not None and delta.different_at(direction):
                _sync_rules(ec2, live.handle, direction, desired.state[direction], live.state[direction])
                state[direction] = desired.state[direction]
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        ec2 = ctx.client("ec2")
        with gone_is_fine("InvalidGroup.NotFound"):
            # A network interface can hold on to the group for a moment after its owner moved on.
            _retry.retry_while(
                {"DependencyViolation"},
                lambda: ec2.delete_security_group(GroupId=live.handle),
                DELETE_TIMEOUT,
            )

    # helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _next_generation(ec2: Any, name: str, stack: str) -> int:
        filters = [
            {"Name": f"tag:{OWNER_TAG}", "Values": [stack]},
            {"Name": f"tag:{NAME_TAG}", "Values": [name]},
        ]
        return max((_generation(g) for g in _describe(ec2, filters)), default=0) + 1

    @staticmethod
    def _create_group(ec2: Any, group_name: str, state: Mapping[str, Any], tags: Mapping[str, str]) -> str:
        request = {
            "GroupName": group_name,
            "Description": state["description"],
            "VpcId": state["vpc_id"],
            "TagSpecifications": [{"ResourceType": "security-group", "Tags": tags_to_list(tags)}],
        }
        try:
            return str(ec2.create_security_group(**request)["GroupId"])
        except ClientError as error:
            if error_code(error) != "InvalidGroup.Duplicate":
                raise
        # A retried request whose first attempt went through finds its own group: reuse it.
        filters = [
            {"Name": "group-name", "Values": [group_name]},
            {"Name": "vpc-id", "Values": [state["vpc_id"]]},
        ]
        groups = _describe(ec2, filters)
        found = tags_from_list(groups[0].get("Tags")) if groups else {}
        if found.get(OWNER_TAG) != tags.get(OWNER_TAG):
            raise ReconcileError(
                f"security group name {group_name!r} is taken in {state['vpc_id']} by a group this stack "
                "does not own: rename or delete that group"
            )
        claim_after_lost_create(f"security group {group_name} in {state['vpc_id']}", found, tags)
        return str(groups[0]["GroupId"])


def _describe(ec2: Any, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return read_pages(
        ec2,
        "describe_security_groups",
        "SecurityGroups",
        Filters=filters,
        PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE},
    )


def _generation(group: Mapping[str, Any]) -> int:
    value = tags_from_list(group.get("Tags")).get(GENERATION_TAG, "0")
    return int(value) if value.isdigit() else 0


def _managed(desired: Mapping[str, Any], live: Mapping[str, Any], field: str) -> Any:
    return live[field] if desired.get(field) is None else desired[field]


def _rule_atoms_now(ec2: Any, group_id: str, direction: str) -> dict[Atom, str]:
    """The group's rules in `direction` as AWS holds them now."""
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    key = "IpPermissions" if direction == "ingress" else "IpPermissionsEgress"
    return rule_atoms(rules_from_permissions(group.get(key, []), group_id))


def _sync_rules(
    ec2: Any,
    group_id: str,
    direction: str,
    desired: Iterable[Mapping[str, Any]],
    live: Iterable[Mapping[str, Any]],
) -> None:
    """Make the group's rules in `direction` exactly `desired`: add, re-describe, then revoke."""
    want, have = rule_atoms(desired), rule_atoms(live)
    missing = [a for a in want if a not in have]
    redescribed = [a for a in want if a in have and want[a] != have[a]]
    extra = [a for a in have if a not in want]
    suffix = "ingress" if direction == "ingress" else "egress"
    if missing:
        try:
            getattr(ec2, f"authorize_security_group_{suffix}")(
                GroupId=group_id, IpPermissions=permissions_for(missing, want, group_id)
            )
        except ClientError as error:
            if error_code(error) != "InvalidPermission.Duplicate":
                raise
            # Our own first attempt, its response lost? Only if the group now holds exactly the
            # rules asked for (the request is all or nothing), descriptions included.
            now = _rule_atoms_now(ec2, group_id, direction)
            claim_identical_after_lost_create(
                f"{direction} rule of security group {group_id}",
                {atom: now.get(atom) for atom in missing},
                {atom: want[atom] for atom in missing},
            )
    if redescribed:
        getattr(ec2, f"update_security_group_rule_descriptions_{suffix}")(
            GroupId=group_id, IpPermissions=permissions_for(redescribed, want, group_id)
        )
    if extra:
        try:
            getattr(ec2, f"revoke_security_group_{suffix}")(
                GroupId=group_id, IpPermissions=permissions_for(extra, have, group_id)
            )
        except ClientError as error:
            if error_code(error) != "InvalidPermission.NotFound":
                raise
            # Our own first attempt, its response lost? Then none of the rules is left.
            left = set(_rule_atoms_now(ec2, group_id, direction)) & set(extra)
            if left:
                raise ReconcileError(
                    f"{direction} rules of security group {group_id} changed meanwhile: "
                    f"{len(left)} of those to remove are still there; plan again"
                ) from error
