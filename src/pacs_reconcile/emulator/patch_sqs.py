"""SQS queue attributes as SQS keeps them, where moto 5.2.5 does not.

- SetQueueAttributes changes the attributes it is given and no other ("Sets the value of one or
  more queue attributes", SQS API reference); moto drops the queue's Policy on every call that
  does not carry one.
- RedriveAllowPolicy (CreateQueue and SetQueueAttributes, Attributes) is stored by moto but never
  returned by GetQueueAttributes: it is returned when set, as SQS does.
- A queue has one server-side encryption at a time: setting KmsMasterKeyId turns
  SqsManagedSseEnabled off and removing the key turns it back on (localstack/localstack#13780
  records AWS doing so; "You can use one type of server-side encryption (SSE) at one time",
  ansible-collections/community.aws#2433). moto keeps SqsManagedSseEnabled true beside a key.

Works in-process and in server mode (the patch is on moto's queue model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.sqs.models import Queue

    if getattr(Queue, _PATCHED_MARK, False):
        return
    Queue._set_attributes = _keeping_what_is_not_set(Queue._set_attributes)  # type: ignore[method-assign]
    Queue.attributes = property(_with_redrive_allow_policy(Queue.attributes.fget))  # type: ignore[assignment,attr-defined,method-assign]
    setattr(Queue, _PATCHED_MARK, True)


def _keeping_what_is_not_set(original: Callable[..., None]) -> Callable[..., None]:
    def set_attributes(self: Any, attributes: dict[str, Any], now: float | None = None) -> None:
        policy = getattr(self, "policy", None)
        original(self, attributes, now)
        if "Policy" not in attributes:
            self.policy = policy
        key = attributes.get("KmsMasterKeyId")
        if key is not None:
            self.sqs_managed_sse_enabled = not key

    return set_attributes


def _with_redrive_allow_policy(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    def attributes(self: Any) -> dict[str, Any]:
        result = original(self)
        allow = getattr(self, "redrive_allow_policy", None)
        if allow:
            result["RedriveAllowPolicy"] = allow
        return result

    return attributes
