"""An SNS subscription names the stack's SQS queue or Lambda function by reference (`endpoint:
${sqs_queues.X.arn}`, `${lambda_functions.X.arn}`), not by a literal ARN: their ARNs follow from
the name, the Region and the account (arn:PARTITION:sqs:REGION:ACCOUNT:NAME,
arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME), so plan knows the subscription's identity
before the queue or function exists. validate accepts it offline; the stack converges; a
reference to an ARN that only AWS knows stays refused in an identity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.errors import SpecError
from pacs_reconcile.spec.loader import load_spec

from .spec_cycle import actions, converges, plan_of

SPEC = """\
version: 1
stack: pacs-test
sqs_queues:
  replica:
    name: pacs-alerts-replica
sns_topics:
  alerts:
    name: pacs-alerts
    subscriptions:
      replica:
        protocol: sqs
        endpoint: ${sqs_queues.replica.arn}
        raw_message_delivery: true
"""


def test_a_subscription_to_the_stacks_queue_converges(tmp_path: Path, aws: AwsContext) -> None:
    first = plan_of(tmp_path, aws, SPEC)
    assert set(actions(first).values()) == {Action.CREATE}
    converges(tmp_path, aws, SPEC)
    sns = aws.client("sns")
    (topic,) = sns.list_topics()["Topics"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert subscription["Endpoint"] == "arn:aws:sqs:ap-northeast-2:123456789012:pacs-alerts-replica"


def test_a_reference_to_an_arn_only_aws_knows_stays_refused(tmp_path: Path) -> None:
    """A KMS key's ARN holds a random key id."""
    spec = SPEC.replace("${sqs_queues.replica.arn}", "${kms_keys.other.arn}") + (
        "kms_keys:\n  other:\n    name: pacs-other\n"
    )
    path = tmp_path / "monitoring.yaml"
    path.write_text(spec, encoding="utf-8")
    with pytest.raises(SpecError, match="must be known before plan"):
        load_spec(path)


FUNCTION_SPEC = """\
version: 1
stack: pacs-test
lambda_functions:
  notifier:
    name: pacs-alert-notifier
    runtime: python3.12
    handler: index.handler
    role: {role}
    code: {{source_dir: functions/notifier}}
sns_topics:
  alerts:
    name: pacs-alerts
    subscriptions:
      notifier:
        protocol: lambda
        endpoint: ${{lambda_functions.notifier.arn}}
"""


def test_a_subscription_to_the_stacks_function_converges(tmp_path: Path, aws: AwsContext) -> None:
    code = tmp_path / "functions" / "notifier"
    code.mkdir(parents=True)
    (code / "index.py").write_text("def handler(event, context):\n    return None\n")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = aws.client("iam").create_role(RoleName="notifier", AssumeRolePolicyDocument=json.dumps(trust))
    spec = FUNCTION_SPEC.format(role=role["Role"]["Arn"])
    converges(tmp_path, aws, spec)
    sns = aws.client("sns")
    (topic,) = sns.list_topics()["Topics"]
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=topic["TopicArn"])["Subscriptions"]
    assert (
        subscription["Endpoint"] == "arn:aws:lambda:ap-northeast-2:123456789012:function:pacs-alert-notifier"
    )
