"""The one bounded retry/poll window: a retried call and a polled condition stop when it closes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile.resources import _retry
from pacs_reconcile.resources._retry import RetryWindow, WaitTimedOut


def ticking(step: float) -> Iterator[float]:
    now = 0.0
    while True:
        yield now
        now += step


def test_a_condition_is_polled_with_growing_pauses_until_the_window_closes() -> None:
    sleeps: list[float] = []
    clock = ticking(1.0)
    window = RetryWindow(
        seconds=10, first_delay=1, max_delay=4, sleep=sleeps.append, clock=lambda: next(clock)
    )
    with pytest.raises(WaitTimedOut, match="gave up after 10s waiting for the mount target"):
        window.until("the mount target", lambda: False)
    assert sleeps[:4] == [1, 2, 4, 4] and len(sleeps) == 9


def test_a_condition_met_stops_the_polling() -> None:
    answers = iter([False, False, True])
    sleeps: list[float] = []
    RetryWindow(seconds=60, sleep=sleeps.append).until("it", lambda: next(answers))
    assert sleeps == [1.0, 2.0]


def test_only_the_named_codes_are_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "POLL_SECONDS", 0.0)
    busy = ClientError({"Error": {"Code": "DependencyViolation"}}, "DeleteSecurityGroup")
    attempts = iter([busy, busy, "deleted"])

    def call() -> str:
        answer = next(attempts)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert _retry.retry_while({"DependencyViolation"}, call, timeout=60) == "deleted"
    denied = ClientError({"Error": {"Code": "AccessDenied"}}, "DeleteSecurityGroup")

    def refused() -> str:
        raise denied

    with pytest.raises(ClientError, match="AccessDenied"):
        _retry.retry_while({"DependencyViolation"}, refused, timeout=60)
