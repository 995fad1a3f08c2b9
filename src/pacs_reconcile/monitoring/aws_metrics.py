"""Which metrics AWS services publish, and under which dimensions: a table taken from each
service's CloudWatch metrics page (the `source` of each namespace), and a walk over a spec's
alarms and dashboard widgets that names every metric they read.

A misspelt metric, a wrong namespace or a dimension AWS never sets is not an error anywhere in
CloudWatch: the alarm sits in INSUFFICIENT_DATA and the graph stays empty. Checking each
(namespace, metric, dimensions) against this table finds them before anyone looks at an empty
dashboard. Only what the PACS stack can use is listed; a namespace missing from the table is
reported as unknown rather than passed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Namespace:
    source: str
    """The AWS documentation page the metrics and dimensions below were taken from."""
    metrics: frozenset[str]
    dimension_sets: tuple[frozenset[str], ...]
    """The combinations of dimension names the service publishes (a metric query must use
    exactly one of them: CloudWatch matches dimensions exactly)."""
    values: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """(metric, dimension) -> the only values AWS uses for it, where the set is fixed."""
    needs: str = ""
    """What must be switched on for the service to publish them at all."""


def _dims(*sets: str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(s.split(",")) if s else frozenset() for s in sets)


_S3_STORAGE_TYPES = frozenset(
    {
        "StandardStorage",
        "IntelligentTieringFAStorage",
        "IntelligentTieringIAStorage",
        "IntelligentTieringAAStorage",
        "IntelligentTieringAIAStorage",
        "IntelligentTieringDAAStorage",
        "StandardIAStorage",
        "StandardIASizeOverhead",
        "StandardIAObjectOverhead",
        "OneZoneIAStorage",
        "OneZoneIASizeOverhead",
        "ReducedRedundancyStorage",
        "GlacierIRSizeOverhead",
        "GlacierInstantRetrievalStorage",
        "GlacierStorage",
        "GlacierStagingStorage",
        "GlacierObjectOverhead",
        "GlacierS3ObjectOverhead",
        "DeepArchiveStorage",
        "DeepArchiveObjectOverhead",
        "DeepArchiveS3ObjectOverhead",
        "DeepArchiveStagingStorage",
        "ExpressOneZone",
    }
)

NAMESPACES: dict[str, Namespace] = {
    "AWS/ApplicationELB": Namespace(
        source="https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
        metrics=frozenset(
            {
                "ActiveConnectionCount",
                "ClientTLSNegotiationErrorCount",
                "ConsumedLCUs",
                "HTTPCode_ELB_3XX_Count",
                "HTTPCode_ELB_4XX_Count",
                "HTTPCode_ELB_5XX_Count",
                "HTTPCode_ELB_500_Count",
                "HTTPCode_ELB_502_Count",
                "HTTPCode_ELB_503_Count",
                "HTTPCode_ELB_504_Count",
                "HTTPCode_Target_2XX_Count",
                "HTTPCode_Target_3XX_Count",
                "HTTPCode_Target_4XX_Count",
                "HTTPCode_Target_5XX_Count",
                "HealthyHostCount",
                "NewConnectionCount",
                "ProcessedBytes",
                "RejectedConnectionCount",
                "RequestCount",
                "RequestCountPerTarget",
                "TargetConnectionErrorCount",
                "TargetResponseTime",
                "TargetTLSNegotiationErrorCount",
                "UnHealthyHostCount",
            }
        ),
        dimension_sets=_dims(
            "LoadBalancer",
            "AvailabilityZone,LoadBalancer",
            "LoadBalancer,TargetGroup",
            "AvailabilityZone,LoadBalancer,TargetGroup",
            "TargetGroup",
        ),
    ),
    "AWS/ECS": Namespace(
        source="https://docs.aws.amazon.com/AmazonECS/latest/developerguide/available-metrics.html",
        metrics=frozenset(
            {"CPUReservation", "CPUUtilization", "MemoryReservation", "MemoryUtilization", "GPUReservation"}
        ),
        dimension_sets=_dims("ClusterName", "ClusterName,ServiceName"),
    ),
    # RunningTaskCount and the other task counts are not in AWS/ECS: they are Container Insights
    # metrics, published only for clusters with Container Insights on.
    "ECS/ContainerInsights": Namespace(
        source="https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html",
        metrics=frozenset(
            {
                "ContainerInstanceCount",
                "CpuReserved",
                "CpuUtilized",
                "DeploymentCount",
                "DesiredTaskCount",
                "EBSFilesystemSize",
                "EBSFilesystemUtilized",
                "EphemeralStorageReserved",
                "EphemeralStorageUtilized",
                "MemoryReserved",
                "MemoryUtilized",
                "NetworkRxBytes",
                "NetworkTxBytes",
                "PendingTaskCount",
                "RunningTaskCount",
                "ServiceCount",
                "StorageReadBytes",
                "StorageWriteBytes",
                "TaskCount",
                "TaskSetCount",
            }
        ),
        dimension_sets=_dims("ClusterName", "ClusterName,ServiceName", "ClusterName,TaskDefinitionFamily"),
        needs="Container Insights on the ECS cluster (containerInsights=enabled)",
    ),
    "AWS/RDS": Namespace(
        source="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-metrics.html",
        metrics=frozenset(
            {
                "BinLogDiskUsage",
                "BurstBalance",
                "CPUCreditBalance",
                "CPUCreditUsage",
                "CPUUtilization",
                "DatabaseConnections",
                "DiskQueueDepth",
                "FreeStorageSpace",
                "FreeableMemory",
                "MaximumUsedTransactionIDs",
                "NetworkReceiveThroughput",
                "NetworkTransmitThroughput",
                "OldestReplicationSlotLag",
                "ReadIOPS",
                "ReadLatency",
                "ReadThroughput",
                "ReplicaLag",
                "ReplicationSlotDiskUsage",
                "SwapUsage",
                "TransactionLogsDiskUsage",
                "TransactionLogsGeneration",
                "WriteIOPS",
                "WriteLatency",
                "WriteThroughput",
            }
        ),
        dimension_sets=_dims(
            "DBInstanceIdentifier", "DBClusterIdentifier", "DatabaseClass", "EngineName", ""
        ),
    ),
    # Storage metrics are daily; BucketSizeBytes is per storage class, NumberOfObjects only for
    # StorageType=AllStorageTypes.
    "AWS/S3": Namespace(
        source="https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html",
        metrics=frozenset({"BucketSizeBytes", "NumberOfObjects"}),
        dimension_sets=_dims("BucketName,StorageType"),
        values={
            ("BucketSizeBytes", "StorageType"): _S3_STORAGE_TYPES,
            ("NumberOfObjects", "StorageType"): frozenset({"AllStorageTypes"}),
        },
    ),
    "AWS/AutoScaling": Namespace(
        source="https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html",
        metrics=frozenset(
            {
                "GroupMinSize",
                "GroupMaxSize",
                "GroupDesiredCapacity",
                "GroupInServiceInstances",
                "GroupPendingInstances",
                "GroupStandbyInstances",
                "GroupTerminatingInstances",
                "GroupTotalInstances",
                "GroupInServiceCapacity",
                "GroupPendingCapacity",
                "GroupStandbyCapacity",
                "GroupTerminatingCapacity",
                "GroupTotalCapacity",
            }
        ),
        dimension_sets=_dims("AutoScalingGroupName"),
        needs="group metrics collection on the Auto Scaling group (EnableMetricsCollection)",
    ),
    "AWS/NATGateway": Namespace(
        source="https://docs.aws.amazon.com/vpc/latest/userguide/metrics-dimensions-nat-gateway.html",
        metrics=frozenset(
            {
                "ActiveConnectionCount",
                "BytesInFromDestination",
                "BytesInFromSource",
                "BytesOutToDestination",
                "BytesOutToSource",
                "ConnectionAttemptCount",
                "ConnectionEstablishedCount",
                "ErrorPortAllocation",
                "IdleTimeoutCount",
                "PacketsDropCount",
                "PacketsInFromDestination",
                "PacketsInFromSource",
                "PacketsOutToDestination",
                "PacketsOutToSource",
            }
        ),
        dimension_sets=_dims("NatGatewayId"),
    ),
    "AWS/Lambda": Namespace(
        source="https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html",
        metrics=frozenset(
            {
                "Invocations",
                "Errors",
                "DeadLetterErrors",
                "DestinationDeliveryFailures",
                "Throttles",
                "Duration",
                "ConcurrentExecutions",
                "AsyncEventsReceived",
                "AsyncEventAge",
                "AsyncEventsDropped",
            }
        ),
        dimension_sets=_dims("FunctionName", "FunctionName,Resource", "FunctionName,ExecutedVersion", ""),
    ),
    "AWS/SNS": Namespace(
        source="https://docs.aws.amazon.com/sns/latest/dg/sns-monitoring-using-cloudwatch.html",
        metrics=frozenset(
            {
                "NumberOfMessagesPublished",
                "NumberOfNotificationsDelivered",
                "NumberOfNotificationsFailed",
                "NumberOfNotificationsFilteredOut",
                "PublishSize",
            }
        ),
        dimension_sets=_dims("TopicName", ""),
    ),
}
"""AWS namespaces by name. No `AWS/VPC` entry: a VPC publishes no packet or byte metrics of its
own (traffic is measured at a NAT gateway, or derived from flow logs)."""


@dataclass(frozen=True)
class MetricUse:
    """One metric an alarm or a dashboard widget reads."""

    where: str
    """Spec address and path, e.g. `dashboards.pacs_main.body.widgets[1].properties.metrics[2]`."""
    namespace: str
    name: str
    dimensions: Mapping[str, Any]


def is_aws_namespace(namespace: str) -> bool:
    # AWS reserves the "AWS/" prefix; Container Insights publishes under "ECS/ContainerInsights".
    return namespace.startswith("AWS/") or namespace == "ECS/ContainerInsights"


def problem(use: MetricUse) -> str | None:
    """Why AWS never publishes `use`'s metric, or None when the table says it does."""
    namespace = NAMESPACES.get(use.namespace)
    if namespace is None:
        return f"{use.namespace} is not a namespace this table knows (see monitoring/aws_metrics.py)"
    if use.name not in namespace.metrics:
        return f"{use.namespace} has no metric {use.name} ({namespace.source})"
    names = frozenset(use.dimensions)
    if names not in namespace.dimension_sets:
        offered = " or ".join("[" + ", ".join(sorted(s)) + "]" for s in namespace.dimension_sets)
        got = ", ".join(sorted(names)) or "none"
        return (
            f"{use.namespace} {use.name} is published with dimensions {offered}, not [{got}]"
            f" ({namespace.source})"
        )
    for dimension, value in use.dimensions.items():
        allowed = namespace.values.get((use.name, dimension))
        if allowed is not None and value not in allowed:
            uses = ", ".join(sorted(allowed))
            return f"{use.namespace} {use.name} has {dimension} {value!r} never; it uses {uses}"
    return None


def metric_uses(resources: Mapping[str, Any]) -> Iterator[MetricUse]:
    """Every metric the alarms and dashboards of a loaded spec read (`Spec.resources`)."""
    for address, node in resources.items():
        if node.kind == "alarms":
            yield from _alarm_metrics(address, node.config)
        elif node.kind == "dashboards":
            yield from dashboard_metrics(address, node.config.get("body") or {})


def _alarm_metrics(address: str, config: Mapping[str, Any]) -> Iterator[MetricUse]:
    metric = config.get("metric")
    if metric:
        yield MetricUse(
            f"{address}.metric", metric["namespace"], metric["name"], metric.get("dimensions") or {}
        )
    for index, query in enumerate(config.get("metrics") or ()):
        fetched = query.get("metric")
        if fetched:
            where = f"{address}.metrics[{index}].metric"
            yield MetricUse(where, fetched["namespace"], fetched["name"], fetched.get("dimensions") or {})


def dashboard_metrics(address: str, body: Mapping[str, Any]) -> Iterator[MetricUse]:
    """The metrics of a dashboard body's metric widgets, with CloudWatch's shorthand expanded:
    "." repeats the item at the same position of the row above, and "..." the rest of that row
    (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)."""
    for w, widget in enumerate(body.get("widgets") or ()):
        properties = widget.get("properties") or {}
        if widget.get("type") != "metric":
            continue
        previous: list[Any] = []
        for m, row in enumerate(properties.get("metrics") or ()):
            items = [item for item in row if not isinstance(item, Mapping)]
            if not items:
                continue  # an expression row: it reads the rows it names
            items = _expand(items, previous)
            previous = items
            dimensions = dict(zip(items[2::2], items[3::2], strict=False))
            where = f"{address}.body.widgets[{w}].properties.metrics[{m}]"
            yield MetricUse(where, items[0], items[1], dimensions)


def _expand(items: list[Any], previous: list[Any]) -> list[Any]:
    expanded: list[Any] = []
    for position, item in enumerate(items):
        if item == "...":
            expanded.extend(previous[position:])
            break
        expanded.append(previous[position] if item == "." and position < len(previous) else item)
    return expanded
