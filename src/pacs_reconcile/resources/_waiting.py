"""Bounded waiting for AWS's asynchronous state changes (EFS file systems and mount targets becoming
available or going away, a security group still attached to a network interface for a moment).

Not a kind module (the leading underscore keeps registry.load_all from treating it as one). The poll
interval is read at call time, so tests set it to 0 instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TypeVar

from botocore.exceptions import ClientError

from ..errors import ErrorType, ReconcileError
from .common import error_code

T = TypeVar("T")

POLL_SECONDS = 2.0
"""Pause between two polls of a resource's state."""


class WaitTimedOut(ReconcileError):
    """AWS did not reach the expected state within the allowed time."""

    error_type = ErrorType.AWS


def wait_until(what: str, done: Callable[[], bool], timeout: float) -> None:
    """Poll `done` until it returns True; raise WaitTimedOut after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() >= deadline:
            raise WaitTimedOut(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_SECONDS)


def retry_while(codes: Collection[str], call: Callable[[], T], timeout: float) -> T:
    """`call()`, repeated while it fails with one of the AWS error `codes` (a transient state such as
    "still in use"); after `timeout` seconds the last error propagates as it is."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in codes or time.monotonic() >= deadline:
                raise
        time.sleep(POLL_SECONDS)
