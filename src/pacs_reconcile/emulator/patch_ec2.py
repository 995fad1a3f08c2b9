"""EC2's CreateFlowLogs idempotency token, which moto 5.2.5 ignores, honoured as EC2 does.

CreateFlowLogs takes a `ClientToken`, "unique, case-sensitive identifier that you provide to
ensure the idempotency of the request" (EC2 API reference, API_CreateFlowLogs); EC2 answers a
request repeated with the same token with the result of the first one and makes nothing more
("Ensuring idempotency in Amazon EC2 API requests",
https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html). moto answers a repeat
with FlowLogAlreadyExists instead, so a call retried after its response was lost would fail where
AWS succeeds. Not emulated: IdempotentParameterMismatch for a token reused with other parameters.

moto routes a query request to the EC2Response method named after the action, which it inherits
from moto's FlowLogs responses, in-process (mock_aws) and in server mode alike. The tokens seen are
kept in each (account, region) backend's own attributes, which moto's reset wipes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"
_TOKENS = "pacs_flow_log_tokens"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.ec2.responses.flow_logs import FlowLogs

    if getattr(FlowLogs, _PATCHED_MARK, False):
        return
    FlowLogs.create_flow_logs = _honouring_client_token(FlowLogs.create_flow_logs)  # type: ignore[method-assign,assignment]
    setattr(FlowLogs, _PATCHED_MARK, True)


def _honouring_client_token(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def create_flow_logs(self: Any) -> Any:
        token = self._get_param("ClientToken")
        answered: dict[str, Any] = self.ec2_backend.__dict__.setdefault(_TOKENS, {})
        if token and token in answered:
            return answered[token]
        result = original(self)
        if token:
            answered[token] = result
        return result

    return create_flow_logs
