"""The seeded-state snapshot the end-to-end tests share: restored state is the seeded state, a test's
changes never reach the next test, and the hand-made copies (SSM, Lambda) behave like the real thing."""

from __future__ import annotations

import gc
import io
import json
import zipfile

import boto3
from moto import mock_aws
from moto.core.model_instances import reset_model_data

from moto_snapshot import SeededState

REGION = "ap-northeast-2"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _seed() -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/seeded", Value="v1", Type="String")
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="fn",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="seeded",
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
    )


def test_each_restore_gives_back_the_seeded_state_and_drops_what_a_test_changed() -> None:
    seeded = SeededState(_seed)
    with mock_aws():
        seeded.restore()
        ssm = boto3.client("ssm", region_name=REGION)
        ssm.put_parameter(Name="/seeded", Value="changed", Type="String", Overwrite=True)
        ssm.put_parameter(Name="/extra", Value="x", Type="String")
        boto3.client("lambda", region_name=REGION).delete_function(FunctionName="seeded")

        for _ in range(2):  # the saved copy itself is never handed out, so it survives many tests
            reset_model_data()  # as the server's /moto-api/reset does: moto forgets its objects
            gc.collect()
            seeded.restore()
            assert [p["Name"] for p in ssm.describe_parameters()["Parameters"]] == ["/seeded"]
            assert ssm.get_parameter(Name="/seeded")["Parameter"]["Value"] == "v1"
            functions = boto3.client("lambda", region_name=REGION)
            assert [f["FunctionName"] for f in functions.list_functions()["Functions"]] == ["seeded"]
            # Lambda's index by ARN points at the restored function: deleting it works
            functions.delete_function(FunctionName="seeded")
            assert functions.list_functions()["Functions"] == []


def test_a_seeded_queue_is_restored_with_a_lock_of_its_own() -> None:
    """An SQS queue holds a threading.Condition (deepcopy cannot copy one): the restored queue gets
    its own, and sends and receives as the seeded one did."""
    seeded = SeededState(lambda: boto3.client("sqs", region_name=REGION).create_queue(QueueName="seeded"))
    with mock_aws():
        seeded.restore()
        seeded.restore()
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.get_queue_url(QueueName="seeded")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hello")
        (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
        assert message["Body"] == "hello"
