"""Lookups: existing infrastructure the spec reads (ids, ARNs, endpoints) but never changes.

`lookups: NAME: {kind: KIND, ...}` in the spec; `${lookups.NAME.ATTR}` elsewhere. A lookup that
finds nothing, or several where one is meant, fails with a message naming what was searched and
where. Any other AWS error (e.g. AccessDenied) propagates as it is: it never reads as "missing".
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Annotated, Any, Generic, Literal, Protocol, TypeVar, cast

from botocore.exceptions import ClientError
from pydantic import model_validator

from ..aws import AwsContext
from ..diff import tags_from_list
from ..errors import LookupFailed
from ._fields import matching
from .base import Lookup, LookupMeta, SpecModel
from .common import error_code, memo_until_write, read_pages
from .registry import register_lookup

NOT_FOUND = ("ResourceNotFoundException",)
"""The code EventBridge and Firehose answer for a name that does not exist."""


def _describe_tags(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def _ec2_filters(tags: Mapping[str, str] | None, **fields: str | None) -> list[dict[str, Any]]:
    """EC2 Filters: one per tag (all must match) and one per named field that is set."""
    filters = [{"Name": name.replace("_", "-"), "Values": [v]} for name, v in fields.items() if v]
    filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted((tags or {}).items())]
    return filters


class _IdOrTags(Protocol):
    id: str | None
    tags: dict[str, str] | None


def _needs_id_or_tags(what: str) -> Any:
    """The check of a lookup that finds one WHAT by its id or its tags: one of them is given."""

    def check(spec: _IdOrTags) -> _IdOrTags:
        if spec.id is None and not spec.tags:
            raise ValueError(f"give the {what}'s id or tags")
        return spec

    return model_validator(mode="after")(check)


Spec = TypeVar("Spec", bound=SpecModel)
Found = TypeVar("Found")


class _ModelLookup(Lookup, Generic[Spec]):
    """Validates the spec into the kind's model, then finds the resource."""

    def resolve(self, ctx: AwsContext, spec: Mapping[str, Any]) -> dict[str, Any]:
        parsed = self.meta.model.model_validate({**spec, "kind": self.meta.kind})
        return self.find(ctx, cast(Spec, parsed))

    @abstractmethod
    def find(self, ctx: AwsContext, spec: Spec) -> dict[str, Any]: ...

    def read_or_missing(
        self, ctx: AwsContext, what: str, not_found: Collection[str], read: Callable[[], Found]
    ) -> Found:
        """`read()`; an AWS error whose code is in `not_found` becomes "WHAT not found" (and only
        that one: AccessDenied and the rest propagate as they are)."""
        try:
            return read()
        except ClientError as error:
            if error_code(error) in not_found:
                raise self.missing(ctx, what) from None
            raise

    def missing(self, ctx: AwsContext, what: str) -> LookupFailed:
        return LookupFailed(f"{self.meta.title} {what} not found in {ctx.region}")

    def only_one(
        self, ctx: AwsContext, what: str, found: list[dict[str, Any]], id_key: str
    ) -> dict[str, Any]:
        if not found:
            raise self.missing(ctx, what)
        if len(found) > 1:
            ids = ", ".join(sorted(str(f[id_key]) for f in found))
            raise LookupFailed(
                f"{self.meta.title} {what} is ambiguous in {ctx.region}: {len(found)} match ({ids})"
            )
        return found[0]


# VPC and subnets -------------------------------------------------------------------------------


class VpcLookupSpec(SpecModel):
    """An existing VPC, by id or by tags (exactly one VPC must match)."""

    kind: Literal["vpc"]
    """Always `vpc`."""
    id: str | None = None
    """The VPC id (`vpc-...`)."""
    tags: dict[str, str] | None = None
    """Tags the VPC carries (all must match), e.g. `{Name: pacs-vpc}`."""

    _id_or_tags = _needs_id_or_tags("VPC")


@register_lookup
class VpcLookup(_ModelLookup[VpcLookupSpec]):
    meta = LookupMeta(
        kind="vpc",
        model=VpcLookupSpec,
        title="VPC",
        attributes=("id", "cidr_block", "arn"),
        actions=frozenset({"ec2:DescribeVpcs"}),
    )

    def find(self, ctx: AwsContext, spec: VpcLookupSpec) -> dict[str, Any]:
        filters = _ec2_filters(spec.tags, vpc_id=spec.id)
        vpcs = read_pages(ctx.client("ec2"), "describe_vpcs", "Vpcs", Filters=filters)
        vpc = self.only_one(ctx, _searched(spec.id, spec.tags), vpcs, "VpcId")
        arn = f"arn:{ctx.partition}:ec2:{ctx.region}:{vpc['OwnerId']}:vpc/{vpc['VpcId']}"
        return {"id": vpc["VpcId"], "cidr_block": vpc["CidrBlock"], "arn": arn}


def _searched(ident: str | None, tags: Mapping[str, str] | None, zone: str | None = None) -> str:
    """What a lookup asked for: 'ID' with tags K=V in zone ZONE."""
    parts = [f"'{ident}'"] if ident else []
    if tags:
        parts.append(f"with tags {_describe_tags(tags)}")
    if zone:
        parts.append(f"in zone {zone}")
    return " ".join(parts)


class SubnetsLookupSpec(SpecModel):
    """Existing subnets matching all the given criteria (at least one must match)."""

    kind: Literal["subnets"]
    """Always `subnets`."""
    vpc_id: str | None = None
    """Only subnets of this VPC (often `${lookups.vpc.id}`)."""
    tags: dict[str, str] | None = None
    """Tags the subnets carry (all must match), e.g. `{Tier: private}`."""

    @model_validator(mode="after")
    def _narrowed(self) -> SubnetsLookupSpec:
        if self.vpc_id is None and not self.tags:
            raise ValueError("give vpc_id or tags, or it would match every subnet of the region")
        return self


@register_lookup
class SubnetsLookup(_ModelLookup[SubnetsLookupSpec]):
    meta = LookupMeta(
        kind="subnets",
        model=SubnetsLookupSpec,
        title="Subnets",
        attributes=("ids", "cidr_blocks"),
        actions=frozenset({"ec2:DescribeSubnets"}),
        list_attributes=frozenset({"ids", "cidr_blocks"}),
    )

    def find(self, ctx: AwsContext, spec: SubnetsLookupSpec) -> dict[str, Any]:
        filters = _ec2_filters(spec.tags, vpc_id=spec.vpc_id)
        subnets = sorted(
            read_pages(ctx.client("ec2"), "describe_subnets", "Subnets", Filters=filters),
            key=lambda s: s["SubnetId"],
        )
        if not subnets:
            where = [f"in VPC {spec.vpc_id}"] if spec.vpc_id else []
            raise self.missing(ctx, " ".join([*where, _searched(None, spec.tags)]).strip())
        # cidr_blocks[i] is the block of ids[i].
        return {"ids": [s["SubnetId"] for s in subnets], "cidr_blocks": [s["CidrBlock"] for s in subnets]}


class SubnetLookupSpec(SpecModel):
    """One existing subnet, by id or by tags (exactly one must match)."""

    kind: Literal["subnet"]
    """Always `subnet`."""
    id: str | None = None
    """The subnet id (`subnet-...`)."""
    tags: dict[str, str] | None = None
    """Tags the subnet carries (all must match), e.g. `{Name: pacs-private-a}`."""
    availability_zone: str | None = None
    """Only a subnet in this zone."""

    _id_or_tags = _needs_id_or_tags("subnet")


@register_lookup
class SubnetLookup(_ModelLookup[SubnetLookupSpec]):
    meta = LookupMeta(
        kind="subnet",
        model=SubnetLookupSpec,
        title="Subnet",
        attributes=("id", "availability_zone", "cidr_block", "vpc_id", "arn"),
        actions=frozenset({"ec2:DescribeSubnets"}),
    )

    def find(self, ctx: AwsContext, spec: SubnetLookupSpec) -> dict[str, Any]:
        subnets = [
            s
            for s in region_subnets(ctx)
            if filter_matches(s.get("SubnetId"), spec.id)
            and filter_matches(s.get("AvailabilityZone"), spec.availability_zone)
            and tags_match(s.get("Tags"), spec.tags)
        ]
        what = _searched(spec.id, spec.tags, spec.availability_zone)
        subnet = self.only_one(ctx, what, subnets, "SubnetId")
        owner = subnet.get("OwnerId") or ctx.account_id
        arn = subnet.get("SubnetArn") or (
            f"arn:{ctx.partition}:ec2:{ctx.region}:{owner}:subnet/{subnet['SubnetId']}"
        )
        return {
            "id": subnet["SubnetId"],
            "availability_zone": subnet["AvailabilityZone"],
            "cidr_block": subnet["CidrBlock"],
            "vpc_id": subnet["VpcId"],
            "arn": arn,
        }


SUBNETS_PAGE_SIZE = 1000
"""DescribeSubnets' maximum MaxResults."""


def region_subnets(ctx: AwsContext) -> list[dict[str, Any]]:
    """Every subnet of the region, listed once per run (until the run writes) and shared by every
    subnet lookup: a spec looks up several (one per zone for the mount targets), each was a
    DescribeSubnets of its own.
    A region holds a few hundred subnets at most (200 per VPC by default), one page."""
    return memo_until_write(
        ctx,
        "ec2:subnets",
        lambda: read_pages(
            ctx.client("ec2"),
            "describe_subnets",
            "Subnets",
            PaginationConfig={"PageSize": SUBNETS_PAGE_SIZE},
        ),
    )


_FILTER_TOKEN = re.compile(r"\\(.)|(\*)|(\?)|(.)", re.DOTALL)


def filter_matches(value: Any, pattern: str | None) -> bool:
    """EC2's filter semantics, applied locally: no pattern matches all; values are case-sensitive;
    `*` matches any run of characters, `?` exactly one, and a backslash escapes (EC2 API reference,
    Filter: "a filter value of \\*amazon\\?\\\\ specifies the literal string *amazon?\\")."""
    if pattern is None:
        return True
    if value is None:
        return False
    regex = "".join(
        re.escape(escaped or literal) if (escaped or literal) else (".*" if star else ".")
        for escaped, star, _one, literal in _FILTER_TOKEN.findall(pattern)
    )
    return re.fullmatch(regex, str(value), flags=re.DOTALL) is not None


def tags_match(tags: Sequence[Mapping[str, str]] | None, wanted: Mapping[str, str] | None) -> bool:
    """Every wanted tag present with a matching value, as `tag:KEY` filters select."""
    have = tags_from_list(tags)
    return all(key in have and filter_matches(have[key], value) for key, value in (wanted or {}).items())


# Data stores -----------------------------------------------------------------------------------


class RdsInstanceLookupSpec(SpecModel):
    """An existing RDS DB instance."""

    kind: Literal["rds_instance"]
    """Always `rds_instance`."""
    identifier: str
    """The DB instance identifier, e.g. `pacs-postgresql`."""


@register_lookup
class RdsInstanceLookup(_ModelLookup[RdsInstanceLookupSpec]):
    meta = LookupMeta(
        kind="rds_instance",
        model=RdsInstanceLookupSpec,
        title="RDS instance",
        attributes=("id", "arn", "endpoint", "address", "port"),
        actions=frozenset({"rds:DescribeDBInstances"}),
    )

    def find(self, ctx: AwsContext, spec: RdsInstanceLookupSpec) -> dict[str, Any]:
        found = self.read_or_missing(
            ctx,
            f"'{spec.identifier}'",
            ("DBInstanceNotFound",),
            lambda: ctx.client("rds").describe_db_instances(DBInstanceIdentifier=spec.identifier),
        )
        instance = found["DBInstances"][0]
        endpoint = instance.get("Endpoint")
        if not endpoint:  # still being created: no address yet
            status = instance.get("DBInstanceStatus", "unknown")
            raise LookupFailed(f"RDS instance '{spec.identifier}' has no endpoint yet (status {status})")
        address, port = endpoint["Address"], int(endpoint["Port"])
        return {
            "id": instance["DBInstanceIdentifier"],
            "arn": instance["DBInstanceArn"],
            "endpoint": f"{address}:{port}",
            "address": address,
            "port": port,
        }


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class S3BucketLookupSpec(SpecModel):
    """An existing S3 bucket."""

    kind: Literal["s3_bucket"]
    """Always `s3_bucket`."""
    name: Annotated[
        str, matching(_BUCKET_NAME, "a bucket name is 3-63 lowercase letters, digits, '.' or '-'")
    ]
    """The bucket name, e.g. `pacs-storage`."""


@register_lookup
class S3BucketLookup(_ModelLookup[S3BucketLookupSpec]):
    meta = LookupMeta(
        kind="s3_bucket",
        model=S3BucketLookupSpec,
        title="S3 bucket",
        attributes=("name", "arn"),
        actions=frozenset({"s3:ListBucket"}),  # what HeadBucket is authorized as
    )

    def find(self, ctx: AwsContext, spec: S3BucketLookupSpec) -> dict[str, Any]:
        # HeadBucket has no body: a missing bucket is a bare 404.
        not_found = ("404", "NoSuchBucket", "NotFound")
        self.read_or_missing(
            ctx, f"'{spec.name}'", not_found, lambda: ctx.client("s3").head_bucket(Bucket=spec.name)
        )
        return {"name": spec.name, "arn": f"arn:{ctx.partition}:s3:::{spec.name}"}


# Compute ---------------------------------------------------------------------------------------


class LoadBalancerLookupSpec(SpecModel):
    """An existing Elastic Load Balancing v2 load balancer (application or network)."""

    kind: Literal["load_balancer"]
    """Always `load_balancer`."""
    name: str
    """The load balancer name, e.g. `pacs-alb`."""


@register_lookup
class LoadBalancerLookup(_ModelLookup[LoadBalancerLookupSpec]):
    meta = LookupMeta(
        kind="load_balancer",
        model=LoadBalancerLookupSpec,
        title="Load balancer",
        attributes=("arn", "arn_suffix", "dns_name", "name"),
        actions=frozenset({"elasticloadbalancing:DescribeLoadBalancers"}),
    )

    def find(self, ctx: AwsContext, spec: LoadBalancerLookupSpec) -> dict[str, Any]:
        found = self.read_or_missing(
            ctx,
            f"'{spec.name}'",
            ("LoadBalancerNotFound",),
            lambda: ctx.client("elbv2").describe_load_balancers(Names=[spec.name])["LoadBalancers"],
        )
        balancer = found[0]
        arn = balancer["LoadBalancerArn"]
        return {
            "arn": arn,
            # CloudWatch's LoadBalancer dimension: "app/NAME/ID", the part after ":loadbalancer/".
            "arn_suffix": arn.split(":loadbalancer/", 1)[1],
            "dns_name": balancer["DNSName"],
            "name": balancer["LoadBalancerName"],
        }


class AutoScalingGroupLookupSpec(SpecModel):
    """An existing EC2 Auto Scaling group."""

    kind: Literal["autoscaling_group"]
    """Always `autoscaling_group`."""
    name: str
    """The group name, e.g. `pacs-backend-asg`."""


@register_lookup
class AutoScalingGroupLookup(_ModelLookup[AutoScalingGroupLookupSpec]):
    meta = LookupMeta(
        kind="autoscaling_group",
        model=AutoScalingGroupLookupSpec,
        title="Auto Scaling group",
        attributes=("name", "arn"),
        actions=frozenset({"autoscaling:DescribeAutoScalingGroups"}),
    )

    def find(self, ctx: AwsContext, spec: AutoScalingGroupLookupSpec) -> dict[str, Any]:
        groups = ctx.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[spec.name])
        group = self.only_one(ctx, f"'{spec.name}'", groups["AutoScalingGroups"], "AutoScalingGroupARN")
        return {"name": group["AutoScalingGroupName"], "arn": group["AutoScalingGroupARN"]}


class EcsServiceLookupSpec(SpecModel):
    """An existing, active ECS service."""

    kind: Literal["ecs_service"]
    """Always `ecs_service`."""
    cluster: str
    """The cluster's name or ARN, e.g. `pacs-cluster`."""
    service: str
    """The service's name, e.g. `pacs-backend`."""


@register_lookup
class EcsServiceLookup(_ModelLookup[EcsServiceLookupSpec]):
    meta = LookupMeta(
        kind="ecs_service",
        model=EcsServiceLookupSpec,
        title="ECS service",
        attributes=("name", "arn", "cluster_name", "cluster_arn"),
        actions=frozenset({"ecs:DescribeServices"}),
    )

    def find(self, ctx: AwsContext, spec: EcsServiceLookupSpec) -> dict[str, Any]:
        what = f"'{spec.service}' in cluster '{spec.cluster}'"
        try:
            found = ctx.client("ecs").describe_services(cluster=spec.cluster, services=[spec.service])
        except ClientError as error:
            if error_code(error) == "ClusterNotFoundException":
                raise LookupFailed(f"ECS cluster '{spec.cluster}' not found in {ctx.region}") from None
            raise
        # A deleted service stays visible as INACTIVE for a while.
        active = [s for s in found["services"] if s["status"] != "INACTIVE"]
        service = self.only_one(ctx, what, active, "serviceArn")
        cluster_arn = service["clusterArn"]
        return {
            "name": service["serviceName"],
            "arn": service["serviceArn"],
            "cluster_name": cluster_arn.rsplit("/", 1)[-1],
            "cluster_arn": cluster_arn,
        }


def _scaling_policies_of(ctx: AwsContext, namespace: str, resource_id: str) -> list[dict[str, Any]]:
    """Every scaling policy of one scalable resource, listed once per run: a spec usually looks up
    several policies of the same service (scale out on CPU, on memory...)."""

    def listing() -> list[dict[str, Any]]:
        client = ctx.client("application-autoscaling")
        return read_pages(
            client,
            "describe_scaling_policies",
            "ScalingPolicies",
            ServiceNamespace=namespace,
            ResourceId=resource_id,
        )

    return ctx.memo(f"scaling-policies:{namespace}:{resource_id}", listing)


class ScalingPolicyLookupSpec(SpecModel):
    """An existing Application Auto Scaling policy (e.g. an ECS service's step scaling policy)."""

    kind: Literal["scaling_policy"]
    """Always `scaling_policy`."""
    service_namespace: str = "ecs"
    """The scaled service: `ecs`, `dynamodb`, `lambda`, ..."""
    resource_id: str
    """The scaled resource, e.g. `service/pacs-cluster/pacs-backend`."""
    name: str
    """The policy name, e.g. `pacs-backend-scale-out-cpu`."""


@register_lookup
class ScalingPolicyLookup(_ModelLookup[ScalingPolicyLookupSpec]):
    meta = LookupMeta(
        kind="scaling_policy",
        model=ScalingPolicyLookupSpec,
        title="Scaling policy",
        attributes=("arn", "name"),
        actions=frozenset({"application-autoscaling:DescribeScalingPolicies"}),
    )

    def find(self, ctx: AwsContext, spec: ScalingPolicyLookupSpec) -> dict[str, Any]:
        policies = [
            p
            for p in _scaling_policies_of(ctx, spec.service_namespace, spec.resource_id)
            if p.get("PolicyName") == spec.name
        ]
        policy = self.only_one(ctx, f"'{spec.name}' on {spec.resource_id}", policies, "PolicyARN")
        return {"arn": policy["PolicyARN"], "name": policy["PolicyName"]}


# IAM -------------------------------------------------------------------------------------------


class IamRoleLookupSpec(SpecModel):
    """An existing IAM role (IAM is global: no region)."""

    kind: Literal["iam_role"]
    """Always `iam_role`."""
    name: str
    """The role name, e.g. `pacs-ecs-task-execution`."""


@register_lookup
class IamRoleLookup(_ModelLookup[IamRoleLookupSpec]):
    meta = LookupMeta(
        kind="iam_role",
        model=IamRoleLookupSpec,
        title="IAM role",
        attributes=("name", "arn"),
        actions=frozenset({"iam:ListRoles", "iam:GetRole"}),
    )

    def find(self, ctx: AwsContext, spec: IamRoleLookupSpec) -> dict[str, Any]:
        role = account_roles(ctx).get(spec.name)
        if role is None:  # not listed (IAM's lists lag; ListRoles not granted): ask for it alone
            try:
                role = ctx.client("iam").get_role(RoleName=spec.name)["Role"]
            except ClientError as error:
                if error_code(error) == "NoSuchEntity":
                    raise LookupFailed(f"IAM role '{spec.name}' not found") from None
                raise
        return {"name": role["RoleName"], "arn": role["Arn"]}


ROLES_PAGE_SIZE = 1000
"""ListRoles' maximum MaxItems: an account's default quota is 1,000 roles, so one page."""


def account_roles(ctx: AwsContext) -> dict[str, dict[str, Any]]:
    """The account's roles by name, listed once per run (until the run writes) and shared by every
    role lookup (a spec looks up several: task and execution roles) and the iam_roles kind's read,
    instead of one GetRole each.
    Empty when ListRoles is not granted (a policy may allow GetRole on named roles only)."""

    def listing() -> dict[str, dict[str, Any]]:
        try:
            roles = read_pages(
                ctx.client("iam"), "list_roles", "Roles", PaginationConfig={"PageSize": ROLES_PAGE_SIZE}
            )
        except ClientError as error:
            if error_code(error) in ("AccessDenied", "AccessDeniedException"):
                return {}
            raise
        return {role["RoleName"]: role for role in roles}

    return memo_until_write(ctx, "iam:roles", listing)


# Encryption keys -------------------------------------------------------------------------------

_KEY_ALIAS = re.compile(r"(?:alias/)?[a-zA-Z0-9/_-]{1,250}")
"""KMS CreateAlias: AliasName is "alias/" and letters, digits, '/', '_' and '-' (256 at most)."""
_KEY_ALIAS_RULE = "an alias is letters, digits, '/', '_' and '-' (after an optional 'alias/')"


class KmsKeyLookupSpec(SpecModel):
    """An existing KMS key, by alias or by key id / key ARN, to encrypt log groups, topics,
    parameters and file systems without writing its ARN."""

    kind: Literal["kms_key"]
    """Always `kms_key`."""
    alias: Annotated[str, matching(_KEY_ALIAS, _KEY_ALIAS_RULE)] | None = None
    """The key's alias, with or without the `alias/` prefix, e.g. `alias/pacs-logs`."""
    id: str | None = None
    """The key id (`1234abcd-...`) or key ARN. Exactly one of alias and id."""

    @model_validator(mode="after")
    def _alias_or_id(self) -> KmsKeyLookupSpec:
        if (self.alias is None) == (self.id is None):
            raise ValueError("give exactly one of the key's alias and its id")
        return self


@register_lookup
class KmsKeyLookup(_ModelLookup[KmsKeyLookupSpec]):
    meta = LookupMeta(
        kind="kms_key",
        model=KmsKeyLookupSpec,
        title="KMS key",
        attributes=("id", "arn"),
        actions=frozenset({"kms:ListAliases", "kms:DescribeKey"}),
    )

    def find(self, ctx: AwsContext, spec: KmsKeyLookupSpec) -> dict[str, Any]:
        if spec.id is not None:
            return self._by_id(ctx, spec.id)
        return self._by_alias(ctx, str(spec.alias))  # the model holds exactly one of them

    def _by_id(self, ctx: AwsContext, key_id: str) -> dict[str, Any]:
        key = self.read_or_missing(
            ctx, f"'{key_id}'", ("NotFoundException",), lambda: ctx.client("kms").describe_key(KeyId=key_id)
        )["KeyMetadata"]
        return {"id": key["KeyId"], "arn": key["Arn"]}

    def _by_alias(self, ctx: AwsContext, alias: str) -> dict[str, Any]:
        alias_name = alias if alias.startswith("alias/") else f"alias/{alias}"
        found = _account_aliases(ctx).get(alias_name)
        if found is None:
            raise self.missing(ctx, f"with alias '{alias_name}'")
        key_id = found.get("TargetKeyId")
        if not key_id:
            # ListAliases: "aliases that have no TargetKeyId field ... are predefined aliases that
            # AWS has created but has not yet associated with a KMS key" (KMS API reference).
            raise LookupFailed(f"KMS alias '{alias_name}' is not associated with a key yet in {ctx.region}")
        # AliasArn is arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME; its key's is ...:key/KEY_ID.
        return {"id": key_id, "arn": f"{found['AliasArn'].rsplit(':', 1)[0]}:key/{key_id}"}


def _account_aliases(ctx: AwsContext) -> dict[str, dict[str, Any]]:
    """The region's KMS aliases by name, listed once per run (until the run writes) and shared by
    every alias lookup (a spec encrypts logs, topics and parameters with a few keys), instead of a
    DescribeKey each. ListAliases returns 100 a page at most."""

    def listing() -> dict[str, dict[str, Any]]:
        aliases = read_pages(ctx.client("kms"), "list_aliases", "Aliases", PaginationConfig={"PageSize": 100})
        return {alias["AliasName"]: alias for alias in aliases}

    return memo_until_write(ctx, "kms:aliases", listing)


# Messaging -------------------------------------------------------------------------------------

_QUEUE_NAME = re.compile(r"(?=.{1,80}$)[A-Za-z0-9_-]+(?:\.fifo)?")
"""CreateQueue: "up to 80 characters ... alphanumeric characters, hyphens (-), and underscores
(_)"; a FIFO queue's name ends with the .fifo suffix (within the 80)."""
_QUEUE_NAME_RULE = "a queue name is 1-80 letters, digits, '-' or '_' (a FIFO queue's ends in .fifo)"


class SqsQueueLookupSpec(SpecModel):
    """An existing SQS queue of this account and region (a subscription endpoint, a dead-letter
    queue), by name."""

    kind: Literal["sqs_queue"]
    """Always `sqs_queue`."""
    name: Annotated[str, matching(_QUEUE_NAME, _QUEUE_NAME_RULE)]
    """The queue name, e.g. `pacs-alerts-dlq` (a FIFO queue's ends in `.fifo`)."""


QUEUE_NOT_FOUND = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")
"""GetQueueUrl's error for a missing queue: the query protocol's code, and the JSON protocol's."""


@register_lookup
class SqsQueueLookup(_ModelLookup[SqsQueueLookupSpec]):
    meta = LookupMeta(
        kind="sqs_queue",
        model=SqsQueueLookupSpec,
        title="SQS queue",
        attributes=("name", "url", "arn"),
        actions=frozenset({"sqs:GetQueueUrl"}),
    )

    def find(self, ctx: AwsContext, spec: SqsQueueLookupSpec) -> dict[str, Any]:
        sqs = ctx.client("sqs")
        found = self.read_or_missing(
            ctx, f"'{spec.name}'", QUEUE_NOT_FOUND, lambda: sqs.get_queue_url(QueueName=spec.name)
        )
        url = str(found["QueueUrl"])
        # A queue URL ends in /ACCOUNT/NAME ("https://sqs.us-east-2.amazonaws.com/123456789012/MyQueue",
        # https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html);
        # the ARN is arn:PARTITION:sqs:REGION:ACCOUNT:NAME: no GetQueueAttributes needed.
        account, name = url.rstrip("/").split("/")[-2:]
        return {"name": name, "url": url, "arn": f"arn:{ctx.partition}:sqs:{ctx.region}:{account}:{name}"}


_BUS_NAME = re.compile(r"[/.\-_A-Za-z0-9]{1,256}")
"""DescribeEventBus' Name pattern and length (EventBridge API reference)."""


class EventBusLookupSpec(SpecModel):
    """An existing EventBridge event bus (`default` or a custom or partner bus), by name."""

    kind: Literal["event_bus"]
    """Always `event_bus`."""
    name: Annotated[str, matching(_BUS_NAME, "a bus name is 1-256 letters, digits, '/', '.', '-' or '_'")]
    """The bus name, e.g. `pacs-events` or `default`."""


@register_lookup
class EventBusLookup(_ModelLookup[EventBusLookupSpec]):
    meta = LookupMeta(
        kind="event_bus",
        model=EventBusLookupSpec,
        title="Event bus",
        attributes=("name", "arn"),
        actions=frozenset({"events:ListEventBuses", "events:DescribeEventBus"}),
    )

    def find(self, ctx: AwsContext, spec: EventBusLookupSpec) -> dict[str, Any]:
        bus = _account_event_buses(ctx).get(spec.name)
        if bus is None:  # not in the run's listing (made since): ask for it alone
            events = ctx.client("events")
            bus = self.read_or_missing(
                ctx, f"'{spec.name}'", NOT_FOUND, lambda: events.describe_event_bus(Name=spec.name)
            )
        return {"name": bus["Name"], "arn": bus["Arn"]}


EVENT_BUSES_PAGE_SIZE = 100
"""ListEventBuses' largest Limit; an account holds 100 buses by default: one page."""


def _account_event_buses(ctx: AwsContext) -> dict[str, dict[str, Any]]:
    """The region's event buses by name, listed once per run (until the run writes) and shared by
    every bus lookup. botocore has no paginator for ListEventBuses: NextToken by hand."""

    def listing() -> dict[str, dict[str, Any]]:
        client, buses, token = ctx.client("events"), [], None
        while True:
            page = client.list_event_buses(
                Limit=EVENT_BUSES_PAGE_SIZE, **({"NextToken": token} if token else {})
            )
            buses += page.get("EventBuses", [])
            token = page.get("NextToken")
            if not token:
                return {bus["Name"]: bus for bus in buses}

    return memo_until_write(ctx, "events:buses", listing)


_STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
"""DeliveryStreamDescription.DeliveryStreamName's pattern and length (Firehose API reference)."""
STREAM_UNUSABLE = frozenset({"CREATING_FAILED", "DELETING", "DELETING_FAILED"})
"""DeliveryStreamStatus values of a stream that will never take records again."""


class FirehoseStreamLookupSpec(SpecModel):
    """An existing Amazon Data Firehose stream (a delivery stream), by name."""

    kind: Literal["firehose_stream"]
    """Always `firehose_stream`."""
    name: Annotated[str, matching(_STREAM_NAME, "a stream name is 1-64 letters, digits, '_', '.' or '-'")]
    """The stream name, e.g. `pacs-log-archive`."""


@register_lookup
class FirehoseStreamLookup(_ModelLookup[FirehoseStreamLookupSpec]):
    meta = LookupMeta(
        kind="firehose_stream",
        model=FirehoseStreamLookupSpec,
        title="Firehose stream",
        attributes=("name", "arn"),
        actions=frozenset({"firehose:DescribeDeliveryStream"}),
    )

    def find(self, ctx: AwsContext, spec: FirehoseStreamLookupSpec) -> dict[str, Any]:
        firehose = ctx.client("firehose")
        stream = self.read_or_missing(
            ctx,
            f"'{spec.name}'",
            NOT_FOUND,
            lambda: firehose.describe_delivery_stream(DeliveryStreamName=spec.name),
        )
        description = stream["DeliveryStreamDescription"]
        status = description.get("DeliveryStreamStatus", "")
        if status in STREAM_UNUSABLE:
            raise LookupFailed(f"Firehose stream '{spec.name}' is {status} in {ctx.region}")
        return {"name": description["DeliveryStreamName"], "arn": description["DeliveryStreamARN"]}


# EC2 instances ---------------------------------------------------------------------------------

LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped")
"""Instances a lookup may find: not shutting-down or terminated (a terminated instance stays
listed for about an hour, and would make a Name tag look ambiguous)."""
INSTANCES_PAGE_SIZE = 1000
"""DescribeInstances' largest MaxResults."""


class Ec2InstanceLookupSpec(SpecModel):
    """One existing EC2 instance, by id or by tags (exactly one live instance must match)."""

    kind: Literal["ec2_instance"]
    """Always `ec2_instance`."""
    id: str | None = None
    """The instance id (`i-...`)."""
    tags: dict[str, str] | None = None
    """Tags the instance carries (all must match; `*` and `?` as in EC2 filters), e.g.
    `{Name: pacs-orthanc}`."""

    _id_or_tags = _needs_id_or_tags("instance")


@register_lookup
class Ec2InstanceLookup(_ModelLookup[Ec2InstanceLookupSpec]):
    meta = LookupMeta(
        kind="ec2_instance",
        model=Ec2InstanceLookupSpec,
        title="EC2 instance",
        attributes=("id", "arn", "availability_zone", "private_ip"),
        actions=frozenset({"ec2:DescribeInstances"}),
    )

    def find(self, ctx: AwsContext, spec: Ec2InstanceLookupSpec) -> dict[str, Any]:
        found = [
            instance
            for instance in _region_instances(ctx)
            if filter_matches(instance.get("InstanceId"), spec.id)
            and tags_match(instance.get("Tags"), spec.tags)
        ]
        instance = self.only_one(ctx, _searched(spec.id, spec.tags), found, "InstanceId")
        owner = instance["_OwnerId"]
        return {
            "id": instance["InstanceId"],
            "arn": f"arn:{ctx.partition}:ec2:{ctx.region}:{owner}:instance/{instance['InstanceId']}",
            "availability_zone": instance["Placement"]["AvailabilityZone"],
            "private_ip": instance.get("PrivateIpAddress", ""),
        }


def _region_instances(ctx: AwsContext) -> list[dict[str, Any]]:
    """The region's live instances, listed once per run (until the run writes) and shared by every
    instance lookup; each carries its reservation's owner (`_OwnerId`) for its ARN."""

    def listing() -> list[dict[str, Any]]:
        reservations = read_pages(
            ctx.client("ec2"),
            "describe_instances",
            "Reservations",
            Filters=[{"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}],
            PaginationConfig={"PageSize": INSTANCES_PAGE_SIZE},
        )
        return [
            {**instance, "_OwnerId": reservation["OwnerId"]}
            for reservation in reservations
            for instance in reservation.get("Instances", [])
        ]

    return memo_until_write(ctx, "ec2:instances", listing)
