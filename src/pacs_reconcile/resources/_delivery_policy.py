"""The SNS HTTP/S delivery policy as AWS documents it, checked offline (a topic's and a subscription's).

Shapes: "SetSubscriptionAttributes delivery policy JSON format" and "SetTopicAttributes delivery
policy JSON format" (SNS developer guide): a subscription's policy has `healthyRetryPolicy`,
`throttlePolicy` and `requestPolicy`; a topic's has them under `http` as
`defaultHealthyRetryPolicy`, `defaultThrottlePolicy` and `defaultRequestPolicy`, beside
`disableSubscriptionOverrides` (HTTP/S is the only protocol whose policy can be changed: "With the
exception of HTTP/S, you can't change Amazon SNS-defined delivery policies").

Limits: "Creating an HTTP/S delivery policy" (SNS developer guide, "Amazon SNS message delivery
retries"): minDelayTarget 1 to the maximum delay, maxDelayTarget the minimum delay to 3,600 seconds,
numRetries 0 to 100, numNoDelayRetries / numMinDelayRetries / numMaxDelayRetries 0 or greater,
backoffFunction one of linear, arithmetic, geometric, exponential, maxReceivesPerSecond 1 or
greater; the backoff phase has `numRetries - numNoDelayRetries - numMinDelayRetries -
numMaxDelayRetries` retries (so the three cannot add up to more than numRetries). AWS checks these
when the policy is set, answering InvalidParameter ("DeliveryPolicy:
healthyRetryPolicy.minDelayTarget must be greater than or equal to 1",
awsdocs/amazon-sns-developer-guide#5; "DeliveryPolicy: healthyRetryPolicy.numRetries must be
greater than or equal to total of numMinDelayRetries, numNoDelayRetries and numMaxDelayRetries").
Its total retry time limit of 3,600 seconds is left to AWS: the console refuses more
(awsdocs/amazon-sns-developer-guide#15), but how the API counts the backoff phase's delays is
not documented. A value still holding `${...}`
is not judged.

Not a kind module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .base import is_unresolved

MAX_DELAY_SECONDS = 3600
MAX_RETRIES = 100
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
RETRY_COUNTS = ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries")
RETRY_KEYS = frozenset({"minDelayTarget", "maxDelayTarget", "numRetries", *RETRY_COUNTS, "backoffFunction"})
SUBSCRIPTION_EXTRAS = ("sicklyRetryPolicy", "guaranteed")
_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;.*)?")
"""A Content-Type value: type/subtype, optionally with parameters (`text/plain; charset=UTF-8`)."""


def check_subscription_delivery_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A subscription's delivery policy, as it is (ValueError naming the first problem). `sicklyRetryPolicy`
    and `guaranteed` are not in the developer guide's format but part of the policy SNS keeps
    (hashicorp/terraform-provider-aws#3289 models them): accepted, the first checked as a retry policy."""
    _check_parts(policy, "healthyRetryPolicy", "throttlePolicy", "requestPolicy", SUBSCRIPTION_EXTRAS)
    if policy.get("sicklyRetryPolicy") is not None:
        _check_retry(_mapping(policy["sicklyRetryPolicy"], "sicklyRetryPolicy"), "sicklyRetryPolicy")
    return policy


def check_topic_delivery_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A topic's delivery policy, as it is: its HTTP/S defaults under `http`."""
    _only(policy, frozenset({"http"}), "a topic's delivery policy")
    http = policy.get("http")
    if http is None:
        return policy
    if not isinstance(http, Mapping):
        raise ValueError("http: must be a mapping")
    _check_parts(
        http,
        "defaultHealthyRetryPolicy",
        "defaultThrottlePolicy",
        "defaultRequestPolicy",
        ("disableSubscriptionOverrides",),
        prefix="http.",
    )
    overrides = http.get("disableSubscriptionOverrides")
    if _judged(overrides) and not isinstance(overrides, bool):
        raise ValueError("http.disableSubscriptionOverrides: must be true or false")
    return policy


def _check_parts(
    policy: Mapping[str, Any],
    retry: str,
    throttle: str,
    request: str,
    others: tuple[str, ...],
    prefix: str = "",
) -> None:
    what = prefix.rstrip(".") or "a subscription's delivery policy"
    _only(policy, frozenset({retry, throttle, request, *others}), what)
    if policy.get(retry) is not None:
        _check_retry(_mapping(policy[retry], prefix + retry), prefix + retry)
    if policy.get(throttle) is not None:
        part = _mapping(policy[throttle], prefix + throttle)
        _only(part, frozenset({"maxReceivesPerSecond"}), prefix + throttle)
        _whole(part, "maxReceivesPerSecond", prefix + throttle, low=1)
    if policy.get(request) is not None:
        part = _mapping(policy[request], prefix + request)
        _only(part, frozenset({"headerContentType"}), prefix + request)
        content_type = part.get("headerContentType")
        if _judged(content_type) and not (
            isinstance(content_type, str) and _MEDIA_TYPE.fullmatch(content_type.strip())
        ):
            raise ValueError(
                f"{prefix}{request}.headerContentType: a Content-Type such as application/json or "
                "text/plain; charset=UTF-8"
            )


def _check_retry(retry: Mapping[str, Any], where: str) -> None:
    _only(retry, RETRY_KEYS, where)
    low = _whole(retry, "minDelayTarget", where, low=1, high=MAX_DELAY_SECONDS)
    high = _whole(retry, "maxDelayTarget", where, low=1, high=MAX_DELAY_SECONDS)
    if low is not None and high is not None and low > high:
        raise ValueError(f"{where}: minDelayTarget ({low}) is more than maxDelayTarget ({high})")
    total = _whole(retry, "numRetries", where, low=0, high=MAX_RETRIES)
    counts = {name: _whole(retry, name, where, low=0) for name in RETRY_COUNTS}
    phases = sum(n for n in counts.values() if n is not None)
    if total is not None and phases > total:
        raise ValueError(
            f"{where}: numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries add up to {phases}, "
            f"more than numRetries ({total}): the backoff phase gets numRetries minus the three"
        )
    backoff = retry.get("backoffFunction")
    if _judged(backoff) and not (isinstance(backoff, str) and backoff.lower() in BACKOFF_FUNCTIONS):
        raise ValueError(f"{where}.backoffFunction: one of {', '.join(BACKOFF_FUNCTIONS)}")


def _only(policy: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(str(k) for k in set(policy) - allowed)
    if unknown:
        raise ValueError(f"{what}: unknown key {unknown[0]!r} (it takes {', '.join(sorted(allowed))})")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: must be a mapping")
    return value


def _whole(part: Mapping[str, Any], name: str, where: str, low: int, high: int | None = None) -> int | None:
    """The whole number `part[name]` within [low, high] (None when unset or still a reference)."""
    value: Any = part.get(name)
    if not _judged(value):
        return None
    span = f"{low} to {high}" if high is not None else f"{low} or more"
    whole = isinstance(value, int) and not isinstance(value, bool)
    if not whole or value < low or (high is not None and value > high):
        raise ValueError(f"{where}.{name}: a whole number, {span}; got {value!r}")
    return int(value)


def _judged(value: Any) -> bool:
    """Whether a value is set and known offline (not still a `${...}` reference)."""
    return value is not None and not is_unresolved(value)
