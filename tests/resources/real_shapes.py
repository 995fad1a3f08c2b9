"""Replaying AWS responses as AWS returns them (tests/fixtures/aws/<service>/*.json) through a plan.

A fixture is one JSON document:

    {
      "kind": "alarms",                      the kind it exercises (children: the child kind)
      "title": "what the response shows",
      "sources": ["https://...", "hashicorp/terraform-provider-aws#1234"],
      "spec": {"alarms": {"cpu": {...}}},    the spec sections that produced the resource
      "files": {"functions/x/index.py": "..."},  files next to the spec (optional)
      "calls": [                             every read the plan makes, with AWS's answer
        {"service": "cloudwatch", "operation": "describe_alarms", "params": {...},
         "response": {...}}                  or "error": {"code": ..., "message": ..., "status": 400}
      ],
      "change": {                            a real edit of the spec and where the plan shows it
        "set": {"alarms.cpu.threshold": 90}, dotted spec paths and their new values
        "address": "alarms.cpu",
        "paths": ["threshold"]               exactly these attribute paths differ (tags aside)
      }
    }

Responses go through botocore's Stubber, which checks each one against the service model (a field
AWS does not return is rejected), with one change: reads run on several threads, so a call is
answered by the first unused response queued for its operation whose `params` (if given) equal the
call's, not by the head of the queue. Timestamps in the JSON become datetimes as botocore would
parse them, and a value outside its field's enumeration is refused. Every queued response must be
used. `params` are needed only where one operation is called several times with different answers.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.loaders
from botocore.exceptions import StubAssertionError, UnStubbedResponseError
from botocore.stub import Stubber
from dateutil.parser import isoparse

from pacs_reconcile import FINGERPRINT_TAG
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.resources.registry import KINDS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "aws"
STACK = "pacs-monitoring"
REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
UNREACHABLE = "http://127.0.0.1:9"
"""Where a call nobody stubbed would go: nothing listens there, so it can never reach AWS."""


@dataclass(frozen=True)
class Fixture:
    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"

    @property
    def kind(self) -> str:
        return str(self.data["kind"])


def all_fixtures() -> list[Fixture]:
    return [Fixture(p, json.loads(p.read_text())) for p in sorted(FIXTURES.glob("*/*.json"))]


class MatchingStubber(Stubber):
    """A Stubber whose calls take the first unused response queued for their operation (and params)."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self._match_lock = threading.Lock()

    def _assert_expected_params(self, model: Any, params: Any, context: Any, **kwargs: Any) -> None:
        if self._should_not_stub(context):
            return
        with self._match_lock:
            for index, entry in enumerate(self._queue):
                expected = entry["expected_params"]
                if entry["operation_name"] == model.name and (expected is None or expected == params):
                    del self._queue[index]
                    context["fixture_response"] = entry["response"]
                    return
            queued = [(e["operation_name"], e["expected_params"]) for e in self._queue]
        if not any(name == model.name for name, _ in queued):
            raise UnStubbedResponseError(operation_name=model.name, reason=f"not in the fixture: {params}")
        raise StubAssertionError(
            operation_name=model.name, reason=f"no queued response for {params}; queued: {queued}"
        )

    def _get_response_handler(self, model: Any, params: Any, context: Any, **kwargs: Any) -> Any:
        if self._should_not_stub(context):
            return None
        return context.pop("fixture_response")


class FixtureContext(AwsContext):
    """An AwsContext whose every client answers from a fixture only (a MatchingStubber on each)."""

    def __init__(self) -> None:
        super().__init__(
            AwsSettings(region=REGION, endpoint_url=UNREACHABLE, max_attempts=1, retry_mode="standard"),
            stack=STACK,
        )
        self.stubbers: dict[str, MatchingStubber] = {}
        self._account_id = ACCOUNT
        # Service models are read once per test run, not once per context (seconds over the suite).
        self._session.register_component("data_loader", _shared_loader())

    def client(self, service: str) -> Any:
        client = super().client(service)
        with self._lock:
            if service not in self.stubbers:
                stubber = MatchingStubber(client)
                stubber.activate()
                self.stubbers[service] = stubber
        return client

    def queue(self, calls: list[dict[str, Any]]) -> None:
        for call in calls:
            stubber = self._stubber(call["service"])
            params = call.get("params")
            if "error" in call:
                error = call["error"]
                stubber.add_client_error(
                    call["operation"],
                    service_error_code=error["code"],
                    service_message=error.get("message", ""),
                    http_status_code=error.get("status", 400),
                    expected_params=params,
                )
            else:
                response = parsed_response(self.client(call["service"]), call["operation"], call["response"])
                stubber.add_response(call["operation"], response, params)

    def unused(self) -> list[str]:
        return [
            f"{service}.{entry['operation_name']} {entry['expected_params'] or ''}"
            for service, stubber in self.stubbers.items()
            for entry in stubber._queue
        ]

    def _stubber(self, service: str) -> MatchingStubber:
        self.client(service)
        return self.stubbers[service]


@functools.cache
def _shared_loader() -> Any:
    return botocore.loaders.create_loader()


def parsed_response(client: Any, method: str, response: Mapping[str, Any]) -> dict[str, Any]:
    """The response as botocore's parser hands it over: ISO 8601 timestamps as datetimes (and every
    enumerated value checked)."""
    operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[method])
    return dict(_convert(operation.output_shape, copy.deepcopy(dict(response))))


def _convert(shape: Any, value: Any) -> Any:
    if shape is None:
        return value
    if shape.type_name == "timestamp" and isinstance(value, str):
        return isoparse(value)
    if shape.type_name == "string" and getattr(shape, "enum", None) and value not in shape.enum:
        # The Stubber checks field names and types, not enumerations: an invented value stops here.
        raise ValueError(f"{value!r} is not one of the values {shape.name} takes: {shape.enum}")
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _convert(shape.members.get(k), v) for k, v in value.items()}
    if shape.type_name == "list" and isinstance(value, list):
        return [_convert(shape.member, v) for v in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _convert(shape.value, v) for k, v in value.items()}
    return value


def spec_document(sections: Mapping[str, Any]) -> dict[str, Any]:
    return {"version": 1, "stack": STACK, "region": REGION, **sections}


def set_path(document: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `value` at a dotted path of the spec sections (list items by index)."""
    *parents, last = dotted.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def kinds_read(sections: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The top-level kinds the spec declares, and the child kinds declared under them."""
    top = [kind for kind in sections if kind in KINDS]
    children = sorted(
        {
            field
            for kind in top
            for entry in sections[kind].values()
            for field in entry
            if field in KINDS and KINDS[field].meta.parent == kind
        }
    )
    return top, children


def differing_paths(change: Any) -> list[str]:
    return sorted(d.path for d in change.differences if d.path != f"tags.{FINGERPRINT_TAG}")
