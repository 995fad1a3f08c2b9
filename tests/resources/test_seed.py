"""Seeding the emulator with the PACS stack's existing infrastructure: complete and idempotent.

How long it takes is measured by `python -m benchmarks.micro`, not asserted here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pacs_reconcile.aws import is_mutating
from pacs_reconcile.emulator.seed import seed_existing_infrastructure

REGION = "ap-northeast-2"


class CountingSession:
    """A boto3 session that counts the calls each client makes, by operation."""

    def __init__(self) -> None:
        self.session = boto3.Session(region_name=REGION)
        self.calls: Counter[str] = Counter()
        self.session.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def mutating(self) -> Counter[str]:
        return Counter({k: v for k, v in self.calls.items() if is_mutating(k.split(".", 1)[1])})


@pytest.fixture
def counting() -> Iterator[CountingSession]:
    with mock_aws():
        yield CountingSession()


def test_seeding_twice_creates_nothing_the_second_time(counting: CountingSession) -> None:
    first = seed_existing_infrastructure(counting.session, REGION)
    made = counting.mutating()
    assert made["ec2.CreateSubnet"] == 4
    assert made["application-autoscaling.PutScalingPolicy"] == 2
    assert made["iam.CreateRole"] == 2

    counting.calls.clear()
    second = seed_existing_infrastructure(counting.session, REGION)

    assert second == first
    assert counting.mutating() == Counter(), "a second run only reads"


def test_seeded_infrastructure_is_what_the_guide_refers_to(counting: CountingSession) -> None:
    made = seed_existing_infrastructure(counting.session, REGION)
    client = counting.session.client
    ec2 = client("ec2")

    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["pacs-vpc"]}])["Vpcs"]
    assert [(v["VpcId"], v["CidrBlock"]) for v in vpcs] == [(made["vpc_id"], "10.0.0.0/16")]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [made["vpc_id"]]}])["Subnets"]
    tags = {s["SubnetId"]: {t["Key"]: t["Value"] for t in s["Tags"]} for s in subnets}
    assert tags[made["private_subnet_a"]]["Name"] == "pacs-private-a"
    assert tags[made["private_subnet_b"]]["Tier"] == "private"
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}
    assert zones[made["public_subnet_a"]] != zones[made["public_subnet_b"]], "an ALB needs two zones"

    db = client("rds").describe_db_instances(DBInstanceIdentifier="pacs-postgresql")["DBInstances"][0]
    assert db["Engine"] == "postgres"
    alb = client("elbv2").describe_load_balancers(Names=["pacs-alb"])["LoadBalancers"][0]
    assert (alb["Scheme"], alb["Type"]) == ("internet-facing", "application")
    services = client("ecs").describe_services(cluster="pacs-cluster", services=["pacs-backend"])["services"]
    assert [s["status"] for s in services] == ["ACTIVE"]
    policies = client("application-autoscaling").describe_scaling_policies(ServiceNamespace="ecs")
    assert sorted(p["PolicyName"] for p in policies["ScalingPolicies"]) == [
        "pacs-backend-scale-out-cpu",
        "pacs-backend-scale-out-memory",
    ]
    group = client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["pacs-backend-asg"])
    assert len(group["AutoScalingGroups"]) == 1
    client("s3").head_bucket(Bucket="pacs-storage")
