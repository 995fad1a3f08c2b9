"""Bounded retrying and polling for what AWS documents as transient or asynchronous: eventual
consistency (a new IAM role Lambda cannot assume for a few seconds), in-flight changes (a security
group still attached to a network interface for a moment), state changes that take a while (EFS
file systems and mount targets becoming available or going away).

botocore already retries throttling and 5xx; these are the cases it cannot know about. One window
serves both a retried call and a polled condition: a bound in seconds, a pause that grows from
`first_delay` to `max_delay`, an injectable sleep and clock so tests run in milliseconds. Not a kind
module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import TypeVar

from ..errors import ErrorType, ReconcileError
from .common import error_code

T = TypeVar("T")

POLL_SECONDS = 2.0
"""Pause between two polls of a resource's state (read at call time: tests set it to 0)."""


class WaitTimedOut(ReconcileError):
    """AWS did not reach the expected state within the allowed time."""

    error_type = ErrorType.AWS


@dataclass(frozen=True)
class RetryWindow:
    """Retry a call, or poll a condition, for at most `seconds`, pausing longer each time."""

    seconds: float
    first_delay: float = 1.0
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def run(self, call: Callable[[], T], transient: Callable[[BaseException], bool]) -> T:
        """`call()`'s result; a transient failure is retried until the window closes, then raised."""
        pauses = self._pauses()
        while True:
            try:
                return call()
            except Exception as error:
                pause = next(pauses, None)
                if not transient(error) or pause is None:
                    raise
                self.sleep(pause)

    def until(self, what: str, done: Callable[[], bool]) -> None:
        """Poll `done` until it returns True; WaitTimedOut once the window closes."""
        pauses = self._pauses()
        while not done():
            pause = next(pauses, None)
            if pause is None:
                raise WaitTimedOut(f"gave up after {self.seconds:.0f}s waiting for {what}")
            self.sleep(pause)

    def _pauses(self) -> Iterator[float]:
        """The pauses between attempts, none once the window (counted from now) has closed."""
        deadline = self.clock() + self.seconds

        def pauses() -> Iterator[float]:
            delay = self.first_delay
            while (remaining := deadline - self.clock()) > 0:
                yield min(delay, remaining)
                delay = min(delay * 2, self.max_delay)

        return pauses()


def polling(seconds: float) -> RetryWindow:
    """A window that pauses POLL_SECONDS between attempts."""
    return RetryWindow(seconds, first_delay=POLL_SECONDS, max_delay=POLL_SECONDS)


def wait_until(what: str, done: Callable[[], bool], timeout: float) -> None:
    """Poll `done` every POLL_SECONDS until it returns True; WaitTimedOut after `timeout` seconds."""
    polling(timeout).until(what, done)


def retry_while(codes: Collection[str], call: Callable[[], T], timeout: float) -> T:
    """`call()`, repeated every POLL_SECONDS while it fails with one of the AWS error `codes` (a
    transient state such as "still in use"); after `timeout` seconds the last error propagates."""
    return polling(timeout).run(call, lambda error: error_code(error) in codes)
