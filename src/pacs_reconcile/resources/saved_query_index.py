"""The saved queries' ownership index as stored: /pacs-reconcile/<stack>/saved-queries, the ids AWS
assigned to the stack's saved queries naming no log group (and the creates recorded ahead). Kept by
the saved_queries kind (see its module); read by the query_definitions kind too, which leaves a
recorded definition alone even when someone made it name one of the stack's log groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..aws import AwsContext
from . import ownership_index

RECORD = "saved-queries"
INDEX_FORMAT = 1


@dataclass(frozen=True)
class StoredIndex:
    """The index as stored: {queryDefinitionId: declared name} and {name: clientToken} of the
    creates recorded ahead whose ids are not known yet."""

    owned: Mapping[str, str]
    pending: Mapping[str, str]

    def encode(self) -> str:
        document = {
            "queries": dict(sorted(self.owned.items())),
            "pending": dict(sorted(self.pending.items())),
        }
        return ownership_index.encode(document, INDEX_FORMAT)


def decode(value: str) -> StoredIndex | None:
    """The index a parameter value holds; None for anything this version did not write."""
    document = ownership_index.decode(value, INDEX_FORMAT)
    if document is None:
        return None
    owned, pending = _string_map(document.get("queries")), _string_map(document.get("pending"))
    if owned is None or pending is None:
        return None
    return StoredIndex(owned, pending)


def _string_map(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return None
    return {str(k): v for k, v in value.items()}


def read_index(ctx: AwsContext, stack: str) -> StoredIndex | None:
    value = ownership_index.read_value(ctx, stack, RECORD)
    return decode(value) if value is not None else None


def recorded_ids(ctx: AwsContext, stack: str) -> frozenset[str]:
    """The definition ids the stack's index holds (none without one)."""
    stored = read_index(ctx, stack)
    return frozenset(stored.owned) if stored is not None else frozenset()
