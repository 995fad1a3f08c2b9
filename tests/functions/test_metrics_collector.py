"""The metrics-collector Lambda's own code, run against moto: what it reads, what it publishes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest

from . import FUNCTIONS, load_function

BUCKET = "pacs-storage"
INSTANCE = "pacs-postgresql"
NAMESPACE = "PACS/Custom"


@pytest.fixture(autouse=True)
def s3_publishes_only_what_a_test_puts(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto makes up AWS/S3 daily metrics for every bucket (with a wrong size); S3 publishes them
    once a day, so a bucket's first day has none: tests put the ones they need themselves."""
    from moto.s3.models import S3Backend

    monkeypatch.setattr(S3Backend, "get_cloudwatch_metrics", classmethod(lambda cls, account, region: []))


@pytest.fixture
def collector(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The module, configured as the spec configures the deployed function (inside moto)."""
    monkeypatch.setenv("S3_BUCKET", BUCKET)
    monkeypatch.setenv("RDS_INSTANCE_ID", INSTANCE)
    monkeypatch.setenv("NAMESPACE", NAMESPACE)
    yield load_function("metrics_collector")


def make_bucket(objects: dict[str, bytes]) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
    for key, body in objects.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)


def make_database() -> None:
    boto3.client("rds").create_db_instance(
        DBInstanceIdentifier=INSTANCE,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="pacs",
        MasterUserPassword="not-a-real-one-1",
    )


def published(name: str, dimension: tuple[str, str], namespace: str = NAMESPACE) -> list[float]:
    """Every value the collector published for one metric, read back from CloudWatch."""
    now = datetime.now(UTC)
    stats = boto3.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )
    return [point["Maximum"] for point in stats["Datapoints"]]


def put_aws_metric(namespace: str, name: str, value: float, when: datetime, **dimensions: str) -> None:
    boto3.client("cloudwatch").put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Value": value,
                "Timestamp": when,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            }
        ],
    )


BUCKET_DIMENSION = ("BucketName", BUCKET)
DB_DIMENSION = ("DBInstanceIdentifier", INSTANCE)


def test_a_young_bucket_is_counted_by_listing_and_the_database_is_reported(collector: ModuleType) -> None:
    make_bucket({"studies/1.dcm": b"x" * 1000, "studies/2.dcm": b"y" * 2500, "index.json": b"{}"})
    make_database()
    put_aws_metric(
        "AWS/RDS",
        "DatabaseConnections",
        17.0,
        datetime.now(UTC) - timedelta(minutes=2),
        DBInstanceIdentifier=INSTANCE,
    )

    summary = collector.handler({}, None)

    assert published("StorageBucketSizeBytes", BUCKET_DIMENSION) == [3502.0]
    assert published("StorageObjectCount", BUCKET_DIMENSION) == [3.0]
    assert published("DatabaseAvailable", DB_DIMENSION) == [1.0]
    assert published("DatabaseConnections", DB_DIMENSION) == [17.0]
    assert summary["published"]["StorageObjectCount"] == 3.0


def test_s3_daily_metrics_are_used_when_published_summing_every_storage_class(
    collector: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bucket({"only-one.dcm": b"z"})  # listing would say 1 object of 1 byte
    make_database()
    yesterday = datetime.now(UTC) - timedelta(days=1)
    put_aws_metric(
        "AWS/S3", "BucketSizeBytes", 7_000_000.0, yesterday, BucketName=BUCKET, StorageType="StandardStorage"
    )
    put_aws_metric(
        "AWS/S3", "BucketSizeBytes", 3_000_000.0, yesterday, BucketName=BUCKET, StorageType="GlacierStorage"
    )
    put_aws_metric(
        "AWS/S3", "NumberOfObjects", 1234.0, yesterday, BucketName=BUCKET, StorageType="AllStorageTypes"
    )

    def no_listing(*_: Any, **__: Any) -> None:
        raise AssertionError("the bucket must not be listed when S3 publishes its metrics")

    monkeypatch.setattr(collector, "count_by_listing", no_listing)
    collector.handler({}, None)

    assert published("StorageBucketSizeBytes", BUCKET_DIMENSION) == [10_000_000.0]
    assert published("StorageObjectCount", BUCKET_DIMENSION) == [1234.0]


def test_a_bucket_too_big_to_list_publishes_no_size_rather_than_a_wrong_one(
    collector: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bucket({f"s/{i}.dcm": b"." for i in range(5)})
    make_database()
    monkeypatch.setattr(collector, "LISTING_LIMIT", 3)

    summary = collector.handler({}, None)

    assert "StorageObjectCount" not in summary["published"]
    assert published("StorageObjectCount", BUCKET_DIMENSION) == []
    assert published("DatabaseAvailable", DB_DIMENSION) == [1.0]


def test_a_missing_database_is_reported_unavailable_without_connections(collector: ModuleType) -> None:
    make_bucket({})

    summary = collector.handler({}, None)

    assert published("DatabaseAvailable", DB_DIMENSION) == [0.0]
    assert published("DatabaseConnections", DB_DIMENSION) == []
    assert published("StorageObjectCount", BUCKET_DIMENSION) == [0.0]
    assert summary["namespace"] == NAMESPACE


def test_the_namespace_comes_from_the_environment(
    collector: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_bucket({"a": b"abc"})
    make_database()
    monkeypatch.setenv("NAMESPACE", "PACS/Staging")

    collector.handler({}, None)

    assert published("StorageBucketSizeBytes", BUCKET_DIMENSION, "PACS/Staging") == [3.0]
    assert published("StorageBucketSizeBytes", BUCKET_DIMENSION) == []


def test_missing_configuration_is_named(collector: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S3_BUCKET")
    monkeypatch.delenv("RDS_INSTANCE_ID")
    with pytest.raises(RuntimeError, match="S3_BUCKET, RDS_INSTANCE_ID"):
        collector.handler({}, None)


@pytest.mark.parametrize(
    ("folder", "third_party"),
    [("metrics_collector", {"boto3", "botocore"}), ("alert_notifier", {"boto3"})],
)
def test_the_function_needs_nothing_but_the_lambda_runtime(folder: str, third_party: set[str]) -> None:
    """Only the standard library and boto3/botocore (which the runtime provides) are imported."""
    import ast

    tree = ast.parse((FUNCTIONS / folder / "index.py").read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == third_party
