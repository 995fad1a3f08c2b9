"""The alert notifier Lambda's own code: recorded SNS alarm events in, Slack and Teams bodies out,
posted to a local webhook; a webhook that keeps failing is retried, then dead-lettered."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from . import load_function

EVENTS = Path(__file__).resolve().parent / "sns_events"
PATH = "/pacs/alerts/webhooks"
LINK = "https://ap-northeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-2#alarmsV2:alarm/"


notifier = load_function("alert_notifier")


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return loaded


def alert(name: str) -> Any:
    return notifier.alert_from_sns(event(name)["Records"][0]["Sns"])


class Webhook:
    """A local webhook answering each POST with the next scripted status (then 200)."""

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None) -> None:
        self.statuses = list(statuses)
        self.headers = headers or {}
        self.bodies: list[Any] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                status = hook.statuses.pop(0) if hook.statuses else 200
                self.send_response(status)
                for name, value in hook.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[list[Webhook]]:
    made: list[Webhook] = []
    yield made
    for hook in made:
        hook.close()


def webhook(hooks: list[Webhook], statuses: list[int], headers: dict[str, str] | None = None) -> Webhook:
    hook = Webhook(statuses, headers)
    hooks.append(hook)
    return hook


def secure(name: str, value: str) -> None:
    boto3.client("ssm").put_parameter(Name=f"{PATH}/{name}", Value=value, Type="SecureString")


def dead_letter_queue() -> tuple[str, str]:
    """A topic with a queue subscribed, so a test can read what was dead-lettered."""
    topic = boto3.client("sns").create_topic(Name="pacs-alerts-undelivered")["TopicArn"]
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="undelivered")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return topic, queue


def received(queue: str) -> list[Any]:
    messages = boto3.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def make_notifier(dead_letter_topic: str | None, sleeps: list[float], max_attempts: int = 3) -> Any:
    return notifier.Notifier(
        ssm=boto3.client("ssm"),
        sns=boto3.client("sns"),
        parameter_path=PATH,
        dead_letter_topic_arn=dead_letter_topic,
        max_attempts=max_attempts,
        sleep=sleeps.append,
    )


# ----------------------------------------------------------------------------------- formatting


def test_alarm_becomes_state_reason_metric_threshold_and_link() -> None:
    body = notifier.slack_body(alert("alarm"))
    assert body["text"] == "ALARM: pacs-backend-error-rate"
    attachment = body["attachments"][0]
    assert attachment["color"] == "#d62728"
    blocks = attachment["blocks"]
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "ALARM: pacs-backend-error-rate"},
    }
    assert blocks[1]["text"]["text"].startswith("Threshold Crossed: 2 out of the last 2 datapoints [15.0")
    assert [f["text"] for f in blocks[2]["fields"]] == [
        "*Description*\nThis metric monitors PACS Backend error rate",
        "*Metric*\nPACS/Application PACSBackendErrors (Sum, 300 s)",
        "*Threshold*\n> 10 for 2 period(s) of 300 s",
        "*Previous state*\nOK",
        "*Changed at*\n2024-01-15T10:40:12.345+0000",
    ]
    assert blocks[3]["text"]["text"] == f"<{LINK}pacs-backend-error-rate|Open the alarm in CloudWatch>"


def test_ok_names_the_recovery_and_the_dimensions() -> None:
    teams = notifier.teams_body(alert("ok"))
    assert teams["type"] == "message"
    attachment = teams["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    title, reason, facts = card["body"]
    assert (title["text"], title["color"]) == ("OK (recovered): rds-cpu-utilization", "good")
    assert reason["text"].startswith("Threshold Crossed: 1 out of the last 2 datapoints [42.5")
    assert {
        "title": "Metric",
        "value": "AWS/RDS CPUUtilization [DBInstanceIdentifier=pacs-postgresql] (Average, 300 s)",
    } in facts["facts"]
    assert {"title": "Threshold", "value": "> 80 for 2 period(s) of 300 s"} in facts["facts"]
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open the alarm in CloudWatch",
            "url": f"{LINK}rds-cpu-utilization",
        }
    ]
    assert notifier.slack_body(alert("ok"))["attachments"][0]["color"] == "#2ca02c"


def test_insufficient_data_is_neither_red_nor_green() -> None:
    found = alert("insufficient_data")
    assert found.title == "INSUFFICIENT DATA: pacs-backend-response-time"
    assert found.reason == "Insufficient Data: 2 datapoints were unknown."
    assert notifier.slack_body(found)["attachments"][0]["color"] == "#7f7f7f"
    assert notifier.teams_body(found)["attachments"][0]["content"]["body"][0]["color"] == "warning"


def test_metric_math_alarm_shows_its_expression_and_the_metrics_it_reads() -> None:
    found = alert("metric_math")
    facts = dict(found.facts)
    assert facts["Expression"] == "growth = DIFF(size) (Archive growth per day)"
    assert (
        facts["Metric size"]
        == "PACS/Custom StorageBucketSizeBytes [BucketName=pacs-storage] (Maximum, 86400 s)"
    )
    assert facts["Threshold"] == "> 5e+10 for 1 period(s) of 86400 s"
    assert "Metric" not in facts
    fields = notifier.slack_body(found)["attachments"][0]["blocks"][2]["fields"]
    assert "*Expression*\ngrowth = DIFF(size) (Archive growth per day)" in [f["text"] for f in fields]


def test_a_text_message_on_the_topic_is_posted_as_text() -> None:
    found = alert("text")
    assert (found.title, found.state, found.link) == ("pacs-monitoring: drift detected", None, None)
    body = notifier.slack_body(found)
    assert body["text"] == "pacs-monitoring: drift detected"
    assert body["attachments"][0]["blocks"][1]["text"]["text"].startswith(
        "pacs-monitoring drifted: 2 resources"
    )


def test_an_alarm_name_with_spaces_is_escaped_in_the_link() -> None:
    link = notifier.console_link(
        {"AlarmName": "PACS disk / 90%", "AlarmArn": "arn:aws:cloudwatch:eu-west-1:1:alarm:x"}
    )
    assert (
        link
        == "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/PACS%20disk%20%2F%2090%25"
    )


# ------------------------------------------------------------------------------------- delivery


def test_every_webhook_gets_its_own_format(aws: Any, hooks: list[Webhook]) -> None:
    slack, teams = webhook(hooks, []), webhook(hooks, [])
    secure("slack", slack.url)
    secure("teams", teams.url)
    result = make_notifier(None, []).handle(event("alarm"))
    assert result == {"delivered": 2, "dead_lettered": 0}
    assert slack.bodies == [notifier.slack_body(alert("alarm"))]
    assert teams.bodies == [notifier.teams_body(alert("alarm"))]


def test_a_passing_failure_is_retried_with_backoff(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [503, 429])
    secure("slack", slack.url)
    sleeps: list[float] = []
    assert make_notifier(None, sleeps).handle(event("ok")) == {"delivered": 1, "dead_lettered": 0}
    assert len(slack.bodies) == 3
    assert sleeps == [1.0, 2.0]


def test_retry_after_is_honoured_up_to_the_cap(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [429], headers={"Retry-After": "30"})
    secure("slack", slack.url)
    sleeps: list[float] = []
    make_notifier(None, sleeps).handle(event("ok"))
    assert sleeps == [notifier.MAX_BACKOFF_SECONDS]


def test_a_webhook_that_keeps_failing_is_retried_then_dead_lettered(aws: Any, hooks: list[Webhook]) -> None:
    slack, teams = webhook(hooks, [500, 502, 503]), webhook(hooks, [])
    secure("slack", slack.url)
    secure("teams", teams.url)
    topic, queue = dead_letter_queue()
    sleeps: list[float] = []
    result = make_notifier(topic, sleeps, max_attempts=3).handle(event("alarm"))
    assert result == {"delivered": 1, "dead_lettered": 1}
    assert len(slack.bodies) == 3 and sleeps == [1.0, 2.0]
    assert len(teams.bodies) == 1  # the other webhook is not held back
    [report] = received(queue)
    original = event("alarm")["Records"][0]["Sns"]
    assert report == {
        "undelivered_to": f"{PATH}/slack",
        "format": "slack",
        "attempts": 3,
        "error": "HTTP 503",
        "sns_message_id": original["MessageId"],
        "subject": original["Subject"],
        "message": original["Message"],
    }
    assert slack.url not in json.dumps(report)  # the URL carries the webhook's credential


def test_a_refused_request_is_not_retried_but_dead_lettered(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [404])
    secure("slack", slack.url)
    topic, queue = dead_letter_queue()
    assert make_notifier(topic, []).handle(event("alarm")) == {"delivered": 0, "dead_lettered": 1}
    assert len(slack.bodies) == 1
    assert received(queue)[0]["error"].startswith("HTTP 404 (not retried")


def test_an_unreachable_webhook_is_dead_lettered(aws: Any, hooks: list[Webhook]) -> None:
    gone = webhook(hooks, [])
    gone.close()
    hooks.remove(gone)
    secure("teams", gone.url)
    topic, queue = dead_letter_queue()
    assert make_notifier(topic, [], max_attempts=2).handle(event("ok"))["dead_lettered"] == 1
    assert received(queue)[0]["error"].startswith("unreachable:")


def test_without_a_dead_letter_route_the_invocation_fails(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [500, 500])
    secure("slack", slack.url)
    with pytest.raises(notifier.DeliveryFailed, match="no DEAD_LETTER_TOPIC_ARN"):
        make_notifier(None, [], max_attempts=2).handle(event("alarm"))


def test_a_failed_dead_letter_publish_fails_the_invocation(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [500, 500])
    secure("slack", slack.url)
    missing_topic = "arn:aws:sns:ap-northeast-2:123456789012:no-such-topic"
    with pytest.raises(notifier.DeliveryFailed, match="dead-letter publish failed") as failure:
        make_notifier(missing_topic, [], max_attempts=2).handle(event("alarm"))
    assert slack.url not in str(failure.value)


def test_parameters_other_than_slack_or_teams_are_ignored(aws: Any, hooks: list[Webhook]) -> None:
    slack = webhook(hooks, [])
    secure("slack-oncall", slack.url)
    secure("pagerduty", "https://events.example.invalid/")
    assert make_notifier(None, []).handle(event("insufficient_data")) == {"delivered": 1, "dead_lettered": 0}


def test_no_webhook_configured_posts_nothing(aws: Any) -> None:
    assert make_notifier(None, []).handle(event("alarm")) == {"delivered": 0, "dead_lettered": 0}


def test_handler_reads_its_configuration_from_the_environment(
    aws: Any, hooks: list[Webhook], monkeypatch: pytest.MonkeyPatch
) -> None:
    slack = webhook(hooks, [])
    secure("slack", slack.url)
    monkeypatch.setenv("WEBHOOK_PARAMETER_PATH", PATH)
    assert notifier.handler(event("metric_math"), None) == {"delivered": 1, "dead_lettered": 0}
    assert slack.bodies[0]["text"] == "ALARM: pacs-archive-growth"
