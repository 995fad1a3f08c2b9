"""IAM-style policy documents in one canonical form, so documents equal in meaning compare equal.

Shared by every kind that carries a policy (SNS topic policies, IAM roles and policies, Lambda
permissions). AWS returns documents re-serialized, URL-decoded, with single-element lists as
scalars and statements in any order; comparing raw text would diff forever.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .diff import sorted_unique

_SET_LIKE_KEYS = ("Action", "NotAction", "Resource", "NotResource")
_PRINCIPAL_KEYS = ("Principal", "NotPrincipal")
_ACCOUNT_ROOT = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):root")
"""An account's root ARN: the same principal as its bare 12-digit id, which IAM stores in this form
(IAM User Guide, Principal element, "AWS account principals"; aws/aws-cdk#9334)."""


def canonical_policy(policy: Mapping[str, Any]) -> dict[str, Any]:
    """An access policy in one canonical form, so documents equal in meaning compare equal.

    A single value and a one-element list are the same (both become a sorted list),
    `Principal: "*"` is `{"AWS": "*"}`, an account's root ARN is its bare id, condition values are
    strings, and statements are a set.
    """
    out = dict(policy)
    statements = policy.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if isinstance(statements, list):
        canonical = {_sort_key(s): s for s in map(_canonical_statement, statements)}
        out["Statement"] = [canonical[k] for k in sorted(canonical)]
    return out


def with_canonical_policy(state: Mapping[str, Any], field: str = "policy") -> dict[str, Any]:
    """A copy of a spec-shaped state whose policy document (if it holds one) is in canonical form."""
    out = dict(state)
    if isinstance(out.get(field), Mapping):
        out[field] = canonical_policy(out[field])
    return out


def _sort_key(value: Any) -> str:
    # default=str: a value may still be UNKNOWN ("known after apply") when planning.
    return json.dumps(value, sort_keys=True, default=str)


def _canonical_statement(statement: Any) -> Any:
    if not isinstance(statement, Mapping):
        return statement
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if key in _SET_LIKE_KEYS:
            out[key] = _as_set(value)
        elif key in _PRINCIPAL_KEYS:
            out[key] = _canonical_principal(value)
        elif key == "Condition" and isinstance(value, Mapping):
            out[key] = {op: _canonical_condition(block) for op, block in value.items()}
        else:
            out[key] = value
    return out


def _canonical_principal(value: Any) -> Any:
    if value == "*":
        return {"AWS": ["*"]}
    if isinstance(value, Mapping):
        return {
            kind: _as_set([_account_id(i) for i in _as_list(ids)] if kind == "AWS" else ids)
            for kind, ids in value.items()
        }
    return value


def _account_id(principal: Any) -> Any:
    """`arn:aws:iam::123456789012:root` as `123456789012` (a role or user ARN stays as it is)."""
    found = _ACCOUNT_ROOT.fullmatch(principal) if isinstance(principal, str) else None
    return found.group(1) if found else principal


def _canonical_condition(block: Any) -> Any:
    if not isinstance(block, Mapping):
        return block
    return {key: _as_set([_condition_text(v) for v in _as_list(values)]) for key, values in block.items()}


def _condition_text(value: Any) -> Any:
    # Condition values are strings to IAM: true, "true" and 5, "5" mean the same.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _as_set(values: Any) -> list[Any]:
    return sorted_unique(_as_list(values))
