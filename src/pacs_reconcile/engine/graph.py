"""Dependency order of the declared resources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import TopologicalSorter

from ..spec.model import ResourceNode


def topological(resources: Mapping[str, ResourceNode]) -> list[str]:
    """Addresses with every dependency before its dependents (declaration order among equals)."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for address, node in resources.items():
        sorter.add(address, *sorted(d for d in node.depends_on if d in resources))
    order = list(sorter.static_order())
    position = {a: i for i, a in enumerate(resources)}
    # static_order is a valid order; re-sort by depth then declaration for stable, readable plans
    depth: dict[str, int] = {}
    for address in order:
        deps = [depth[d] for d in resources[address].depends_on if d in depth]
        depth[address] = 1 + max(deps, default=-1)
    return sorted(order, key=lambda a: (depth[a], position[a]))


def with_dependencies(resources: Mapping[str, ResourceNode], targets: Iterable[str]) -> set[str]:
    """The targets, everything they depend on, and their children (what `--target` selects)."""
    selected: set[str] = set()
    pending = list(targets)
    while pending:
        address = pending.pop()
        if address in selected or address not in resources:
            continue
        selected.add(address)
        pending.extend(resources[address].depends_on)
        pending.extend(a for a, n in resources.items() if n.parent == address)
    return selected
