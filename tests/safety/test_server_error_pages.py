"""A 5xx answered with an HTML page (a proxy's or load balancer's, not the service's XML) is
retried like any 5xx, on reads and writes of every protocol. botocore's XML parsers raise
ResponseParserError on such a body, and botocore never retries that: an EC2 read failed on the
first page while a JSON service's read was retried."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from pacs_reconcile.aws import AwsContext, AwsSettings

from .faults import UNROUTABLE, _Raw, fast_retries

PAGES = {
    "doctype": b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><hr><br>"
    b"<center>nginx</center></body></html>",
    "truncated xml": b"<Response><Errors><Error><Code>Internal",
    "plain text": b"upstream connect error or disconnect/reset before headers",
}

CALLS: dict[str, Callable[[AwsContext], Any]] = {
    "ec2.DescribeSecurityGroups": lambda ctx: ctx.client("ec2").describe_security_groups(),
    "ec2.DescribeVpcs": lambda ctx: ctx.client("ec2").describe_vpcs(),
    "cloudwatch.DescribeAlarms": lambda ctx: ctx.client("cloudwatch").describe_alarms(),
    "sns.ListTopics": lambda ctx: ctx.client("sns").list_topics(),
    "iam.ListRoles": lambda ctx: ctx.client("iam").list_roles(),
    "s3.ListBuckets": lambda ctx: ctx.client("s3").list_buckets(),
    "logs.DescribeLogGroups": lambda ctx: ctx.client("logs").describe_log_groups(),
    "ec2.CreateSecurityGroup": lambda ctx: ctx.client("ec2").create_security_group(
        GroupName="g", Description="d"
    ),
}


class ErrorPages:
    """Answers the first `times` attempts of every operation with an HTML 5xx page."""

    def __init__(self, body: bytes, status: int = 502, times: int = 1) -> None:
        self.body, self.status, self.times = body, status, times
        self.answered: Counter[str] = Counter()

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.split(".", 2)[2]
        if self.answered[operation] >= self.times:
            return None
        self.answered[operation] += 1
        url = str(request.url)
        request.url = UNROUTABLE  # answered here: moto's stubber must not carry it out too
        return AWSResponse(url, self.status, {"Content-Type": "text/html"}, _Raw(self.body))


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_error_page_is_retried(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch, call: str, page: str
) -> None:
    ctx = AwsContext(AwsSettings(region=aws.region, max_attempts=4, retry_mode="standard"), stack="s")
    pages = ErrorPages(PAGES[page], status=503 if "Create" in call else 502)
    ctx.events.register_first("before-send.*.*", pages)
    with fast_retries(monkeypatch):
        CALLS[call](ctx)
    operation = call.split(".", 1)[1]
    assert pages.answered[operation] == 1
    assert sum(ctx.stats.attempts.values()) == 2, ctx.stats.attempts


def test_a_persistent_error_page_ends_as_an_aws_error_naming_the_status(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    ctx = AwsContext(AwsSettings(region=aws.region, max_attempts=3, retry_mode="standard"), stack="s")
    ctx.events.register_first("before-send.*.*", ErrorPages(PAGES["doctype"], times=99))
    with fast_retries(monkeypatch), pytest.raises(ClientError) as caught:
        ctx.client("ec2").describe_security_groups()
    assert caught.value.response["Error"]["Code"] == "502"
    assert sum(ctx.stats.attempts.values()) == 4  # botocore: max_attempts counts the retries


def test_a_service_error_document_is_still_read_as_such(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    body = (
        b"<Response><Errors><Error><Code>InternalError</Code><Message>boom</Message></Error></Errors>"
        b"<RequestID>r</RequestID></Response>"
    )
    ctx = AwsContext(AwsSettings(region=aws.region, max_attempts=2, retry_mode="standard"), stack="s")
    ctx.events.register_first("before-send.*.*", ErrorPages(body, status=500, times=99))
    with fast_retries(monkeypatch), pytest.raises(ClientError) as caught:
        ctx.client("ec2").describe_vpcs()
    assert caught.value.response["Error"]["Code"] == "InternalError"
