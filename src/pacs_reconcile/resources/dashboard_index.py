"""The dashboards' ownership index: one SSM parameter per stack naming the dashboards it owns.

The Resource Groups Tagging API does not list dashboards (their tags are only behind CloudWatch's
own ListTagsForResource, one ARN a call: cloud-custodian/cloud-custodian#11029, PR #11090), so
finding a stack's dashboards by tag costs a tag read per dashboard in the account. The index names
them instead: /pacs-reconcile/<stack>/dashboards in the stack's region, beside the apply lock
(`engine/lock.py`), so each environment's stack has its own. It is a hint, never proof: every
entry is checked against the dashboard's own tags on read, nothing is deleted on the index alone,
and an index that is missing or disagrees with the tags is replaced by a full tag scan.

Apply keeps it a superset of what the stack owns: the names it is about to create are written
before the first PutDashboard (a crash cannot leave an unrecorded dashboard), deletions are
removed once done. The parameter carries no owner tag on purpose: the ssm_parameters kind prunes
what carries it, and it is no resource of the spec (plans and destroy never list it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..aws import AwsContext
from . import ownership_index
from .ownership_index import STANDARD_VALUE_LIMIT as STANDARD_VALUE_LIMIT

INDEX_FORMAT = 1
RECORD = "dashboards"
# A longer index than STANDARD_VALUE_LIMIT is not written: the stack's dashboards are then found by
# full scans.


def parameter_name(stack: str) -> str:
    return ownership_index.parameter_name(stack, RECORD)


def encode(names: Iterable[str]) -> str:
    return ownership_index.encode({"dashboards": sorted(set(names))}, INDEX_FORMAT)


def decode(value: str) -> frozenset[str] | None:
    """The names an index value holds; None for anything this version did not write."""
    document = ownership_index.decode(value, INDEX_FORMAT)
    if document is None:
        return None
    names = document.get("dashboards")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def fits(names: Iterable[str]) -> bool:
    return ownership_index.fits(encode(names))


def read_index(ctx: AwsContext, stack: str) -> frozenset[str] | None:
    """The stored index (None when there is none, or it cannot be read as one)."""
    value = ownership_index.read_value(ctx, stack, RECORD)
    return decode(value) if value is not None else None


def write_index(ctx: AwsContext, stack: str, names: Iterable[str]) -> bool:
    """Store `names` as the index; False (and no index left behind) when they do not fit."""
    description = "Dashboards this pacs-reconcile stack created (a hint, checked against their tags)"
    return ownership_index.write_value(ctx, stack, RECORD, encode(names), description)


@dataclass
class IndexBook:
    """What one run knows of a stack's dashboards: the stored index, and the owned set verified
    by tags (then kept current by the apply's creates and deletions)."""

    stored: frozenset[str] | None
    owned: set[str]
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stale(self) -> str:
        """Why the stored index must be rewritten ("" when it is right, or cannot be stored)."""
        if self.stored == frozenset(self.owned) or not fits(self.owned):
            return ""
        if self.stored is None and not self.owned:
            return ""  # nothing to record: a stack without dashboards keeps no index
        if self.stored is None:
            return "the dashboards ownership index is missing; apply writes it (a full tag scan found them)"
        return "the dashboards ownership index is out of date; apply rewrites it"

    def add(self, name: str) -> None:
        with self.lock:
            self.owned.add(name)

    def discard(self, name: str) -> None:
        with self.lock:
            self.owned.discard(name)

    def store(self, ctx: AwsContext, stack: str, names: Iterable[str]) -> None:
        wanted = frozenset(names)
        if wanted != self.stored:
            self.stored = wanted if write_index(ctx, stack, wanted) else None


def books(ctx: AwsContext, stack: str) -> dict[str, IndexBook]:
    """Where a run keeps the book of `stack` (set by each read, kept by the apply's writes; planning
    again under the lock forgets it with every other read)."""
    found: dict[str, IndexBook] = ctx.memo(f"dashboards-index:{stack}", dict)
    return found
