"""Applying a plan: creates/updates/replacements in dependency order, then deletions.

Each resource ends either in its old or its new form; the summary says exactly what happened.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from graphlib import CycleError

from ..aws import AwsContext
from ..diff import TagChanges, contains_unknown, tag_changes_in
from ..errors import ReconcileError
from ..resources.base import Desired, Key, Live
from ..resources.registry import KINDS
from .changes import Action, Change
from .plan import Plan, aws_error_text, managed_delta, with_protection
from .scheduler import JobResult, Rank, Status, run_jobs, start_order
from .values import Values


@dataclass
class Outcome:
    address: str
    action: Action
    status: Status
    message: str = ""
    seconds: float = 0.0
    error: BaseException | None = field(default=None, repr=False)


@dataclass
class ApplyResult:
    outcomes: list[Outcome]
    interrupted: bool = False
    mutating_calls: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(o.status is Status.DONE for o in self.outcomes)

    def count(self, action: Action, status: Status = Status.DONE) -> int:
        return sum(1 for o in self.outcomes if o.action is action and o.status is status)


SUPERSEDED = " (replaced)"
"""Suffix of the address under which the old half of a create-before-destroy replacement is deleted."""

ProgressHook = Callable[[str, Change, Outcome | None], None]
"""Called with ("start", change, None) and ("finish", change, outcome)."""


def apply_plan(
    plan: Plan, values: Values, ctx: AwsContext, parallelism: int = 8, progress: ProgressHook | None = None
) -> ApplyResult:
    with _ctrl_c_stops_new_work() as stop:
        result = _apply(plan, values, ctx, parallelism, progress, stop)
    if stop.is_set():
        result.interrupted = True
    return result


class _Abandoned(Exception):
    """A change not begun because Ctrl-C was pressed before its turn came."""


@contextmanager
def _ctrl_c_stops_new_work() -> Iterator[threading.Event]:
    """While changes run, a first Ctrl-C (SIGINT) lets the calls in flight finish and starts no new
    change (a signal handler that only sets a flag: a KeyboardInterrupt raised at an arbitrary point
    of the main thread could lose track of work in flight); a second one interrupts at once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_sigint(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _apply(
    plan: Plan,
    values: Values,
    ctx: AwsContext,
    parallelism: int,
    progress: ProgressHook | None,
    stop: threading.Event,
) -> ApplyResult:
    executor = _Executor(plan, values, ctx, stop)
    by_address = plan.by_address()
    outcomes: list[Outcome] = []

    def on_start(address: str) -> None:
        if progress and not stop.is_set():
            progress("start", by_address[address], None)

    def on_finish(result: JobResult) -> None:
        change = by_address[result.name]
        if stop.is_set() and (isinstance(result.error, _Abandoned) or result.status is Status.SKIPPED):
            result = JobResult(result.name, Status.NOT_STARTED)
        outcome = _outcome(change, result)
        outcomes.append(outcome)
        if progress:
            progress("finish", change, outcome)

    # Phase 1: everything that creates or changes, dependencies first. No-ops run too (instantly)
    # so that dependents can wait on them uniformly.
    forward = {
        c.address: c
        for c in plan.changes
        if c.action in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.RELEASE) or c.bookkeeping
    }
    jobs = {a: executor.job(c) for a, c in forward.items()}
    deps = {a: set(c.depends_on) for a, c in forward.items()}
    _record_ahead(plan, forward.values(), ctx)
    rank = _start_order(deps)
    _expect_creates(forward.values(), rank, ctx)
    _, interrupted = run_jobs(jobs, deps, parallelism, on_start, on_finish, rank=rank)
    interrupted = interrupted or stop.is_set()

    # Phase 2: deletions, dependents (and children) before what they depend on; this includes the
    # old halves of create-before-destroy replacements, now that dependents use the new ones.
    failed = {o.address for o in outcomes if o.status is not Status.DONE}
    deletes = {c.address: c for c in plan.changes if c.action is Action.DELETE}
    deletes.update({old.address: old for old in executor.superseded.values()})
    by_address.update(deletes)
    if deletes and not interrupted:
        blocked = _blocked_deletions(plan, deletes, failed)
        for address in sorted(blocked):
            on_finish(
                JobResult(address, Status.SKIPPED, blocked_by="a resource that refers to it failed to change")
            )
        jobs = {a: executor.job(c) for a, c in deletes.items() if a not in blocked}
        _, interrupted = run_jobs(jobs, deletion_order(deletes), parallelism, on_start, on_finish)
    else:
        for address in deletes:
            on_finish(JobResult(address, Status.NOT_STARTED))
    _record_after(plan, ctx)
    order = {c.address: i for i, c in enumerate(plan.changes)}
    outcomes.sort(key=lambda o: order.get(o.address, 0))
    return ApplyResult(outcomes, interrupted, ctx.stats.mutating())


def _record_ahead(plan: Plan, forward: Iterable[Change], ctx: AwsContext) -> None:
    """Kinds that keep records of what they own (the dashboards' index) write the declared
    resources about to be created, updated or adopted before the first of them is."""
    keys: dict[str, list[Key]] = {}
    for change in forward:
        if change.node is not None and change.action in (Action.CREATE, Action.REPLACE, Action.UPDATE):
            keys.setdefault(change.kind, []).append(change.key)
    for kind, declared in keys.items():
        KINDS[kind].before_writes(ctx, plan.stack, declared)


def _start_order(deps: Mapping[str, set[str]]) -> dict[str, Rank] | None:
    """The scheduler's rank of each change among ready ones (start_order); None for a cycle (then
    nothing starts: run_jobs skips every change)."""
    try:
        return start_order({a: {d for d in needs if d in deps} for a, needs in deps.items()})
    except CycleError:
        return None


def _expect_creates(forward: Iterable[Change], rank: Mapping[str, Rank] | None, ctx: AwsContext) -> None:
    """Each kind is told the resources it is about to create, in the order the scheduler will
    likely start them (its order among ready changes)."""
    creates = [c for c in forward if c.action in (Action.CREATE, Action.REPLACE)]
    if not creates or rank is None:
        return
    keys: dict[str, list[Key]] = {}
    for change in sorted(creates, key=lambda c: rank[c.address]):
        keys.setdefault(change.kind, []).append(change.key)
    for kind, created in keys.items():
        KINDS[kind].before_creates(ctx, created)


def _record_after(plan: Plan, ctx: AwsContext) -> None:
    """Once everything ran (or stopped): the records of the kinds that changed, or whose records
    the plan found stale, are brought up to date with what the apply did."""
    touched = {c.kind for c in plan.changes if c.action.mutates} | set(plan.housekeeping)
    for kind in sorted(touched):
        KINDS[kind].after_writes(ctx, plan.stack)


def deletion_order(deletes: Mapping[str, Change]) -> dict[str, set[str]]:
    """For each deletion, the deletions that must finish before it: those of its dependents and of
    its children (a resource goes only once nothing being deleted still needs it)."""
    return {
        address: {
            other
            for other, other_change in deletes.items()
            if address in other_change.depends_on or other_change.parent == address
        }
        for address in deletes
    }


def _blocked_deletions(plan: Plan, deletes: Mapping[str, Change], failed: set[str]) -> set[str]:
    """Deletions that must not run: a resource that refers to them failed to change, so it may
    still use them."""
    return {
        address
        for address, change in deletes.items()
        if any(f in _referrers(plan, change.address.removesuffix(SUPERSEDED)) for f in failed)
    }


def _referrers(plan: Plan, address: str) -> set[str]:
    return {c.address for c in plan.changes if address in c.depends_on}


def _outcome(change: Change, result: JobResult) -> Outcome:
    if result.status is Status.SKIPPED:
        message = f"skipped: depends on {result.blocked_by}, which did not complete"
    elif result.status is Status.NOT_STARTED:
        message = "not started (interrupted)"
    elif result.error is not None:
        message = describe_error(result.error)
    else:
        message = ""
    return Outcome(change.address, change.action, result.status, message, result.seconds, result.error)


def describe_error(error: BaseException) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        text = aws_error_text(error, "`pacs-reconcile permissions` prints the policy this spec needs")
        return f"{error.operation_name}: {text}".rstrip(": ")
    if isinstance(error, ReconcileError | BotoCoreError):
        return str(error)
    return f"internal error: {type(error).__name__}: {error}"


class _Executor:
    def __init__(
        self, plan: Plan, values: Values, ctx: AwsContext, stop: threading.Event | None = None
    ) -> None:
        self.plan = plan
        self.stop = stop or threading.Event()
        self.values = values
        self.ctx = ctx
        self.applied: dict[str, Live] = {c.address: c.live for c in plan.changes if c.live is not None}
        self.superseded: dict[str, Change] = {}
        """Old halves of create-before-destroy replacements, deleted in phase 2."""
        self._lock = threading.Lock()

    def job(self, change: Change) -> Callable[[], None]:
        def run() -> None:
            if self.stop.is_set():
                raise _Abandoned(change.address)
            self.run(change)

        return run

    def run(self, change: Change) -> None:
        reconciler = KINDS[change.kind]
        if change.action is Action.DELETE:
            assert change.live is not None
            reconciler.delete(self.ctx, change.live)
            return
        if change.action is Action.RELEASE:
            assert change.live is not None
            own_tags = [d.path.removeprefix("tags.") for d in change.differences]
            reconciler.update_tags(self.ctx, change.live, TagChanges({}, own_tags))
            return
        desired = self._desired(change)
        if change.action is Action.CREATE:
            live = reconciler.create(self.ctx, desired)
        elif change.action is Action.REPLACE and reconciler.meta.create_before_destroy:
            assert change.live is not None
            live = reconciler.create(self.ctx, desired)
            with self._lock:
                self.superseded[change.address] = Change(
                    change.address + SUPERSEDED,
                    change.kind,
                    Action.DELETE,
                    change.key,
                    live=change.live,
                    reason="superseded by its replacement",
                    depends_on=[change.address],
                )
        elif change.action is Action.REPLACE:
            assert change.live is not None
            live = reconciler.replace(self.ctx, desired, change.live)
        else:
            assert change.live is not None
            live = self._update(change, desired)
        self.applied[change.address] = live
        self.values.set(change.address, live.attrs)

    def _desired(self, change: Change) -> Desired:
        node = change.node
        assert node is not None
        config, tags = self.values.desired(node)
        tags = with_protection(node, tags, change.live.tags if change.live else None)
        if contains_unknown(config) or (tags and contains_unknown(tags)):
            raise ReconcileError(
                f"{change.address}: a referenced value is still unknown (its dependency did not apply)"
            )
        reconciler = KINDS[change.kind]
        parent = self.applied.get(node.parent) if node.parent else None
        return Desired(
            change.address,
            change.key,
            reconciler.canonical(config),
            tags or {},
            parent,
            self.plan.base_dir,
            config,
        )

    def _update(self, change: Change, desired: Desired) -> Live:
        """Compare again as the plan did (managed_delta), now that every reference is known; call AWS
        only for what still differs. The plan's Live is left as it was read."""
        live = change.live
        assert live is not None and change.node is not None
        reconciler = KINDS[change.kind]
        tags = desired.tags if live.tags is not None else None
        delta = managed_delta(reconciler, desired.state, tags, live, change.node.lifecycle.ignore_changes)
        result = live
        if attributes := delta.without(["tags"]):
            result = reconciler.update(self.ctx, desired, live, attributes)
        if tag_changes := tag_changes_in(delta):
            reconciler.update_tags(self.ctx, result, tag_changes)
            kept = {
                k: v for k, v in (result.tags or live.tags or {}).items() if k not in tag_changes.to_unset
            }
            result = replace(result, tags={**kept, **tag_changes.to_set})
        return result
