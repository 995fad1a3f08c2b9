"""Create, in the local emulator, the infrastructure the PACS monitoring spec looks up but never owns.

The monitoring stack watches a PACS deployment that exists before it: a VPC with private and
public subnets, the PostgreSQL instance, the storage bucket, the ALB, an EC2 Auto Scaling group,
the ECS service with its scaling policies and task roles. `seed_existing_infrastructure` makes
them (each only when missing, so a second run changes nothing) so `lookups:` resolve in a demo.

Only for moto: the AMI id and the database password are emulator stand-ins.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from botocore.exceptions import ClientError

from ..resources.common import error_code

if TYPE_CHECKING:
    import boto3

T = TypeVar("T")

PROJECT_TAGS = {"Project": "pacs", "Environment": "dev"}

VPC_NAME = "pacs-vpc"
VPC_CIDR = "10.0.0.0/16"


class SubnetPlan(NamedTuple):
    key: str
    """Its entry in the result of seed_existing_infrastructure."""
    name: str
    cidr: str
    tier: str
    zone: int
    """Index of its availability zone among the region's first two."""


SUBNETS = (
    SubnetPlan("private_subnet_a", "pacs-private-a", "10.0.1.0/24", "private", 0),
    SubnetPlan("private_subnet_b", "pacs-private-b", "10.0.2.0/24", "private", 1),
    SubnetPlan("public_subnet_a", "pacs-public-a", "10.0.101.0/24", "public", 0),
    SubnetPlan("public_subnet_b", "pacs-public-b", "10.0.102.0/24", "public", 1),
)
RDS_INSTANCE = "pacs-postgresql"
DB_SUBNET_GROUP = "pacs-db-private"
S3_BUCKET = "pacs-storage"
LOAD_BALANCER = "pacs-alb"
LAUNCH_TEMPLATE = "pacs-backend"
AUTOSCALING_GROUP = "pacs-backend-asg"
EMULATOR_AMI = "ami-03cf127a"  # one of moto's built-in images
ECS_CLUSTER = "pacs-cluster"
ECS_SERVICE = "pacs-backend"
SERVICE_SECURITY_GROUP = "pacs-backend-tasks"
TASK_FAMILY = "pacs-backend"
SCALABLE_DIMENSION = "ecs:service:DesiredCount"
SCALING_POLICIES = ("pacs-backend-scale-out-cpu", "pacs-backend-scale-out-memory")
EXECUTION_ROLE = "pacs-ecs-task-execution"
TASK_ROLE = "pacs-ecs-task"

ECS_TASKS_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
# What AWS's AmazonECSTaskExecutionRolePolicy grants; moto does not load AWS managed policies.
EXECUTION_PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ecr:GetAuthorizationToken",
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer",
                "ecr:BatchGetImage",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "Resource": "*",
        },
        {
            # ECS reads task `secrets` (the Grafana admin password, specs/grafana.yaml) as the
            # execution role (a customer managed KMS key would also need kms:Decrypt on it).
            "Effect": "Allow",
            "Action": ["ssm:GetParameters"],
            "Resource": "arn:aws:ssm:*:*:parameter/pacs/*",
        },
    ],
}


def seed_existing_infrastructure(
    session: boto3.Session, region: str, endpoint_url: str | None = None
) -> dict[str, str]:
    """Make the PACS stack's pre-existing infrastructure where it is missing; return what exists.

    The result maps a short name (`vpc_id`, `private_subnet_a`, `rds_instance`, ...) to the id,
    name or ARN of each resource, whether this run made it or found it.
    """
    return _Seeder(session, region, endpoint_url).run()


def _tag_list(name: str, **extra: str) -> list[dict[str, str]]:
    tags = {**PROJECT_TAGS, "Name": name, **extra}
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _existing(read: Callable[[], T], *missing: str) -> T | None:
    """`read()`, or None when AWS answers with one of the `missing` codes (it does not exist yet);
    any other error propagates."""
    try:
        return read()
    except ClientError as error:
        if error_code(error) not in missing:
            raise
        return None


class _Seeder:
    def __init__(self, session: boto3.Session, region: str, endpoint_url: str | None) -> None:
        # Typed loosely: boto3's stubs only accept literal service names.
        self._new_client: Any = session.client
        self._region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self.made: dict[str, str] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._new_client(
                service, region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._clients[service]

    def run(self) -> dict[str, str]:
        # Order matters: roles before the task definition, subnets before everything in them.
        self.made["task_execution_role_arn"] = self._role(EXECUTION_ROLE, EXECUTION_PERMISSIONS)
        self.made["task_role_arn"] = self._role(TASK_ROLE, None)
        self._network()
        self.made["s3_bucket"] = self._bucket()
        self.made["rds_instance"] = self._database()
        self.made["load_balancer_arn"] = self._load_balancer()
        self.made["autoscaling_group"] = self._autoscaling_group()
        self._ecs()
        self._scaling()
        return dict(self.made)

    # IAM ----------------------------------------------------------------------------------------
    def _role(self, name: str, inline_policy: dict[str, Any] | None) -> str:
        iam = self.client("iam")
        found = _existing(lambda: iam.get_role(RoleName=name)["Role"], "NoSuchEntity")
        if found is not None:
            return str(found["Arn"])
        role = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(ECS_TASKS_TRUST), Tags=_tag_list(name)
        )["Role"]
        if inline_policy is not None:
            iam.put_role_policy(
                RoleName=name, PolicyName=f"{name}-permissions", PolicyDocument=json.dumps(inline_policy)
            )
        return str(role["Arn"])

    # VPC ----------------------------------------------------------------------------------------
    def _network(self) -> None:
        ec2 = self.client("ec2")
        vpc_id = self._vpc()
        self.made["vpc_id"] = vpc_id
        existing = {
            _name_tag(s): s["SubnetId"]
            for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        }
        zones = self._two_zones()
        for plan in SUBNETS:
            self.made[plan.key] = (
                existing.get(plan.name)
                or ec2.create_subnet(
                    VpcId=vpc_id,
                    CidrBlock=plan.cidr,
                    AvailabilityZone=zones[plan.zone],
                    TagSpecifications=[
                        {"ResourceType": "subnet", "Tags": _tag_list(plan.name, Tier=plan.tier)}
                    ],
                )["Subnet"]["SubnetId"]
            )
        self._internet_gateway(vpc_id)

    def _vpc(self) -> str:
        ec2 = self.client("ec2")
        found = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [VPC_NAME]}])["Vpcs"]
        if found:
            return str(found[0]["VpcId"])
        vpc = ec2.create_vpc(
            CidrBlock=VPC_CIDR, TagSpecifications=[{"ResourceType": "vpc", "Tags": _tag_list(VPC_NAME)}]
        )["Vpc"]
        return str(vpc["VpcId"])

    def _two_zones(self) -> list[str]:
        zones = self.client("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}]
        )["AvailabilityZones"]
        return sorted(z["ZoneName"] for z in zones)[:2]

    def _internet_gateway(self, vpc_id: str) -> None:
        # An internet-facing ALB needs one on real AWS; kept so the emulator looks the same.
        ec2 = self.client("ec2")
        attached = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]
        if attached:
            return
        gateway = ec2.create_internet_gateway(
            TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": _tag_list("pacs-igw")}]
        )["InternetGateway"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"], VpcId=vpc_id)

    def _subnet_ids(self, tier: str) -> list[str]:
        return [self.made[plan.key] for plan in SUBNETS if plan.tier == tier]

    # S3 and RDS ---------------------------------------------------------------------------------
    def _bucket(self) -> str:
        s3 = self.client("s3")
        if _existing(lambda: s3.head_bucket(Bucket=S3_BUCKET), "404", "NoSuchBucket", "NotFound") is not None:
            return S3_BUCKET
        location = {} if self._region == "us-east-1" else {"LocationConstraint": self._region}
        s3.create_bucket(Bucket=S3_BUCKET, **({"CreateBucketConfiguration": location} if location else {}))
        return S3_BUCKET

    def _database(self) -> str:
        rds = self.client("rds")
        found = _existing(
            lambda: rds.describe_db_instances(DBInstanceIdentifier=RDS_INSTANCE), "DBInstanceNotFound"
        )
        if found is not None:
            return RDS_INSTANCE
        self._db_subnet_group()
        rds.create_db_instance(
            DBInstanceIdentifier=RDS_INSTANCE,
            Engine="postgres",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="pacs",
            MasterUserPassword=secrets.token_urlsafe(18),
            DBSubnetGroupName=DB_SUBNET_GROUP,
            Tags=_tag_list(RDS_INSTANCE),
        )
        return RDS_INSTANCE

    def _db_subnet_group(self) -> None:
        rds = self.client("rds")
        found = _existing(
            lambda: rds.describe_db_subnet_groups(DBSubnetGroupName=DB_SUBNET_GROUP),
            "DBSubnetGroupNotFoundFault",
        )
        if found is not None:
            return
        rds.create_db_subnet_group(
            DBSubnetGroupName=DB_SUBNET_GROUP,
            DBSubnetGroupDescription="PACS database in the private subnets",
            SubnetIds=self._subnet_ids("private"),
        )

    # ALB and EC2 Auto Scaling -------------------------------------------------------------------
    def _load_balancer(self) -> str:
        elbv2 = self.client("elbv2")
        found = _existing(
            lambda: elbv2.describe_load_balancers(Names=[LOAD_BALANCER]), "LoadBalancerNotFound"
        )
        if found is not None:
            return str(found["LoadBalancers"][0]["LoadBalancerArn"])
        created = elbv2.create_load_balancer(
            Name=LOAD_BALANCER,
            Subnets=self._subnet_ids("public"),
            Scheme="internet-facing",
            Type="application",
            Tags=_tag_list(LOAD_BALANCER),
        )["LoadBalancers"]
        return str(created[0]["LoadBalancerArn"])

    def _autoscaling_group(self) -> str:
        autoscaling = self.client("autoscaling")
        groups = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[AUTOSCALING_GROUP])
        if groups["AutoScalingGroups"]:
            return AUTOSCALING_GROUP
        self._launch_template()
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=AUTOSCALING_GROUP,
            LaunchTemplate={"LaunchTemplateName": LAUNCH_TEMPLATE, "Version": "$Latest"},
            MinSize=0,
            MaxSize=4,
            DesiredCapacity=0,  # no instances: the emulator only needs the group to exist
            VPCZoneIdentifier=",".join(self._subnet_ids("private")),
            Tags=[{**t, "PropagateAtLaunch": True} for t in _tag_list(AUTOSCALING_GROUP)],
        )
        return AUTOSCALING_GROUP

    def _launch_template(self) -> None:
        ec2 = self.client("ec2")
        found = _existing(
            lambda: ec2.describe_launch_templates(LaunchTemplateNames=[LAUNCH_TEMPLATE]),
            "InvalidLaunchTemplateName.NotFoundException",
        )
        if found is not None:
            return
        ec2.create_launch_template(
            LaunchTemplateName=LAUNCH_TEMPLATE,
            LaunchTemplateData={"ImageId": EMULATOR_AMI, "InstanceType": "t3.medium"},
        )

    # ECS and Application Auto Scaling -----------------------------------------------------------
    def _ecs(self) -> None:
        ecs = self.client("ecs")
        clusters = ecs.describe_clusters(clusters=[ECS_CLUSTER])["clusters"]
        if not any(c["status"] == "ACTIVE" for c in clusters):
            ecs.create_cluster(clusterName=ECS_CLUSTER, tags=_ecs_tags(ECS_CLUSTER))
        self.made["ecs_cluster"] = ECS_CLUSTER
        self.made["ecs_task_definition_arn"] = self._task_definition()
        services = ecs.describe_services(cluster=ECS_CLUSTER, services=[ECS_SERVICE])["services"]
        if not any(s["status"] == "ACTIVE" for s in services):
            ecs.create_service(
                cluster=ECS_CLUSTER,
                serviceName=ECS_SERVICE,
                taskDefinition=self.made["ecs_task_definition_arn"],
                desiredCount=2,
                launchType="FARGATE",
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": self._subnet_ids("private"),
                        "securityGroups": [self._service_security_group()],
                        "assignPublicIp": "DISABLED",
                    }
                },
                tags=_ecs_tags(ECS_SERVICE),
            )
        self.made["ecs_service"] = ECS_SERVICE

    def _service_security_group(self) -> str:
        ec2 = self.client("ec2")
        vpc_id = self.made["vpc_id"]
        found = ec2.describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": [SERVICE_SECURITY_GROUP]},
            ]
        )["SecurityGroups"]
        if found:
            return str(found[0]["GroupId"])
        created = ec2.create_security_group(
            GroupName=SERVICE_SECURITY_GROUP,
            Description="PACS backend tasks",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list(SERVICE_SECURITY_GROUP)}],
        )
        return str(created["GroupId"])

    def _task_definition(self) -> str:
        ecs = self.client("ecs")
        found = _existing(lambda: ecs.describe_task_definition(taskDefinition=TASK_FAMILY), "ClientException")
        if found is not None and found["taskDefinition"]["status"] == "ACTIVE":
            return str(found["taskDefinition"]["taskDefinitionArn"])
        registered = ecs.register_task_definition(
            family=TASK_FAMILY,
            requiresCompatibilities=["FARGATE"],
            networkMode="awsvpc",
            cpu="512",
            memory="1024",
            executionRoleArn=self.made["task_execution_role_arn"],
            taskRoleArn=self.made["task_role_arn"],
            containerDefinitions=[
                {
                    "name": "pacs-backend",
                    "image": "public.ecr.aws/docker/library/python:3.12-slim",
                    "essential": True,
                    "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
                }
            ],
            tags=_ecs_tags(TASK_FAMILY),
        )["taskDefinition"]
        return str(registered["taskDefinitionArn"])

    def _scaling(self) -> None:
        scaling = self.client("application-autoscaling")
        resource_id = f"service/{ECS_CLUSTER}/{ECS_SERVICE}"
        targets = scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource_id], ScalableDimension=SCALABLE_DIMENSION
        )["ScalableTargets"]
        if not targets:
            scaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=resource_id,
                ScalableDimension=SCALABLE_DIMENSION,
                MinCapacity=2,
                MaxCapacity=10,
            )
        existing = {
            p["PolicyName"]: p["PolicyARN"]
            for p in scaling.describe_scaling_policies(
                ServiceNamespace="ecs", ResourceId=resource_id, PolicyNames=list(SCALING_POLICIES)
            )["ScalingPolicies"]
        }
        for name in SCALING_POLICIES:
            arn = existing.get(name) or self._step_scale_out(resource_id, name)
            self.made[name.removeprefix("pacs-backend-").replace("-", "_") + "_policy_arn"] = arn

    def _step_scale_out(self, resource_id: str, name: str) -> str:
        # Step scaling: the guide's alarms name these policies as their alarm actions.
        created = self.client("application-autoscaling").put_scaling_policy(
            PolicyName=name,
            ServiceNamespace="ecs",
            ResourceId=resource_id,
            ScalableDimension=SCALABLE_DIMENSION,
            PolicyType="StepScaling",
            StepScalingPolicyConfiguration={
                "AdjustmentType": "ChangeInCapacity",
                "Cooldown": 300,
                "MetricAggregationType": "Average",
                "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}],
            },
        )
        return str(created["PolicyARN"])


def _name_tag(resource: dict[str, Any]) -> str:
    return next((t["Value"] for t in resource.get("Tags", []) if t["Key"] == "Name"), "")


def _ecs_tags(name: str) -> list[dict[str, str]]:
    return [{"key": t["Key"], "value": t["Value"]} for t in _tag_list(name)]
