"""Point 8, secrets: with a recognizable Slack webhook URL (its token is the credential) and a
sensitive variable written into an alarm description and a topic display name, no output stream
or file of any command contains them: validate, plan (text, JSON, saved plan file), apply (text,
JSON, -v, --stats), drift (text, JSON, report file, the SNS notification), error messages that
would quote them (a validation error, an AWS error echoing a parameter) and tracebacks of an
internal error shown with --traceback. Checked raw, URL-encoded and JSON-escaped."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile import aws as aws_module
from pacs_reconcile.resources.registry import KINDS

from .conftest import Cli, Server

TOKEN = "xoxSECRETtoken7731qz"
WEBHOOK = f"https://hooks.slack.com/services/T0SECRET/B0SECRET/{TOKEN}"
CONTACT = "ops-SECRET-5551234-zz"
ENV = {"SLACK_WEBHOOK_URL": WEBHOOK, "PACS_OPS_CONTACT": CONTACT}


def _forms(secret: str) -> set[str]:
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret),
        json.dumps(secret)[1:-1],
    }


SECRET_FORMS = _forms(TOKEN) | _forms(CONTACT)


def _leaks(text: str) -> list[str]:
    return sorted(form for form in SECRET_FORMS if form in text)


class Outputs:
    """Everything the commands wrote, by name."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def add(self, name: str, result: Any) -> Any:
        self.seen[f"{name} (stdout)"] = result.stdout
        self.seen[f"{name} (stderr)"] = result.stderr
        return result

    def file(self, name: str, path: Path) -> None:
        self.seen[name] = path.read_text(encoding="utf-8")

    def assert_clean(self) -> None:
        leaked = {name: _leaks(text) for name, text in self.seen.items() if _leaks(text)}
        assert leaked == {}, leaked


@pytest.fixture
def secret_spec(stack_dir: Path) -> Path:
    """The stack's spec with a sensitive variable in a display name and an alarm description."""
    root = stack_dir / "monitoring.yaml"
    text = root.read_text()
    root.write_text(
        text.replace(
            "variables:\n", "variables:\n  ops_contact: {sensitive: true, from_env: PACS_OPS_CONTACT}\n", 1
        )
    )
    # The stack posts to webhooks through the notifier (an SSM SecureString holds the URL); a spec
    # may still subscribe an https endpoint directly: both routes carry the webhook secret here.
    alerts = stack_dir / "specs" / "alerts.yaml"
    https = (
        "      slack:\n        when: ${var.slack_webhook_url}\n        protocol: https\n"
        "        endpoint: ${var.slack_webhook_url}\n      notifier:\n"
    )
    alerts.write_text(
        alerts.read_text()
        .replace("display_name: PACS alerts\n", "display_name: PACS alerts ${var.ops_contact}\n", 1)
        .replace("      notifier:\n", https, 1)
    )
    alarms = stack_dir / "specs" / "alarms.yaml"
    alarms.write_text(
        alarms.read_text().replace(
            "description: This metric monitors RDS connection count",
            "description: Call ${var.ops_contact} at night",
        )
    )
    return stack_dir


def test_no_output_or_file_of_any_command_contains_a_secret(
    cli: Cli, server: Server, secret_spec: Path, tmp_path: Path
) -> None:
    out = Outputs()
    for args in (("validate",), ("validate", "--format", "json")):
        assert out.add(" ".join(args), cli(*args, env=ENV)).exit_code == 0
    plan_file = tmp_path / "plan.json"
    planned = out.add("plan", cli("-v", "plan", "--out", str(plan_file), "-f", _root(secret_spec), env=ENV))
    assert planned.exit_code == 0, planned.stderr
    assert "(sensitive value)" in planned.stdout
    out.file("saved plan", plan_file)
    out.add("plan json", cli("plan", "--format", "json", env=ENV))
    applied = out.add("apply", cli("-v", "--stats", "apply", str(plan_file), env=ENV))
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    topic = server.client("sns").get_topic_attributes(TopicArn=_topic_arn(server))["Attributes"]
    assert topic["DisplayName"] == f"PACS alerts {CONTACT}", "the secret did reach AWS, where it belongs"
    subscriptions = server.client("sns").list_subscriptions()["Subscriptions"]
    assert WEBHOOK in {s["Endpoint"] for s in subscriptions}
    stored = server.client("ssm").get_parameter(Name="/pacs/alerts/webhooks/slack", WithDecryption=True)
    assert stored["Parameter"]["Value"] == WEBHOOK
    out.add("apply json", cli("apply", "--auto-approve", "--format", "json", env=ENV))

    # drift: AWS moved the values holding the secrets; every report of it stays clean
    server.client("sns").set_topic_attributes(
        TopicArn=_topic_arn(server), AttributeName="DisplayName", AttributeValue=f"edited {CONTACT} by hand"
    )
    report = tmp_path / "drift.json"
    # a topic without subscribers: moto would try to deliver to the webhook URL for real
    notes = server.client("sns").create_topic(Name="drift-notes")["TopicArn"]
    drifted = out.add(
        "drift",
        cli(
            "-v",
            "drift",
            "-f",
            _root(secret_spec),
            "--report",
            str(report),
            "--publish-metric",
            "--notify-topic",
            notes,
            env=ENV,
        ),
    )
    assert drifted.exit_code == 2, drifted.stderr
    out.file("drift report", report)
    out.add("drift json", cli("drift", "--format", "json", env=ENV))
    out.seen["SNS notification"] = json.dumps(_published(notes))
    assert out.seen["SNS notification"] != "[]"
    out.add("plan after drift", cli("plan", env=ENV))
    out.assert_clean()


def test_error_messages_and_tracebacks_never_quote_a_secret(
    cli: Cli, server: Server, secret_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = Outputs()
    # a validation error about the very value: a webhook URL that is not https
    invalid = out.add(
        "validate (invalid)",
        cli("validate", env={**ENV, "SLACK_WEBHOOK_URL": WEBHOOK.replace("https://", "http://")}),
    )
    assert invalid.exit_code == 3 and "subscriptions.slack" in invalid.stderr
    out.add(
        "plan json (invalid)",
        cli("plan", "--format", "json", env={**ENV, "SLACK_WEBHOOK_URL": "http://x" + TOKEN}),
    )

    # AWS echoing the parameter back in its error message
    original = aws_module.AwsContext.__init__

    def echo_endpoint(params: dict[str, Any], **_: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "InvalidParameter",
                    "Message": f"Invalid parameter: Endpoint {params.get('Endpoint')}",
                }
            },
            "Subscribe",
        )

    def init(ctx: aws_module.AwsContext, *args: Any, **kwargs: Any) -> None:
        original(ctx, *args, **kwargs)
        ctx.events.register("before-parameter-build.sns.Subscribe", echo_endpoint)

    with monkeypatch.context() as patch:
        patch.setattr(aws_module.AwsContext, "__init__", init)
        failed = out.add("apply (AWS error)", cli("apply", "--auto-approve", env=ENV))
        failed_json = out.add(
            "apply json (AWS error)", cli("apply", "--auto-approve", "--format", "json", env=ENV)
        )
    assert failed.exit_code == 1 and "Invalid parameter: Endpoint (sensitive value)" in failed.stdout
    assert failed_json.exit_code == 1

    # an internal error whose message carries the secret, shown with --traceback
    topics = KINDS["sns_topics"]

    def broken_canonical(state: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError(f"unexpected state {state!r}")

    with monkeypatch.context() as patch:
        patch.setattr(topics, "canonical", broken_canonical)
        crashed = out.add("--traceback plan", cli("--traceback", "plan", "-f", _root(secret_spec), env=ENV))
        crashed_json = out.add(
            "--traceback plan json",
            cli("--traceback", "plan", "--format", "json", "-f", _root(secret_spec), env=ENV),
        )
    assert crashed.exit_code == 1 and "Traceback" in crashed.stderr and "RuntimeError" in crashed.stderr
    assert "(sensitive value)" in crashed.stderr, "the message was there, masked"
    crash_error = json.loads(crashed_json.stdout)["error"]
    assert crashed_json.exit_code == 1 and crash_error["type"] == "internal"
    assert crash_error["exception"] == "RuntimeError"
    out.assert_clean()


def _root(spec_dir: Path) -> str:
    """Global options (-v, --traceback) come first, so the cli fixture cannot add -f itself."""
    return str(spec_dir / "monitoring.yaml")


def _topic_arn(server: Server) -> str:
    return "arn:aws:sns:ap-northeast-2:123456789012:pacs-alerts"


def _published(topic_arn: str) -> list[Any]:
    """Messages the (in-process) moto server's SNS topic was sent."""
    from moto.sns.models import sns_backends

    topic = sns_backends["123456789012"]["ap-northeast-2"].topics[topic_arn]
    return list(topic.sent_notifications)
