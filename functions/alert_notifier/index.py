"""PACS alert notifier: an AWS Lambda function (handler `index.handler`) subscribed to the alert
SNS topic. Slack and Teams incoming webhooks cannot confirm an SNS https subscription, so this
function receives each alert and posts it to them, formatted for each.

What it posts. A CloudWatch alarm notification (the SNS message is the alarm's JSON) becomes a
message with the alarm's state, the reason, the metric (or, for a metric math alarm, its
expression and the metrics it reads), the threshold and a link to the alarm in the console. Any
other message on the topic (the drift check's notice, `verify`'s test message) is posted as text
under its subject.

Where it posts. The webhook URLs are SSM SecureString parameters under WEBHOOK_PARAMETER_PATH
(e.g. /pacs/alerts/webhooks/slack and /pacs/alerts/webhooks/teams): the last part of a parameter's
name, `slack...` or `teams...`, picks the format. No parameter, no post: e-mail still gets the alert.

Never losing a message. A post is retried (MAX_ATTEMPTS in all, exponential backoff, Retry-After
honoured) when the webhook answers 429 or 5xx or cannot be reached; other 4xx answers are final.
A message that could not be delivered is published, with the reason and the original message
(never the webhook URL: it carries the credential), to the SNS topic DEAD_LETTER_TOPIC_ARN, which
e-mails the on-call. If that publish fails too (or no topic is set), the invocation fails, so
Lambda retries the whole event twice more and then hands it to the function's own dead-letter
target (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): a
webhook already reached may then see the alert twice, which beats not seeing it.

Event shapes: SNS -> Lambda events (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html)
carrying CloudWatch alarm messages, as recorded in AWS's own Lambda event test data
(aws/aws-lambda-go events/testdata/cloudwatch-alarm-sns-payload-single-metric.json and
...-multiple-metrics.json). Uses only boto3 and the standard library, which the Lambda Python
runtime provides.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

DEFAULT_MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 1.0
"""First wait between attempts; doubled after each, capped at MAX_BACKOFF_SECONDS."""
MAX_BACKOFF_SECONDS = 8.0
HTTP_TIMEOUT_SECONDS = 5.0
FORMATS = ("slack", "teams")

log = logging.getLogger()
log.setLevel(logging.INFO)

# CloudWatch's comparison operators (PutMetricAlarm), written as people read them.
COMPARISONS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "LessThanLowerThreshold": "below the band",
    "GreaterThanUpperThreshold": "above the band",
}
STATE_LABELS = {"ALARM": "ALARM", "OK": "OK (recovered)", "INSUFFICIENT_DATA": "INSUFFICIENT DATA"}
SLACK_COLOURS = {"ALARM": "#d62728", "OK": "#2ca02c", "INSUFFICIENT_DATA": "#7f7f7f"}
TEAMS_COLOURS = {"ALARM": "attention", "OK": "good", "INSUFFICIENT_DATA": "warning"}


class DeliveryFailed(RuntimeError):
    """A message reached neither its webhook nor the dead-letter topic: the invocation must fail."""


@dataclass(frozen=True)
class Alert:
    """What people need to know about one SNS message, whatever it was."""

    title: str
    state: str | None = None
    """ALARM, OK or INSUFFICIENT_DATA for an alarm; None for any other message."""
    reason: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    """(label, text) pairs shown as a list: metric, threshold, when..."""
    link: str | None = None


@dataclass(frozen=True)
class Webhook:
    name: str
    """The SSM parameter's name (logged and dead-lettered: never the URL)."""
    format: str
    url: str = field(repr=False)


@dataclass(frozen=True)
class PostResult:
    delivered: bool
    attempts: int
    error: str = ""


# ---------------------------------------------------------------------------------- formatting


def alert_from_sns(sns: Mapping[str, Any]) -> Alert:
    """The alert an SNS record's `Sns` object carries."""
    message = sns.get("Message") or ""
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = None
    if isinstance(alarm, dict) and "AlarmName" in alarm and "NewStateValue" in alarm:
        return alert_from_alarm(alarm)
    return Alert(title=str(sns.get("Subject") or "PACS notification"), reason=str(message))


def alert_from_alarm(alarm: Mapping[str, Any]) -> Alert:
    state = str(alarm["NewStateValue"])
    trigger = alarm.get("Trigger") or {}
    facts: list[tuple[str, str]] = []
    if alarm.get("AlarmDescription"):
        facts.append(("Description", str(alarm["AlarmDescription"])))
    facts.extend(metric_facts(trigger))
    facts.append(("Threshold", threshold_text(trigger)))
    if alarm.get("OldStateValue"):
        facts.append(("Previous state", str(alarm["OldStateValue"])))
    if alarm.get("StateChangeTime"):
        facts.append(("Changed at", str(alarm["StateChangeTime"])))
    return Alert(
        title=f"{STATE_LABELS.get(state, state)}: {alarm['AlarmName']}",
        state=state,
        reason=str(alarm.get("NewStateReason") or ""),
        facts=tuple(facts),
        link=console_link(alarm),
    )


def metric_facts(trigger: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The metric an alarm watches; for a metric math alarm, the expression it alarms on and each
    metric the expression reads."""
    if "Metrics" not in trigger:
        statistic = trigger.get("Statistic") or trigger.get("ExtendedStatistic") or ""
        described = describe_metric(
            trigger.get("Namespace"), trigger.get("MetricName"), trigger.get("Dimensions") or []
        )
        return [("Metric", f"{described} ({str(statistic).capitalize()}, {trigger.get('Period')} s)")]
    facts: list[tuple[str, str]] = []
    for query in trigger["Metrics"]:
        stat = query.get("MetricStat")
        if query.get("Expression"):
            label = f" ({query['Label']})" if query.get("Label") else ""
            name = "Expression" if query.get("ReturnData") else f"Expression {query['Id']}"
            facts.append((name, f"{query['Id']} = {query['Expression']}{label}"))
        elif stat:
            metric = stat.get("Metric") or {}
            described = describe_metric(
                metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions") or []
            )
            facts.append(
                (f"Metric {query['Id']}", f"{described} ({stat.get('Stat')}, {stat.get('Period')} s)")
            )
    return facts


def describe_metric(namespace: Any, name: Any, dimensions: Iterable[Mapping[str, Any]]) -> str:
    # The alarm message writes dimensions as {"name": ..., "value": ...} (lower case).
    pairs = ", ".join(f"{d.get('name')}={d.get('value')}" for d in dimensions)
    return f"{namespace} {name}" + (f" [{pairs}]" if pairs else "")


def threshold_text(trigger: Mapping[str, Any]) -> str:
    operator = str(trigger.get("ComparisonOperator") or "")
    symbol = COMPARISONS.get(operator, operator)
    if "Threshold" in trigger and trigger["Threshold"] is not None:
        limit = (
            f"{symbol} {trigger['Threshold']:g}" if isinstance(trigger["Threshold"], int | float) else symbol
        )
    else:  # anomaly detection: the band is another query of the alarm
        limit = f"{symbol} {trigger.get('ThresholdMetricId', '')}".strip()
    periods = trigger.get("EvaluationPeriods")
    return f"{limit} for {periods} period(s) of {trigger.get('Period')} s" if periods else limit


def console_link(alarm: Mapping[str, Any]) -> str | None:
    """The alarm's page in the CloudWatch console. The message's `Region` is a display name
    ("Asia Pacific (Seoul)"): the region code comes from the alarm's ARN."""
    parts = str(alarm.get("AlarmArn") or "").split(":")
    region = parts[3] if len(parts) > 6 and parts[3] else os.environ.get("AWS_REGION")
    if not region:
        return None
    name = urllib.parse.quote(str(alarm["AlarmName"]), safe="")
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}"


def slack_body(alert: Alert) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` is the notification's fallback, the attachment's
    blocks the message (https://api.slack.com/messaging/webhooks, Block Kit)."""
    fields = [{"type": "mrkdwn", "text": f"*{label}*\n{text}"} for label, text in alert.facts]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150]}}
    ]
    if alert.reason:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": alert.reason}})
    for start in range(0, len(fields), 10):  # a section holds at most 10 fields
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    if alert.link:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"<{alert.link}|Open the alarm in CloudWatch>"},
            }
        )
    colour = SLACK_COLOURS.get(alert.state or "", "#439fe0")
    return {"text": alert.title, "attachments": [{"color": colour, "blocks": blocks}]}


def teams_body(alert: Alert) -> dict[str, Any]:
    """A Teams webhook message carrying an Adaptive Card: Teams Workflows webhooks take Adaptive
    Cards only (Microsoft Learn, "Create and send messages", webhooks-and-connectors)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": alert.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "color": TEAMS_COLOURS.get(alert.state or "", "default"),
        }
    ]
    if alert.reason:
        body.append({"type": "TextBlock", "text": alert.reason, "wrap": True})
    if alert.facts:
        body.append(
            {"type": "FactSet", "facts": [{"title": label, "value": text} for label, text in alert.facts]}
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if alert.link:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open the alarm in CloudWatch", "url": alert.link}
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


BODIES: dict[str, Callable[[Alert], dict[str, Any]]] = {"slack": slack_body, "teams": teams_body}


# ------------------------------------------------------------------------------------ delivery


def webhooks(ssm: Any, path: str) -> list[Webhook]:
    """The webhooks configured under `path`, decrypted. A read error propagates: the invocation
    fails and Lambda retries it, rather than dropping the alert for want of a URL."""
    found: list[Webhook] = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, WithDecryption=True):
        for parameter in page["Parameters"]:
            leaf = parameter["Name"].rsplit("/", 1)[-1].lower()
            kind = next((f for f in FORMATS if leaf.startswith(f)), None)
            if kind is None:
                log.warning("ignoring %s: its name does not start with slack or teams", parameter["Name"])
                continue
            found.append(Webhook(parameter["Name"], kind, parameter["Value"]))
    return sorted(found, key=lambda w: w.name)


def post(
    url: str,
    body: Mapping[str, Any],
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = HTTP_TIMEOUT_SECONDS,
) -> PostResult:
    """POST `body` as JSON, retrying what may succeed later (429, 5xx, no connection)."""
    data = json.dumps(body).encode()
    error = ""
    for attempt in range(1, max_attempts + 1):
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        retry_after: float | None = None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return PostResult(True, attempt)
        except urllib.error.HTTPError as failure:
            error = f"HTTP {failure.code}"
            if failure.code != 429 and failure.code < 500:
                return PostResult(False, attempt, error + " (not retried: the request itself was refused)")
            retry_after = _seconds(failure.headers.get("Retry-After"))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as failure:
            error = f"unreachable: {getattr(failure, 'reason', failure)}"
        if attempt < max_attempts:
            backoff = min(BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
            sleep(min(max(backoff, retry_after or 0.0), MAX_BACKOFF_SECONDS))
    return PostResult(False, max_attempts, error)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff


def dead_letter(
    sns: Any, topic_arn: str | None, webhook: Webhook, result: PostResult, record: Mapping[str, Any]
) -> None:
    """Hand an undelivered message to people by another route, or fail the invocation."""
    original = record.get("Sns") or {}
    log.error("%s: not delivered after %d attempt(s): %s", webhook.name, result.attempts, result.error)
    if not topic_arn:
        raise DeliveryFailed(f"{webhook.name}: {result.error}; no DEAD_LETTER_TOPIC_ARN to hand it to")
    report = {
        "undelivered_to": webhook.name,
        "format": webhook.format,
        "attempts": result.attempts,
        "error": result.error,
        "sns_message_id": original.get("MessageId"),
        "subject": original.get("Subject"),
        "message": original.get("Message"),
    }
    subject = f"Undelivered PACS alert ({webhook.format})"
    try:
        sns.publish(TopicArn=topic_arn, Subject=subject, Message=json.dumps(report, indent=2))
    except Exception as failure:  # any failure here must fail the invocation, not vanish
        raise DeliveryFailed(
            f"{webhook.name}: {result.error}; dead-letter publish failed: {failure}"
        ) from failure


@dataclass
class Notifier:
    ssm: Any
    sns: Any
    parameter_path: str
    dead_letter_topic_arn: str | None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    sleep: Callable[[float], None] = time.sleep

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        targets = webhooks(self.ssm, self.parameter_path)
        if not targets:
            log.warning(
                "no webhook parameter under %s: nothing to post (e-mail still has the alert)",
                self.parameter_path,
            )
        delivered = dead_lettered = 0
        for record in event.get("Records") or []:
            alert = alert_from_sns(record.get("Sns") or {})
            for webhook in targets:
                result = post(
                    webhook.url,
                    BODIES[webhook.format](alert),
                    max_attempts=self.max_attempts,
                    sleep=self.sleep,
                )
                if result.delivered:
                    delivered += 1
                    log.info("%s: delivered %r in %d attempt(s)", webhook.name, alert.title, result.attempts)
                else:
                    dead_letter(self.sns, self.dead_letter_topic_arn, webhook, result, record)
                    dead_lettered += 1
        return {"delivered": delivered, "dead_lettered": dead_lettered}


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point."""
    notifier = Notifier(
        ssm=boto3.client("ssm"),
        sns=boto3.client("sns"),
        parameter_path=os.environ.get("WEBHOOK_PARAMETER_PATH", "/pacs/alerts/webhooks"),
        dead_letter_topic_arn=os.environ.get("DEAD_LETTER_TOPIC_ARN") or None,
        max_attempts=int(os.environ.get("MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS),
    )
    return notifier.handle(event)
