"""SNS HTTP/S delivery policies are checked offline as SNS documents them ("Creating an HTTP/S
delivery policy" and the Set*Attributes delivery policy JSON formats, SNS developer guide): what
AWS documents passes, what it refuses is refused at the field with the part named."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.resources.sns import SubscriptionSpec, TopicSpec

HTTPS = {"protocol": "https", "endpoint": "https://hooks.example.com/pacs"}
# The developer guide's own example (50 attempts, throttled to 10 a second), and its JSON formats.
GUIDE_RETRY = {
    "minDelayTarget": 1,
    "maxDelayTarget": 60,
    "numRetries": 50,
    "numNoDelayRetries": 3,
    "numMinDelayRetries": 2,
    "numMaxDelayRetries": 35,
    "backoffFunction": "exponential",
}
GUIDE_POLICY = {
    "healthyRetryPolicy": GUIDE_RETRY,
    "throttlePolicy": {"maxReceivesPerSecond": 10},
    "requestPolicy": {"headerContentType": "application/json"},
}


def subscription(policy: dict[str, Any]) -> SubscriptionSpec:
    return SubscriptionSpec.model_validate({**HTTPS, "delivery_policy": policy})


def topic(http: dict[str, Any]) -> TopicSpec:
    return TopicSpec.model_validate({"name": "pacs-alerts", "delivery_policy": {"http": http}})


@pytest.mark.parametrize(
    "policy",
    [
        GUIDE_POLICY,
        {"healthyRetryPolicy": {"numRetries": 5}},
        {"healthyRetryPolicy": {**GUIDE_RETRY, "backoffFunction": "LINEAR"}},
        {"requestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}},
        {"healthyRetryPolicy": {"numRetries": 0, "minDelayTarget": 3600, "maxDelayTarget": 3600}},
        {"healthyRetryPolicy": {"numRetries": "${var.retries}"}},
        {},
    ],
)
def test_what_sns_documents_passes(policy: dict[str, Any]) -> None:
    assert subscription(policy).delivery_policy == policy


def test_a_topic_takes_its_http_defaults() -> None:
    http = {
        "defaultHealthyRetryPolicy": GUIDE_RETRY,
        "disableSubscriptionOverrides": False,
        "defaultThrottlePolicy": {"maxReceivesPerSecond": 1},
        "defaultRequestPolicy": {"headerContentType": "application/xml"},
    }
    assert topic(http).delivery_policy == {"http": http}


def _retry(**changes: Any) -> dict[str, Any]:
    return {"healthyRetryPolicy": {**GUIDE_RETRY, **changes}}


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (_retry(minDelayTarget=0), r"healthyRetryPolicy.minDelayTarget: a whole number, 1 to 3600; got 0"),
        (_retry(maxDelayTarget=3601), r"healthyRetryPolicy.maxDelayTarget: a whole number, 1 to 3600"),
        (_retry(minDelayTarget=90, maxDelayTarget=60), r"minDelayTarget \(90\) is more than maxDelayTarget"),
        (_retry(numRetries=101), r"numRetries: a whole number, 0 to 100; got 101"),
        (_retry(numRetries=-1), r"numRetries: a whole number, 0 to 100"),
        (_retry(numNoDelayRetries=-1), r"numNoDelayRetries: a whole number, 0 or more"),
        (_retry(numRetries=20), r"add up to 40, more than numRetries \(20\)"),
        (_retry(numRetries=True), r"numRetries: a whole number"),
        (_retry(minDelayTarget=1.5), r"minDelayTarget: a whole number"),
        (_retry(backoffFunction="quadratic"), r"backoffFunction: one of linear, arithmetic"),
        (_retry(maxDelay=60), r"healthyRetryPolicy: unknown key 'maxDelay'"),
        ({"healthyRetryPolicy": 5}, r"healthyRetryPolicy: must be a mapping"),
        ({"throttlePolicy": {"maxReceivesPerSecond": 0}}, r"maxReceivesPerSecond: a whole number, 1 or more"),
        ({"throttlePolicy": {"maxReceives": 1}}, r"throttlePolicy: unknown key 'maxReceives'"),
        ({"requestPolicy": {"headerContentType": "json"}}, r"headerContentType: a Content-Type"),
        ({"retryPolicy": {"numRetries": 3}}, r"a subscription's delivery policy: unknown key 'retryPolicy'"),
        ({"sicklyRetryPolicy": {"numRetries": 500}}, r"sicklyRetryPolicy.numRetries: a whole number, 0 to"),
    ],
)
def test_what_sns_refuses_in_a_subscription_policy_is_refused(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        subscription(policy)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"https": {}}, r"a topic's delivery policy: unknown key 'https' \(it takes http\)"),
        ({"http": {"healthyRetryPolicy": {}}}, r"http: unknown key 'healthyRetryPolicy'"),
        (
            {"http": {"defaultHealthyRetryPolicy": {"numRetries": 200}}},
            r"http.defaultHealthyRetryPolicy.numRetries: a whole number, 0 to 100",
        ),
        ({"http": {"disableSubscriptionOverrides": "no"}}, r"disableSubscriptionOverrides: must be true or"),
        ({"http": {"defaultThrottlePolicy": {"maxReceivesPerSecond": 0}}}, r"maxReceivesPerSecond"),
    ],
)
def test_what_sns_refuses_in_a_topic_policy_is_refused(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TopicSpec.model_validate({"name": "pacs-alerts", "delivery_policy": policy})
