"""Ownership indexes: one SSM parameter per stack and record, for kinds whose owned resources no
bulk API finds by tag (dashboards: the tagging API does not list them) or that cannot be tagged at
all (saved Logs Insights queries that name no log group).

Each index is /pacs-reconcile/<stack>/<record> in the stack's region, beside the apply lock
(`engine/lock.py`): each environment's stack has its own, and the lock's IAM statement already
grants the path. Its value is a small JSON document with a `format` number; a value this version
did not write reads as no index at all. The parameters carry no owner tag on purpose: the
ssm_parameters kind prunes what carries it, and an index is no resource of the spec (plans and
destroy never list it). What an index's entries prove, and what its kind does without one, is
said by the module that keeps it (`dashboard_index`: a hint checked against tags; `saved_queries`:
proof, for definitions that cannot be tagged).
"""

from __future__ import annotations

import json
from typing import Any

from ..aws import AwsContext
from .common import gone_is_fine

STANDARD_VALUE_LIMIT = 4096
"""PutParameter: a Standard parameter value holds at most 4 KB. A longer index is not written
(Advanced parameters are charged): the kind then works as it does without an index."""


def parameter_name(stack: str, record: str) -> str:
    return f"/pacs-reconcile/{stack}/{record}"


def encode(document: dict[str, Any], index_format: int) -> str:
    return json.dumps({"format": index_format, **document}, separators=(",", ":"))


def fits(value: str) -> bool:
    return len(value.encode()) <= STANDARD_VALUE_LIMIT


def decode(value: str, index_format: int) -> dict[str, Any] | None:
    """The document an index value holds; None for anything not of `index_format`."""
    try:
        document = json.loads(value)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != index_format:
        return None
    return document


RECORDS = ("dashboards", "dashboard-versions", "saved-queries")
"""Every index a stack keeps: a run reads them together, in one GetParameters call (it takes up to
10 names), so a plan pays one read whatever number of kinds keep one."""


def read_value(ctx: AwsContext, stack: str, record: str) -> str | None:
    """The stored value of the stack's index `record`, None when there is none."""
    return _stored(ctx, stack).get(record)


def write_value(ctx: AwsContext, stack: str, record: str, value: str, description: str) -> bool:
    """Store `value` as the stack's index `record`; False (and no index left behind) when it does
    not fit."""
    client, name, stored = ctx.client("ssm"), parameter_name(stack, record), _stored(ctx, stack)
    if not fits(value):
        with gone_is_fine("ParameterNotFound"):
            client.delete_parameter(Name=name)
        stored.pop(record, None)
        return False
    client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True, Description=description)
    stored[record] = value
    return True


def _stored(ctx: AwsContext, stack: str) -> dict[str, str]:
    """The run's copy of the stack's indexes (read once, kept current by its own writes; planning
    again under the apply lock forgets it with every other read)."""

    def read() -> dict[str, str]:
        names = {parameter_name(stack, record): record for record in RECORDS}
        # GetParameters, not GetParameter: a missing name is listed in InvalidParameters rather
        # than raised as ParameterNotFound (an error response on every plan of a stack without one).
        found = ctx.client("ssm").get_parameters(Names=list(names)).get("Parameters") or []
        return {names[p["Name"]]: str(p["Value"]) for p in found if p.get("Name") in names}

    stored: dict[str, str] = ctx.memo(f"ownership-indexes:{stack}", read)
    return stored
