"""`pacs-reconcile` as a subprocess that dies on cue, for the crash tests (test_crashes.py).

    python tests/safety/crash_cli.py ARGS...

PACS_TEST_KILL_AT="MODE:N" sends this process SIGKILL at its N-th mutating AWS call (the apply
lock's included): MODE "before" kills just before the request is sent, "after" just after its
response arrived, before the tool could use it. PACS_TEST_SIGINT_AT="N[,M...]" sends SIGINT (what
Ctrl-C sends) at those mutating calls instead (a number twice: two SIGINTs), and lets the run go on.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any

from pacs_reconcile import aws as aws_module
from pacs_reconcile.aws import is_mutating

_count = 0
_lock = threading.Lock()
_this_call = threading.local()


def _cue(env: str) -> tuple[str, list[int]]:
    value = os.environ.get(env, "")
    mode, _, numbers = value.rpartition(":")
    return mode, [int(n) for n in numbers.split(",") if n.strip()]


KILL_MODE, KILL_AT = _cue("PACS_TEST_KILL_AT")
_, SIGINT_AT = _cue("PACS_TEST_SIGINT_AT")


def _mutating(event_name: str) -> bool:
    return is_mutating(event_name.rsplit(".", 1)[-1])


def _before_send(event_name: str, **_: Any) -> None:
    global _count
    if not _mutating(event_name):
        return
    with _lock:
        _count += 1
        number = _count
    _this_call.number = number
    for _ in range(SIGINT_AT.count(number)):  # "10,10": Ctrl-C pressed twice at once
        os.kill(os.getpid(), signal.SIGINT)
    if KILL_MODE == "before" and number in KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


def _after_call(event_name: str, **_: Any) -> None:
    if KILL_MODE == "after" and _mutating(event_name) and getattr(_this_call, "number", 0) in KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


_original_init = aws_module.AwsContext.__init__


def _init(ctx: aws_module.AwsContext, *args: Any, **kwargs: Any) -> None:
    _original_init(ctx, *args, **kwargs)
    ctx.events.register("before-send.*.*", _before_send)
    ctx.events.register("after-call.*.*", _after_call)


aws_module.AwsContext.__init__ = _init  # type: ignore[method-assign]

if __name__ == "__main__":
    from pacs_reconcile.cli import main

    sys.argv[0] = "pacs-reconcile"
    main()
