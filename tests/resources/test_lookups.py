"""Lookups against moto: each kind resolves after seeding, and fails clearly when missing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.emulator.seed import seed_existing_infrastructure
from pacs_reconcile.errors import LookupFailed
from pacs_reconcile.resources.registry import LOOKUPS

REGION = "ap-northeast-2"
SERVICE_ID = "service/pacs-cluster/pacs-backend"

SPECS: dict[str, dict[str, Any]] = {
    "vpc": {"kind": "vpc", "tags": {"Name": "pacs-vpc"}},
    "subnets": {"kind": "subnets", "tags": {"Tier": "private"}},
    "subnet": {"kind": "subnet", "tags": {"Name": "pacs-private-a"}},
    "rds_instance": {"kind": "rds_instance", "identifier": "pacs-postgresql"},
    "s3_bucket": {"kind": "s3_bucket", "name": "pacs-storage"},
    "load_balancer": {"kind": "load_balancer", "name": "pacs-alb"},
    "autoscaling_group": {"kind": "autoscaling_group", "name": "pacs-backend-asg"},
    "ecs_service": {"kind": "ecs_service", "cluster": "pacs-cluster", "service": "pacs-backend"},
    "scaling_policy": {
        "kind": "scaling_policy",
        "resource_id": SERVICE_ID,
        "name": "pacs-backend-scale-out-cpu",
    },
    "iam_role": {"kind": "iam_role", "name": "pacs-ecs-task-execution"},
    "kms_key": {"kind": "kms_key", "alias": "alias/pacs-logs"},
    "sqs_queue": {"kind": "sqs_queue", "name": "pacs-alerts-dlq"},
    "event_bus": {"kind": "event_bus", "name": "pacs-events"},
    "firehose_stream": {"kind": "firehose_stream", "name": "pacs-log-archive"},
    "ec2_instance": {"kind": "ec2_instance", "tags": {"Name": "pacs-orthanc"}},
}

MISSING = {
    "vpc": "VPC with tags Name=pacs-vpc not found in ap-northeast-2",
    "subnets": "Subnets with tags Tier=private not found in ap-northeast-2",
    "subnet": "Subnet with tags Name=pacs-private-a not found in ap-northeast-2",
    "rds_instance": "RDS instance 'pacs-postgresql' not found in ap-northeast-2",
    "s3_bucket": "S3 bucket 'pacs-storage' not found in ap-northeast-2",
    "load_balancer": "Load balancer 'pacs-alb' not found in ap-northeast-2",
    "autoscaling_group": "Auto Scaling group 'pacs-backend-asg' not found in ap-northeast-2",
    "ecs_service": "ECS cluster 'pacs-cluster' not found in ap-northeast-2",
    "scaling_policy": f"Scaling policy 'pacs-backend-scale-out-cpu' on {SERVICE_ID} not found in {REGION}",
    "iam_role": "IAM role 'pacs-ecs-task-execution' not found",
    "kms_key": "KMS key with alias 'alias/pacs-logs' not found in ap-northeast-2",
    "sqs_queue": "SQS queue 'pacs-alerts-dlq' not found in ap-northeast-2",
    "event_bus": "Event bus 'pacs-events' not found in ap-northeast-2",
    "firehose_stream": "Firehose stream 'pacs-log-archive' not found in ap-northeast-2",
    "ec2_instance": "EC2 instance with tags Name=pacs-orthanc not found in ap-northeast-2",
}


@pytest.fixture
def seeded(aws: AwsContext) -> dict[str, str]:
    made = seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION)
    return {**made, **_seed_dependencies(made["private_subnet_a"])}


@pytest.fixture
def dependencies(aws: AwsContext) -> dict[str, str]:
    """Only what the dependency lookups find (seconds cheaper than the whole seeded deployment)."""
    return _seed_dependencies(None)


def _seed_dependencies(subnet_id: str | None) -> dict[str, str]:
    """What a spec points at without owning it: a KMS key by alias, a dead-letter queue, a custom
    event bus, a Firehose stream and an EC2 instance."""
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(Description="pacs logs")["KeyMetadata"]
    kms.create_alias(AliasName="alias/pacs-logs", TargetKeyId=key["KeyId"])
    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName="pacs-alerts-dlq")["QueueUrl"]
    bus_arn = boto3.client("events", region_name=REGION).create_event_bus(Name="pacs-events")["EventBusArn"]
    stream_arn = boto3.client("firehose", region_name=REGION).create_delivery_stream(
        DeliveryStreamName="pacs-log-archive",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/pacs-firehose",
            "BucketARN": "arn:aws:s3:::pacs-storage",
        },
    )["DeliveryStreamARN"]
    instance = _run_instance(subnet_id, "pacs-orthanc")
    return {
        "key_id": key["KeyId"],
        "key_arn": key["Arn"],
        "queue_url": queue_url,
        "bus_arn": bus_arn,
        "stream_arn": stream_arn,
        "instance_id": instance["InstanceId"],
        "instance_ip": instance["PrivateIpAddress"],
    }


def _run_instance(subnet_id: str | None, name: str) -> dict[str, Any]:
    placement = {"SubnetId": subnet_id} if subnet_id else {}
    return dict(
        boto3.client("ec2", region_name=REGION).run_instances(
            ImageId="ami-03cf127a",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
            **placement,
        )["Instances"][0]
    )


def resolve(aws: AwsContext, kind: str, **overrides: Any) -> dict[str, Any]:
    return LOOKUPS[kind].resolve(aws, {**SPECS[kind], **overrides})


def test_every_kind_is_registered_and_tested() -> None:
    assert set(LOOKUPS) == set(SPECS) == set(MISSING)
    for kind, lookup in LOOKUPS.items():
        assert lookup.meta.kind == kind
        assert lookup.meta.model.model_fields["kind"].is_required()


def test_every_lookup_resolves_after_seeding(aws: AwsContext, seeded: dict[str, str]) -> None:
    found = {kind: resolve(aws, kind) for kind in SPECS}

    for kind, attributes in found.items():
        assert set(attributes) == set(LOOKUPS[kind].meta.attributes), kind

    assert found["vpc"]["id"] == seeded["vpc_id"]
    assert found["vpc"]["cidr_block"] == "10.0.0.0/16"
    assert found["vpc"]["arn"] == f"arn:aws:ec2:{REGION}:123456789012:vpc/{seeded['vpc_id']}"
    private = sorted([seeded["private_subnet_a"], seeded["private_subnet_b"]])
    assert found["subnets"]["ids"] == private
    blocks = dict(zip(found["subnets"]["ids"], found["subnets"]["cidr_blocks"], strict=True))
    assert blocks == {seeded["private_subnet_a"]: "10.0.1.0/24", seeded["private_subnet_b"]: "10.0.2.0/24"}
    rds = found["rds_instance"]
    assert rds["id"] == "pacs-postgresql"
    assert rds["endpoint"] == f"{rds['address']}:{rds['port']}" and isinstance(rds["port"], int)
    assert found["s3_bucket"] == {"name": "pacs-storage", "arn": "arn:aws:s3:::pacs-storage"}
    alb = found["load_balancer"]
    assert alb["arn"] == seeded["load_balancer_arn"]
    assert alb["arn_suffix"].startswith("app/pacs-alb/") and alb["arn"].endswith(alb["arn_suffix"])
    assert found["autoscaling_group"]["name"] == "pacs-backend-asg"
    service = found["ecs_service"]
    assert (service["name"], service["cluster_name"]) == ("pacs-backend", "pacs-cluster")
    assert service["cluster_arn"].endswith(":cluster/pacs-cluster")
    assert found["scaling_policy"]["arn"] == seeded["scale_out_cpu_policy_arn"]
    assert found["iam_role"]["arn"] == seeded["task_execution_role_arn"]
    assert found["kms_key"] == {"id": seeded["key_id"], "arn": seeded["key_arn"]}
    queue_arn = f"arn:aws:sqs:{REGION}:123456789012:pacs-alerts-dlq"
    assert found["sqs_queue"] == {"name": "pacs-alerts-dlq", "url": seeded["queue_url"], "arn": queue_arn}
    assert found["event_bus"] == {"name": "pacs-events", "arn": seeded["bus_arn"]}
    assert found["firehose_stream"] == {"name": "pacs-log-archive", "arn": seeded["stream_arn"]}
    instance = seeded["instance_id"]
    assert found["ec2_instance"] == {
        "id": instance,
        "arn": f"arn:aws:ec2:{REGION}:123456789012:instance/{instance}",
        "availability_zone": f"{REGION}a",
        "private_ip": seeded["instance_ip"],
    }


def test_lookups_by_other_criteria(aws: AwsContext, seeded: dict[str, str]) -> None:
    assert resolve(aws, "vpc", tags=None, id=seeded["vpc_id"])["id"] == seeded["vpc_id"]
    by_vpc = resolve(aws, "subnets", tags=None, vpc_id=seeded["vpc_id"])
    assert len(by_vpc["ids"]) == 4
    memory = resolve(aws, "scaling_policy", name="pacs-backend-scale-out-memory")
    assert memory["arn"] == seeded["scale_out_memory_policy_arn"]


@pytest.mark.parametrize("kind", sorted(MISSING))
def test_each_missing_lookup_fails_with_what_was_searched(aws: AwsContext, kind: str) -> None:
    with pytest.raises(LookupFailed) as caught:
        resolve(aws, kind)
    assert str(caught.value) == MISSING[kind]


def test_missing_service_in_an_existing_cluster(aws: AwsContext, seeded: dict[str, str]) -> None:
    with pytest.raises(LookupFailed, match="ECS service 'pacs-worker' in cluster 'pacs-cluster' not found"):
        resolve(aws, "ecs_service", service="pacs-worker")


def test_a_deleted_service_is_missing(aws: AwsContext, seeded: dict[str, str]) -> None:
    ecs = aws.client("ecs")
    ecs.update_service(cluster="pacs-cluster", service="pacs-backend", desiredCount=0)
    ecs.delete_service(cluster="pacs-cluster", service="pacs-backend")
    with pytest.raises(LookupFailed, match="not found"):
        resolve(aws, "ecs_service")


def test_a_tag_search_matching_several_vpcs_is_ambiguous(aws: AwsContext, seeded: dict[str, str]) -> None:
    ec2 = aws.client("ec2")
    twin = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "pacs-vpc"}]}],
    )["Vpc"]["VpcId"]
    with pytest.raises(LookupFailed) as caught:
        resolve(aws, "vpc")
    message = str(caught.value)
    assert message.startswith("VPC with tags Name=pacs-vpc is ambiguous in ap-northeast-2: 2 match (")
    assert twin in message and seeded["vpc_id"] in message


def test_other_errors_are_not_turned_into_missing(aws: AwsContext) -> None:
    with Stubber(aws.client("iam")) as stub:
        stub.add_client_error("list_roles", "AccessDenied", http_status_code=403)  # then asked alone
        stub.add_client_error("get_role", "AccessDenied", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDenied"):
            resolve(aws, "iam_role")


def test_subnet_lookups_share_one_listing_and_role_lookups_one_role_listing(
    aws: AwsContext, seeded: dict[str, str]
) -> None:
    """The repository's spec looks up two subnets and two roles: one DescribeSubnets and one
    ListRoles in all, not one call per lookup."""
    before = Counter(aws.stats.calls)
    a = resolve(aws, "subnet")
    b = resolve(aws, "subnet", tags={"Name": "pacs-private-b"})
    by_id = resolve(aws, "subnet", tags=None, id=seeded["public_subnet_a"])
    wildcard = resolve(
        aws,
        "subnet",
        tags={"Name": "pacs-public-?", "Tier": "pub*"},
        availability_zone=by_id["availability_zone"],
    )
    execution = resolve(aws, "iam_role")
    task = resolve(aws, "iam_role", name="pacs-ecs-task")
    assert dict(Counter(aws.stats.calls) - before) == {"ec2.DescribeSubnets": 1, "iam.ListRoles": 1}
    assert (a["id"], b["id"]) == (seeded["private_subnet_a"], seeded["private_subnet_b"])
    assert wildcard["id"] == by_id["id"] == seeded["public_subnet_a"]
    assert (execution["arn"], task["arn"]) == (seeded["task_execution_role_arn"], seeded["task_role_arn"])


def test_a_role_the_listing_lacks_is_asked_for_alone(aws: AwsContext, seeded: dict[str, str]) -> None:
    """IAM's lists lag behind its writes: a role the run's listing lacks (here: made by someone
    else after it) is still found."""
    assert resolve(aws, "iam_role")["name"] == "pacs-ecs-task-execution"
    someone_else = boto3.client("iam", region_name=REGION)
    arn = someone_else.create_role(RoleName="made-later", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    before = Counter(aws.stats.calls)
    assert resolve(aws, "iam_role", name="made-later")["arn"] == arn
    assert dict(Counter(aws.stats.calls) - before) == {"iam.GetRole": 1}


def test_a_subnet_matching_twice_is_still_ambiguous(aws: AwsContext, seeded: dict[str, str]) -> None:
    with pytest.raises(LookupFailed, match="ambiguous"):
        resolve(aws, "subnet", tags={"Name": "pacs-private-*"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "vpc"}, "give the VPC's id or tags"),
        ({"kind": "subnets"}, "give vpc_id or tags"),
        ({"kind": "s3_bucket", "name": "Bad_Bucket"}, "3-63 lowercase"),
        ({"kind": "rds_instance"}, "Field required"),
        ({"kind": "iam_role", "name": "r", "path": "/"}, "Extra inputs"),
    ],
)
def test_lookup_spec_errors(aws: AwsContext, spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LOOKUPS[spec["kind"]].resolve(aws, spec)


def test_unresolved_references_pass_validation() -> None:
    model = LOOKUPS["s3_bucket"].meta.model
    assert model.model_validate({"kind": "s3_bucket", "name": "${var.bucket}"})


def test_dependency_lookups_by_other_criteria(aws: AwsContext, dependencies: dict[str, str]) -> None:
    by_short_alias = resolve(aws, "kms_key", alias="pacs-logs")
    by_id = resolve(aws, "kms_key", alias=None, id=dependencies["key_id"])
    by_arn = resolve(aws, "kms_key", alias=None, id=dependencies["key_arn"])
    assert by_short_alias == by_id == by_arn == {"id": dependencies["key_id"], "arn": dependencies["key_arn"]}
    assert (
        resolve(aws, "event_bus", name="default")["arn"]
        == f"arn:aws:events:{REGION}:123456789012:event-bus/default"
    )
    instance = resolve(aws, "ec2_instance", tags=None, id=dependencies["instance_id"])
    assert instance["id"] == dependencies["instance_id"]
    assert resolve(aws, "ec2_instance", tags={"Name": "pacs-orth*"})["id"] == dependencies["instance_id"]


def test_dependency_lookups_share_one_listing_per_service(
    aws: AwsContext, dependencies: dict[str, str]
) -> None:
    """Alias, bus and instance lookups of one run read one listing each, however many there are."""
    kms = aws.client("kms")
    other = kms.create_key(Description="pacs topics")["KeyMetadata"]
    kms.create_alias(AliasName="alias/pacs-topics", TargetKeyId=other["KeyId"])
    aws.client("events").create_event_bus(Name="pacs-audit")
    second = _run_instance(None, "pacs-viewer")["InstanceId"]
    aws.forget_all()
    before = Counter(aws.stats.calls)
    keys = [resolve(aws, "kms_key"), resolve(aws, "kms_key", alias="pacs-topics")]
    buses = [resolve(aws, "event_bus"), resolve(aws, "event_bus", name="pacs-audit")]
    instances = [resolve(aws, "ec2_instance"), resolve(aws, "ec2_instance", tags={"Name": "pacs-viewer"})]
    assert dict(Counter(aws.stats.calls) - before) == {
        "kms.ListAliases": 1,
        "events.ListEventBuses": 1,
        "ec2.DescribeInstances": 1,
    }
    assert [k["id"] for k in keys] == [dependencies["key_id"], other["KeyId"]]
    assert [b["name"] for b in buses] == ["pacs-events", "pacs-audit"]
    assert [i["id"] for i in instances] == [dependencies["instance_id"], second]


def test_a_bus_made_after_the_listing_is_asked_for_alone(
    aws: AwsContext, dependencies: dict[str, str]
) -> None:
    assert resolve(aws, "event_bus")["name"] == "pacs-events"
    someone_else = boto3.client("events", region_name=REGION)
    arn = someone_else.create_event_bus(Name="made-later")["EventBusArn"]
    before = Counter(aws.stats.calls)
    assert resolve(aws, "event_bus", name="made-later")["arn"] == arn
    assert dict(Counter(aws.stats.calls) - before) == {"events.DescribeEventBus": 1}


def test_an_instance_name_on_two_live_instances_is_ambiguous_and_terminated_ones_do_not_count(
    aws: AwsContext, dependencies: dict[str, str]
) -> None:
    twin = _run_instance(None, "pacs-orthanc")["InstanceId"]
    aws.forget_all()
    with pytest.raises(LookupFailed) as caught:
        resolve(aws, "ec2_instance")
    message = str(caught.value)
    assert message.startswith(
        "EC2 instance with tags Name=pacs-orthanc is ambiguous in ap-northeast-2: 2 match ("
    )
    assert twin in message and dependencies["instance_id"] in message
    aws.client("ec2").terminate_instances(InstanceIds=[twin])  # a write: the next lookup reads again
    assert resolve(aws, "ec2_instance")["id"] == dependencies["instance_id"]


def test_a_missing_key_by_id_and_an_alias_without_a_key(aws: AwsContext) -> None:
    missing = "11111111-2222-3333-4444-555555555555"
    with pytest.raises(LookupFailed, match=f"KMS key '{missing}' not found in ap-northeast-2"):
        resolve(aws, "kms_key", alias=None, id=missing)
    unassociated = {
        "Aliases": [
            {"AliasName": "alias/aws/ebs", "AliasArn": f"arn:aws:kms:{REGION}:123456789012:alias/aws/ebs"}
        ]
    }
    with Stubber(aws.client("kms")) as stub:
        stub.add_response("list_aliases", unassociated, {"Limit": 100})
        with pytest.raises(LookupFailed, match="KMS alias 'alias/aws/ebs' is not associated with a key yet"):
            resolve(aws, "kms_key", alias="aws/ebs")


def test_a_stream_being_deleted_is_not_usable(aws: AwsContext) -> None:
    deleting = {
        "DeliveryStreamDescription": {
            "DeliveryStreamName": "pacs-log-archive",
            "DeliveryStreamARN": f"arn:aws:firehose:{REGION}:123456789012:deliverystream/pacs-log-archive",
            "DeliveryStreamStatus": "DELETING",
            "DeliveryStreamType": "DirectPut",
            "VersionId": "1",
            "Destinations": [],
            "HasMoreDestinations": False,
        }
    }
    with Stubber(aws.client("firehose")) as stub:
        stub.add_response("describe_delivery_stream", deleting, {"DeliveryStreamName": "pacs-log-archive"})
        with pytest.raises(LookupFailed, match="Firehose stream 'pacs-log-archive' is DELETING"):
            resolve(aws, "firehose_stream")


def test_dependency_lookups_propagate_other_errors(aws: AwsContext) -> None:
    with Stubber(aws.client("sqs")) as stub:
        stub.add_client_error("get_queue_url", "AccessDenied", http_status_code=403)
        with pytest.raises(ClientError, match="AccessDenied"):
            resolve(aws, "sqs_queue")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "kms_key"}, "exactly one of the key's alias and its id"),
        ({"kind": "kms_key", "alias": "pacs-logs", "id": "k"}, "exactly one of the key's alias and its id"),
        ({"kind": "kms_key", "alias": "alias/pacs logs"}, "an alias is letters"),
        ({"kind": "sqs_queue", "name": "pacs.alerts"}, "a queue name is 1-80"),
        ({"kind": "sqs_queue", "name": "q" * 81}, "a queue name is 1-80"),
        ({"kind": "event_bus", "name": "pacs events"}, "a bus name is 1-256"),
        ({"kind": "firehose_stream", "name": "s" * 65}, "a stream name is 1-64"),
        ({"kind": "ec2_instance"}, "give the instance's id or tags"),
    ],
)
def test_dependency_lookup_spec_errors(aws: AwsContext, spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LOOKUPS[spec["kind"]].resolve(aws, spec)


def test_a_fifo_queue_name_is_accepted() -> None:
    model = LOOKUPS["sqs_queue"].meta.model
    assert model.model_validate({"kind": "sqs_queue", "name": "pacs-alerts.fifo"})
