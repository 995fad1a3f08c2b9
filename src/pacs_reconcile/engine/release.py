"""Releasing resources: the stack stops managing them and leaves them in AWS.

Without a state file, ownership is the owner tag. Releasing a resource takes off every tag the tool
wrote (owner, spec fingerprint, protection mark); after that no plan, drift or destroy of the stack
sees it again (Terraform's `removed { lifecycle { destroy = false } }` or `terraform state rm`).
Only undeclared resources can be released: a declared one would be refused on the next plan as
"exists but is not owned".
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import UsageError
from ..resources.registry import KINDS
from ..spec.model import Spec
from .addresses import AddressPattern, identity_address, names_of
from .changes import Action
from .plan import Plan


def check_not_declared(spec: Spec, patterns: list[AddressPattern]) -> None:
    """Refuse, before any AWS call, to release what the spec still declares."""
    problems = []
    for node in spec.resources.values():
        names = [node.address]
        if node.parent is None:
            names.append(identity_address(node.kind, KINDS[node.kind].key(node.config, None)))
        for pattern in patterns:
            if pattern.matches(names) and "*" not in pattern.text:
                problems.append(
                    f"{pattern.text}: still declared, as {node.address} at {node.location}; remove the "
                    "entry from the spec first (or list it under `removed:` with destroy: false)"
                )
    if problems:
        raise UsageError("cannot release what the spec declares:\n  " + "\n  ".join(problems))


def releases_only(plan: Plan, patterns: list[AddressPattern]) -> Plan:
    """The plan cut down to its releases; every address must name something to release."""
    releases = [c for c in plan.changes if c.action is Action.RELEASE]
    unmatched = [p.text for p in patterns if not any(p.matches(names_of(c)) for c in releases)]
    if unmatched:
        raise UsageError(
            "nothing of this stack to release at: "
            + ", ".join(unmatched)
            + " (release takes resources this stack owns that the spec no longer declares, "
            'named as plan shows them, e.g. log_groups["/aws/ecs/legacy"])'
        )
    return replace(plan, changes=releases)
