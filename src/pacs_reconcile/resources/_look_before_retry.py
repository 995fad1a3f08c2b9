"""Creates botocore must not repeat blindly: look for what an earlier attempt made first.

botocore retries a call whose attempt failed on the way (the connection dropped, a read timed out,
a 5xx). When AWS had carried that attempt out and only its response was lost, the retry repeats a
create AWS already made. Most creates then meet their own first attempt ("already exists": see
common.claim_after_lost_create) or carry a client token AWS recognises; a few have neither and
make one more of the same thing however often the same request comes: RegisterTaskDefinition (a
new revision each time) and CreatePolicyVersion (a new version each time). For those,
`look_before_retrying` asks, before each retry of the call, whether an earlier attempt already made
what was asked for; if so, that is the call's result and nothing is sent again.

Not a kind module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from botocore.exceptions import HTTPClientError

T = TypeVar("T")

_looking = threading.local()
"""Per thread: event name -> the `made` lookup of the call under way on this thread."""


class _AlreadyMade(Exception, Generic[T]):
    """Raised out of botocore's retry loop: an earlier attempt made `value`."""

    def __init__(self, value: T) -> None:
        super().__init__("an earlier attempt of this call was carried out")
        self.value = value


def may_have_landed(caught_exception: BaseException | None, response: Any) -> bool:
    """Whether a failed attempt may have been carried out by AWS: the request was sent and the
    answer never came (HTTPClientError: a dropped connection, a read timeout), or a 5xx came back.
    botocore's ConnectionError family (no connection, connect timeout, proxy, TLS) never reached
    AWS, and a 4xx (throttling included) is AWS refusing the call."""
    if caught_exception is not None:
        return isinstance(caught_exception, HTTPClientError)
    status = getattr(response[0], "status_code", 0) if isinstance(response, tuple) and response else 0
    return int(status or 0) >= 500


def _before_retry(
    event_name: str, caught_exception: BaseException | None = None, response: Any = None, **_: Any
) -> None:
    lookups: dict[str, Callable[[], Any]] = getattr(_looking, "calls", {})
    made = lookups.get(event_name)
    if made is None or not may_have_landed(caught_exception, response):
        return  # botocore's retry handler decides, as for any call
    found = made()
    if found is not None:
        raise _AlreadyMade(found)


def look_before_retrying(
    client: Any, operation: str, call: Callable[[], T], made: Callable[[], T | None]
) -> T:
    """`call()` (one `operation` of `client`), except that when an attempt of it may have been
    carried out, `made()` is asked before botocore retries: a non-None answer is what that attempt
    made, and is returned instead of sending the call again. `made` must recognise only what this
    call asked for (the content and this apply's tags), never what someone else made meanwhile."""
    service = client.meta.service_model.service_id.hyphenize()
    event_name = f"needs-retry.{service}.{operation}"
    client.meta.events.register_first(event_name, _before_retry, unique_id=f"look-before-retry:{event_name}")
    lookups: dict[str, Callable[[], Any]] = _looking.__dict__.setdefault("calls", {})
    outer = lookups.get(event_name)
    lookups[event_name] = made
    try:
        return call()
    except _AlreadyMade as found:
        value: T = found.value
        return value
    finally:
        if outer is None:
            lookups.pop(event_name, None)
        else:
            lookups[event_name] = outer
