"""Deltas between desired and live state, and the normalizers both sides share."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """A value that exists only once a dependency has been created ("known after apply")."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Unknown:
        return self

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

_SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types of the plain values spec and live states are mostly made of: known at a glance to hold
no UNKNOWN and to be no Mapping, without asking the abstract base classes (a plan of a large stack
asks it of some 20,000 values)."""


def _is_mapping(value: Any) -> bool:
    return isinstance(value, (dict, Mapping))  # a dict first: no abstract base class asked


def contains_unknown(value: Any) -> bool:
    if type(value) in _SCALARS:
        return False
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


@dataclass(frozen=True)
class Difference:
    """One attribute path whose live value (old) differs from the desired one (new)."""

    path: str
    old: Any
    new: Any


@dataclass
class Delta:
    differences: list[Difference] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.differences)

    def paths(self) -> list[str]:
        return [d.path for d in self.differences]

    def different_at(self, path: str) -> bool:
        """True when `path` or anything below it differs."""
        return any(_under(d.path, path) for d in self.differences)

    def without(self, paths: Iterable[str]) -> Delta:
        ignored = list(paths)
        return Delta([d for d in self.differences if not any(_under(d.path, p) for p in ignored)])


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")


def join_path(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def diff_states(desired: Mapping[str, Any], live: Mapping[str, Any] | None, prefix: str = "") -> Delta:
    """Compare spec-shaped dicts. A desired value of None means "not managed" and is skipped.

    Mappings are compared key by key so the plan names the deepest path that changed; lists and
    scalars are compared whole (normalizers put set-like lists in a canonical order first).
    """
    live = live or {}
    out: list[Difference] = []
    for key, want in desired.items():
        if want is None:
            continue
        path = join_path(prefix, str(key))
        have = live.get(key)
        if want is UNKNOWN:
            out.append(Difference(path, have, UNKNOWN))
        elif type(want) in _SCALARS:
            if have != want:
                out.append(Difference(path, have, want))
        elif _is_mapping(want) and _is_mapping(have) and not _is_opaque(want):
            out.extend(diff_states(want, have, path).differences)
        elif have != want or contains_unknown(want):
            out.append(Difference(path, have, want))
    if prefix:
        # Inside a managed mapping (dimensions, a dashboard body...) a key only AWS has is a change too.
        for key in live.keys() - desired.keys():
            if live[key] is not None:
                out.append(Difference(join_path(prefix, str(key)), live[key], None))
    return Delta(out)


def _is_opaque(value: Mapping[str, Any]) -> bool:
    # An empty desired mapping must still be compared whole (it asks for "no entries").
    return not value


@dataclass(frozen=True)
class TagChanges:
    to_set: dict[str, str]
    to_unset: list[str]

    def __bool__(self) -> bool:
        return bool(self.to_set or self.to_unset)


def compare_tags(current: Mapping[str, str] | None, desired: Mapping[str, str]) -> TagChanges:
    """What to set and what to remove to turn `current` into `desired`.

    `aws:` tags are AWS's own; undeclared `pacs-reconcile:` tags are the tool's bookkeeping (e.g. the
    drift notification digest on a topic): neither is ever removed.
    """
    current = current or {}
    to_set = {k: v for k, v in desired.items() if current.get(k) != v}
    to_unset = sorted(
        k for k in current if k not in desired and not k.startswith(("aws:", "pacs-reconcile:"))
    )
    return TagChanges(to_set, to_unset)


def tag_changes_in(delta: Delta) -> TagChanges:
    """The tag differences of a delta (paths `tags.KEY`, as tag_differences writes them) as the
    changes that make them."""
    tagged = [(d.path.removeprefix("tags."), d.new) for d in delta.differences if d.path.startswith("tags.")]
    return TagChanges({k: v for k, v in tagged if v is not None}, [k for k, v in tagged if v is None])


def tag_differences(current: Mapping[str, str] | None, desired: Mapping[str, str]) -> list[Difference]:
    changes = compare_tags(current, desired)
    current = current or {}
    out = [Difference(f"tags.{k}", current.get(k), v) for k, v in sorted(changes.to_set.items())]
    out += [Difference(f"tags.{k}", current[k], None) for k in changes.to_unset]
    return out


def tags_to_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def tags_from_list(
    items: Iterable[Mapping[str, str]] | None, key: str = "Key", value: str = "Value"
) -> dict[str, str]:
    return {item[key]: item[value] for item in items or ()}


def canonical_json(value: Any) -> Any:
    """Parse a JSON string (or pass a structure through) so bodies compare by meaning, not text."""
    if isinstance(value, str | bytes):
        return json.loads(value)
    return value


def sorted_unique(values: Iterable[Any] | None) -> list[Any]:
    """Set-like lists (alarm actions, protocols...) in one canonical order."""
    return sorted(set(values or ()), key=str)
