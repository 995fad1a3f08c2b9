"""Drift alerting: a CloudWatch metric every run, an SNS message only when the findings change.

"When did we last notify, and about what?" is kept in AWS, not in a local file: the digest of the
findings last announced is a tag on the notification topic (a `pacs-reconcile:` tag, which the
reconciler never treats as drift).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aws import AwsContext
from ..diff import tags_from_list, tags_to_list
from .drift import ALERTING, DriftReport, Finding

METRIC_NAME = "DriftedResources"
PENDING_METRIC_NAME = "PendingChanges"
DIGEST_TAG = "pacs-reconcile:drift-digest"
CLEAN_DIGEST = "clean"
MAX_MESSAGE_LINES = 40


def publish_metric(ctx: AwsContext, report: DriftReport, namespace: str) -> int:
    """Put DriftedResources (total and per kind) and PendingChanges; returns datapoints sent."""
    stack = {"Name": "Stack", "Value": report.stack}
    data = [
        {
            "MetricName": METRIC_NAME,
            "Dimensions": [stack],
            "Value": float(report.drifted_count),
            "Unit": "Count",
        },
        {
            "MetricName": PENDING_METRIC_NAME,
            "Dimensions": [stack],
            "Value": float(len(report.of(Finding.PENDING))),
            "Unit": "Count",
        },
    ]
    for kind, count in sorted(report.by_kind().items()):
        data.append(
            {
                "MetricName": METRIC_NAME,
                "Dimensions": [stack, {"Name": "Kind", "Value": kind}],
                "Value": float(count),
                "Unit": "Count",
            }
        )
    client = ctx.client("cloudwatch")
    for start in range(0, len(data), 1000):  # PutMetricData takes at most 1000 datapoints
        client.put_metric_data(Namespace=namespace, MetricData=data[start : start + 1000])
    return len(data)


@dataclass(frozen=True)
class Notification:
    sent: bool
    reason: str


def notify(ctx: AwsContext, report: DriftReport, topic_arn: str) -> Notification:
    """Publish a short message naming the findings, unless they are the ones announced last time."""
    sns = ctx.client("sns")
    tags = tags_from_list(sns.list_tags_for_resource(ResourceArn=topic_arn).get("Tags"))
    previous = tags.get(DIGEST_TAG, CLEAN_DIGEST)
    current = report.digest() if report.findings else CLEAN_DIGEST
    if current == previous:
        return Notification(False, "same findings as the last notification")
    subject, body = message(report)
    sns.publish(TopicArn=topic_arn, Subject=subject[:99], Message=body)
    sns.tag_resource(ResourceArn=topic_arn, Tags=tags_to_list({DIGEST_TAG: current}))
    return Notification(True, "findings changed since the last notification")


def message(report: DriftReport) -> tuple[str, str]:
    if not report.findings:
        return (
            f"[pacs-reconcile] {report.stack}: drift cleared",
            f"Stack {report.stack} ({report.region}) matches its spec again.",
        )
    drifted = sum(1 for i in report.items if i.finding in ALERTING)
    pending = len(report.of(Finding.PENDING))
    subject = f"[pacs-reconcile] {report.stack}: {drifted} drifted, {pending} pending"
    lines = [f"Stack {report.stack} ({report.region}): {len(report.findings)} findings.", ""]
    for item in report.findings[:MAX_MESSAGE_LINES]:
        where = f" ({', '.join(item.paths)})" if item.paths else ""
        lines.append(f"- {item.finding}: {item.address}{where}")
    if len(report.findings) > MAX_MESSAGE_LINES:
        lines.append(f"... and {len(report.findings) - MAX_MESSAGE_LINES} more")
    lines += ["", "Run `pacs-reconcile drift` for details, `pacs-reconcile plan` to see the fix."]
    return subject, "\n".join(lines)
