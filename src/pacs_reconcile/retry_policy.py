"""The one retry policy, installed on every client the run makes.

botocore's standard mode retries throttling, 5xx and connection errors with full-jitter
exponential backoff (rand(0,1) * min(base * 2^attempt, cap), base 1 s for throttles) and a retry
quota. Three things are tuned here:

- The backoff: from 0.25 s (botocore: 1 s) and capped at 5 s (botocore: 20 s). With full jitter
  the waits of a long throttle streak then average 2.5 s instead of 10 s; the attempts bound (8)
  still ends a hopeless call.
- Client-side rate limiting per operation, not per client. botocore's adaptive mode keeps one
  token bucket per client, so throttles of one API (AWS's quotas are per API action: DescribeAlarms
  about 9 TPS, PutMetricAlarm its own) slow every operation of that service. Here each
  (service, operation) gets botocore's own adaptive limiter (CUBIC rate adjustment, token bucket),
  enabled at its first throttle: a storm on one API slows only that API.
- The floor of that limiter's rate: 5 calls a second (botocore: 0.5).

Sources: botocore.retries.standard (ExponentialBackoff, RetryQuotaChecker) and
botocore.retries.adaptive (ClientRateLimiter); "Exponential Backoff And Jitter", AWS Architecture
Blog (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
"""

from __future__ import annotations

import threading
from typing import Any

MAX_BACKOFF_SECONDS = 5
MIN_RATE_PER_SECOND = 5.0
"""The floor of an operation's client-side rate (botocore's: 0.5/s). The lowest control-plane
quota this tool meets is about 5 calls a second (DescribeLogGroups; AWS-NOTES.md), and throttles
that are not about rate (a storm) would otherwise drive every operation down to one call every
two seconds: measured with benchmarks/throttle_storm.py, that floor made the repository's apply
in a 30 % throttling storm 4-5 times as long as a calm one (BENCHMARKS.md)."""
THROTTLE_BASE_SECONDS = 0.25
"""The first retry of a throttle waits rand(0, 0.25 s) (botocore: rand(0, 1 s)); the per-operation
limiter, not the backoff, is what brings a too-fast sender down to the API's rate."""


def _backoff(name: str, detector: Any) -> Any:
    from botocore.retries import standard

    class Backoff(standard.ExponentialBackoff):
        _DEFAULT_BACKOFF_CONFIG = {  # botocore's, but for the throttling base
            "throttling_base_scale": THROTTLE_BASE_SECONDS,
            "non_throttling_base_scale": 0.05,
        }

    return Backoff(max_backoff=MAX_BACKOFF_SECONDS, service_name=name, throttling_detector=detector)


class OperationRateLimits:
    """One adaptive rate limiter per (service, operation), made at its first use."""

    def __init__(self) -> None:
        self._limiters: dict[str, Any] = {}
        self._lock = threading.Lock()

    def limiter(self, operation: str) -> Any:
        with self._lock:
            found = self._limiters.get(operation)
            if found is None:
                found = self._limiters[operation] = _adaptive_limiter()
            return found

    def on_sending_request(self, event_name: str, **kwargs: Any) -> None:
        self.limiter(_operation(event_name)).on_sending_request(**kwargs)

    def on_receiving_response(self, event_name: str, **kwargs: Any) -> None:
        self.limiter(_operation(event_name)).on_receiving_response(**kwargs)


def _operation(event_name: str) -> str:
    """`before-send.cloudwatch.DescribeAlarms` -> `cloudwatch.DescribeAlarms`."""
    return event_name.split(".", 1)[1]


def _adaptive_limiter() -> Any:
    """botocore's adaptive-mode limiter, as botocore.retries.adaptive.register_retry_handler makes
    it for a whole client."""
    from botocore.retries import adaptive, bucket, standard, throttling

    clock = bucket.Clock()
    return adaptive.ClientRateLimiter(
        rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
        rate_clocker=adaptive.RateClocker(clock),
        token_bucket=bucket.TokenBucket(
            max_rate=MIN_RATE_PER_SECOND, clock=clock, min_rate=MIN_RATE_PER_SECOND
        ),
        throttling_detector=standard.ThrottlingErrorDetector(
            retry_event_adapter=standard.RetryEventAdapter()
        ),
        clock=clock,
    )


class _NoRetryQuota:
    """No client-wide retry quota. botocore's (standard.RetryQuotaChecker: 500 units per client,
    5 per throttle retry, 14 per other retry, 1 back per success) stops every retry of a client
    after about 35 retried server errors or 100 throttles; one client serves a whole apply (the
    EC2 client: lookups, security groups, mount targets, flow logs), so a storm of that size
    would fail the rest of the apply half-done. Each call stays bounded by its attempts and
    backoff, and throttles by the per-operation rate limiters."""

    def acquire_retry_quota(self, context: Any) -> bool:
        return True

    def release_retry_quota(self, context: Any, http_response: Any, **kwargs: Any) -> None:
        return None


def install(client: Any, total_attempts: int, limits: OperationRateLimits) -> None:
    """Replace the client's standard-mode retry handler with one whose backoff is capped at
    MAX_BACKOFF_SECONDS, and add the per-operation rate limiters. The client must have been made
    with retries mode "standard"."""
    from botocore.retries import standard

    name = client.meta.service_model.service_id.hyphenize()
    events = client.meta.events
    events.unregister(f"needs-retry.{name}", unique_id=f"retry-config-{name}")
    adapter = standard.RetryEventAdapter()
    detector = standard.ThrottlingErrorDetector(adapter)
    retry_quota = _NoRetryQuota()
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=total_attempts),
            retry_backoff=_backoff(name, detector),
        ),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,  # type: ignore[arg-type]  # what botocore itself passes
        service_name=name,
    )
    events.register(f"after-call.{name}", retry_quota.release_retry_quota)
    events.register(f"needs-retry.{name}", handler.needs_retry, unique_id=f"retry-config-{name}")
    events.register(f"before-send.{name}", limits.on_sending_request)
    events.register(f"needs-retry.{name}", limits.on_receiving_response)
