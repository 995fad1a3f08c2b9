"""Saved plans (`plan --out`): the plan document plus what is needed to check it still holds."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine.changes import Change
from .engine.plan import Plan
from .errors import PlanRefused, UsageError


@dataclass(frozen=True)
class SavedInputs:
    spec_path: str
    environment: str | None
    variables: dict[str, str]
    """--var values given to plan (sensitive ones are left out and must be given again)."""


def change_signature(change: Change) -> tuple[str, str, tuple[str, ...]]:
    return change.address, str(change.action), tuple(sorted(d.path for d in change.differences))


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(path: Path, document: dict[str, Any], plan: Plan, inputs: SavedInputs) -> None:
    saved = dict(document)
    saved["saved_plan"] = {
        "spec_path": inputs.spec_path,
        "environment": inputs.environment,
        "variables": inputs.variables,
        "options": {
            "targets": plan.options.targets,
            "excludes": plan.options.excludes,
            "allow_destroy": plan.options.allow_destroy,
            "destroy": plan.options.destroy,
        },
        "signature": [list(change_signature(c)[:2]) + [list(change_signature(c)[2])] for c in plan.changes],
    }
    write_atomically(path, json.dumps(saved, indent=2, sort_keys=True) + "\n")


def load(path: Path) -> tuple[dict[str, Any], SavedInputs]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        saved = document["saved_plan"]
        inputs = SavedInputs(saved["spec_path"], saved.get("environment"), dict(saved.get("variables") or {}))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a plan saved by `pacs-reconcile plan --out` ({exc})") from None
    return document, inputs


def check_still_valid(document: dict[str, Any], fresh: Plan) -> None:
    """Refuse when the spec or AWS moved since the plan was saved, listing what differs."""
    problems: list[str] = []
    if document.get("spec_fingerprint") != fresh.spec_fingerprint:
        problems.append("the spec changed since the plan was made")
    if document.get("stack") != fresh.stack or document.get("region") != fresh.region:
        problems.append(f"the plan is for stack {document.get('stack')} in {document.get('region')}")
    saved = {(a, act): tuple(paths) for a, act, paths in document["saved_plan"]["signature"]}
    now = {(a, act): paths for a, act, paths in map(change_signature, fresh.changes)}
    for key in sorted(set(saved) | set(now)):
        if saved.get(key) != now.get(key):
            address, action = key
            if key not in now:
                problems.append(f"{address}: planned {action}, no longer needed as planned")
            elif key not in saved:
                problems.append(f"{address}: now needs {action}, which the saved plan does not contain")
            else:
                problems.append(f"{address}: {action} now touches {', '.join(now[key]) or 'nothing'}")
    if problems:
        raise PlanRefused("the saved plan is stale; run plan again:\n  " + "\n  ".join(problems))
