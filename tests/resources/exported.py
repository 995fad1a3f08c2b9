"""Export round trips for the kinds' attribute tests: what `export` writes for one resource, as the
canonical state a plan compares."""

from __future__ import annotations

from typing import Any

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.export import Export, Selection, export
from pacs_reconcile.resources.registry import KINDS


def exported_state(aws: AwsContext, kind: str, prefix: str) -> tuple[dict[str, Any], Export]:
    """The one exported entry of `kind` named with `prefix`, validated and canonical, and the export."""
    result = export(aws, aws.stack, Selection(kinds=(kind,), prefix=prefix))
    (entry,) = result.entries[kind]
    reconciler = KINDS[kind]
    state = reconciler.canonical(reconciler.meta.model.model_validate(entry.config).model_dump(mode="json"))
    return state, result
