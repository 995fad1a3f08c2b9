"""Checks run once every resource is loaded: references resolve, no cycles, no duplicate identities."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import Diagnostic
from ..hints import suggestion
from ..resources.base import Reconciler
from ..resources.registry import KINDS, LOOKUPS
from .expressions import Reference, has_references, parse_reference, references_in, render
from .model import LocatedReference, LookupNode, ResourceNode
from .wording import describe

_INSTANCE = re.compile(r"\[\s*['\"]?([^\]'\"]*)['\"]?\s*\]")


def normalize_address(text: str) -> str:
    """`x['a']`, `x[a]` and `x["a"]` all name the instance `x["a"]`."""
    return _INSTANCE.sub(lambda m: f'["{m.group(1)}"]', text.strip())


def split_reference(text: str) -> tuple[str, str]:
    """`sns_topics.alerts.arn` -> (`sns_topics.alerts`, `arn`)."""
    address, _, attribute = normalize_address(text).rpartition(".")
    return address, attribute


def check_references(
    resources: Mapping[str, ResourceNode],
    lookups: Mapping[str, LookupNode],
    disabled: set[str],
    expanded: set[str],
    invalid: Collection[str] = (),
    invalid_lookups: Collection[str] = (),
) -> list[Diagnostic]:
    """`invalid`, `invalid_lookups`: addresses and lookup names declared with a problem already
    reported; references to them (or to their children) are not reported again as missing."""
    problems: list[Diagnostic] = []

    def reported(address: str) -> bool:
        # `invalid` is nearly always empty: no generator is made for each reference then.
        return bool(invalid) and any(
            address == bad or address.startswith((bad + ".", bad + "[")) for bad in invalid
        )

    def problem(ref: LocatedReference, message: Missing | str) -> None:
        loc = ref.location
        text, hint = (message, "") if isinstance(message, str) else message
        problems.append(Diagnostic(loc.file, loc.line, loc.column, ref.field, text, help=hint))

    for node in resources.values():
        for ref in node.references:
            if ref.text.startswith("@"):  # depends_on entry: an address, no attribute
                target = normalize_address(ref.text[1:])
                if reported(target):
                    continue
                missing = _missing(target, resources, disabled, expanded)
                if missing:
                    problem(ref, missing)
                else:
                    node.depends_on.add(target)
                continue
            address, attribute = split_reference(ref.text)
            if address.startswith("lookups."):
                name = address.removeprefix("lookups.")
                if name in invalid_lookups:
                    continue
                message, hint = _check_lookup(name, attribute, lookups)
                if not message and ref.embedded and attribute in _list_attributes(lookups[name]):
                    message = embedded_list(attribute, name)
                if message:
                    problem(ref, (f"${{{ref.text}}}: {message}", hint))
                continue
            if reported(address):
                continue
            missing = _missing(address, resources, disabled, expanded)
            if missing:
                problem(ref, (f"${{{ref.text}}}: {missing[0]}", missing[1]))
                continue
            target_node = resources[address]
            attributes = KINDS[target_node.kind].meta.attributes
            if attribute not in attributes:
                problem(
                    ref,
                    f"${{{ref.text}}}: {target_node.kind} have no attribute {attribute!r} "
                    f"(available: {', '.join(attributes)})",
                )
                continue
            if address == node.address:
                problem(ref, f"${{{ref.text}}}: a resource cannot refer to itself")
                continue
            node.depends_on.add(address)
            refused = KINDS[node.kind].reference_problem(
                node.config,
                ref.field.removeprefix(node.address + "."),
                target_node.kind,
                attribute,
                target_node.config,
            )
            if refused:
                problem(ref, refused)
    problems.extend(_cycles(resources))
    problems.extend(_duplicate_identities(resources))
    return problems


def embedded_list(attribute: str, lookup: str) -> str:
    """Why a list-valued lookup attribute cannot stand inside text (`x-${lookups.L.ids}`)."""
    return (
        f"a list (the {attribute} of lookup {lookup!r}) cannot be embedded in text: "
        "write it as the whole value of a list field"
    )


def embedded_lists(node: ResourceNode, value_of: Callable[[Reference], Any]) -> list[Diagnostic]:
    """The references to lists that `node` embeds in text, found by their resolved values: the
    check of plan for an attribute whose metadata does not say it is a list."""
    found: list[Diagnostic] = []
    for ref in node.references:
        if not ref.embedded or not ref.text.startswith("lookups."):
            continue
        if isinstance(value_of(parse_reference(ref.text)), list | dict):
            address, attribute = split_reference(ref.text)
            message = embedded_list(attribute, address.removeprefix("lookups."))
            loc = ref.location
            found.append(Diagnostic(loc.file, loc.line, loc.column, ref.field, f"${{{ref.text}}}: {message}"))
    return found


def list_item_problems(node: ResourceNode, value_of: Callable[[Reference], Any]) -> list[Diagnostic]:
    """The items a whole-value lookup reference to a list gives a list field (`subnets:
    ${lookups.L.ids}`, validated as unresolved while loading) that the field refuses, checked by
    the kind's model once the lookups are read."""
    lists = [
        ref
        for ref in node.references
        if ref.text.startswith("lookups.")
        and not ref.embedded
        and isinstance(value_of(parse_reference(ref.text)), list)
    ]
    if not lists:
        return []

    def lookup_value(ref: Reference) -> Any:
        if ref.root != "lookups":
            raise KeyError(ref.text)  # a resource's attribute: left for apply, as text
        return value_of(ref)

    model = KINDS[node.kind].meta.model
    try:
        model.model_validate(render(node.config, lookup_value))
    except ValidationError as exc:
        errors = exc.errors()
    else:
        return []
    found: list[Diagnostic] = []
    for error in errors:
        field = node.address + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        ref = next(
            (r for r in lists if field == r.field or field.startswith((r.field + "[", r.field + "."))), None
        )
        if ref is not None:
            loc = ref.location
            wording = describe(error, model).message
            found.append(
                Diagnostic(
                    loc.file,
                    loc.line,
                    loc.column,
                    field,
                    f"${{{ref.text}}} gives {error['input']!r}: {wording}",
                )
            )
    return found


def resolve_key_fields(resources: Mapping[str, ResourceNode]) -> list[Diagnostic]:
    """Resolve the references in key fields (KindMeta.key_fields) to what the referenced resource's
    spec sets itself: a key must be known before plan. A reference that resolves to nothing the
    spec sets (an ARN only AWS knows, a missing resource) is a problem here, or already one of
    check_references. A lookup stays in place: plan resolves the lookups a key names before it
    reads anything."""
    problems: list[Diagnostic] = []
    for node in resources.values():
        for field_name in KINDS[node.kind].meta.key_fields:
            value = node.config.get(field_name)
            if not has_references(value):
                continue
            resolved = render(value, lambda ref: _spec_set(ref, resources))
            if any(_undeclared(ref, resources) for ref in references_in(resolved)):
                continue  # check_references names the missing resource
            if any(not _names_a_lookup(ref) for ref in references_in(resolved)):
                loc = node.location
                problems.append(
                    Diagnostic(
                        loc.file,
                        loc.line,
                        loc.column,
                        f"{node.address}.{field_name}",
                        f"{value}: part of the resource's identity, so it must be known before plan: a "
                        "literal, or a reference to an attribute the referenced resource's spec sets "
                        "itself (e.g. ${event_buses.NAME.name})",
                    )
                )
            else:
                node.config[field_name] = resolved
    return problems


def derivable(ref: Reference) -> bool:
    """Whether `ref` names an attribute plan derives from a top-level resource's own spec and the
    account, Region and partition (KindMeta.derived_attributes, e.g. an SQS queue's ARN)."""
    address, attribute = split_reference(ref.text)
    kind = KINDS.get(ref.root)
    return (
        kind is not None
        and kind.meta.parent is None
        and address.count(".") == 1
        and attribute in kind.meta.derived_attributes
    )


def _names_a_lookup(ref: Reference) -> bool:
    return split_reference(ref.text)[0].startswith("lookups.")


def _undeclared(ref: Reference, resources: Mapping[str, ResourceNode]) -> bool:
    return not _names_a_lookup(ref) and normalize_address(split_reference(ref.text)[0]) not in resources


def _spec_set(ref: Reference, resources: Mapping[str, ResourceNode]) -> object:
    """The value of `ref` the referenced resource's own spec sets; KeyError leaves it in place."""
    address, attribute = split_reference(ref.text)
    target = resources.get(normalize_address(address))
    if target is None:
        raise KeyError(ref.text)
    known = KINDS[target.kind].spec_attributes(target.config).get(attribute)
    if known is None or has_references(known):
        raise KeyError(ref.text)
    return known


Missing = tuple[str, str]
"""A problem's message and its help line."""


def _missing(
    address: str, resources: Mapping[str, ResourceNode], disabled: set[str], expanded: set[str]
) -> Missing | None:
    if address in resources:
        return None
    if address in disabled:
        return f"refers to {address}, which its `when:` condition leaves out", ""
    if address in expanded:
        return f'{address} has for_each: refer to one instance, e.g. {address}["KEY"]', ""
    kind = address.split(".", 1)[0]
    if kind not in KINDS and kind != "lookups":
        return f"unknown kind {kind!r}", suggestion(kind, [*KINDS, "lookups"])
    return f"no resource {address}", suggestion(address, resources)


def _check_lookup(name: str, attribute: str, lookups: Mapping[str, LookupNode]) -> Missing:
    lookup = lookups.get(name)
    if lookup is None:
        return f"no lookup {name!r}", suggestion(name, lookups)
    attributes = LOOKUPS[lookup.kind].meta.attributes
    if attribute not in attributes:
        available = ", ".join(attributes)
        return f"lookup {name!r} ({lookup.kind}) has no attribute {attribute!r} (available: {available})", ""
    return "", ""


def _list_attributes(lookup: LookupNode) -> frozenset[str]:
    return LOOKUPS[lookup.kind].meta.list_attributes


def _cycles(resources: Mapping[str, ResourceNode]) -> list[Diagnostic]:
    """Report each dependency cycle once, at the first resource on it."""
    walk = _CycleWalk(resources)
    for address in resources:
        if address not in walk.state:
            walk.visit(address)
    return walk.found


class _CycleWalk:
    """A depth-first walk of the dependencies (an object rather than a closure calling itself: such a
    closure is a reference cycle, which kept everything the walk reached alive until the cyclic
    collector's next full pass)."""

    def __init__(self, resources: Mapping[str, ResourceNode]) -> None:
        self.resources = resources
        self.state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        self.stack: list[str] = []
        self.found: list[Diagnostic] = []
        self.reported: set[frozenset[str]] = set()

    def visit(self, address: str) -> None:
        resources, state, stack = self.resources, self.state, self.stack
        state[address] = 1
        stack.append(address)
        for dep in sorted(resources[address].depends_on):
            if dep not in resources:
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                members = frozenset(cycle)
                if members not in self.reported:
                    self.reported.add(members)
                    first = resources[cycle[0]]
                    loc = first.location
                    self.found.append(
                        Diagnostic(
                            loc.file,
                            loc.line,
                            loc.column,
                            first.address,
                            "dependency cycle: " + " -> ".join(cycle),
                        )
                    )
            elif dep not in state:
                self.visit(dep)
        stack.pop()
        state[address] = 2


def _duplicate_identities(resources: Mapping[str, ResourceNode]) -> list[Diagnostic]:
    """Two entries of a kind with one AWS identity, or with one of the further names a kind's
    resources hold in the same namespace (Reconciler.further_names: a KMS key's aliases), or two
    entries of kinds whose identities share one namespace (KindMeta.identity_namespace: a metric
    and a composite alarm of one name)."""
    seen: dict[tuple[str, str | None, str], ResourceNode] = {}
    found: list[Diagnostic] = []
    for node in resources.values():
        reconciler = KINDS[node.kind]
        identity = reconciler.key(node.config, node.parent)
        shown = (
            ""
            if reconciler.meta.identity in reconciler.meta.sensitive_fields
            else f" {node.config.get(reconciler.meta.identity)!r}"
        )
        names = [(repr(identity), shown)]
        names += [
            (repr(reconciler.key({reconciler.meta.identity: n}, node.parent)), f" name {n!r} (an alias)")
            for n in reconciler.further_names(node.config)
        ]
        for name, said in names:
            marker = (reconciler.meta.identity_namespace or node.kind, node.parent, name)
            first = seen.setdefault(marker, node)
            if first is node:
                continue
            loc = node.location
            found.append(
                Diagnostic(
                    loc.file,
                    loc.line,
                    loc.column,
                    node.address,
                    f"{reconciler.meta.title}{said} is declared twice "
                    f"(also {first.address} at {first.location}"
                    f"{_shared_namespace(reconciler, KINDS[first.kind])})",
                )
            )
    return found


def _shared_namespace(reconciler: Reconciler, first: Reconciler) -> str:
    """Why an entry of another kind counts as a namesake: the two kinds share one namespace."""
    if first is reconciler:
        return ""
    namespace = reconciler.meta.identity_namespace
    return f", a {first.meta.title}: the two kinds share one namespace of {namespace}"
