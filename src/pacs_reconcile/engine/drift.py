"""Drift: a read-only plan, each change classified by its cause.

No state file is needed to tell drift from pending work: every taggable resource carries the
fingerprint of the spec it was last applied from (children through their parent). When a
resource differs from the spec and its fingerprint equals the current spec's, AWS moved:
drifted. When the fingerprint differs, the spec moved and was not applied yet: pending.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .. import FINGERPRINT_TAG
from ..resources.registry import KINDS
from .changes import Action, Change
from .plan import Plan

DRIFT_FORMAT_VERSION = 2
"""format_version of the drift report (schema/output/drift.v2.schema.json): 2 marks unknown and
sensitive values beside them in `differences` (1 wrote them into the values as text)."""


class Finding(StrEnum):
    DRIFTED = "drifted"
    """AWS was changed outside the tool since the last apply."""
    PENDING = "pending"
    """The spec was changed but not applied yet."""
    MISSING = "missing"
    """A declared resource does not exist."""
    UNMANAGED = "unmanaged"
    """Owned by this stack but no longer declared."""
    CONFLICT = "conflict"
    """A same-name resource exists that this stack does not own."""
    INFO = "info"
    """Worth knowing, not drift (e.g. a subscription awaiting confirmation)."""


ALERTING = (Finding.DRIFTED, Finding.MISSING, Finding.UNMANAGED, Finding.CONFLICT)
"""What counts as drift for exit codes, the metric and notifications (pending work is reported
and exits 2 too, but is not an out-of-band change)."""


@dataclass
class DriftItem:
    address: str
    kind: str
    finding: Finding
    change: Change = field(repr=False)
    detail: str = ""

    @property
    def paths(self) -> list[str]:
        return [d.path for d in self.change.differences]


@dataclass
class DriftReport:
    stack: str
    region: str
    items: list[DriftItem]
    resources: int

    def of(self, finding: Finding) -> list[DriftItem]:
        return [i for i in self.items if i.finding is finding]

    @property
    def findings(self) -> list[DriftItem]:
        """Everything but informational items."""
        return [i for i in self.items if i.finding is not Finding.INFO]

    @property
    def drifted_count(self) -> int:
        return sum(1 for i in self.items if i.finding in ALERTING)

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            if item.finding in ALERTING:
                out[item.kind] = out.get(item.kind, 0) + 1
        return out

    def digest(self) -> str:
        """Identifies the set of findings: a notification goes out only when this changes."""
        keys = sorted((i.address, str(i.finding), sorted(i.paths)) for i in self.findings)
        return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:16]


def classify(plan: Plan) -> DriftReport:
    changes = plan.by_address()
    items: list[DriftItem] = []
    for change in plan.changes:
        item = _classify(change, changes)
        if item is not None:
            items.append(item)
    declared = sum(1 for c in plan.changes if c.node is not None)
    return DriftReport(plan.stack, plan.region, items, declared)


def _classify(change: Change, changes: dict[str, Change]) -> DriftItem | None:
    def item(finding: Finding, detail: str = "") -> DriftItem:
        return DriftItem(change.address, change.kind, finding, change, detail)

    if change.action is Action.NOOP and change.bookkeeping:
        return item(Finding.PENDING, "the spec was rewritten without changing AWS; apply records it")
    if change.action is Action.NOOP:
        return (
            item(Finding.INFO, "; ".join(change.notes))
            if change.notes and change.live and change.live.pending
            else None
        )
    if change.action is Action.REFUSED and not change.differences:
        return item(Finding.CONFLICT, change.reason)  # not this stack's (or its parent is not)
    if change.action is Action.RELEASE:
        return item(Finding.PENDING, "the spec releases it; apply takes this stack's tags off")
    if change.action in (Action.DELETE, Action.RETAINED):
        return item(Finding.UNMANAGED, "owned by this stack but no longer declared")
    if change.action is Action.CREATE:
        parent = changes.get(change.parent) if change.parent else None
        if parent is not None and parent.live is not None and not _spec_applied(parent):
            return item(Finding.PENDING, "declared since the last apply of its parent")
        return item(Finding.MISSING, "declared but absent in AWS")
    # update or replace (or a replacement refused: it holds data): who moved, AWS or the spec?
    refused = f"; apply refuses it: {change.reason}" if change.action is Action.REFUSED else ""
    owner = change if KINDS[change.kind].meta.taggable else changes.get(change.parent or "")
    if owner is None or _spec_applied(owner):
        return item(Finding.DRIFTED, "changed in AWS since the last apply" + refused)
    return item(Finding.PENDING, "the spec changed since the last apply" + refused)


def _spec_applied(change: Change) -> bool:
    """Was the live resource last applied from the spec as it is now?"""
    if change.live is None or change.live.tags is None or change.node is None or change.node.tags is None:
        return False
    return change.live.tags.get(FINGERPRINT_TAG) == change.node.tags.get(FINGERPRINT_TAG)


def report_json(report: DriftReport, masked_differences: Any) -> dict[str, Any]:
    summary = {str(f): len(report.of(f)) for f in Finding}
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "stack": report.stack,
        "region": report.region,
        "resources_checked": report.resources,
        "drift_detected": bool(report.findings),
        "drifted_resources": report.drifted_count,
        "digest": report.digest(),
        "summary": summary,
        "findings": [
            {
                "address": i.address,
                "kind": i.kind,
                "class": str(i.finding),
                "action": str(i.change.action),
                "detail": i.detail,
                "differences": masked_differences(i.change),
            }
            for i in report.items
        ],
    }
