"""Saved plans (`plan --out`): the plan document plus what is needed to check it still holds.

Besides the spec's fingerprint and each change's action and paths, a saved plan records, per
resource, a fingerprint of the live state the change was computed from (a digest per attribute
path, tags and a pending reason included; values of sensitive paths and secrets are masked before
hashing, so the file lets no secret be guessed offline) and a digest of each lookup's attributes.
`apply PLAN.json` reads AWS again with the same reads as plan and refuses, listing every resource
whose live state, action, paths or planned values moved, when anything did.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .engine.changes import Change
from .engine.plan import Plan
from .errors import PlanRefused, UsageError
from .redact import MASK, Redactor, is_sensitive_path
from .spec.model import Spec

SAVED_PLAN_FORMAT = 2
"""2: per-resource live fingerprints and lookup digests (1 had only actions and paths)."""
PENDING_PATH = "(pending)"
NOT_A_PLAN = "not a plan saved by `pacs-reconcile plan --out`"


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


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _leaves(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf of nested mappings; lists and scalars are leaves."""
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _ignored(path: str, ignored: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in ignored)


def live_fingerprint(change: Change, redactor: Redactor) -> dict[str, str] | None:
    """A digest per attribute path of the live state `change` was planned from (None: absent).

    Paths the spec ignores (lifecycle.ignore_changes) are left out: they may move freely.
    """
    from .resources.registry import KINDS

    live = change.live
    if live is None:
        return None
    ignored = list(change.node.lifecycle.ignore_changes) if change.node else []
    state = KINDS[change.kind].canonical(dict(live.state))
    fields = dict(_leaves(state, ""))
    fields.update({f"tags.{k}": v for k, v in (live.tags or {}).items()})
    if live.pending:
        fields[PENDING_PATH] = live.pending
    out: dict[str, str] = {}
    for field_path, value in fields.items():
        if _ignored(field_path, ignored):
            continue
        masked = MASK if is_sensitive_path(field_path, change.sensitive_paths) else redactor.data(value)
        out[field_path] = _digest(masked)
    return out


def save(
    path: Path, document: dict[str, Any], plan: Plan, inputs: SavedInputs, redactor: Redactor | None = None
) -> None:
    redactor = redactor or Redactor()
    saved = dict(document)
    saved["saved_plan"] = {
        "format": SAVED_PLAN_FORMAT,
        "live": {c.address: live_fingerprint(c, redactor) for c in plan.changes},
        "lookups": {name: _digest(redactor.data(attrs)) for name, attrs in sorted(plan.lookups.items())},
        "spec_path": inputs.spec_path,
        "environment": inputs.environment,
        "variables": inputs.variables,
        "options": {
            "targets": plan.options.targets,
            "excludes": plan.options.excludes,
            "allow_destroy": plan.options.allow_destroy,
            "destroy": plan.options.destroy,
            "include_stateful": plan.options.include_stateful,
            "release": plan.options.release,
            "adopt_all": plan.options.adopt_all,
        },
        "signature": [
            [address, action, list(paths)] for address, action, paths in map(change_signature, plan.changes)
        ],
    }
    text = json.dumps(saved, indent=2, sort_keys=True, allow_nan=False) + "\n"
    if str(path) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(path, text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # json.loads would accept NaN and Infinity


def load(path: Path) -> tuple[dict[str, Any], SavedInputs]:
    """The saved plan at `path` (`-`: read from stdin) and what it was made from."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
        document = json.loads(text, parse_constant=_no_constant)
        saved = document["saved_plan"]
        inputs = SavedInputs(saved["spec_path"], saved.get("environment"), dict(saved.get("variables") or {}))
        _check_shape(document, saved)
    except RecursionError:  # '[' * 100000: nesting no saved plan has
        raise UsageError(
            f"{path}: not a plan saved by `pacs-reconcile plan --out` (nested too deeply)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a plan saved by `pacs-reconcile plan --out` ({exc})") from None
    return document, inputs


def spec_location(saved: SavedInputs, given: Path | None) -> Path:
    """The spec to apply a saved plan with: the one named with -f, else the one it was made from
    (recorded as an absolute path, so `apply PLAN` works from any folder)."""
    if given is not None:
        return given
    made_from = Path(saved.spec_path)
    if not made_from.is_file():
        raise UsageError(
            f"this plan was made from {made_from}, which is not there now; name the spec with -f FILE"
        )
    return made_from


def check_same_spec(document: dict[str, Any], saved: SavedInputs, spec: Spec, path: Path) -> None:
    """Refuse, before any AWS call, a plan made from another spec than `spec` (read from `path`).

    The same spec in another checkout (a CI job applying the plan of an earlier job) is accepted:
    what counts is the spec's fingerprint, not where the file lies."""
    if document.get("spec_fingerprint") == spec.fingerprint():
        return
    made_from, here = Path(saved.spec_path).absolute(), path.absolute()
    if made_from.resolve() != here.resolve():
        raise PlanRefused(
            f"this plan was made from {made_from}, not {here} (their specs differ); "
            f"apply it with -f {made_from}, or run plan again"
        )
    raise PlanRefused(f"the spec changed since the plan was made ({here}); run plan again")


def _check_shape(document: dict[str, Any], saved: Any) -> None:
    """The parts `check_still_valid` walks have the types `save` writes (a tampered file is a
    usage error, not a crash)."""
    if not isinstance(saved.get("live"), dict) or not isinstance(saved.get("lookups", {}), dict):
        raise ValueError("saved_plan.live and saved_plan.lookups must be objects")
    signature = saved.get("signature")
    if not isinstance(signature, list) or not all(
        isinstance(s, list) and len(s) == 3 and isinstance(s[2], list) for s in signature
    ):
        raise ValueError("saved_plan.signature must be a list of [address, action, paths]")
    changes = document.get("changes", [])
    if not isinstance(changes, list) or not all(
        isinstance(c, dict)
        and "address" in c
        and isinstance(c.get("differences", []), list)
        and all(isinstance(d, dict) and "path" in d for d in c.get("differences", []))
        for c in changes
    ):
        raise ValueError("changes must be a list of objects with an address and differences")


def check_still_valid(document: dict[str, Any], fresh: Plan, redactor: Redactor | None = None) -> None:
    """Refuse when the spec or AWS moved since the plan was saved, listing every resource that did."""
    from .render import plan_json

    redactor = redactor or Redactor()
    saved_plan = document["saved_plan"]
    if saved_plan.get("format") != SAVED_PLAN_FORMAT:
        raise PlanRefused("the saved plan was made by another version of pacs-reconcile; run plan again")
    problems: list[str] = []
    if document.get("spec_fingerprint") != fresh.spec_fingerprint:
        problems.append("the spec changed since the plan was made")
    if document.get("stack") != fresh.stack or document.get("region") != fresh.region:
        problems.append(f"the plan is for stack {document.get('stack')} in {document.get('region')}")
    lookups = {name: _digest(redactor.data(attrs)) for name, attrs in fresh.lookups.items()}
    for name in sorted(set(lookups) | set(saved_plan.get("lookups", {}))):
        if lookups.get(name) != saved_plan.get("lookups", {}).get(name):
            problems.append(f"lookups.{name}: the existing resource it finds changed since the plan")
    problems += _resource_problems(document, fresh, redactor, plan_json(fresh, redactor))
    if problems:
        raise PlanRefused("the saved plan is stale; run plan again:\n  " + "\n  ".join(problems))


def _resource_problems(
    document: dict[str, Any], fresh: Plan, redactor: Redactor, fresh_document: dict[str, Any]
) -> list[str]:
    saved_live: dict[str, dict[str, str] | None] = document["saved_plan"]["live"]
    saved = {(a, act): tuple(paths) for a, act, paths in document["saved_plan"]["signature"]}
    now = {(a, act): paths for a, act, paths in map(change_signature, fresh.changes)}
    saved_values = {c["address"]: _planned_values(c) for c in document.get("changes", [])}
    now_values = {c["address"]: _planned_values(c) for c in fresh_document["changes"]}
    now_live = {c.address: live_fingerprint(c, redactor) for c in fresh.changes}
    problems: list[str] = []
    for address in sorted(set(saved_live) | set(now_live)):
        parts = []
        moved = _live_moved(
            saved_live.get(address), now_live.get(address), address in saved_live, address in now_live
        )
        if moved:
            parts.append(moved)
        before = {k: v for k, v in saved.items() if k[0] == address}
        after = {k: v for k, v in now.items() if k[0] == address}
        if before != after:
            parts.append(_action_moved(before, after))
        elif saved_values.get(address) != now_values.get(address):
            parts.append("the values it would set changed (a referenced resource or lookup moved)")
        if parts:
            problems.append(f"{address}: " + "; ".join(parts))
    return problems


def _planned_values(change: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """What the change would write (the old values are the live state, fingerprinted apart)."""
    return [(d["path"], d.get("new"), d.get("new_unknown", False)) for d in change.get("differences", [])]


def _live_moved(
    before: dict[str, str] | None, after: dict[str, str] | None, planned: bool, present: bool
) -> str:
    if not planned:
        return "appeared in AWS since the plan" if after is not None else ""
    if not present:
        return "was deleted in AWS since the plan" if before is not None else "is no longer part of the plan"
    if before is None and after is not None:
        return "was created in AWS since the plan"
    if before is not None and after is None:
        return "was deleted in AWS since the plan"
    if before is None or after is None:
        return ""
    paths = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    return f"changed in AWS since the plan at {', '.join(paths)}" if paths else ""


def _action_moved(
    before: Mapping[tuple[str, str], tuple[str, ...]], after: Mapping[tuple[str, str], tuple[str, ...]]
) -> str:
    return f"planned {_actions_text(before)}, now {_actions_text(after)}"


def _actions_text(signature: Mapping[tuple[str, str], tuple[str, ...]]) -> str:
    texts = [f"{act} ({', '.join(paths)})" if paths else act for (_, act), paths in signature.items()]
    return "; ".join(texts) or "nothing"
