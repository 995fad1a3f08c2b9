"""EventBridge event bus settings moto 5.2.5 lacks: UpdateEventBus, and LogConfig.

UpdateEventBus changes a bus's Description, KmsKeyIdentifier, DeadLetterConfig and LogConfig
(EventBridge API reference, UpdateEventBus); moto answers it "not implemented". CreateEventBus
takes a LogConfig and DescribeEventBus returns it (CreateEventBus, DescribeEventBus); moto drops
it. After install(), UpdateEventBus sets each of the four it is given (an empty value clears it)
and answers the bus as the API reference shows; LogConfig is kept and returned. Works in-process
and in server mode.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.events.responses import EventsHandler

    if getattr(EventsHandler, _PATCHED_MARK, False):
        return
    EventsHandler.create_event_bus = _keeping_log_config(EventsHandler.create_event_bus)  # type: ignore[method-assign,assignment]
    EventsHandler.describe_event_bus = _with_log_config(EventsHandler.describe_event_bus)  # type: ignore[method-assign,assignment]
    EventsHandler.update_event_bus = _update_event_bus  # type: ignore[attr-defined]
    setattr(EventsHandler, _PATCHED_MARK, True)


Answer = tuple[str, dict[str, Any]]


def _keeping_log_config(original: Callable[[Any], Answer]) -> Callable[[Any], Answer]:
    def create_event_bus(self: Any) -> Answer:
        answer = original(self)
        bus = self.events_backend.describe_event_bus(self._get_param("Name"))
        bus.log_config = self._get_param("LogConfig") or None
        return answer

    return create_event_bus


def _with_log_config(original: Callable[[Any], Answer]) -> Callable[[Any], Answer]:
    def describe_event_bus(self: Any) -> Answer:
        body, headers = original(self)
        answer = json.loads(body)
        log_config = getattr(
            self.events_backend.describe_event_bus(self._get_param("Name")), "log_config", None
        )
        if log_config:
            answer["LogConfig"] = log_config
        return json.dumps(answer), headers

    return describe_event_bus


def _update_event_bus(self: Any) -> Answer:
    bus = self.events_backend.describe_event_bus(self._get_param("Name"))
    for param, attribute in (
        ("Description", "description"),
        ("KmsKeyIdentifier", "kms_key_identifier"),
        ("DeadLetterConfig", "dead_letter_config"),
        ("LogConfig", "log_config"),
    ):
        value = self._get_param(param)
        if value is not None:
            setattr(bus, attribute, value or None)
    answer = {"Arn": bus.arn, "Name": bus.name}
    for key, value in (
        ("Description", bus.description),
        ("KmsKeyIdentifier", bus.kms_key_identifier),
        ("DeadLetterConfig", bus.dead_letter_config),
        ("LogConfig", getattr(bus, "log_config", None)),
    ):
        if value:
            answer[key] = value
    return json.dumps(answer), self.response_headers
