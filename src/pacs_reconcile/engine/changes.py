"""The plan's vocabulary: actions and per-resource changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..diff import Difference
from ..resources.base import Key, Live
from ..spec.model import ResourceNode


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"
    REFUSED = "refused"
    """The plan cannot do what the spec asks (not owned, protected...): apply stops before starting."""
    RETAINED = "retained"
    """No longer declared but kept: a stateful resource deleted only when named."""
    RELEASE = "release"
    """No longer managed, not deleted: the tool's tags come off and later plans forget it."""

    @property
    def mutates(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.RELEASE)


@dataclass
class Change:
    address: str
    kind: str
    action: Action
    key: Key
    differences: list[Difference] = field(default_factory=list)
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    sensitive_paths: set[str] = field(default_factory=set)
    adopt: bool = False
    node: ResourceNode | None = field(default=None, repr=False)
    """The declared resource (None for an undeclared one being deleted or retained)."""
    live: Live | None = field(default=None, repr=False)
    """Live state the plan was computed from (None when absent)."""
    parent: str | None = None
    bookkeeping: bool = False
    """Only the tool's fingerprint tag differs: the spec was rewritten without changing what AWS
    should hold. Not a change; apply records the new fingerprint in passing."""


def key_text(key: Any) -> str:
    if isinstance(key, tuple):
        return "/".join(key_text(k) for k in key)
    return str(key)
