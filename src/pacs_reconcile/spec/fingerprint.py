"""Per-resource spec fingerprints, written as a tag at apply and compared by `drift`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from .. import FINGERPRINT_TAG
from .model import ResourceNode

FINGERPRINT_LENGTH = 16


def add_fingerprints(resources: Mapping[str, ResourceNode], secrets: Iterable[str] = ()) -> None:
    """Tag every taggable resource with a digest of its spec and its children's.

    The digest covers the written spec (references unresolved, so it does not depend on live
    state); children are untaggable, so their spec is folded into their parent's digest. Secret
    values are left out: a tag readable by anyone who can list tags must not let a weak password be
    guessed offline (so a change to a secret alone is not told apart from drift).
    """
    masked = sorted((s for s in secrets if s), key=len, reverse=True)
    children: dict[str, list[ResourceNode]] = {}
    for node in resources.values():
        if node.parent:
            children.setdefault(node.parent, []).append(node)
    for node in resources.values():
        if node.tags is None:
            continue
        family = [node, *_descendants(node.address, children)]
        payload = [
            {"address": n.address, "config": n.config, "tags": n.tags, "lifecycle": n.lifecycle.model_dump()}
            for n in family
        ]
        text = json.dumps(payload, sort_keys=True, default=str)
        for secret in masked:
            text = text.replace(secret, "(sensitive)")
        node.tags[FINGERPRINT_TAG] = hashlib.sha256(text.encode()).hexdigest()[:FINGERPRINT_LENGTH]


def _descendants(address: str, children: Mapping[str, list[ResourceNode]]) -> list[ResourceNode]:
    out: list[ResourceNode] = []
    for child in children.get(address, []):
        out.append(child)
        out.extend(_descendants(child.address, children))
    return out
