"""`pacs-reconcile import-terraform terraform.tfstate`: a spec for what a Terraform state manages.

Reads the state file (format version 4, the JSON `terraform state pull` prints; documented in
Terraform's internals docs, "State v4") offline: no AWS call, no Terraform. Each managed
resource of a mapped type becomes an entry in this tool's spec shape, named after its Terraform
resource name; untaggable ones (metric filters, query definitions, subscriptions) are nested under
the parent the state names. The shaping is export's (only what differs from the defaults, values
naming another imported resource turned into references, shared tags to `defaults.tags`, taggable
entries marked `lifecycle: {adopt: true}` so the first apply takes them over by tagging). The first
plan of the result against the Terraform-built stack should then show the owner tags only.

Attribute names are the AWS provider's (registry.terraform.io/providers/hashicorp/aws docs, the
"Argument Reference" of each resource). Every resource of another type, and every one that cannot
be placed (a child whose parent is not in the state), is reported, never silently dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError
from .export import Entry, Export, finish, render, shaped_entry, slug, unique_name
from .resources._ecs_containers import container_state
from .resources.base import Live
from .resources.ec2 import canonical_rules, rules_from_permissions
from .resources.ecs import (
    DEFAULT_EPHEMERAL_GIB,
    kept_revisions,
    proxy_state,
    runtime_platform_state,
    volume_state,
)
from .resources.lambda_ import SUPPORTED_RUNTIMES
from .resources.registry import KINDS, load_all
from .spec.loader import ENTRY_NAME

if TYPE_CHECKING:
    from .commands import Session

STATE_VERSION = 4


@dataclass(frozen=True)
class TfResource:
    type: str
    name: str
    index: Any
    """count index or for_each key; None for a single instance."""
    attributes: Mapping[str, Any]

    @property
    def address(self) -> str:
        suffix = f"[{json.dumps(self.index)}]" if self.index is not None else ""
        return f"{self.type}.{self.name}{suffix}"

    @property
    def entry_name(self) -> str:
        name = self.name if self.index is None else f"{self.name}_{self.index}"
        return name if ENTRY_NAME.match(name) else "r_" + "".join(c if c.isalnum() else "_" for c in name)


@dataclass(frozen=True)
class Mapped:
    """What a Terraform resource becomes: a kind, its spec-shaped state, and where it goes."""

    kind: str
    identity: str
    state: dict[str, Any]
    attrs: dict[str, Any]
    tags: dict[str, str] | None
    parent: tuple[str, str] | None = None
    """(parent kind, parent identity) for a child kind."""


@dataclass
class Imported:
    export: Export
    unmapped: list[str] = field(default_factory=list)


def read_state(path: Path) -> list[TfResource]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable Terraform state ({exc})") from None
    if not isinstance(document, dict) or document.get("version") != STATE_VERSION:
        found = document.get("version") if isinstance(document, dict) else None
        raise UsageError(
            f"{path}: Terraform state format version {STATE_VERSION} expected (got {found!r}); "
            "`terraform state pull > terraform.tfstate` writes it"
        )
    out: list[TfResource] = []
    for resource in document.get("resources") or []:
        if resource.get("mode") != "managed":
            continue  # data sources are lookups already, not resources Terraform created
        for instance in resource.get("instances") or []:
            out.append(
                TfResource(
                    str(resource.get("type")),
                    str(resource.get("name")),
                    instance.get("index_key"),
                    instance.get("attributes") or {},
                )
            )
    return out


# Mappers: AWS provider attributes -> this tool's spec shape --------------------------------------


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _tags(attributes: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (attributes.get("tags") or {}).items()}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.strip() else None


def _log_group(a: Mapping[str, Any]) -> Mapped:
    state = {"name": a["name"], "retention_days": a.get("retention_in_days") or None}
    state["kms_key_id"] = _text(a.get("kms_key_id"))
    return Mapped("log_groups", a["name"], state, {"arn": a.get("arn"), "name": a["name"]}, _tags(a))


def _metric_filter(a: Mapping[str, Any]) -> Mapped:
    transformation = (a.get("metric_transformation") or [{}])[0]
    metric = {
        "name": transformation.get("name"),
        "namespace": transformation.get("namespace"),
        "value": transformation.get("value"),
        "default_value": float(transformation["default_value"])
        if _text(transformation.get("default_value"))
        else None,
        "unit": None if transformation.get("unit") in (None, "", "None") else transformation.get("unit"),
        "dimensions": transformation.get("dimensions") or None,
    }
    state = {"name": a["name"], "pattern": a.get("pattern", ""), "metric": metric}
    return Mapped(
        "metric_filters", a["name"], state, {"name": a["name"]}, None, ("log_groups", a["log_group_name"])
    )


def _query_definition(a: Mapping[str, Any]) -> Mapped:
    groups = list(a.get("log_group_names") or [])
    if not groups:
        raise _CannotMap(
            "a query definition naming no log group is a `saved_queries` entry, which cannot be adopted "
            "(it carries no tag): declare it there, and delete the Terraform-made one once apply made its own"
        )
    state = {"name": a["name"], "query": a.get("query_string", ""), "extra_log_groups": groups[1:]}
    return Mapped("query_definitions", a["name"], state, {"name": a["name"]}, None, ("log_groups", groups[0]))


def _alarm(a: Mapping[str, Any]) -> Mapped:
    if a.get("metric_query"):
        raise _CannotMap("alarms on metric math (metric_query) are not mapped yet: declare it by hand")
    state = {
        "name": a["alarm_name"],
        "description": _text(a.get("alarm_description")),
        "metric": {
            "name": a.get("metric_name"),
            "namespace": a.get("namespace"),
            "statistic": _text(a.get("statistic")),
            "extended_statistic": _text(a.get("extended_statistic")),
            "period": int(a.get("period") or 0),
            "dimensions": dict(a.get("dimensions") or {}),
            "unit": _text(a.get("unit")),
        },
        "threshold": float(a["threshold"]) if a.get("threshold") is not None else None,
        "threshold_metric_id": _text(a.get("threshold_metric_id")),
        "comparison": a.get("comparison_operator"),
        "evaluation_periods": int(a.get("evaluation_periods") or 0),
        "datapoints_to_alarm": int(a["datapoints_to_alarm"]) if a.get("datapoints_to_alarm") else None,
        "treat_missing_data": _text(a.get("treat_missing_data")) or "missing",
        "evaluate_low_sample_count_percentile": _text(a.get("evaluate_low_sample_count_percentiles")),
        "actions_enabled": a.get("actions_enabled", True),
        "alarm_actions": sorted(a.get("alarm_actions") or []),
        "ok_actions": sorted(a.get("ok_actions") or []),
        "insufficient_data_actions": sorted(a.get("insufficient_data_actions") or []),
    }
    return Mapped("alarms", a["alarm_name"], state, {"arn": a.get("arn"), "name": a["alarm_name"]}, _tags(a))


def _dashboard(a: Mapping[str, Any]) -> Mapped:
    state = {"name": a["dashboard_name"], "body": _json(a.get("dashboard_body")) or {}}
    attrs = {"arn": a.get("dashboard_arn"), "name": a["dashboard_name"]}
    return Mapped("dashboards", a["dashboard_name"], state, attrs, _tags(a))


def _sns_topic(a: Mapping[str, Any]) -> Mapped:
    state = {
        "name": a["name"],
        "display_name": _text(a.get("display_name")),
        "fifo": bool(a.get("fifo_topic")),
        "kms_master_key_id": _text(a.get("kms_master_key_id")),
        "policy": _json(a.get("policy")),
        "delivery_policy": _json(a.get("delivery_policy")),
    }
    return Mapped("sns_topics", a["name"], state, {"arn": a["arn"], "name": a["name"]}, _tags(a))


def _subscription(a: Mapping[str, Any]) -> Mapped:
    state = {
        "protocol": a["protocol"],
        "endpoint": a["endpoint"],
        "filter_policy": _json(a.get("filter_policy")),
        "raw_message_delivery": a.get("raw_message_delivery") or None,
    }
    return Mapped(
        "subscriptions", a["endpoint"], state, {"arn": a.get("arn")}, None, ("sns_topics", a["topic_arn"])
    )


def _iam_role(a: Mapping[str, Any]) -> Mapped:
    state = {
        "name": a["name"],
        "path": a.get("path") or "/",
        "description": a.get("description") or "",
        "assume_role_policy": _json(a.get("assume_role_policy")) or {},
        "max_session_duration": int(a.get("max_session_duration") or 3600),
    }
    return Mapped("iam_roles", a["name"], state, {"arn": a.get("arn"), "name": a["name"]}, _tags(a))


def _iam_policy(a: Mapping[str, Any]) -> Mapped:
    state = {
        "name": a["name"],
        "path": a.get("path") or "/",
        "description": a.get("description") or "",
        "document": _json(a.get("policy")) or {},
    }
    return Mapped("iam_policies", a["name"], state, {"arn": a.get("arn"), "name": a["name"]}, _tags(a))


def _policy_attachment(a: Mapping[str, Any]) -> Mapped:
    arn = str(a["policy_arn"])
    # As the attachments kind names a policy: this account's by name, AWS managed ones by ARN.
    account_policy = arn.split(":")[4].isdigit() if arn.count(":") >= 5 else False
    policy = arn.rsplit("/", 1)[-1] if account_policy else arn
    return Mapped("policy_attachments", policy, {"policy": policy}, {}, None, ("iam_roles", a["role"]))


def _event_rule(a: Mapping[str, Any]) -> Mapped:
    if a.get("event_bus_name") not in (None, "", "default"):
        raise _CannotMap("rules on a custom event bus are not mapped yet")
    enabled = a.get("state") or ("ENABLED" if a.get("is_enabled", True) else "DISABLED")
    state = {
        "name": a["name"],
        "description": a.get("description") or "",
        "schedule": _text(a.get("schedule_expression")),
        "event_pattern": _json(a.get("event_pattern")),
        "state": "DISABLED" if enabled == "DISABLED" else "ENABLED",
        "event_bus": "default",
    }
    return Mapped("event_rules", a["name"], state, {"arn": a.get("arn"), "name": a["name"]}, _tags(a))


def _event_target(a: Mapping[str, Any]) -> Mapped:
    state = {
        "id": a["target_id"],
        "arn": a["arn"],
        "input": _json(a.get("input")),
        "role_arn": _text(a.get("role_arn")),
    }
    return Mapped("targets", a["target_id"], state, {}, None, ("event_rules", a["rule"]))


def _efs_file_system(a: Mapping[str, Any]) -> Mapped:
    transitions: dict[str, Any] = {}
    for policy in a.get("lifecycle_policy") or []:
        transitions.update({k: v for k, v in policy.items() if v})
    state = {
        "creation_token": a["creation_token"],
        "encrypted": bool(a.get("encrypted")),
        "performance_mode": a.get("performance_mode") or "generalPurpose",
        "throughput_mode": a.get("throughput_mode") or "bursting",
        "provisioned_throughput_mibps": a.get("provisioned_throughput_in_mibps") or None,
        "lifecycle_policies": transitions or None,
    }
    attrs = {"arn": a.get("arn"), "id": a.get("id")}
    return Mapped("efs_file_systems", a["creation_token"], state, attrs, _tags(a))


def _rule_permission(rule: Mapping[str, Any]) -> dict[str, Any]:
    """An `ingress`/`egress` block as the provider stores it, as EC2's IpPermission."""
    permission: dict[str, Any] = {"IpProtocol": str(rule.get("protocol"))}
    if permission["IpProtocol"] != "-1":  # all protocols: AWS reports no ports (the state says 0-0)
        permission.update(FromPort=rule.get("from_port"), ToPort=rule.get("to_port"))
    described = {"Description": rule["description"]} if rule.get("description") else {}
    permission["IpRanges"] = [{"CidrIp": c, **described} for c in rule.get("cidr_blocks") or []]
    permission["Ipv6Ranges"] = [{"CidrIpv6": c, **described} for c in rule.get("ipv6_cidr_blocks") or []]
    permission["PrefixListIds"] = [
        {"PrefixListId": p, **described} for p in rule.get("prefix_list_ids") or []
    ]
    groups = list(rule.get("security_groups") or []) + ([SELF_GROUP] if rule.get("self") else [])
    permission["UserIdGroupPairs"] = [{"GroupId": g, **described} for g in groups]
    return permission


SELF_GROUP = "self"
"""Stands for the group's own id while its rules are read (`self = true` in the provider)."""


def _security_group(a: Mapping[str, Any]) -> Mapped:
    # A group's name cannot change in place; one Terraform generated from `name_prefix` is kept
    # as it is (the Name tag stays a tag), or adopting it would replace the group.
    identity = a["name"]
    state = {
        "name": identity,
        "description": a.get("description") or "",
        "vpc_id": a["vpc_id"],
        "ingress": canonical_rules(
            rules_from_permissions([_rule_permission(r) for r in a.get("ingress") or []], SELF_GROUP)
        ),
        "egress": canonical_rules(
            rules_from_permissions([_rule_permission(r) for r in a.get("egress") or []], SELF_GROUP)
        ),
    }
    attrs = {"id": a["id"], "arn": a.get("arn"), "name": identity}
    return Mapped("security_groups", identity, state, attrs, _tags(a))


def _mount_target(a: Mapping[str, Any]) -> Mapped:
    zone = a["availability_zone_name"]
    state = {
        "availability_zone": zone,
        "subnet_id": a["subnet_id"],
        "security_groups": sorted(a.get("security_groups") or []),
    }
    attrs = {"id": a.get("id"), "ip_address": a.get("ip_address"), "availability_zone": zone}
    return Mapped("mount_targets", zone, state, attrs, None, ("efs_file_systems", a["file_system_id"]))


def _task_definition(a: Mapping[str, Any], region: str) -> Mapped:
    # The provider stores container_definitions as the API's JSON (ContainerDefinition list) and
    # each block (volume, runtime_platform, ephemeral_storage...) as a list of one object.
    mode = a.get("network_mode") or "bridge"
    platform = (a.get("runtime_platform") or [None])[0] or {}
    storage = (a.get("ephemeral_storage") or [None])[0] or {}
    proxy = (a.get("proxy_configuration") or [None])[0]
    state = {
        "family": a["family"],
        "cpu": int(a["cpu"]) if _text(a.get("cpu")) else None,
        "memory": int(a["memory"]) if _text(a.get("memory")) else None,
        "network_mode": mode,
        "requires_compatibilities": sorted(a.get("requires_compatibilities") or ["EC2"]),
        "runtime_platform": runtime_platform_state(
            {
                "cpuArchitecture": platform.get("cpu_architecture") or "X86_64",
                "operatingSystemFamily": platform.get("operating_system_family") or "LINUX",
            }
        ),
        "ephemeral_storage": storage.get("size_in_gib") or DEFAULT_EPHEMERAL_GIB,
        "execution_role_arn": a.get("execution_role_arn") or "",
        "task_role_arn": a.get("task_role_arn") or "",
        "containers": {
            c["name"]: container_state(c, region, mode) for c in _json(a.get("container_definitions")) or []
        },
        "volumes": {v["name"]: volume_state(_volume(v)) for v in a.get("volume") or []},
        "proxy_configuration": proxy_state(
            {
                "type": proxy.get("type"),
                "containerName": proxy.get("container_name"),
                "properties": [{"name": k, "value": v} for k, v in (proxy.get("properties") or {}).items()],
            }
            if proxy
            else None
        ),
        # Terraform deregisters the old revision when it registers a new one (unless skip_destroy):
        # the state's revision is the one active, none kept for rollback (as the reconciler reads it).
        "keep_revisions": kept_revisions(_tags(a), 1),
    }
    attrs = {"family": a["family"], "arn": a.get("arn")}
    return Mapped("task_definitions", a["family"], state, attrs, _tags(a))


def _volume(volume: Mapping[str, Any]) -> dict[str, Any]:
    """A `volume` block as the API's Volume (EFS volumes only: the kind manages no other)."""
    efs = (volume.get("efs_volume_configuration") or [None])[0]
    if not efs:
        return {"name": volume["name"]}
    auth = (efs.get("authorization_config") or [None])[0] or {}
    configuration = {
        "fileSystemId": efs["file_system_id"],
        "rootDirectory": efs.get("root_directory") or "/",
        "transitEncryption": efs.get("transit_encryption") or "DISABLED",
        "authorizationConfig": {"accessPointId": auth.get("access_point_id"), "iam": auth.get("iam")},
    }
    if efs.get("transit_encryption_port"):
        configuration["transitEncryptionPort"] = efs["transit_encryption_port"]
    return {"name": volume["name"], "efsVolumeConfiguration": configuration}


def _lambda_function(a: Mapping[str, Any]) -> Mapped:
    runtime = a.get("runtime") or ""
    if runtime not in SUPPORTED_RUNTIMES:
        raise _CannotMap(
            f"runtime {runtime or '(container image)'} is not one this tool deploys "
            f"({', '.join(SUPPORTED_RUNTIMES)}): upgrade it first, or declare the function by hand"
        )
    variables = ((a.get("environment") or [None])[0] or {}).get("variables") or {}
    dead_letter = ((a.get("dead_letter_config") or [None])[0] or {}).get("target_arn")
    state = {
        "name": a["function_name"],
        "runtime": runtime,
        "handler": a.get("handler"),
        "memory": int(a.get("memory_size") or 128),
        "timeout": int(a.get("timeout") or 3),
        "environment": dict(variables),
        "role": a["role"],
        "description": a.get("description") or "",
        "code": {"sha256": a.get("source_code_hash")},
        "dead_letter_target_arn": dead_letter or "",
    }
    attrs = {"name": a["function_name"], "arn": a.get("arn")}
    return Mapped("lambda_functions", a["function_name"], state, attrs, _tags(a))


def _lambda_permission(a: Mapping[str, Any]) -> Mapped:
    if _text(a.get("qualifier")) or _text(a.get("event_source_token")):
        raise _CannotMap("permissions on a qualifier or with an event source token are not mapped yet")
    state = {
        "statement_id": a["statement_id"],
        "action": a.get("action") or "lambda:InvokeFunction",
        "principal": a["principal"],
        "source_arn": _text(a.get("source_arn")),
        "source_account": _text(a.get("source_account")),
    }
    function = str(a["function_name"])
    function = function.split(":")[6] if function.startswith("arn:") else function  # a name or an ARN
    attrs = {"statement_id": a["statement_id"]}
    return Mapped("permissions", a["statement_id"], state, attrs, None, ("lambda_functions", function))


class _CannotMap(Exception):
    """A resource of a mapped type this importer cannot express (the reason is reported)."""


MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "aws_cloudwatch_log_group": _log_group,
    "aws_cloudwatch_log_metric_filter": _metric_filter,
    "aws_cloudwatch_query_definition": _query_definition,
    "aws_cloudwatch_metric_alarm": _alarm,
    "aws_cloudwatch_dashboard": _dashboard,
    "aws_sns_topic": _sns_topic,
    "aws_sns_topic_subscription": _subscription,
    "aws_iam_role": _iam_role,
    "aws_iam_policy": _iam_policy,
    "aws_iam_role_policy_attachment": _policy_attachment,
    "aws_cloudwatch_event_rule": _event_rule,
    "aws_cloudwatch_event_target": _event_target,
    "aws_efs_file_system": _efs_file_system,
    "aws_efs_mount_target": _mount_target,
    "aws_security_group": _security_group,
    "aws_lambda_function": _lambda_function,
    "aws_lambda_permission": _lambda_permission,
}
"""The Terraform types mapped so far; every other type is reported as not imported."""

REGIONAL_MAPPERS: dict[str, Callable[[Mapping[str, Any], str], Mapped]] = {
    "aws_ecs_task_definition": _task_definition,
}
"""Types whose spec shape depends on the state's region (a container's awslogs-region)."""


def import_state(resources: list[TfResource], stack: str, region: str) -> Imported:
    load_all()
    result = Imported(Export(stack, region, {}))
    mapped: list[tuple[TfResource, Mapped]] = []
    for resource in resources:
        mapper = MAPPERS.get(resource.type)
        regional = REGIONAL_MAPPERS.get(resource.type)
        if mapper is None and regional is None:
            result.unmapped.append(f"{resource.address}: {resource.type} is not mapped yet")
            continue
        try:
            attributes = resource.attributes
            item = (
                regional(attributes, region) if regional is not None else MAPPERS[resource.type](attributes)
            )
            mapped.append((resource, item))
        except (_CannotMap, KeyError, TypeError, ValueError) as exc:
            reason = str(exc) if isinstance(exc, _CannotMap) else f"unexpected attributes ({exc!r})"
            result.unmapped.append(f"{resource.address}: {reason}")
    parents: dict[tuple[str, str], Entry] = {}
    used: dict[str, set[str]] = {}
    for resource, item in sorted(mapped, key=lambda pair: pair[1].parent is not None):
        if item.parent is not None:
            parent = parents.get(item.parent)
            if parent is None:
                kind, identity = item.parent
                result.unmapped.append(
                    f"{resource.address}: its parent ({kind} {identity!r}) is not in the state"
                )
                continue
            key: Any = (parent.live.key, item.identity)
        else:
            parent, key = None, item.identity
        live = Live(key, item.state, item.attrs, item.tags)
        scope = parent.address if parent else item.kind
        name = unique_name(resource.entry_name, used.setdefault(f"{scope}.{item.kind}", set()))
        entry = shaped_entry(result.export, stack, KINDS[item.kind], live, name, parent)
        if parent is not None:
            parent.children.setdefault(item.kind, []).append(entry)
        else:
            result.export.entries.setdefault(item.kind, []).append(entry)
            # children name a topic by ARN, a file system by id
            for alias in (item.identity, item.attrs.get("arn"), item.attrs.get("id")):
                if isinstance(alias, str):
                    parents[(item.kind, alias)] = entry
    finish(result.export)
    _outside_ids_to_lookups(result.export, region)
    return result


_OUTSIDE: tuple[tuple[re.Pattern[str], str, str, str], ...] = (
    (re.compile(r"vpc-[0-9a-f]{8,17}"), "vpc", "id", "id"),
    (re.compile(r"subnet-[0-9a-f]{8,17}"), "subnet", "id", "id"),
    (
        re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)"),
        "iam_role",
        "name",
        "arn",
    ),
    (re.compile(r"i-[0-9a-f]{8,17}"), "ec2_instance", "id", "id"),
    # Regional ARNs: looked up in the stack's region (one of another region stays a literal).
    (
        re.compile(r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/((?:mrk-)?[0-9a-f-]{32,36})"),
        "kms_key",
        "id",
        "arn",
    ),
    (
        re.compile(r"arn:aws[a-z-]*:sqs:(?P<region>[a-z0-9-]+):\d{12}:([A-Za-z0-9_-]{1,80}(?:\.fifo)?)"),
        "sqs_queue",
        "name",
        "arn",
    ),
    (
        re.compile(
            r"arn:aws[a-z-]*:events:(?P<region>[a-z0-9-]+):\d{12}:event-bus/([/.\-_A-Za-z0-9]{1,256})"
        ),
        "event_bus",
        "name",
        "arn",
    ),
    (
        re.compile(
            r"arn:aws[a-z-]*:firehose:(?P<region>[a-z0-9-]+):\d{12}:deliverystream/([a-zA-Z0-9_.-]{1,64})"
        ),
        "firehose_stream",
        "name",
        "arn",
    ),
)
"""IDs of what the state does not manage, as (pattern, lookup kind, the lookup's key field, the
attribute the value is): the spec then finds them at plan time instead of carrying literals."""


DIMENSION_LOOKUPS: dict[str, tuple[str, str, str]] = {
    "DBInstanceIdentifier": ("rds_instance", "identifier", "id"),
    "BucketName": ("s3_bucket", "name", "name"),
    "AutoScalingGroupName": ("autoscaling_group", "name", "name"),
}
"""Alarm dimensions that name a resource made elsewhere: (lookup kind, its key field, the
attribute the dimension's value is)."""


def _outside_ids_to_lookups(result: Export, region: str) -> None:
    """Values naming a VPC, subnet, role, EC2 instance, KMS key, SQS queue, event bus or Firehose
    stream the state does not manage (the regional ones in the stack's region), and alarm
    dimensions naming a database, bucket or Auto Scaling group, become `${lookups.X.attr}` (values
    naming an imported resource are references already: finish() linked them)."""
    names: dict[tuple[str, str], str] = {}

    def lookup(kind: str, key_field: str, key: str, attribute: str) -> str:
        name = names.get((kind, key))
        if name is None:
            name = unique_name(slug(key), set(names.values()))
            names[(kind, key)] = name
            result.lookups[name] = {"kind": kind, key_field: key}
        return f"${{lookups.{name}.{attribute}}}"

    def replaced(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: replaced(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replaced(v) for v in value]
        if not isinstance(value, str):
            return value
        for pattern, kind, key_field, attribute in _OUTSIDE:
            match = pattern.fullmatch(value)
            if match is None or match.groupdict().get("region", region) != region:
                continue
            key = match.group(match.lastindex) if match.lastindex else value  # the name is the last group
            return lookup(kind, key_field, key, attribute)
        return value

    for entry in result.all_entries():
        identity = KINDS[entry.kind].meta.identity
        for field_name, value in entry.config.items():
            if field_name != identity:
                entry.config[field_name] = replaced(value)
        metric = entry.config.get("metric") if entry.kind == "alarms" else None
        dimensions = metric.get("dimensions") if isinstance(metric, dict) else None
        if not isinstance(dimensions, dict):
            continue
        for dimension, value in dimensions.items():
            known = DIMENSION_LOOKUPS.get(dimension)
            if known is not None and isinstance(value, str) and not value.startswith("${"):
                kind, key_field, attribute = known
                dimensions[dimension] = lookup(kind, key_field, value, attribute)


def run(session: Session, *, state_file: Path, stack: str, region: str | None, out: Path | None) -> int:
    """Write the spec for the state's mapped resources; list what was not imported, and why."""
    from .errors import ExitStatus
    from .export import check
    from .outfile import write_document
    from .spec.loader import STACK_NAME

    if not STACK_NAME.match(stack):
        raise UsageError(f"--stack {stack!r}: 1-63 letters, digits, '.', '_' or '-'")
    resources = read_state(state_file)
    region = region or _region_of(resources)
    if region is None:
        raise UsageError("no region in the state's ARNs: pass --region")
    result = import_state(resources, stack, region)
    text = render(result.export, f"pacs-reconcile import-terraform {state_file} --stack {stack}")
    if result.unmapped:
        text = (
            "# Not imported (declare them by hand, or leave them to Terraform):\n"
            + "".join(f"#   {line}\n" for line in result.unmapped)
            + text
        )
    write_document(session, text, out, "the imported spec")
    for note in [*result.export.notes, *check(text, result.export, out)]:
        session.say(f"note: {note}")
    for line in result.unmapped:
        session.say(f"not imported: {line}", "yellow")
    entries = sum(1 for _ in result.export.all_entries())
    session.say(
        f"Imported {entries} resources of {len(resources)} in the state; {len(result.unmapped)} not imported."
    )
    return ExitStatus.OK


def _region_of(resources: list[TfResource]) -> str | None:
    for resource in resources:
        arn = resource.attributes.get("arn")
        if isinstance(arn, str) and arn.count(":") >= 4 and arn.split(":")[3]:
            return arn.split(":")[3]
    return None
