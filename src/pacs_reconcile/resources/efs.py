"""EFS: file systems (stateful: deleted only when named) and their mount targets.

File systems are identified by their creation token. One paginated DescribeFileSystems (100 a
page, tags included) finds both the requested tokens and the owned file systems; lifecycle
policies take one DescribeLifecycleConfiguration each.

Creation is crash-safe (AWS-NOTES item 13): CreateFileSystem is idempotent by CreationToken and
carries the tags, so a file system is never untagged; when AWS answers FileSystemAlreadyExists
(a retried request whose first attempt went through, or a concurrent run) the existing one is
looked up by its token and reused if this stack owns it. A rerun after a crash finds it in the
read and only does what is left.

Mount targets are untaggable children. EFS allows one mount target per availability zone, so the
zone is a mount target's identity: `subnet_id` (another subnet of the same zone) changes by
replacement, `security_groups` in place. Mount targets and file systems change state
asynchronously; create/delete wait (bounded) until AWS is done, so a replacement's new mount
target never meets the old one, and a file system is deleted only once its mount targets are gone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from botocore.exceptions import ClientError
from pydantic import AfterValidator, Field, model_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, sorted_unique, tags_from_list, tags_to_list
from ..errors import PlanRefused, ReconcileError
from . import _retry
from ._fields import matching, matching_or_empty
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    claim_after_lost_create,
    claim_identical_after_lost_create,
    concurrently,
    error_code,
    gone_is_fine,
    memo_until_write,
    names_with_prefix,
    read_pages,
)
from .ec2 import ec2_id
from .kind import KindActions, KindMeta, TagApi
from .kms import ALIAS_PREFIX, alias_target
from .registry import register

DESCRIBE_PAGE_SIZE = 100
"""DescribeFileSystems' maximum MaxItems."""
STATE_TIMEOUT = 600.0
"""How long a file system or mount target may take to become available or to go away."""
MAX_SECURITY_GROUPS = 5

TransitionDays = Literal[
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
]
PerformanceMode = Literal["generalPurpose", "maxIO"]
ThroughputMode = Literal["bursting", "provisioned", "elastic"]

# Spec field -> the key of that transition in AWS's LifecyclePolicies list.
_TRANSITIONS = {
    "transition_to_ia": "TransitionToIA",
    "transition_to_archive": "TransitionToArchive",
    "transition_to_primary_storage_class": "TransitionToPrimaryStorageClass",
}
_GONE_STATES = frozenset({"deleted"})
_AVAILABLE = "available"
_ZONE = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d[a-z]")
_KMS_KEY = re.compile(
    r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/)?"
    r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"|(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias/[A-Za-z0-9/_-]{1,250}"
)
"""CreateFileSystem KmsKeyId: "Key ID", "ARN" (of the key), "Key alias" (`alias/projectKey1`) or
"Key alias ARN" (EFS API reference)."""
_ALIAS_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?=alias/)")


def _customer_managed(key: str) -> str:
    if key.split(":")[-1].startswith(ALIAS_PREFIX + "aws/"):
        raise ValueError(
            "alias/aws/... names an AWS managed key, which encrypts by default: leave kms_key_id unset "
            "for it (the field names a customer managed key)"
        )
    return key


KeyIdOrArn = Annotated[
    str,
    matching_or_empty(_KMS_KEY, "give the key's id, key ARN, alias (alias/NAME) or alias ARN"),
    AfterValidator(_customer_managed),
]
ZoneOrRegional = Annotated[
    str,
    matching_or_empty(
        _ZONE, 'an availability zone name, e.g. ap-northeast-2a ("" for a Regional file system)'
    ),
]


# Spec models ----------------------------------------------------------------------------------


class LifecyclePoliciesSpec(SpecModel):
    """When files move between storage classes. An unset transition means none."""

    transition_to_ia: TransitionDays | None = None
    """Move files not accessed for this long to Infrequent Access, e.g. AFTER_30_DAYS."""
    transition_to_archive: TransitionDays | None = None
    """Move files not accessed for this long to Archive (needs throughput_mode: elastic)."""
    transition_to_primary_storage_class: Literal["AFTER_1_ACCESS"] | None = None
    """Move a file back to Standard on its first access."""


class FileSystemSpec(SpecModel):
    """An EFS file system. Stateful: it is deleted only when a command names it."""

    creation_token: str = Field(min_length=1, max_length=64)
    """The file system's identity (AWS's idempotency token), e.g. prometheus-config."""
    encrypted: bool = True
    """Encrypt data at rest (with the AWS managed key). A change replaces the file system."""
    performance_mode: PerformanceMode = "generalPurpose"
    """`generalPurpose` or `maxIO`. A change replaces the file system."""
    throughput_mode: ThroughputMode = "bursting"
    """`bursting`, `provisioned` (with provisioned_throughput_mibps) or `elastic`."""
    provisioned_throughput_mibps: float | None = Field(default=None, ge=1, le=3414)
    """Throughput in MiB/s for throughput_mode: provisioned (only then)."""
    lifecycle_policies: LifecyclePoliciesSpec | None = None
    """Storage class transitions. Unset: not managed; `{}`: none."""
    kms_key_id: KeyIdOrArn | None = None
    """Customer managed KMS key encrypting the data, as a key id, key ARN, alias (`alias/pacs-data`,
    `${kms_keys.NAME.alias}`) or alias ARN (needs encrypted: true). An alias is compared by the key
    it points at. A change replaces the file system. Unset: not managed (the AWS managed key by
    default)."""
    availability_zone_name: ZoneOrRegional | None = None
    """One Zone file system in this zone, e.g. ap-northeast-2a; "" for a Regional one. A change
    replaces the file system. Unset: not managed."""

    @model_validator(mode="after")
    def _consistent_modes(self) -> FileSystemSpec:
        if self.kms_key_id and not self.encrypted:
            raise ValueError("kms_key_id needs encrypted: true")
        provisioned = self.throughput_mode == "provisioned"
        if provisioned and self.provisioned_throughput_mibps is None:
            raise ValueError("throughput_mode provisioned needs provisioned_throughput_mibps")
        if not provisioned and self.provisioned_throughput_mibps is not None:
            raise ValueError("provisioned_throughput_mibps applies only to throughput_mode: provisioned")
        if self.performance_mode == "maxIO" and self.throughput_mode == "elastic":
            raise ValueError("elastic throughput needs performance_mode: generalPurpose")
        if self.performance_mode == "maxIO" and self.availability_zone_name:
            # "The maxIO mode is not supported on One Zone file systems" (CreateFileSystem).
            raise ValueError(
                "a One Zone file system (availability_zone_name) needs performance_mode generalPurpose"
            )
        archive = self.lifecycle_policies and self.lifecycle_policies.transition_to_archive
        if archive and self.throughput_mode != "elastic":
            raise ValueError("lifecycle_policies.transition_to_archive needs throughput_mode: elastic")
        return self


class MountTargetSpec(SpecModel):
    """A mount target: the file system's NFS endpoint in one availability zone."""

    availability_zone: Annotated[
        str,
        matching(_ZONE, lambda value: f"{value!r} is not an availability zone name such as ap-northeast-2a"),
    ]
    """The zone, e.g. ap-northeast-2a: EFS allows one mount target per zone, so the zone is its
    identity (write it literally or from a variable)."""
    subnet_id: Annotated[str, ec2_id("subnet", "subnet")]
    """A subnet of that zone, e.g. `${lookups.private_subnet_a.id}`. A change replaces the mount
    target (the old one is removed first: the zone holds one)."""
    security_groups: list[str] = Field(min_length=1, max_length=MAX_SECURITY_GROUPS)
    """Security group ids (1 to 5), e.g. `["${security_groups.efs.id}"]`. Changed in place."""


# File systems ----------------------------------------------------------------------------------


def lifecycle_state(policies: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """AWS's LifecyclePolicies list as the spec's mapping."""
    by_aws_key = {aws: spec for spec, aws in _TRANSITIONS.items()}
    return {by_aws_key[k]: v for policy in policies for k, v in policy.items() if k in by_aws_key}


def lifecycle_request(policies: Mapping[str, Any]) -> list[dict[str, str]]:
    """The spec's mapping as AWS's LifecyclePolicies list (one transition per entry)."""
    return [{_TRANSITIONS[k]: v} for k, v in sorted(policies.items()) if v is not None]


EFS_TAGS = TagApi("efs", "tag_resource", "untag_resource", "ResourceId")
"""EFS tags file systems and access points alike, by id (`Live.handle`)."""


def _list_file_systems(ctx: AwsContext, prefix: str) -> list[str]:
    systems = read_pages(ctx.client("efs"), "describe_file_systems", "FileSystems")
    return names_with_prefix([fs["CreationToken"] for fs in systems], prefix)


@register
class FileSystems(Reconciler):
    meta = KindMeta(
        kind="efs_file_systems",
        model=FileSystemSpec,
        title="EFS file system",
        identity="creation_token",
        attributes=("id", "arn", "creation_token"),
        # CreateFileSystem fixes encryption, its key and the zone of a One Zone file system for life.
        force_new=frozenset(
            {"creation_token", "encrypted", "performance_mode", "kms_key_id", "availability_zone_name"}
        ),
        taggable=True,
        stateful=True,
        lister=_list_file_systems,
        tag_api=EFS_TAGS,
        actions=KindActions(
            read=frozenset(
                {
                    "elasticfilesystem:DescribeFileSystems",
                    "elasticfilesystem:DescribeLifecycleConfiguration",
                    "kms:ListAliases",  # a key named by its alias (see complete)
                }
            ),
            write=frozenset(
                {
                    "elasticfilesystem:CreateFileSystem",
                    "elasticfilesystem:DescribeFileSystems",
                    "elasticfilesystem:UpdateFileSystem",
                    "elasticfilesystem:PutLifecycleConfiguration",
                    "elasticfilesystem:TagResource",
                    "elasticfilesystem:UntagResource",
                }
            ),
            delete=frozenset(
                {
                    "elasticfilesystem:DeleteFileSystem",
                    "elasticfilesystem:DescribeMountTargets",
                    "elasticfilesystem:DeleteMountTarget",
                }
            ),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        policies = out.get("lifecycle_policies")
        if isinstance(policies, Mapping):  # an unset transition is "none": drop it so AWS's extra ones show
            out["lifecycle_policies"] = {k: v for k, v in policies.items() if v is not None}
        if isinstance(out.get("provisioned_throughput_mibps"), int | float):
            out["provisioned_throughput_mibps"] = float(out["provisioned_throughput_mibps"])
        if isinstance(out.get("kms_key_id"), str):  # a key id and its key ARN name one key, as an
            # alias and its alias ARN do one alias
            out["kms_key_id"] = _ALIAS_ARN.sub("", out["kms_key_id"]).rsplit("key/", 1)[-1]
        return out

    def complete(self, ctx: AwsContext, live: Live, desired: Mapping[str, Any] | None) -> Live | None:
        """A key named by its alias: DescribeFileSystems reports the key's ARN, so the alias is
        resolved (the run's one ListAliases, shared with kms_keys) and the live key reads as the
        alias while the alias points at it. One pointing at another key is a difference (a new
        key, so a replacement)."""
        wanted = (desired or {}).get("kms_key_id")
        if not isinstance(wanted, str) or not wanted.startswith(ALIAS_PREFIX):
            return live
        have = self.canonical({"kms_key_id": live.state.get("kms_key_id") or ""})["kms_key_id"]
        if have and have != wanted and alias_target(ctx, wanted) == have:
            return replace(live, state={**live.state, "kms_key_id": wanted})
        return live

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        wanted = {str(k) for k in keys}
        found = [
            fs
            for fs in describe_file_systems(ctx)
            if fs["CreationToken"] in wanted or tags_from_list(fs.get("Tags")).get(OWNER_TAG) == scope.stack
        ]
        policies = concurrently(lambda fs: _lifecycle(ctx, fs["FileSystemId"]), found)
        return {fs["CreationToken"]: self._live(fs, p) for fs, p in zip(found, policies, strict=True)}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        efs = ctx.client("efs")
        state = desired.state
        request: dict[str, Any] = {
            "CreationToken": state["creation_token"],
            "Encrypted": state["encrypted"],
            "PerformanceMode": state["performance_mode"],
            "ThroughputMode": state["throughput_mode"],
            "Tags": tags_to_list(desired.tags),
        }
        if state.get("provisioned_throughput_mibps") is not None:
            request["ProvisionedThroughputInMibps"] = state["provisioned_throughput_mibps"]
        if state.get("kms_key_id"):
            request["KmsKeyId"] = state["kms_key_id"]
        if state.get("availability_zone_name"):
            request["AvailabilityZoneName"] = state["availability_zone_name"]
        try:
            fs = efs.create_file_system(**request)
        except ClientError as error:
            if error_code(error) != "FileSystemAlreadyExists":
                raise
            fs = self._existing_of_this_stack(ctx, state["creation_token"], desired.tags.get(OWNER_TAG))
            # This stack's: its own first attempt (response lost) only if of this very spec.
            what = f"EFS file system {state['creation_token']} ({fs['FileSystemId']})"
            claim_after_lost_create(what, tags_from_list(fs.get("Tags")), desired.tags)
        fs_id = fs["FileSystemId"]
        fs = available(
            f"EFS file system {fs['CreationToken']} to become available",
            fs,
            lambda: efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0],
        )
        policies = state.get("lifecycle_policies")
        if policies:
            efs.put_lifecycle_configuration(
                FileSystemId=fs["FileSystemId"], LifecyclePolicies=lifecycle_request(policies)
            )
        return self._live({**fs, "Tags": tags_to_list(desired.tags)}, lifecycle_request(policies or {}))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        efs = ctx.client("efs")
        state = dict(live.state)
        wanted = desired.state
        if delta.different_at("throughput_mode") or delta.different_at("provisioned_throughput_mibps"):
            request: dict[str, Any] = {
                "FileSystemId": live.handle,
                "ThroughputMode": wanted["throughput_mode"],
            }
            if wanted.get("provisioned_throughput_mibps") is not None:
                request["ProvisionedThroughputInMibps"] = wanted["provisioned_throughput_mibps"]
            efs.update_file_system(**request)
            state["throughput_mode"] = wanted["throughput_mode"]
            state["provisioned_throughput_mibps"] = wanted.get("provisioned_throughput_mibps")
        if wanted.get("lifecycle_policies") is not None and delta.different_at("lifecycle_policies"):
            efs.put_lifecycle_configuration(
                FileSystemId=live.handle, LifecyclePolicies=lifecycle_request(wanted["lifecycle_policies"])
            )
            state["lifecycle_policies"] = wanted["lifecycle_policies"]
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        """Removes the mount targets first (AWS refuses otherwise), waits until they are gone."""
        efs = ctx.client("efs")
        for target in _mount_targets(ctx, live.handle):
            _delete_mount_target(ctx, target["MountTargetId"])
        with gone_is_fine("FileSystemNotFound"):
            _retry.retry_while(
                {"FileSystemInUse"}, lambda: efs.delete_file_system(FileSystemId=live.handle), STATE_TIMEOUT
            )

    # helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _existing_of_this_stack(ctx: AwsContext, token: str, stack: str | None) -> dict[str, Any]:
        """The file system CreateFileSystem says exists (moto's error carries no id: look it up)."""
        found = ctx.client("efs").describe_file_systems(CreationToken=token)["FileSystems"]
        if not found:  # deleted again in the meantime
            raise ReconcileError(f"EFS file system {token!r} was reported as existing but cannot be found")
        fs: dict[str, Any] = found[0]
        owner = tags_from_list(fs.get("Tags")).get(OWNER_TAG)
        if owner != stack:
            whose = f"stack {owner!r}" if owner else "no stack"
            raise PlanRefused(
                f"EFS file system {token!r} ({fs['FileSystemId']}) appeared since the plan "
                f"and belongs to {whose}"
            )
        return fs

    @staticmethod
    def _live(fs: Mapping[str, Any], policies: Sequence[Mapping[str, str]]) -> Live:
        provisioned = fs.get("ThroughputMode") == "provisioned"
        state = {
            "creation_token": fs["CreationToken"],
            "encrypted": bool(fs.get("Encrypted", False)),
            "performance_mode": fs.get("PerformanceMode"),
            "throughput_mode": fs.get("ThroughputMode"),
            "provisioned_throughput_mibps": float(fs["ProvisionedThroughputInMibps"])
            if provisioned and fs.get("ProvisionedThroughputInMibps") is not None
            else None,
            "lifecycle_policies": lifecycle_state(policies),
            "kms_key_id": fs.get("KmsKeyId") or "",
            "availability_zone_name": fs.get("AvailabilityZoneName") or "",
        }
        attrs = {
            "id": fs["FileSystemId"],
            "arn": fs.get("FileSystemArn"),
            "creation_token": fs["CreationToken"],
        }
        pending = "being deleted" if fs.get("LifeCycleState") == "deleting" else None
        return Live(
            fs["CreationToken"],
            state,
            attrs,
            tags_from_list(fs.get("Tags")),
            fs["FileSystemId"],
            pending=pending,
        )


def available(
    what: str, described: dict[str, Any], describe: Callable[[], Mapping[str, Any]]
) -> dict[str, Any]:
    """A file system or mount target once AWS has finished creating it (a mount target needs its
    file system available; its own security groups can be set only then): `described` as it is
    when already available, else described again until it is."""
    if described.get("LifeCycleState") == _AVAILABLE:
        return described
    latest = dict(described)

    def is_available() -> bool:
        latest.update(describe())
        return bool(latest.get("LifeCycleState") == _AVAILABLE)

    _retry.wait_until(what, is_available, STATE_TIMEOUT)
    return latest


def describe_file_systems(ctx: AwsContext) -> list[dict[str, Any]]:
    """Every file system of the region (tags included), without the deleted ones: listed once for
    the reads of file systems, their access points and their mount targets' read ahead, until the
    run writes."""
    return memo_until_write(ctx, "efs:file-systems", lambda: _describe_file_systems(ctx))


def _describe_file_systems(ctx: AwsContext) -> list[dict[str, Any]]:
    systems = read_pages(
        ctx.client("efs"),
        "describe_file_systems",
        "FileSystems",
        PaginationConfig={"PageSize": DESCRIBE_PAGE_SIZE},
    )
    return [fs for fs in systems if fs.get("LifeCycleState") not in _GONE_STATES]


def _lifecycle(ctx: AwsContext, file_system_id: str) -> list[dict[str, str]]:
    response = ctx.client("efs").describe_lifecycle_configuration(FileSystemId=file_system_id)
    return list(response.get("LifecyclePolicies", []))


# Mount targets -------------------------------------------------------------------------------------


def _listed_mount_targets(ctx: AwsContext, file_system_id: str) -> list[dict[str, Any]]:
    """_mount_targets as a plan reads them: once, shared by the read ahead and the read, until the
    run writes."""
    key = f"efs:mount-targets:{file_system_id}"
    return memo_until_write(ctx, key, lambda: _mount_targets(ctx, file_system_id))


def _mount_targets(ctx: AwsContext, file_system_id: str) -> list[dict[str, Any]]:
    """The file system's mount targets (none when it is gone)."""
    try:
        targets = read_pages(
            ctx.client("efs"), "describe_mount_targets", "MountTargets", FileSystemId=file_system_id
        )
    except ClientError as error:
        if error_code(error) == "FileSystemNotFound":
            return []
        raise
    return [t for t in targets if t.get("LifeCycleState") not in _GONE_STATES]


def _delete_mount_target(ctx: AwsContext, mount_target_id: str) -> None:
    """Delete and wait until it is gone (its zone can take a new one only then)."""
    efs = ctx.client("efs")
    try:
        efs.delete_mount_target(MountTargetId=mount_target_id)
    except ClientError as error:
        if error_code(error) == "MountTargetNotFound":
            return
        raise

    def gone() -> bool:
        try:
            found = efs.describe_mount_targets(MountTargetId=mount_target_id)["MountTargets"]
        except ClientError as error:
            if error_code(error) == "MountTargetNotFound":
                return True
            raise
        return all(t.get("LifeCycleState") in _GONE_STATES for t in found)

    _retry.wait_until(f"mount target {mount_target_id} to be deleted", gone, STATE_TIMEOUT)


def _security_groups_of(ctx: AwsContext, targets: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Each mount target's security groups: those of its network interface, every interface in one
    DescribeNetworkInterfaces, instead of one DescribeMountTargetSecurityGroups per mount target.
    AWS: ModifyMountTargetSecurityGroups "replaces the security groups in effect for the network
    interface associated with a mount target" (EFS API reference). A mount target whose interface
    is not listed (not made yet, or ec2:DescribeNetworkInterfaces not granted) is asked directly."""
    interfaces = sorted({str(t["NetworkInterfaceId"]) for t in targets if t.get("NetworkInterfaceId")})
    by_interface: dict[str, list[str]] = {}
    if interfaces:
        try:
            found = ctx.client("ec2").describe_network_interfaces(NetworkInterfaceIds=interfaces)
        except ClientError as error:
            if error_code(error) not in ("UnauthorizedOperation", "InvalidNetworkInterfaceID.NotFound"):
                raise
            found = {}
        for interface in found.get("NetworkInterfaces", []):
            by_interface[interface["NetworkInterfaceId"]] = [
                g["GroupId"] for g in interface.get("Groups", [])
            ]

    unlisted = [
        str(t["MountTargetId"]) for t in targets if str(t.get("NetworkInterfaceId")) not in by_interface
    ]
    asked = dict(zip(unlisted, concurrently(lambda m: _security_groups(ctx, m), unlisted), strict=True))
    return [
        by_interface[str(t.get("NetworkInterfaceId"))]
        if t["MountTargetId"] not in asked
        else asked[t["MountTargetId"]]
        for t in targets
    ]


def _security_groups(ctx: AwsContext, mount_target_id: str) -> list[str]:
    response = ctx.client("efs").describe_mount_target_security_groups(MountTargetId=mount_target_id)
    return list(response.get("SecurityGroups", []))


def _child_key(key: Key) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"expected a (creation token, zone) key, got {key!r}")
    return str(key[0]), str(key[1])


@register
class MountTargets(Reconciler):
    meta = KindMeta(
        kind="mount_targets",
        model=MountTargetSpec,
        title="EFS mount target",
        identity="availability_zone",
        attributes=("id", "ip_address", "availability_zone"),
        force_new=frozenset({"availability_zone", "subnet_id"}),
        taggable=False,
        parent="efs_file_systems",
        actions=KindActions(
            read=frozenset(
                {
                    "elasticfilesystem:DescribeMountTargets",
                    "ec2:DescribeNetworkInterfaces",  # every mount target's groups in one call
                    "elasticfilesystem:DescribeMountTargetSecurityGroups",  # a mount target not listed there
                }
            ),
            write=frozenset(
                {
                    "elasticfilesystem:CreateMountTarget",
                    "elasticfilesystem:DescribeMountTargets",
                    "elasticfilesystem:ModifyMountTargetSecurityGroups",
                    "elasticfilesystem:DescribeFileSystems",
                    "ec2:DescribeSubnets",
                }
            ),
            delete=frozenset(
                {"elasticfilesystem:DeleteMountTarget", "elasticfilesystem:DescribeMountTargets"}
            ),
        ),
    )

    def parent_problems(self, config: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, str]:
        """ "You can create only one mount target for a One Zone file system. You must create that
        mount target in the same Availability Zone in which the file system is located"
        (CreateMountTarget, EFS API reference)."""
        zone, own = config.get("availability_zone"), parent.get("availability_zone_name")
        if not own or is_unresolved(own) or is_unresolved(zone) or zone == own:
            return {}
        return {
            "availability_zone": f"a One Zone file system has its one mount target in its own zone, {own}"
        }

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("security_groups"), list):
            out["security_groups"] = sorted_unique(out["security_groups"])
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        """Every mount target of the owned parents, plus the requested ones of other file systems."""
        parents: dict[str, str | None] = {str(k): v.handle for k, v in scope.parents.items()}
        for key in keys:
            parents.setdefault(_child_key(key)[0], None)
        wanted = set(keys)

        def targets_of(token: str, file_system_id: str | None) -> list[tuple[str, dict[str, Any]]]:
            fs_id = file_system_id or self._file_system_id(ctx, token)
            if fs_id is None:
                return []
            targets = [(token, t) for t in _listed_mount_targets(ctx, fs_id)]
            if file_system_id is None:  # not an owned parent: only what was asked for
                targets = [(k, t) for k, t in targets if (k, t["AvailabilityZoneName"]) in wanted]
            return targets

        per_parent = concurrently(lambda parent: targets_of(*parent), sorted(parents.items()))
        listed = [target for targets in per_parent for target in targets]
        groups = _security_groups_of(ctx, [target for _, target in listed])
        out: dict[Key, Live] = {}
        for (parent, target), security_groups in zip(listed, groups, strict=True):
            live = self._live(parent, target, security_groups)
            out[live.key] = live
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        # The mount targets of the declared ones' file systems, found in the region's listing the
        # file systems' read makes (the read lists those whoever owns them).
        tokens = {_child_key(key)[0] for key in keys}
        found = describe_file_systems(ctx)
        systems = [str(fs["FileSystemId"]) for fs in found if fs["CreationToken"] in tokens]
        concurrently(lambda file_system_id: _listed_mount_targets(ctx, file_system_id), systems)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        efs = ctx.client("efs")
        token, zone = _child_key(desired.key)
        state = desired.state
        fs_id = desired.parent.handle if desired.parent is not None else self._file_system_id(ctx, token)
        if fs_id is None:
            raise ReconcileError(f"EFS file system {token!r} does not exist")
        self._check_zone(ctx, state["subnet_id"], zone)
        request = {
            "FileSystemId": fs_id,
            "SubnetId": state["subnet_id"],
            "SecurityGroups": list(state["security_groups"]),
        }

        def create_mount_target() -> dict[str, Any]:
            try:
                return dict(efs.create_mount_target(**request))
            except ClientError as error:
                if error_code(error) != "MountTargetConflict":
                    raise
            # One mount target per zone: our own first attempt, its response lost? Only if it is
            # exactly the one asked for (subnet and security groups).
            found = [t for t in _mount_targets(ctx, fs_id) if t["AvailabilityZoneName"] == zone]
            there = [
                (t["SubnetId"], sorted_unique(g))
                for t, g in zip(found, _security_groups_of(ctx, found), strict=True)
            ]
            asked = (request["SubnetId"], sorted_unique(request["SecurityGroups"]))
            claim_identical_after_lost_create(f"EFS mount target of {token} in {zone}", there, [asked])
            return found[0]

        target = _retry.retry_while(  # a file system just created may still be getting ready
            {"IncorrectFileSystemLifeCycleState"}, create_mount_target, STATE_TIMEOUT
        )
        target_id = target["MountTargetId"]
        target = available(
            f"mount target {target_id} to become available",
            target,
            lambda: efs.describe_mount_targets(MountTargetId=target_id)["MountTargets"][0],
        )
        return self._live(token, target, list(state["security_groups"]))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        state = dict(live.state)
        if delta.different_at("security_groups"):
            groups = list(desired.state["security_groups"])
            _retry.retry_while(  # AWS refuses while the mount target is still being set up
                {"IncorrectMountTargetState"},
                lambda: ctx.client("efs").modify_mount_target_security_groups(
                    MountTargetId=live.handle, SecurityGroups=groups
                ),
                STATE_TIMEOUT,
            )
            state["security_groups"] = sorted_unique(groups)
        return replace(live, state=state, tags=None)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        _delete_mount_target(ctx, live.handle)

    # helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _file_system_id(ctx: AwsContext, token: str) -> str | None:
        found = ctx.client("efs").describe_file_systems(CreationToken=token)["FileSystems"]
        return str(found[0]["FileSystemId"]) if found else None

    @staticmethod
    def _check_zone(ctx: AwsContext, subnet_id: str, zone: str) -> None:
        """AWS puts the mount target in its subnet's zone: a subnet of another zone is a spec error."""
        subnets = ctx.client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
        actual = subnets[0]["AvailabilityZone"] if subnets else None
        if actual != zone:
            raise ReconcileError(
                f"subnet {subnet_id} is in {actual}, not in {zone}: a mount target's availability_zone "
                "must be its subnet's zone"
            )

    @staticmethod
    def _live(token: str, target: Mapping[str, Any], security_groups: list[str]) -> Live:
        zone = target["AvailabilityZoneName"]
        state = {
            "availability_zone": zone,
            "subnet_id": target["SubnetId"],
            "security_groups": sorted_unique(security_groups),
        }
        attrs = {
            "id": target["MountTargetId"],
            "ip_address": target.get("IpAddress"),
            "availability_zone": zone,
        }
        pending = "being deleted" if target.get("LifeCycleState") == "deleting" else None
        return Live((token, zone), state, attrs, None, target["MountTargetId"], pending=pending)
