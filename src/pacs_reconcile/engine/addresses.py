"""Addresses people write on the command line (`--allow-destroy`, `release`): exact addresses,
for_each instances in any quoting, resources by their AWS identity, and `*` wildcards.

A declared resource answers to its spec address (`log_groups.pacs_backend`) and to its identity
address (`log_groups["/aws/ecs/pacs-backend"]`), the one plan shows once the entry is gone, so
either works before and after an entry is removed from the spec.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError
from ..hints import did_you_mean
from ..resources.registry import KINDS, top_level_kinds
from ..spec.references import normalize_address
from .changes import Change

_HEAD = re.compile(r"^[^.\[]*")


@dataclass(frozen=True)
class AddressPattern:
    text: str
    """As the user wrote it (for messages)."""
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str, option: str) -> AddressPattern:
        """Check the kind offline (no AWS call for a typo) and compile the wildcards."""
        normalized = normalize_address(text)
        head = _HEAD.match(normalized)
        kind = head.group(0) if head else ""
        if not normalized:
            raise UsageError(f"{option}: an address is required, e.g. log_groups.pacs_backend")
        if "*" not in kind and kind not in KINDS:
            raise UsageError(f"{option} {text}: no kind {kind!r}" + did_you_mean(kind, top_level_kinds()))
        pattern = re.escape(normalized).replace(r"\*", ".*")
        if normalized.endswith(".*"):  # KIND.* also names the KIND["identity"] of undeclared ones
            pattern = re.escape(normalized[:-2]) + r"(\.|\[).*"
        return cls(text, re.compile(pattern))

    def matches(self, names: Iterable[str]) -> bool:
        return any(self.regex.fullmatch(name) for name in names)


def parse_all(texts: Iterable[str], option: str) -> list[AddressPattern]:
    return [AddressPattern.parse(text, option) for text in texts]


def identity_address(kind: str, key: object) -> str:
    """`KIND["identity"]`: how plan names a resource that is not (or no longer) declared."""
    return f'{kind}["{KINDS[kind].label(key)}"]'


def names_of(change: Change) -> list[str]:
    """Every address a change answers to: its own, and for a declared top-level resource its
    identity address too."""
    names = [change.address]
    if change.node is not None and change.parent is None:
        names.append(identity_address(change.kind, change.key))
    return names


def check_all_match(patterns: Iterable[AddressPattern], changes: Iterable[Change], option: str) -> None:
    """An address that names nothing is a mistake (a typo would otherwise protect nothing)."""
    names = [name for change in changes for name in names_of(change)]
    unmatched = [p for p in patterns if not p.matches(names)]
    if unmatched:
        lines = [
            f"{option} {p.text}: matches no resource of this stack" + did_you_mean(p.text, names)
            for p in unmatched
        ]
        raise UsageError("\n".join(lines))
