"""The emulator's Lambda patch: DeadLetterConfig kept and returned as AWS does; SNS deliveries to
a function recorded, not run (AWS invokes it asynchronously; the emulator cannot run code)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from moto.awslambda.models import lambda_backends

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.emulator.patch_lambda import SNS_EVENTS


def make_function(aws: AwsContext, **extra: object) -> str:
    trust = {"Version": "2012-10-17", "Statement": []}
    role = aws.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    created = aws.client("lambda").create_function(
        FunctionName="notifier",
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": bundle.getvalue()},
        **extra,
    )
    return str(created["FunctionArn"])


def test_dead_letter_config_is_kept_and_removed(aws: AwsContext) -> None:
    topic = "arn:aws:sns:ap-northeast-2:123456789012:undelivered"
    make_function(aws, DeadLetterConfig={"TargetArn": topic})
    lam = aws.client("lambda")
    assert lam.get_function(FunctionName="notifier")["Configuration"]["DeadLetterConfig"] == {
        "TargetArn": topic
    }
    lam.update_function_configuration(FunctionName="notifier", DeadLetterConfig={"TargetArn": ""})
    assert "DeadLetterConfig" not in lam.get_function(FunctionName="notifier")["Configuration"]


def test_an_sns_message_to_a_function_is_recorded_not_run(aws: AwsContext) -> None:
    function = make_function(aws)
    sns = aws.client("sns")
    topic = sns.create_topic(Name="pacs-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint=function)
    sns.publish(TopicArn=topic, Message="hello", Subject="test")
    backend = lambda_backends["123456789012"]["ap-northeast-2"]
    assert backend.__dict__[SNS_EVENTS] == {"notifier": [{"Message": "hello", "Subject": "test"}]}


def test_a_statement_id_the_policy_has_is_refused_as_aws_refuses_it(aws: AwsContext) -> None:
    make_function(aws)
    lam = aws.client("lambda")
    permission = {
        "FunctionName": "notifier",
        "StatementId": "AllowSns",
        "Action": "lambda:InvokeFunction",
        "Principal": "sns.amazonaws.com",
    }
    lam.add_permission(**permission)
    with pytest.raises(lam.exceptions.ResourceConflictException, match=r"statement id \(AllowSns\)"):
        lam.add_permission(**{**permission, "Principal": "events.amazonaws.com"})
    (statement,) = json.loads(lam.get_policy(FunctionName="notifier")["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
