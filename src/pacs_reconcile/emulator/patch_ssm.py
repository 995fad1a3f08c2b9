"""SSM's Intelligent-Tiering tier resolved as Parameter Store resolves it.

moto 5.2.5 stores `Tier: Intelligent-Tiering` on the parameter and reports it back as the tier.
Parameter Store never does: Intelligent-Tiering is a request to choose, and the parameter is
created or kept in the tier it chose ("Parameter Store creates a parameter in the standard tier
unless the request includes options that require the advanced tier. If advanced features are
requested, the parameter is created as advanced", AWS Systems Manager user guide, "Specifying a
default parameter tier"; a parameter put with Intelligent-Tiering reads back Standard, or Advanced
for a value over 4 KB: go-to-k/cdk-real-drift#408). An Advanced parameter stays Advanced (a tier is
never downgraded). After install(), PutParameter resolves it so, in-process and in server mode.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"
INTELLIGENT_TIERING = "Intelligent-Tiering"
STANDARD_VALUE_BYTES = 4096
"""The standard tier's largest value (4 KB); a larger one needs the advanced tier."""


def resolved_tier(value: str | None, policies: str | None, current_tier: str | None) -> str:
    """The tier Intelligent-Tiering chooses: Advanced when the parameter is Advanced already, or
    the request needs it (a value over 4 KB, parameter policies); Standard otherwise."""
    needs_advanced = len((value or "").encode()) > STANDARD_VALUE_BYTES or bool(policies)
    return "Advanced" if current_tier == "Advanced" or needs_advanced else "Standard"


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.ssm.models import SimpleSystemManagerBackend

    if getattr(SimpleSystemManagerBackend, _PATCHED_MARK, False):
        return
    SimpleSystemManagerBackend.put_parameter = _resolving_tier(SimpleSystemManagerBackend.put_parameter)  # type: ignore[method-assign]
    setattr(SimpleSystemManagerBackend, _PATCHED_MARK, True)


def _resolving_tier(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def put_parameter(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        request = bound.arguments
        if request.get("tier") == INTELLIGENT_TIERING:
            versions = self._parameters[request["name"]]  # a list per name, empty when new
            current = versions[-1].tier if versions else None
            request["tier"] = resolved_tier(request.get("value"), request.get("policies"), current)
        return original(*bound.args, **bound.kwargs)

    return put_parameter
