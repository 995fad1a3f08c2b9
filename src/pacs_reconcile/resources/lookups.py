"""Lookups: existing infrastructure the spec reads (ids, ARNs, endpoints) but never changes.

`lookups: NAME: {kind: KIND, ...}` in the spec; `${lookups.NAME.ATTR}` elsewhere. A lookup that
finds nothing, or several where one is meant, fails with a message naming what was searched and
where. Any other AWS error (e.g. AccessDenied) propagates as it is: it never reads as "missing".
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, Literal, TypeVar, cast

from botocore.exceptions import ClientError
from pydantic import field_validator, model_validator

from ..aws import AwsContext
from ..errors import LookupFailed
from .base import Lookup, LookupMeta, SpecModel, is_unresolved
from .common import memo_until_write
from .registry import register_lookup


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _describe_tags(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def _ec2_filters(tags: Mapping[str, str] | None, **fields: str | None) -> list[dict[str, Any]]:
    """EC2 Filters: one per tag (all must match) and one per named field that is set."""
    filters = [{"Name": name.replace("_", "-"), "Values": [v]} for name, v in fields.items() if v]
    filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in sorted((tags or {}).items())]
    return filters


def _pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]]


Spec = TypeVar("Spec", bound=SpecModel)


class _ModelLookup(Lookup, Generic[Spec]):
    """Validates the spec into the kind's model, then finds the resource."""

    def resolve(self, ctx: AwsContext, spec: Mapping[str, Any]) -> dict[str, Any]:
        parsed = self.meta.model.model_validate({**spec, "kind": self.meta.kind})
        return self.find(ctx, cast(Spec, parsed))

    @abstractmethod
    def find(self, ctx: AwsContext, spec: Spec) -> dict[str, Any]: ...

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

    @model_validator(mode="after")
    def _id_or_tags(self) -> VpcLookupSpec:
        if self.id is None and not self.tags:
            raise ValueError("give the VPC's id or tags")
        return self


@register_lookup
class VpcLookup(_ModelLookup[VpcLookupSpec]):
    meta = LookupMeta(kind="vpc", model=VpcLookupSpec, title="VPC", attributes=("id", "cidr_block", "arn"))

    def find(self, ctx: AwsContext, spec: VpcLookupSpec) -> dict[str, Any]:
        filters = _ec2_filters(spec.tags, vpc_id=spec.id)
        vpcs = _pages(ctx.client("ec2"), "describe_vpcs", "Vpcs", Filters=filters)
        vpc = self.only_one(ctx, _searched(spec.id, spec.tags), vpcs, "VpcId")
        arn = f"arn:{ctx.partition}:ec2:{ctx.region}:{vpc['OwnerId']}:vpc/{vpc['VpcId']}"
        return {"id": vpc["VpcId"], "cidr_block": vpc["CidrBlock"], "arn": arn}


def _searched(ident: str | None, tags: Mapping[str, str] | None) -> str:
    parts = [f"'{ident}'"] if ident else []
    if tags:
        parts.append(f"with tags {_describe_tags(tags)}")
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
        kind="subnets", model=SubnetsLookupSpec, title="Subnets", attributes=("ids", "cidr_blocks")
    )

    def find(self, ctx: AwsContext, spec: SubnetsLookupSpec) -> dict[str, Any]:
        filters = _ec2_filters(spec.tags, vpc_id=spec.vpc_id)
        subnets = sorted(
            _pages(ctx.client("ec2"), "describe_subnets", "Subnets", Filters=filters),
            key=lambda s: s["SubnetId"],
        )
        if not subnets:
            where = [f"in VPC {spec.vpc_id}"] if spec.vpc_id else []
            raise self.missing(ctx, " ".join([*where, _searched(None, spec.tags)]).strip())
        # cidr_blocks[i] is the block of ids[i].
        return {"ids": [s["SubnetId"] for s in subnets], "cidr_blocks": [s["CidrBlock"] for s in subnets]}


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
    )

    def find(self, ctx: AwsContext, spec: RdsInstanceLookupSpec) -> dict[str, Any]:
        try:
            found = ctx.client("rds").describe_db_instances(DBInstanceIdentifier=spec.identifier)
        except ClientError as error:
            if _error_code(error) == "DBInstanceNotFound":
                raise self.missing(ctx, f"'{spec.identifier}'") from None
            raise
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
    name: str
    """The bucket name, e.g. `pacs-storage`."""

    @field_validator("name")
    @classmethod
    def _bucket_name(cls, name: str) -> str:
        if not is_unresolved(name) and not _BUCKET_NAME.fullmatch(name):
            raise ValueError("a bucket name is 3-63 lowercase letters, digits, '.' or '-'")
        return name


@register_lookup
class S3BucketLookup(_ModelLookup[S3BucketLookupSpec]):
    meta = LookupMeta(
        kind="s3_bucket", model=S3BucketLookupSpec, title="S3 bucket", attributes=("name", "arn")
    )

    def find(self, ctx: AwsContext, spec: S3BucketLookupSpec) -> dict[str, Any]:
        try:
            ctx.client("s3").head_bucket(Bucket=spec.name)
        except ClientError as error:
            # HeadBucket has no body: a missing bucket is a bare 404.
            if _error_code(error) in ("404", "NoSuchBucket", "NotFound"):
                raise self.missing(ctx, f"'{spec.name}'") from None
            raise
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
    )

    def find(self, ctx: AwsContext, spec: LoadBalancerLookupSpec) -> dict[str, Any]:
        try:
            found = ctx.client("elbv2").describe_load_balancers(Names=[spec.name])["LoadBalancers"]
        except ClientError as error:
            if _error_code(error) == "LoadBalancerNotFound":
                raise self.missing(ctx, f"'{spec.name}'") from None
            raise
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
    )

    def find(self, ctx: AwsContext, spec: EcsServiceLookupSpec) -> dict[str, Any]:
        what = f"'{spec.service}' in cluster '{spec.cluster}'"
        try:
            found = ctx.client("ecs").describe_services(cluster=spec.cluster, services=[spec.service])
        except ClientError as error:
            if _error_code(error) == "ClusterNotFoundException":
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
        return _pages(
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
    meta = LookupMeta(kind="iam_role", model=IamRoleLookupSpec, title="IAM role", attributes=("name", "arn"))

    def find(self, ctx: AwsContext, spec: IamRoleLookupSpec) -> dict[str, Any]:
        role = _account_roles(ctx).get(spec.name)
        if role is None:  # not listed (IAM's lists lag; ListRoles not granted): ask for it alone
            try:
                role = ctx.client("iam").get_role(RoleName=spec.name)["Role"]
            except ClientError as error:
                if _error_code(error) == "NoSuchEntity":
                    raise LookupFailed(f"IAM role '{spec.name}' not found") from None
                raise
        return {"name": role["RoleName"], "arn": role["Arn"]}


ROLES_PAGE_SIZE = 1000
"""ListRoles' maximum MaxItems: an account's default quota is 1,000 roles, so one page."""


def _account_roles(ctx: AwsContext) -> dict[str, dict[str, Any]]:
    """The account's roles by name, listed once per run (until the run writes) and shared by every
    role lookup (a spec looks up several: task and execution roles), instead of one GetRole each.
    Empty when ListRoles is not granted (a policy may allow GetRole on named roles only)."""

    def listing() -> dict[str, dict[str, Any]]:
        try:
            roles = _pages(
                ctx.client("iam"), "list_roles", "Roles", PaginationConfig={"PageSize": ROLES_PAGE_SIZE}
            )
        except ClientError as error:
            if _error_code(error) in ("AccessDenied", "AccessDeniedException"):
                return {}
            raise
        return {role["RoleName"]: role for role in roles}

    return memo_until_write(ctx, "iam:roles", listing)
