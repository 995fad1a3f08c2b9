"""PACS custom metrics collector: an AWS Lambda function (handler `index.handler`) that EventBridge
runs every 5 minutes. It publishes into the namespace NAMESPACE (default PACS/Custom):

- StorageBucketSizeBytes (Bytes) and StorageObjectCount (Count), dimension BucketName;
- DatabaseAvailable (1 when the RDS instance's status is "available", else 0) and
  DatabaseConnections (Count), dimension DBInstanceIdentifier.

Configuration comes from the environment: S3_BUCKET, RDS_INSTANCE_ID, NAMESPACE.

How the bucket is measured. S3 itself publishes each bucket's size (AWS/S3 BucketSizeBytes, one
metric per storage class) and object count (NumberOfObjects) once a day; reading the latest of them
is one ListMetrics and one GetMetricData call, whatever the bucket holds. A PACS archive holds
millions of DICOM objects: counting them by listing would take a ListObjectsV2 call per 1000
objects every 5 minutes, and longer than the function may run. So the daily metrics are the source.
Only while S3 has not published any (a bucket less than a day old) does the function count by
listing, up to LISTING_LIMIT objects; beyond that it publishes nothing rather than a wrong number.

Uses only boto3, which the Lambda Python runtime provides.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

DEFAULT_NAMESPACE = "PACS/Custom"
LISTING_LIMIT = 100_000
"""Most objects counted by listing (100 ListObjectsV2 pages) when S3 has no daily metrics yet."""
S3_DAYS_BACK = 3
"""S3's storage metrics are daily and can arrive a day late: look this far back for the latest."""
RDS_MINUTES_BACK = 10

log = logging.getLogger()
log.setLevel(logging.INFO)


@dataclass(frozen=True)
class Config:
    bucket: str
    db_instance: str
    namespace: str

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if environ is None else environ)
        missing = [name for name in ("S3_BUCKET", "RDS_INSTANCE_ID") if not env.get(name)]
        if missing:
            raise RuntimeError(f"missing environment variable(s): {', '.join(missing)}")
        return cls(env["S3_BUCKET"], env["RDS_INSTANCE_ID"], env.get("NAMESPACE") or DEFAULT_NAMESPACE)


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    dimension: tuple[str, str]

    def datum(self, timestamp: datetime) -> dict[str, Any]:
        name, value = self.dimension
        return {
            "MetricName": self.name,
            "Dimensions": [{"Name": name, "Value": value}],
            "Timestamp": timestamp,
            "Value": self.value,
            "Unit": self.unit,
        }


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda entry point: measure, publish, and return what was published."""
    config = Config.from_environment()
    now = datetime.now(UTC)
    cloudwatch = boto3.client("cloudwatch")
    metrics = [
        *bucket_metrics(cloudwatch, boto3.client("s3"), config.bucket, now),
        *database_metrics(cloudwatch, boto3.client("rds"), config.db_instance, now),
    ]
    publish(cloudwatch, config.namespace, metrics, now)
    summary = {"namespace": config.namespace, "published": {m.name: m.value for m in metrics}}
    log.info(json.dumps(summary))
    return summary


# The bucket ----------------------------------------------------------------------------------------


def bucket_metrics(cloudwatch: Any, s3: Any, bucket: str, now: datetime) -> list[Metric]:
    dimension = ("BucketName", bucket)
    measured = daily_storage_metrics(cloudwatch, bucket, now)
    if measured is None:
        measured = count_by_listing(s3, bucket)
    if measured is None:
        return []
    size, count = measured
    return [
        Metric("StorageBucketSizeBytes", size, "Bytes", dimension),
        Metric("StorageObjectCount", count, "Count", dimension),
    ]


def daily_storage_metrics(cloudwatch: Any, bucket: str, now: datetime) -> tuple[float, float] | None:
    """(bytes, objects) from S3's latest daily metrics, or None before S3 has published any."""
    listed = _list_metrics(cloudwatch, "AWS/S3", [{"Name": "BucketName", "Value": bucket}])
    sizes = [m for m in listed if m["MetricName"] == "BucketSizeBytes"]
    counts = [m for m in listed if m["MetricName"] == "NumberOfObjects"]
    if not sizes or not counts:
        return None
    queries = {f"size{i}": metric for i, metric in enumerate(sizes)}
    queries["objects"] = counts[0]
    latest = latest_values(cloudwatch, queries, 86400, now - timedelta(days=S3_DAYS_BACK), now)
    size_values = [latest[q] for q in queries if q.startswith("size") and q in latest]
    if not size_values or "objects" not in latest:
        return None
    # One BucketSizeBytes metric per storage class (Standard, Intelligent-Tiering tiers, Glacier...).
    return sum(size_values), latest["objects"]


def count_by_listing(s3: Any, bucket: str) -> tuple[float, float] | None:
    """(bytes, objects) by listing the bucket, or None when it holds more than LISTING_LIMIT."""
    size = count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            size += int(item["Size"])
            count += 1
        if count > LISTING_LIMIT:
            log.warning(
                "bucket %s holds more than %d objects and S3 has not published its daily "
                "metrics yet: not publishing its size today",
                bucket,
                LISTING_LIMIT,
            )
            return None
    return float(size), float(count)


# The database --------------------------------------------------------------------------------------


def database_metrics(cloudwatch: Any, rds: Any, instance: str, now: datetime) -> list[Metric]:
    dimension = ("DBInstanceIdentifier", instance)
    status = instance_status(rds, instance)
    metrics = [Metric("DatabaseAvailable", 1.0 if status == "available" else 0.0, "Count", dimension)]
    query = {
        "Namespace": "AWS/RDS",
        "MetricName": "DatabaseConnections",
        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
    }
    latest = latest_values(
        cloudwatch, {"connections": query}, 60, now - timedelta(minutes=RDS_MINUTES_BACK), now
    )
    if "connections" in latest:  # no datapoint (instance stopped, just made): nothing to report
        metrics.append(Metric("DatabaseConnections", latest["connections"], "Count", dimension))
    return metrics


def instance_status(rds: Any, instance: str) -> str:
    """The instance's DBInstanceStatus, or "not-found"."""
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "DBInstanceNotFound":
            log.warning("RDS instance %s not found", instance)
            return "not-found"
        raise
    return str(found[0].get("DBInstanceStatus", "unknown")) if found else "not-found"


# CloudWatch ----------------------------------------------------------------------------------------


def _list_metrics(cloudwatch: Any, namespace: str, dimensions: list[dict[str, str]]) -> list[dict[str, Any]]:
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace, Dimensions=dimensions)
    return [metric for page in pages for metric in page.get("Metrics", [])]


def latest_values(
    cloudwatch: Any, metrics: dict[str, dict[str, Any]], period: int, start: datetime, end: datetime
) -> dict[str, float]:
    """Query id -> the newest Average of each metric in [start, end] (ids without data left out)."""
    queries = [
        {
            "Id": query_id,
            "MetricStat": {"Metric": metric, "Period": period, "Stat": "Average"},
            "ReturnData": True,
        }
        for query_id, metric in metrics.items()
    ]
    latest: dict[str, float] = {}
    pages = cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampDescending"
    )
    for page in pages:
        for result in page.get("MetricDataResults", []):
            points = sorted(
                zip(result.get("Timestamps", []), result.get("Values", []), strict=False), reverse=True
            )
            if points and result["Id"] not in latest:
                latest[result["Id"]] = float(points[0][1])
    return latest


def publish(cloudwatch: Any, namespace: str, metrics: list[Metric], now: datetime) -> None:
    if metrics:  # one call: at most 1000 data points, far more than this publishes
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=[m.datum(now) for m in metrics])
