"""CloudWatch Logs Insights saved queries that name no log group: the `saved_queries` kind.

PutQueryDefinition requires only `name` and `queryString`; `logGroupNames` may be left out, and
such a query picks its log groups when it is run (CloudWatch Logs API reference,
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html).
With no log group to be declared under (the `query_definitions` child kind), it is a top-level
kind keyed by its name, and its spec says only the name and the query text.

Ownership. A query definition cannot be tagged: "Currently, the only CloudWatch Logs resources
that can be tagged are log groups and destinations" (API_TagResource.html,
API_ListTagsForResource.html); it has no ARN, PutQueryDefinition takes no tags, and names are not
unique (a put without an id always makes a new definition). So a record proves what is this
stack's: its ownership index /pacs-reconcile/<stack>/saved-queries (`ownership_index`: one per
stack, so one per environment that has a stack of its own), mapping each queryDefinitionId AWS
assigned to one of our creates to the name it was declared under.

- Only a definition whose id the index holds is this stack's. It is read by id, so whatever
  someone changed by hand (its text, its name, log groups added) shows as a difference at its path
  and is put back by an update; it is pruned once no longer declared. A definition the index does
  not hold is never updated nor deleted, whatever its name.
- No index (the stack's first apply, or the parameter was deleted): nothing can be proven ours, so
  plan creates every declared saved query, prunes none, and says so. Same-name definitions stay:
  they may be ours from before the index was lost, which only a person can tell.
- The index is written BEFORE the creates: a pending entry holds each name and the clientToken
  its create sends. AWS treats that token as an idempotency token ("to avoid returning an
  exception if the service receives the same request twice because of a network error",
  API_PutQueryDefinition.html), so a create that ran but whose id was never recorded (a crash, a
  lost response) is repeated by the next apply with the same token: AWS answers with the definition
  the first attempt made, which the repeat then updates to what the spec says now. (How long AWS
  remembers a token is not documented: past that, the repeat makes a new definition and the first
  one stays unproven, never deleted.)
- Two definitions the index holds under one name (an index edited by hand): the most recently
  modified one is kept, the other is listed as "NAME#ID" and pruned (it is ours).
- Entries whose definition is gone are dropped by the next apply.
- The index must fit a Standard parameter (4 KB, about 50 saved queries of short names): an apply
  that would outgrow it is refused before any create (unrecorded, a query could never be proven
  ours, and every plan would create it again).
- `--full-scan` changes nothing here: with no tag to scan by, the index is the only record.
- Drift cannot tell a hand edit from a spec edit not yet applied (no fingerprint tag): a difference
  is reported as drifted.

A run reads the index with the others in one GetParameters, and lists the account's definitions
(DescribeQueryDefinitions) only when the spec declares saved queries or the index holds some.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..aws import AwsContext
from ..diff import Delta, sorted_unique
from ..errors import ReconcileError
from . import ownership_index
from .base import Desired, Key, Live, ReadScope, Reconciler
from .common import gone_is_fine, names_with_prefix
from .kind import KindActions, KindMeta
from .logs import QueryTextSpec, account_query_definitions, describe_query_definitions, newest_first
from .registry import register
from .saved_query_index import RECORD, StoredIndex, read_index

DESCRIPTION = "Saved Logs Insights queries this pacs-reconcile stack created (ids proving ownership)"


class SavedQuerySpec(QueryTextSpec):
    """A saved CloudWatch Logs Insights query that names no log group: whoever runs it picks the
    log groups. A query over a log group of the stack is declared under it (`query_definitions`)."""


# The run's book of the index ------------------------------------------------------------------


@dataclass
class IndexBook:
    """What one run knows of a stack's saved queries: the stored index, the recorded definitions that
    exist (kept current by the apply's creates and deletions), the pending creates, the declared
    names, and the definitions of a declared name that no record holds."""

    stored: StoredIndex | None
    owned: dict[str, str]
    pending: dict[str, str]
    declared: set[str]
    namesakes: dict[str, list[str]]
    repeated: frozenset[str] = frozenset()
    """Names whose pending entry an earlier apply left: their create repeats its token."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, names: Sequence[str]) -> None:
        """A pending entry (and its token) for each name not yet recorded."""
        with self.lock:
            for name in names:
                if name not in self.owned.values():
                    self.pending.setdefault(name, str(uuid.uuid4()))
                    self.declared.add(name)

    def token(self, name: str) -> str:
        with self.lock:
            return self.pending.setdefault(name, str(uuid.uuid4()))

    def created(self, name: str, definition_id: str) -> None:
        with self.lock:
            self.owned[definition_id] = name
            self.pending.pop(name, None)

    def deleted(self, definition_id: str) -> None:
        with self.lock:
            self.owned.pop(definition_id, None)

    def current(self) -> StoredIndex:
        """What the index must say now: the recorded definitions that exist, and the creates not
        known to have run (pending entries of names no longer declared are dropped: with no create
        to repeat them, their token proves nothing)."""
        with self.lock:
            pending = {n: t for n, t in self.pending.items() if n in self.declared}
            return StoredIndex(dict(self.owned), pending)

    def store(self, ctx: AwsContext, stack: str) -> None:
        wanted = self.current()
        if wanted == self.stored or (self.stored is None and not wanted.owned and not wanted.pending):
            return
        value = wanted.encode()
        if not ownership_index.fits(value):
            # No fallback as the dashboards' tag scan: a query the index cannot hold could never be
            # proven ours, and every later plan would create it again. Refused before any create.
            raise ReconcileError(
                f"the saved-queries ownership index of stack {stack!r} would outgrow a Standard SSM "
                f"parameter ({ownership_index.STANDARD_VALUE_LIMIT} bytes) with "
                f"{len(wanted.owned) + len(wanted.pending)} entries: declare fewer saved queries or "
                "shorter names; nothing was created"
            )
        ownership_index.write_value(ctx, stack, RECORD, value, DESCRIPTION)
        self.stored = wanted

    def repair(self) -> str:
        """Why apply must rewrite the index, or what the plan rests on without one ("" if neither)."""
        reasons: list[str] = []
        if self.stored is None and self.declared:
            reasons.append(
                "no saved-queries ownership index for this stack: nothing proves an existing saved "
                "query this stack's, so every declared one is planned as a create and none is pruned"
                + _namesakes(self.namesakes)
                + "; apply writes the index"
            )
        if self.stored is not None and set(self.stored.owned) - set(self.owned):
            reasons.append("the saved-queries ownership index names definitions now gone; apply drops them")
        if self.repeated & self.declared:
            reasons.append(
                "an apply was interrupted creating saved queries "
                + ", ".join(sorted(self.repeated & self.declared))
                + " before their ids were recorded: apply repeats those creates with the same "
                "idempotency tokens (AWS answers with what the first attempt made, if it made one)"
            )
        return "; ".join(reasons)


def _namesakes(namesakes: Mapping[str, list[str]]) -> str:
    if not namesakes:
        return ""
    found = ", ".join(f"{name!r} ({', '.join(ids)})" for name, ids in sorted(namesakes.items()))
    return f" (definitions with a declared name exist, unrecorded, and are left alone: {found})"


def books(ctx: AwsContext) -> dict[str, IndexBook]:
    """Where a run keeps each stack's book (set by each read, kept by the apply's writes)."""
    found: dict[str, IndexBook] = ctx.memo("saved-queries-index", dict)
    return found


# The kind -------------------------------------------------------------------------------------


def _list_saved_queries(ctx: AwsContext, prefix: str) -> list[str]:
    """How `export --prefix` finds them: the names of the definitions naming no log group. Only
    those the stack's index holds are read and exported (nothing else can be proven its own)."""
    found = describe_query_definitions(ctx, prefix)
    return names_with_prefix([d["name"] for d in found if not d.get("logGroupNames")], prefix)


@register
class SavedQueries(Reconciler):
    meta = KindMeta(
        kind="saved_queries",
        model=SavedQuerySpec,
        title="Standalone Logs Insights query definition",
        attributes=("name", "id"),
        taggable=False,
        lister=_list_saved_queries,
        # Apply writes the index (PutParameter, DeleteParameter when it outgrows 4 KB) under
        # /pacs-reconcile/<stack>/, the path the apply lock's statement already grants.
        actions=KindActions(
            read=frozenset({"logs:DescribeQueryDefinitions", "ssm:GetParameters"}),
            write=frozenset({"logs:PutQueryDefinition"}),
            delete=frozenset({"logs:DeleteQueryDefinition"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("query"), str):
            out["query"] = out["query"].rstrip()
        # Compared on both sides: the spec asks for no log group, so log groups someone added to a
        # definition of ours show as a difference (and the update, which omits them, clears them).
        out["log_groups"] = sorted_unique(out.get("log_groups") or [])
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = {str(k) for k in keys}
        stored = read_index(ctx, scope.stack)
        recorded = dict(stored.owned) if stored else {}
        listed = bool(recorded or declared or (stored is not None and stored.pending))
        definitions = account_query_definitions(ctx) if listed else []
        by_id = {str(d["queryDefinitionId"]): d for d in definitions}
        owned = {i: name for i, name in recorded.items() if i in by_id}
        namesakes: dict[str, list[str]] = {}
        for definition in definitions:
            if definition["name"] in declared and definition["queryDefinitionId"] not in owned:
                namesakes.setdefault(definition["name"], []).append(definition["queryDefinitionId"])
        books(ctx)[scope.stack] = IndexBook(
            stored,
            owned,
            dict(stored.pending) if stored else {},
            declared | set(owned.values()),
            namesakes,
            frozenset(stored.pending) if stored else frozenset(),
        )
        return self._by_name(owned, by_id)

    def _by_name(self, owned: Mapping[str, str], by_id: Mapping[str, Mapping[str, Any]]) -> dict[Key, Live]:
        """Each recorded definition under the name it was declared with; of several under one name,
        the newest, the others under "NAME#ID" (ours: pruned)."""
        grouped: dict[str, list[Mapping[str, Any]]] = {}
        for definition_id, name in owned.items():
            grouped.setdefault(name, []).append(by_id[definition_id])
        out: dict[Key, Live] = {}
        for name, definitions in grouped.items():
            keep, *duplicates = sorted(definitions, key=newest_first)
            out[name] = self._live(name, keep)
            for duplicate in duplicates:
                key = f"{name}#{duplicate['queryDefinitionId']}"
                note = f"a second recorded definition named {name!r} (kept: {keep['queryDefinitionId']})"
                out[key] = self._live(key, duplicate, (note,))
        return out

    def records_to_repair(self, ctx: AwsContext, stack: str) -> str:
        book = books(ctx).get(stack)
        return book.repair() if book is not None else ""

    def before_writes(self, ctx: AwsContext, stack: str, keys: Sequence[Key]) -> None:
        book = self._book(ctx, stack)
        book.reserve([str(k) for k in keys])
        book.store(ctx, stack)  # ahead of the creates: a crash cannot leave an unrecorded one

    def after_writes(self, ctx: AwsContext, stack: str) -> None:
        book = books(ctx).get(stack)
        if book is not None:
            book.store(ctx, stack)

    def _book(self, ctx: AwsContext, stack: str) -> IndexBook:
        book = books(ctx).get(stack)
        if book is None:
            self.read(ctx, [], ReadScope(stack))
            book = books(ctx)[stack]
        return book

    def _applying(self, ctx: AwsContext) -> IndexBook:
        """The book of the stack being applied (before_writes made or found it)."""
        known = books(ctx)
        if ctx.stack in known or len(known) != 1:
            return self._book(ctx, ctx.stack)
        return next(iter(known.values()))

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        book = self._applying(ctx)
        name = str(desired.state["name"])
        token = book.token(name)
        response = ctx.client("logs").put_query_definition(**self._request(desired), clientToken=token)
        definition_id = str(response["queryDefinitionId"])
        if name in book.repeated:
            # The token of an interrupted earlier create: AWS may have answered with what that
            # attempt made, which need not be what the spec says now.
            self._put(ctx, desired, definition_id)
        book.created(name, definition_id)
        return self._live(name, {**self._request(desired), "queryDefinitionId": definition_id})

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return self._put(ctx, desired, str(live.handle))

    def delete(self, ctx: AwsContext, live: Live) -> None:
        with gone_is_fine("ResourceNotFoundException"):
            ctx.client("logs").delete_query_definition(queryDefinitionId=str(live.handle))
        for book in books(ctx).values():
            book.deleted(str(live.handle))

    def _put(self, ctx: AwsContext, desired: Desired, definition_id: str) -> Live:
        # PutQueryDefinition replaces everything; leaving logGroupNames out clears them.
        request = {**self._request(desired), "queryDefinitionId": definition_id}
        ctx.client("logs").put_query_definition(**request)
        return self._live(str(desired.key), request)

    @staticmethod
    def _request(desired: Desired) -> dict[str, Any]:
        return {"name": desired.state["name"], "queryString": str(desired.state["query"]).rstrip()}

    def _live(self, key: str, definition: Mapping[str, Any], notes: tuple[str, ...] = ()) -> Live:
        state = {
            "name": definition["name"],
            "query": definition["queryString"],
            "log_groups": list(definition.get("logGroupNames") or []),
        }
        definition_id = definition["queryDefinitionId"]
        attrs = {"name": definition["name"], "id": definition_id}
        return Live(key=key, state=self.canonical(state), attrs=attrs, handle=definition_id, notes=notes)
