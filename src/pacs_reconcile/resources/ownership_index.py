"""Ownership indexes: one SSM parameter per stack and record, for kinds whose owned resources no
bulk API finds by tag (dashboards: the tagging API does not list them) or that cannot be tagged at
all (saved Logs Insights queries that name no log group).

Each index is /pacs-reconcile/<stack>/<record> in the stack's region, beside the apply lock
(`engine/lock.py`): each environment's stack has its own, and the lock's IAM statement already
grants the path. Its value is a small JSON document with a `format` number; a value this version
did not write reads as no index at all. The parameters carry no owner tag on purpose: the
ssm_parameters kind prunes what carries it, and an index is no resource of the spec (plans and
destroy never list it). What an index's entries prove, and what its kind does without one, is
said by the module that keeps it (`dashboard_index`).
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


def read_value(ctx: AwsContext, name: str) -> str | None:
    """The stored value of the index parameter `name`, None when there is none."""
    # GetParameters, not GetParameter: a missing name is listed in InvalidParameters rather than
    # raised as ParameterNotFound (an error response on every plan of a stack without an index).
    found = ctx.client("ssm").get_parameters(Names=[name]).get("Parameters") or []
    return str(found[0]["Value"]) if found else None


def write_value(ctx: AwsContext, name: str, value: str, description: str) -> bool:
    """Store `value` under `name`; False (and no index left behind) when it does not fit."""
    client = ctx.client("ssm")
    if not fits(value):
        with gone_is_fine("ParameterNotFound"):
            client.delete_parameter(Name=name)
        return False
    client.put_parameter(Name=name, Value=value, Type="String", Overwrite=True, Description=description)
    return True
