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

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..aws import AwsContext
from .common import gone_is_fine

INDEX_FORMAT = 1
STANDARD_VALUE_LIMIT = 4096
"""PutParameter: a Standard parameter value holds at most 4 KB. A longer index is not written
(Advanced parameters are charged): the stack's dashboards are then found by full scans."""


def parameter_name(stack: str) -> str:
    return f"/pacs-reconcile/{stack}/dashboards"


def encode(names: Iterable[str]) -> str:
    return json.dumps({"format": INDEX_FORMAT, "dashboards": sorted(set(names))}, separators=(",", ":"))


def decode(value: str) -> frozenset[str] | None:
    """The names an index value holds; None for anything this version did not write."""
    try:
        document = json.loads(value)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT:
        return None
    names = document.get("dashboards")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return frozenset(names)


def fits(names: Iterable[str]) -> bool:
    return len(encode(names).encode()) <= STANDARD_VALUE_LIMIT


def read_index(ctx: AwsContext, stack: str) -> frozenset[str] | None:
    """The stored index (None when there is none, or it cannot be read as one)."""
    # GetParameters, not GetParameter: a missing name is listed in InvalidParameters rather than
    # raised as ParameterNotFound (an error response on every plan of a stack without an index).
    found = ctx.client("ssm").get_parameters(Names=[parameter_name(stack)]).get("Parameters") or []
    return decode(str(found[0]["Value"])) if found else None


def write_index(ctx: AwsContext, stack: str, names: Iterable[str]) -> bool:
    """Store `names` as the index; False (and no index left behind) when they do not fit."""
    client = ctx.client("ssm")
    if not fits(names):
        with gone_is_fine("ParameterNotFound"):
            client.delete_parameter(Name=parameter_name(stack))
        return False
    client.put_parameter(
        Name=parameter_name(stack),
        Value=encode(names),
        Type="String",
        Overwrite=True,
        Description="Dashboards this pacs-reconcile stack created (a hint, checked against their tags)",
    )
    return True


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
