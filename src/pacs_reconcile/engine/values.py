"""Resolving `${...}` references against lookups and resources' attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..diff import UNKNOWN
from ..spec.expressions import Reference, render
from ..spec.model import ResourceNode
from ..spec.references import split_reference


class Values:
    """Attributes known so far: lookups' and resources' (from live reads or from apply)."""

    def __init__(self, lookups: Mapping[str, Mapping[str, Any]]) -> None:
        self.lookups = dict(lookups)
        self.resources: dict[str, Mapping[str, Any]] = {}

    def set(self, address: str, attrs: Mapping[str, Any]) -> None:
        self.resources[address] = attrs

    def resolve(self, ref: Reference) -> Any:
        address, attribute = split_reference(ref.text)
        if address.startswith("lookups."):
            return self.lookups[address.removeprefix("lookups.")][attribute]
        attrs = self.resources.get(address)
        if attrs is None:
            return UNKNOWN
        return attrs.get(attribute, UNKNOWN)

    def desired(self, node: ResourceNode) -> tuple[dict[str, Any], dict[str, str] | None]:
        """The node's config and tags with every reference replaced by what is known now."""
        config = render(node.config, self.resolve, unescape=True)
        tags = render(node.tags, self.resolve, unescape=True) if node.tags is not None else None
        return config, tags
