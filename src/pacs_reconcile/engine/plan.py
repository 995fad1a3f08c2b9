"""Planning: read live state in batches, resolve references, diff, and decide an action per resource.

A plan only reads. It is a list of Changes in dependency order; `apply` executes it.
"""

from __future__ import annotations

import concurrent.futures as futures
import contextlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .. import FINGERPRINT_TAG, OWNER_TAG, TAG_PREFIX
from ..aws import AwsContext
from ..diff import UNKNOWN, Delta, Difference, diff_states, tag_differences
from ..errors import AwsError, LookupFailed, SpecError, UsageError
from ..hints import did_you_mean
from ..resources.base import Key, Live, ReadScope, Reconciler
from ..resources.common import TAGGING_PAGE_SIZE, owned_resources, sweep_apart
from ..resources.registry import KINDS, LOOKUPS, child_kinds, top_level_kinds
from ..spec.expressions import Reference, references_in, render
from ..spec.model import ResourceNode, Spec
from ..spec.references import (
    derivable,
    embedded_lists,
    list_item_problems,
    normalize_address,
    split_reference,
)
from .addresses import AddressPattern, check_all_match, identity_address, names_of, parse_all
from .changes import Action, Change
from .graph import topological, with_dependencies
from .values import Values

PROTECTED_TAG = "pacs-reconcile:prevent-destroy"
"""Written ("true") on taggable resources whose entry sets lifecycle.prevent_destroy, so the
protection survives the entry's removal from the spec: no state file remembers it otherwise."""


def with_protection(
    node: ResourceNode, tags: dict[str, str] | None, live_tags: Mapping[str, str] | None
) -> dict[str, str] | None:
    """The desired tags plus the protection mark ("false" once prevent_destroy is dropped: the
    tool never removes its own tags)."""
    if tags is None:
        return None
    if node.lifecycle.prevent_destroy:
        return {**tags, PROTECTED_TAG: "true"}
    if live_tags and live_tags.get(PROTECTED_TAG) == "true":
        return {**tags, PROTECTED_TAG: "false"}
    return tags


def is_protected(live: Live | None) -> bool:
    return live is not None and live.tags is not None and live.tags.get(PROTECTED_TAG) == "true"


def kept_because(change: Change) -> str:
    """Why a resource is retained: "protected" (prevent_destroy, declared or remembered by its tag)
    or "stateful" (it holds data)."""
    declared = change.node is not None and change.node.lifecycle.prevent_destroy
    return "protected" if declared or is_protected(change.live) else "stateful"


def read_failed(what: str, exc: BaseException) -> AwsError | None:
    """An AWS error response while reading, as an error naming the action and what was being read
    (None for anything else, which propagates as it is). A failed read is never "absent"."""
    if not isinstance(exc, ClientError):
        return None
    message = aws_error_text(exc, "`pacs-reconcile permissions --read-only` prints the policy plan needs")
    return AwsError(exc.operation_name, what, message)


def aws_error_text(error: ClientError, where_the_policy_is: str) -> str:
    """ "Code: Message" of an AWS error response; a denial adds `where_the_policy_is` (which
    `permissions` command prints the policy the run needs)."""
    info = error.response.get("Error", {})
    code = str(info.get("Code", "Error"))
    text = f"{code}: {info.get('Message', '')}".rstrip(": ")
    if "AccessDenied" in code or code in ("UnauthorizedOperation", "AuthorizationError"):
        text += f" ({where_the_policy_is})"
    return text


FINGERPRINT_PATH = f"tags.{FINGERPRINT_TAG}"


@dataclass
class PlanOptions:
    targets: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    allow_destroy: list[str] = field(default_factory=list)
    """Addresses (or KIND["identity"] of undeclared resources) the user explicitly lets be deleted."""
    destroy: bool = False
    """Plan the removal of everything this stack owns (the `destroy` command)."""
    include_stateful: bool = False
    """Let every stateful or protected resource be deleted (`destroy --include-stateful`)."""
    release: list[str] = field(default_factory=list)
    """Addresses of undeclared resources to release: the tool's tags come off, nothing is deleted."""
    adopt_all: bool = False
    """Migration mode (`--adopt-all`): every declared resource that exists without an owner tag is
    taken over, as if its entry said lifecycle.adopt (never one another stack owns)."""
    full_scan: bool = False
    """Find owned resources by their tags alone (`--full-scan`), not by the records kinds keep of
    what they created (the dashboards' ownership index), which apply then rewrites if they differ."""


@dataclass
class Plan:
    stack: str
    region: str
    spec_fingerprint: str
    changes: list[Change]
    options: PlanOptions
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    values: Values | None = field(default=None, repr=False)
    """Attributes known at plan time; apply fills in the rest as it creates."""
    base_dir: Path | None = None
    """The spec's folder (relative paths in desired state resolve against it)."""
    housekeeping: dict[str, str] = field(default_factory=dict)
    """Kind -> why its own records (e.g. the dashboards' ownership index) must be rewritten: no
    resource changes, apply rewrites them in passing."""

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action is action)

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.action is Action.REFUSED]

    @property
    def bookkeeping(self) -> list[Change]:
        return [c for c in self.changes if c.bookkeeping]

    @property
    def has_changes(self) -> bool:
        return any(c.action.mutates for c in self.changes)

    def by_address(self) -> dict[str, Change]:
        return {c.address: c for c in self.changes}


def make_plan(spec: Spec, ctx: AwsContext, options: PlanOptions | None = None) -> Plan:
    options = options or PlanOptions()
    fingerprint = spec.fingerprint()  # of the spec as written (saved plans are checked against it)
    selected = _selection(spec, options)
    spec = with_derived_identities(spec, ctx)
    if identities_use_lookups(spec):
        # Keys come from identities: the lookups one names are resolved before anything is read.
        lookups = resolve_lookups(spec, ctx)
        spec = with_lookups_resolved(spec, lookups)
        live = read_live(spec, ctx, options.adopt_all, options.full_scan)
    else:
        lookups, live = read_lookups_and_live(spec, ctx, options.adopt_all, options.full_scan)
    planner = _Planner(spec, ctx, options, selected, lookups, live)
    changes = planner.changes()
    repairs = ((kind, reconciler.records_to_repair(ctx, spec.stack)) for kind, reconciler in KINDS.items())
    housekeeping = {kind: reason for kind, reason in repairs if reason}
    return Plan(
        spec.stack,
        ctx.region,
        fingerprint,
        changes,
        options,
        lookups,
        planner.values,
        spec.root,
        housekeeping,
    )


def _selection(spec: Spec, options: PlanOptions) -> set[str]:
    known = set(spec.resources)
    unknown = [
        f"{option} {address}: no such resource in the spec" + did_you_mean(normalize_address(address), known)
        for option, addresses in (("--target", options.targets), ("--exclude", options.excludes))
        for address in addresses
        if normalize_address(address) not in known
    ]
    if unknown:
        raise UsageError("\n".join(unknown))
    selected = (
        with_dependencies(spec.resources, map(normalize_address, options.targets))
        if options.targets
        else known
    )
    for address in options.excludes:
        excluded = normalize_address(address)
        selected -= {a for a in selected if a == excluded or a.startswith(excluded + ".")}
    return selected


def identities_use_lookups(spec: Spec) -> bool:
    """Whether a resource's key names a lookup: its identity (an SNS subscription to an SQS queue
    found by name) or another field its key holds (an EventBridge rule's bus found by name)."""
    return any(
        references_in(node.config.get(KINDS[node.kind].meta.identity))
        or "${lookups." in repr(KINDS[node.kind].key(node.config, None))
        for node in spec.resources.values()
    )


def with_derived_identities(spec: Spec, ctx: AwsContext) -> Spec:
    """`spec` with each identity that names a derived attribute of another resource (an SNS
    subscription's endpoint `${sqs_queues.X.arn}`) given that attribute's value, derived from the
    resource's spec, the account and the Region: a key must be known before anything is read. The
    reference still orders the two (node.references)."""

    def resolve(ref: Reference) -> Any:
        address, attribute = split_reference(ref.text)
        target = spec.resources.get(normalize_address(address))
        if not derivable(ref) or target is None:
            raise KeyError(ref.text)  # a lookup's: resolved with the lookups
        value = KINDS[target.kind].derived_attributes(target.config, ctx).get(attribute)
        if value is None:
            raise KeyError(ref.text)
        return value

    derived: dict[str, ResourceNode] = {}
    for address, node in spec.resources.items():
        identity = KINDS[node.kind].meta.identity
        value = node.config.get(identity)
        if any(derivable(ref) for ref in references_in(value)):
            derived[address] = replace(node, config={**node.config, identity: render(value, resolve)})
    return replace(spec, resources={**spec.resources, **derived}) if derived else spec


def with_lookups_resolved(spec: Spec, lookups: Mapping[str, Mapping[str, Any]]) -> Spec:
    """`spec` with every lookup reference replaced by its value (a lookup's value is fixed for the
    run); references to resources stay for apply to resolve."""
    known = Values(lookups)

    def resolve(ref: Reference) -> Any:
        if ref.root != "lookups":
            raise KeyError(ref.text)  # left in place
        return known.resolve(ref)

    resources = {
        address: replace(node, config=render(node.config, resolve))
        for address, node in spec.resources.items()
    }
    return replace(spec, resources=resources)


def read_lookups_and_live(
    spec: Spec, ctx: AwsContext, adopt_all: bool = False, full_scan: bool = False
) -> tuple[dict[str, dict[str, Any]], LiveByKind]:
    """Lookups resolved while live state is read: no read depends on a lookup (only the diff
    does), and on a small stack the lookups were the longest phase. A lookup's failure is still
    the one reported when both fail, as when lookups ran first."""
    sweep_apart(ctx, spec.stack, types_swept_apart(spec))
    with futures.ThreadPoolExecutor(max_workers=3, thread_name_prefix="lookups") as side:
        side.submit(sweep_ahead, spec, ctx)
        if spec.resources:
            side.submit(account_ahead, ctx)
        lookups = side.submit(resolve_lookups, spec, ctx)
        try:
            live = read_live(spec, ctx, adopt_all, full_scan)
        except Exception:
            lookups.result()
            raise
        return lookups.result(), live


def types_swept_apart(spec: Spec) -> set[str]:
    """The resource types (KindMeta.swept_type) the spec declares more of than a sweep page holds:
    swept apart from the rest, their pages and the rest's are read side by side."""
    declared = Counter(KINDS[node.kind].meta.swept_type for node in spec.resources.values())
    return {t for t, count in declared.items() if t is not None and count > TAGGING_PAGE_SIZE}


def sweep_ahead(spec: Spec, ctx: AwsContext) -> None:
    """Start the owner-tag sweep before anything else is read: the longest chain of calls of a
    large stack (a page of 100 resources after another), which most kinds' reads wait for, so its
    client is the first made and its first page goes out while the other clients are being made.
    Its failure is left to the reads that need it (they sweep again and report it)."""
    with contextlib.suppress(Exception):
        owned_resources(ctx, spec.stack)


def account_ahead(ctx: AwsContext) -> None:
    """Ask STS for the account id while the sweep runs. The ARNs that most kinds read or tag by
    (topics, log groups, dashboards, functions, parameters...) are made with it, and it used to be
    asked by the first of them to get a worker: in a plan of the repository's stack
    GetCallerIdentity started ~30 ms after the sweep's last page and the topics' reads, then their
    subscriptions', waited for it (first call to last, 310 ms on average over 4 plans; 290 ms
    asking it here).
    Its failure is left to the reads that need it (they ask again and report it)."""
    with contextlib.suppress(Exception):
        ctx.account_id  # noqa: B018 - asked for its side effect: the context keeps it


def resolve_lookups(spec: Spec, ctx: AwsContext) -> dict[str, dict[str, Any]]:
    """Every lookup's attributes, read concurrently; all failures reported together."""
    if not spec.lookups:
        return {}
    results: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    with futures.ThreadPoolExecutor(max_workers=min(8, len(spec.lookups))) as pool:
        jobs = {pool.submit(LOOKUPS[n.kind].resolve, ctx, n.config): n for n in spec.lookups.values()}
        for job in futures.as_completed(jobs):
            node = jobs[job]
            try:
                results[node.name] = job.result()
            except LookupFailed as exc:
                failures.append(f"lookups.{node.name} ({node.location}): {exc}")
            except Exception as exc:
                wrapped = read_failed(f"lookups.{node.name}", exc)
                if wrapped is None:
                    raise
                raise wrapped from exc
    if failures:
        raise LookupFailed(
            "existing infrastructure the spec needs was not found:\n  " + "\n  ".join(sorted(failures))
        )
    # Lists the lookups give, checked before any value is rendered: one embedded in text, of an
    # attribute whose metadata does not say it is a list (the loader refuses those it does), and
    # the items of one a list field takes whole, which the loader could not see.
    known = Values(results)
    problems = [
        found
        for node in spec.resources.values()
        for found in (*embedded_lists(node, known.resolve), *list_item_problems(node, known.resolve))
    ]
    if problems:
        raise SpecError(problems)
    return results


LiveByKind = dict[str, dict[Key, Live]]


def read_live(spec: Spec, ctx: AwsContext, adopt_all: bool = False, full_scan: bool = False) -> LiveByKind:
    """Read every kind: all top-level kinds at once, and each kind's children as soon as that kind
    is read, under the parents found (not once the slowest top-level kind is read: at 40 ms a call,
    an EFS file system's mount targets waited ~0.3 s for the Cloud Map namespaces). What a child
    kind's read needs and its parents do not tell (Reconciler.read_ahead) is read from the start.
    Kinds that share an identity namespace are each told the others' keys (ReadScope.namesakes)."""
    by_kind: dict[str, list[ResourceNode]] = {}
    for node in spec.resources.values():
        by_kind.setdefault(node.kind, []).append(node)

    def keys_of(kind: str) -> list[Key]:
        return [_key(KINDS[kind], n, spec) for n in by_kind.get(kind, [])]

    def read_kind(kind: str, scope: ReadScope) -> dict[Key, Live]:
        reconciler = KINDS[kind]
        namespace = reconciler.meta.identity_namespace
        if namespace is not None:
            kin = [k for k, r in KINDS.items() if k != kind and r.meta.identity_namespace == namespace]
            scope = replace(scope, namesakes=[key for other in kin for key in keys_of(other)])
        try:
            return reconciler.read(ctx, keys_of(kind), scope)
        except Exception as exc:
            wrapped = read_failed(f"{kind} (reading what exists)", exc)
            if wrapped is None:
                raise
            raise wrapped from exc

    def read_ahead(kind: str) -> None:
        """What a child kind can read before its parents are. A failure here is its read's to
        report (the shared listing keeps its error for the read), or that read's to redo."""
        with contextlib.suppress(Exception):
            KINDS[kind].read_ahead(ctx, keys_of(kind), spec.stack)

    top = top_level_kinds()
    children = {parent: child_kinds(parent) for parent in top}
    reads: dict[str, futures.Future[dict[Key, Live]]] = {}
    top_scope = ReadScope(spec.stack, full_scan=full_scan, completes=True)
    child_kinds_all = [kind for parent in top for kind in children[parent]]
    workers = len(top) + 2 * len(child_kinds_all)  # every kind's read, and what children read ahead
    with futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="read") as pool:
        parent_of = {pool.submit(read_kind, kind, top_scope): kind for kind in top}
        for kind in child_kinds_all:
            pool.submit(read_ahead, kind)
        reads.update({kind: future for future, kind in parent_of.items()})
        for done in futures.as_completed(parent_of):
            if any(f.done() and f.exception() is not None for f in parent_of):
                break  # no child read starts once a read has failed (its error is raised below)
            parent_kind = parent_of[done]
            parents = {
                k: v for k, v in done.result().items() if _owned_or_adopted(v, spec, parent_kind, adopt_all)
            }
            for child in children[parent_kind]:
                reads[child] = pool.submit(read_kind, child, ReadScope(spec.stack, parents, full_scan))
    # the first failure in the kinds' order, as when every top-level kind was read before any child
    live: LiveByKind = {kind: reads[kind].result() for kind in top}
    live.update({kind: reads[kind].result() for parent in top for kind in children[parent]})
    return live


def _key(reconciler: Reconciler, node: ResourceNode, spec: Spec) -> Key:
    parent_key = (
        _key(KINDS[spec.resources[node.parent].kind], spec.resources[node.parent], spec)
        if node.parent
        else None
    )
    return reconciler.key(node.config, parent_key)


def _owned_or_adopted(live: Live, spec: Spec, kind: str, adopt_all: bool = False) -> bool:
    if live.tags is None or live.tags.get(OWNER_TAG) == spec.stack:
        return True
    unowned = OWNER_TAG not in live.tags
    reconciler = KINDS[kind]
    return any(
        n.kind == kind
        and (n.lifecycle.adopt or (adopt_all and unowned))
        and reconciler.key(n.config, None) == live.key
        for n in spec.resources.values()
    )


def managed_delta(
    reconciler: Reconciler,
    desired: Mapping[str, Any],
    tags: Mapping[str, str] | None,
    live: Live,
    ignored: Iterable[str],
) -> Delta:
    """What differs between a desired and a live resource: the fields the spec manages and the tags
    (None for an untaggable kind), less the paths `lifecycle.ignore_changes` names. Plan decides
    with it; apply computes it again once every reference is known."""
    delta = diff_states(desired, reconciler.canonical(dict(live.state)))
    if tags is not None:
        delta.differences += tag_differences(live.tags, tags)
    return delta.without(ignored)


def _change_of(node: ResourceNode, key: Key, *, adopt: bool = False) -> Change:
    """A no-op change of a declared resource, to be decided."""
    return Change(
        node.address,
        node.kind,
        Action.NOOP,
        key,
        node=node,
        parent=node.parent,
        depends_on=sorted(node.depends_on),
        sensitive_paths=set(node.sensitive_paths),
        adopt=adopt,
    )


def _foreign(live: Live, stack: str) -> bool:
    """Taggable, and without this stack's owner tag."""
    return live.tags is not None and live.tags.get(OWNER_TAG) != stack


def _creation_differences(desired: Mapping[str, Any], tags: Mapping[str, str] | None) -> list[Difference]:
    differences = [Difference(p, None, v) for p, v in _flatten(desired)]
    if tags is not None:
        differences += tag_differences({}, tags)
    return differences


class _Planner:
    def __init__(
        self,
        spec: Spec,
        ctx: AwsContext,
        options: PlanOptions,
        selected: set[str],
        lookups: dict[str, dict[str, Any]],
        live: LiveByKind,
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.options = options
        self.selected = selected
        self.live = live
        self.values = Values(lookups)
        self.allow_patterns = parse_all(options.allow_destroy, "--allow-destroy")
        self.allowed: list[AddressPattern] = [
            *self.allow_patterns,
            *(AddressPattern.parse(r.address, "removed") for r in spec.removed if r.destroy),
        ]
        self.releasing: list[AddressPattern] = [
            *parse_all(options.release, "release"),
            *(AddressPattern.parse(r.address, "removed") for r in spec.removed if not r.destroy),
        ]
        self.planned: dict[str, Change] = {}

    def changes(self) -> list[Change]:
        out: list[Change] = []
        claimed: dict[str, set[Key]] = {k: set() for k in KINDS}
        for address in topological(self.spec.resources):
            node = self.spec.resources[address]
            reconciler = KINDS[node.kind]
            key = _key(reconciler, node, self.spec)
            claimed[node.kind].add(key)
            if address not in self.selected:
                self._remember_unplanned(node, key)
                continue
            change = (
                self._declared(node, reconciler, key)
                if not self.options.destroy
                else self._destroy_declared(node, reconciler, key)
            )
            self.planned[address] = change
            out.append(change)
        if not self.options.targets:
            out.extend(self._undeclared(claimed))
        check_all_match(self.allow_patterns, out, "--allow-destroy")
        return out

    def _adopts(self, node: ResourceNode) -> bool:
        return node.lifecycle.adopt or self.options.adopt_all

    def _allowed(self, change: Change) -> bool:
        """Named for deletion: by --allow-destroy (a pattern), `removed: destroy: true`, or
        `destroy --include-stateful`."""
        if self.options.include_stateful and self.options.destroy:
            return True
        names = names_of(change)
        return any(p.matches(names) for p in self.allowed)

    def _remember_unplanned(self, node: ResourceNode, key: Key) -> None:
        found = self.live.get(node.kind, {}).get(key)
        if found is not None:
            self.values.set(node.address, found.attrs)

    # --------------------------------------------------------------------------- declared
    def _declared(self, node: ResourceNode, reconciler: Reconciler, key: Key) -> Change:
        """The change for a declared resource: refused, created, left alone, updated or replaced."""
        change = _change_of(node, key, adopt=self._adopts(node))
        parent_change = self.planned.get(node.parent) if node.parent else None
        replaced_parent = parent_change is not None and parent_change.action in (
            Action.CREATE,
            Action.REPLACE,
        )
        live = None if replaced_parent else self.live.get(node.kind, {}).get(key)
        config, tags = self.values.desired(node)
        spec_attributes = reconciler.spec_attributes(config)  # taken before canonical() sees config
        desired = reconciler.canonical(config)
        live = change.live = self._completed(node, reconciler, live, desired)
        tags = with_protection(node, tags, live.tags if live else None)
        if parent_change is not None and parent_change.action is Action.REFUSED:
            change.action, change.reason = Action.REFUSED, f"its parent {node.parent} is refused"
        elif refusal := self._refusal(node, reconciler, live, desired):
            change.action, change.reason = Action.REFUSED, refusal
        elif live is None:
            change.action = Action.CREATE
            change.differences = _creation_differences(desired, tags)
        else:
            if _foreign(live, self.spec.stack):
                change.notes.append("adopted: will be tagged as owned by this stack")
            if live.pending:
                change.notes.append(live.pending)
            else:
                self._compared(change, node, reconciler, live, desired, tags)
        return self._known(change, live, node, reconciler, spec_attributes)

    def _completed(
        self, node: ResourceNode, reconciler: Reconciler, live: Live | None, desired: dict[str, Any] | None
    ) -> Live | None:
        """The live state in full (the read was told the plan completes it: ReadScope.completes)."""
        if live is None:
            return None
        try:
            return reconciler.complete(self.ctx, live, desired)
        except Exception as exc:
            wrapped = read_failed(f"{node.kind} (reading what exists)", exc)
            if wrapped is None:
                raise
            raise wrapped from exc

    def _refusal(
        self, node: ResourceNode, reconciler: Reconciler, live: Live | None, desired: Mapping[str, Any]
    ) -> str:
        """Why the declared resource may not be managed ("" when it may): its ownership, or what
        its kind refuses (Reconciler.refusal)."""
        if live is not None and (refusal := self._ownership_refusal(node, reconciler, live)):
            return refusal
        return reconciler.refusal(self.ctx, desired, live, self.spec.stack)

    def _ownership_refusal(self, node: ResourceNode, reconciler: Reconciler, live: Live) -> str:
        """Why an existing resource may not be managed ("" when it may): it is unowned and not
        adopted, or it belongs to another stack."""
        if not _foreign(live, self.spec.stack):
            return ""
        owner = (live.tags or {}).get(OWNER_TAG)
        what = f"{reconciler.meta.title} {reconciler.label(live.key)!r}"
        if not self._adopts(node):
            return (
                f"{what} exists but is not owned by this stack"
                + (f" (it belongs to stack {owner!r})" if owner else "")
                + "; set lifecycle.adopt: true to take it over"
            )
        if owner:
            return f"{what} belongs to stack {owner!r}; adopt only takes unowned resources"
        return ""

    def _compared(
        self,
        change: Change,
        node: ResourceNode,
        reconciler: Reconciler,
        live: Live,
        desired: dict[str, Any],
        tags: dict[str, str] | None,
    ) -> None:
        """Differences of the managed fields and tags; the action they call for."""
        delta = managed_delta(reconciler, desired, tags, live, node.lifecycle.ignore_changes)
        change.differences = delta.differences
        if not delta:
            return
        if all(d.path == FINGERPRINT_PATH for d in delta.differences):
            change.bookkeeping = True
            return
        forced = reconciler.replacing_paths(delta)
        if not forced:
            change.action = Action.UPDATE
            return
        protected = self._replacement_protection(change, node, reconciler, live)
        if protected:
            change.action = Action.REFUSED
            change.reason = (
                f"changing {', '.join(forced)} needs a replacement, and {protected} "
                f"(name it with --allow-destroy {node.address} to allow it)"
            )
        else:
            change.action = Action.REPLACE
            change.reason = f"{', '.join(forced)} cannot change in place"
            change.notes.extend(_deletion_notes(reconciler, live))

    def _replacement_protection(
        self, change: Change, node: ResourceNode, reconciler: Reconciler, live: Live
    ) -> str:
        """What forbids replacing the resource ("" when nothing does, or the command names it)."""
        if self._allowed(change):
            return ""
        if node.lifecycle.prevent_destroy:
            return "lifecycle.prevent_destroy is set"
        return "it holds data" if reconciler.holds_data(live) else ""

    def _known(
        self,
        change: Change,
        live: Live | None,
        node: ResourceNode,
        reconciler: Reconciler,
        spec_attributes: Mapping[str, Any],
    ) -> Change:
        """Record what dependents may reference once this change is applied: an attribute the spec
        sets (`spec_attributes`, from the entry as resolved for this change) is the spec's (new)
        value, so a dependent follows an edit in the same apply; one that only AWS knows is the
        live value, or "(known after apply)" for what is created or replaced. A refused change
        keeps what exists."""
        if live is not None and change.action is Action.REFUSED:
            self.values.set(node.address, live.attrs)
            return change
        kept = live is not None and change.action in (Action.NOOP, Action.UPDATE)
        attrs: dict[str, Any] = (
            dict(live.attrs)
            if kept and live is not None
            else dict.fromkeys(reconciler.meta.attributes, UNKNOWN)
        )
        if kept and change.action is Action.UPDATE:
            attrs.update(dict.fromkeys(reconciler.renewed_by_update(Delta(change.differences)), UNKNOWN))
        attrs.update(spec_attributes)
        self.values.set(node.address, attrs)
        return change

    def _destroy_declared(self, node: ResourceNode, reconciler: Reconciler, key: Key) -> Change:
        live = self._completed(node, reconciler, self.live.get(node.kind, {}).get(key), None)
        change = _change_of(node, key)
        change.live = live
        if live is None:
            return change
        if live.tags is not None and live.tags.get(OWNER_TAG) != self.spec.stack:
            change.notes.append("not owned by this stack: left alone")
            return change
        return self._deletion(change, reconciler, node.lifecycle.prevent_destroy or is_protected(live))

    # --------------------------------------------------------------------------- undeclared
    def _undeclared(self, claimed: Mapping[str, set[Key]]) -> list[Change]:
        out: list[Change] = []
        owned_parents = self._parents_being_kept()
        for kind, reconciler in KINDS.items():
            for key, live in self.live.get(kind, {}).items():
                if key in claimed[kind]:
                    continue
                parent_address = (
                    owned_parents.get((reconciler.meta.parent, key[0]))
                    if reconciler.meta.parent and isinstance(key, tuple)
                    else None
                )
                if reconciler.meta.parent and parent_address is None:
                    continue  # children of unowned or unknown parents are never touched
                if live.tags is not None and live.tags.get(OWNER_TAG) != self.spec.stack:
                    continue
                address = (
                    f'{parent_address}.{kind}["{reconciler.label(key)}"]'
                    if parent_address
                    else identity_address(kind, key)
                )
                change = Change(
                    address,
                    kind,
                    Action.DELETE,
                    key,
                    live=live,
                    parent=parent_address,
                    sensitive_paths=set(reconciler.meta.sensitive_fields),
                )
                if live.pending:
                    change.action = Action.NOOP
                    change.notes.append(f"not declared, but {live.pending}: it cannot be removed until then")
                elif parent_address is None and any(p.matches([address]) for p in self.releasing):
                    self._release(change)
                else:
                    self._deletion(change, reconciler, prevent=is_protected(live), undeclared=True)
                out.append(change)
        return out

    def _parents_being_kept(self) -> dict[tuple[str | None, Any], str]:
        """(parent kind, parent key) -> address, for declared parents that stay and are owned."""
        out: dict[tuple[str | None, Any], str] = {}
        for change in self.planned.values():
            if change.node and change.action in (Action.NOOP, Action.UPDATE) and change.live is not None:
                out[(change.kind, change.key)] = change.address
        return out

    def _release(self, change: Change) -> None:
        """Take the tool's own tags off (owner, fingerprint, protection...); nothing else changes."""
        assert change.live is not None and change.live.tags is not None
        change.action = Action.RELEASE
        change.reason = "no longer managed, not deleted"
        change.differences = [
            Difference(f"tags.{k}", v, None)
            for k, v in sorted(change.live.tags.items())
            if k.startswith(TAG_PREFIX)
        ]

    def _deletion(
        self, change: Change, reconciler: Reconciler, prevent: bool, undeclared: bool = False
    ) -> Change:
        holds_data = reconciler.holds_data(change.live)
        if (holds_data or prevent) and not self._allowed(change):
            reasons = []
            if prevent:
                reasons.append(
                    "lifecycle.prevent_destroy was set when it was last applied"
                    if undeclared
                    else "lifecycle.prevent_destroy is set"
                )
            if holds_data:
                reasons.append("it holds data")
            why = " and ".join(reasons)
            change.action = Action.RETAINED
            change.reason = (
                "no longer declared; " if undeclared else ""
            ) + f"kept because {why} (name it with --allow-destroy '{change.address}' to delete it)"
        else:
            change.action = Action.DELETE
            change.reason = "no longer declared" if undeclared else "destroy"
            change.notes.extend(_deletion_notes(reconciler, change.live))
        change.differences = []
        return change


def _deletion_notes(reconciler: Reconciler, live: Live | None) -> list[str]:
    note = reconciler.deletion_note(live)
    return [note] if note else []


def _flatten(state: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in state.items():
        if value is None:
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            yield from _flatten(value, path)
        else:
            yield path, value
