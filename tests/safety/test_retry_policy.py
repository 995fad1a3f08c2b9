"""The retry policy under throttling: backoff with full jitter from 0.25 s, capped at 5 s
(botocore: from 1 s, capped at 20 s), and client-side rate limiting per operation (a throttled
API slows only itself, not every operation of its service as botocore's per-client adaptive
mode does). The storm figure is in BENCHMARKS.md (benchmarks/throttle_storm.py)."""

from __future__ import annotations

from typing import Any

import pytest

from pacs_reconcile import retry_policy
from pacs_reconcile.aws import AwsContext, AwsSettings

from .faults import FaultInjector


def _context(aws: AwsContext, **settings: Any) -> AwsContext:
    return AwsContext(AwsSettings(region=aws.region, **settings), stack="s")


def _sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    import botocore.endpoint

    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


def test_the_backoff_of_a_throttle_streak_is_capped_at_5_seconds(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.retries import standard

    slept = _sleeps(monkeypatch)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", _full_delay(standard.ExponentialBackoff))
    ctx = _context(aws, max_attempts=8)
    throttled = FaultInjector(rate=1.0, kinds=("throttle",), max_faults=7)
    throttled.attach(ctx.events)
    ctx.client("logs").describe_log_groups()  # 7 throttles, then through: 8 attempts
    assert throttled.injected["throttle"] == 7 and len(slept) == 7
    assert slept == [0.25, 0.5, 1, 2, 4, 5, 5]  # 0.25 s x 2^attempt, capped (jitter drawn at its top)
    assert max(slept) == retry_policy.MAX_BACKOFF_SECONDS


def test_botocore_alone_would_wait_up_to_20_seconds(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same streak with botocore's own standard handler (the bound this policy lowers)."""
    from botocore.retries import standard

    slept = _sleeps(monkeypatch)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", _full_delay(standard.ExponentialBackoff))
    ctx = _context(aws, max_attempts=8, retry_mode="adaptive")
    FaultInjector(rate=1.0, kinds=("throttle",), max_faults=7).attach(ctx.events)
    ctx.client("logs").describe_log_groups()
    assert slept == [1, 2, 4, 8, 16, 20, 20]


def _full_delay(cls: Any) -> Any:
    """delay_amount with the jitter drawn at its top (rand = 1): the cap shows."""
    original = cls.delay_amount

    def delay(self: Any, context: Any) -> float:
        self._random = lambda: 1.0
        return float(original(self, context))

    return delay


def test_rate_limiting_is_per_operation(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    _sleeps(monkeypatch)
    ctx = _context(aws, max_attempts=8)
    storm = FaultInjector(
        rate=0.6, kinds=("throttle",), seed=3, only=lambda service, operation: operation == "DescribeAlarms"
    )
    storm.attach(ctx.events)
    cloudwatch = ctx.client("cloudwatch")
    for _ in range(10):
        cloudwatch.describe_alarms()
        cloudwatch.list_dashboards()
    assert storm.injected["throttle"] >= 3
    limits = ctx._rate_limits
    assert (
        limits.limiter("monitoring.DescribeAlarms")._enabled
        or limits.limiter("cloudwatch.DescribeAlarms")._enabled
    )
    assert not limits.limiter("cloudwatch.ListDashboards")._enabled
    assert not limits.limiter("monitoring.ListDashboards")._enabled
