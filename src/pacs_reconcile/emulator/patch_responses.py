"""moto's response options made per request: a request's `include` no longer changes another's answer.

moto 5.2.5 records what a request includes or leaves out of its answer (ECS DescribeServices'
`include=["TAGS"]`, DescribeClusters', DescribeTasks' and DescribeTaskSets' alike) in
`RESPONSE_KEY_PATH_TO_TRANSFORMER`, a dict on the response *class*, shared by every request.
The emulator serves reads side by side (benchmarks/emulator.py, tests' moto server), so a
DescribeServices without TAGS (the `ecs_service` lookup) answered meanwhile could strip the tags
from a DescribeServices that asked for them (the `ecs_services` kind's read): a plan of the
converged stack then refused both ECS services as "not owned by this stack", one run in four or
five. AWS answers each request by its own parameters (ECS API reference, DescribeServices:
`include`, "If TAGS is specified, the tags are included in the response").

The patch is on moto's base response class, so it holds in-process (mock_aws) and in server mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_options_per_request"
"""Not the other patches' mark: every response class inherits what is set on BaseResponse."""
_TRANSFORMERS = "RESPONSE_KEY_PATH_TO_TRANSFORMER"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.core.responses import BaseResponse

    if vars(BaseResponse).get(_PATCHED_MARK, False):
        return
    BaseResponse._include_in_response = _on_this_request(BaseResponse._include_in_response)  # type: ignore[method-assign,assignment]
    BaseResponse._exclude_from_response = _on_this_request(BaseResponse._exclude_from_response)  # type: ignore[method-assign,assignment]
    setattr(BaseResponse, _PATCHED_MARK, True)


def _on_this_request(original: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    """`original` applied to this request's own copy of its class's transformers (moto makes one
    response object per request and reads them from it when it serializes the answer)."""

    def option(self: Any, response_key_path: str) -> None:
        if _TRANSFORMERS not in vars(self):
            setattr(self, _TRANSFORMERS, dict(getattr(type(self), _TRANSFORMERS)))
        original(self, response_key_path)

    return option
