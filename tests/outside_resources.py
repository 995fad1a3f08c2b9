"""Resources a stack reads but does not create, made in the emulator by a test that needs one more
than the seeded infrastructure has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def create_postgres(rds: Any, identifier: str) -> None:
    """A PostgreSQL instance (alarms watch it by DBInstanceIdentifier; its log group carries its name)."""
    rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="pacs",
        MasterUserPassword="not-a-real-one-1234",
    )


def create_coverage_dependencies(client: Callable[[str], Any]) -> None:
    """What the coverage stack (tests/fixtures/full_coverage) finds by lookup besides the seeded
    infrastructure: a KMS key by alias, a queue, a Firehose stream and an EC2 instance (the default
    event bus is always there). `client(service)` makes a boto3 client on the emulator."""
    kms = client("kms")
    key = kms.create_key(Description="Outside the coverage stack")["KeyMetadata"]
    kms.create_alias(AliasName="alias/pacs-fc-outside", TargetKeyId=key["KeyId"])
    client("sqs").create_queue(QueueName="pacs-fc-outside-dlq")
    client("firehose").create_delivery_stream(
        DeliveryStreamName="pacs-fc-archive",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/pacs-fc-firehose",
            "BucketARN": "arn:aws:s3:::pacs-storage",
        },
    )
    client("ec2").run_instances(
        ImageId="ami-03cf127a",
        MinCount=1,
        MaxCount=1,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "pacs-fc-orthanc"}]}
        ],
    )
