"""Bounded retries for failures AWS documents as transient (eventual consistency, in-flight changes).

botocore already retries throttling and 5xx; these are the cases it cannot know about, such as a
new IAM role that Lambda cannot assume for a few seconds. The bound and the clock are injectable
so tests run in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RetryWindow:
    """Retry a call while it fails transiently, with exponential backoff, for at most `seconds`."""

    seconds: float
    first_delay: float = 1.0
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def run(self, call: Callable[[], T], transient: Callable[[BaseException], bool]) -> T:
        """`call()`'s result; a transient failure is retried until the window closes, then raised."""
        deadline = self.clock() + self.seconds
        delay = self.first_delay
        while True:
            try:
                return call()
            except Exception as error:
                remaining = deadline - self.clock()
                if not transient(error) or remaining <= 0:
                    raise
                self.sleep(min(delay, remaining))
                delay = min(delay * 2, self.max_delay)
