"""Answer a client's next calls of one operation with a canned response, in moto tests (in-process or
server): throttles, AccessDenied, eventual-consistency errors, partial failures that moto never gives.

A `before-call` handler that returns a response short-circuits botocore's request (botocore's own
retries included), so exactly the calls counted here were answered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class _Http:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


def answer(
    client: Any, operation: str, response: Mapping[str, Any], *, times: int = 1, status: int = 200
) -> list[dict[str, Any]]:
    """The next `times` calls of `operation` get `response`; later ones reach moto. Returns the
    serialized request of every call seen (answered or not; `times=0` only records)."""
    seen: list[dict[str, Any]] = []

    def handler(params: dict[str, Any], **_: Any) -> tuple[_Http, dict[str, Any]] | None:
        seen.append(params)
        if len(seen) > times:
            return None
        return _Http(status), {**response, "ResponseMetadata": {"HTTPStatusCode": status}}

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", handler)
    return seen


def fail(
    client: Any, operation: str, code: str, message: str = "", *, times: int = 1, status: int = 400
) -> list[dict[str, Any]]:
    """The next `times` calls of `operation` fail with the AWS error `code`."""
    return answer(
        client, operation, {"Error": {"Code": code, "Message": message}}, times=times, status=status
    )
