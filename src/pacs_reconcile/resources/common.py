"""Helpers every kind shares: batching, bounded concurrency, the owner-tag sweep, error codes,
optional request parameters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from botocore.exceptions import ClientError

from .. import FINGERPRINT_TAG, OWNER_TAG
from ..aws import AwsContext, is_mutating
from ..diff import tags_from_list
from ..errors import ReconcileError

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")

READ_WORKERS = 8
"""Per-resource reads run at most this many at once (well under the published describe quotas)."""
TAGGING_PAGE_SIZE = 100
"""GetResources' maximum ResourcesPerPage."""
BATCH_WORKERS = 4
"""Batched describes (100 alarms, 50 log groups a call) run at most this many at once: a few
seconds of reads become a fraction of one, and the burst stays small beside DescribeAlarms' 9 and
DescribeLogGroups' 5 calls a second (botocore's adaptive retry absorbs a throttle)."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in batches of at most `size` (AWS's per-call limits, honoured even where moto's are not)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def concurrently(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None) -> list[R]:
    """fn over items, a few (READ_WORKERS) at a time on the shared clients; results in order, the
    first error propagates."""
    workers = workers or READ_WORKERS
    if len(items) <= 1 or workers == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def batched(read_batch: Callable[[Sequence[T]], list[R]], items: Sequence[T], size: int) -> list[R]:
    """read_batch over `items` in batches of at most `size` (AWS's per-call limit), BATCH_WORKERS
    batches at a time; the results of all batches in order. No items, no call."""
    results = concurrently(read_batch, list(chunks(items, size)), BATCH_WORKERS)
    return [item for batch in results for item in batch]


def both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    """first() and second() at the same time: e.g. the owner-tag sweep and the reads of the declared
    resources, which do not depend on each other. An error in either propagates."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(second)
        return first(), later.result()


def declared_then_owned(
    declared: Iterable[str], owned: Callable[[], Iterable[str]], read: Callable[[list[str]], dict[str, T]]
) -> dict[str, T]:
    """`read` of the declared names while `owned()` (this stack's names, from the owner-tag sweep)
    is found, then of the owned names none declares (usually none): a read as long as the sweep,
    not the sweep's length and then its own. Each name is read once."""
    names = sorted(set(declared))
    owned_names, found = both(lambda: set(owned()), lambda: read(names))
    rest = sorted(owned_names - set(names))
    return {**found, **read(rest)} if rest else found


def one_by_one(read_one: Callable[[str], T]) -> Callable[[list[str]], dict[str, T]]:
    """A read of names made of one read per name, a few at a time: {name: what it found}."""
    return lambda names: dict(zip(names, concurrently(read_one, names), strict=True))


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


@contextmanager
def gone_is_fine(*codes: str) -> Iterator[None]:
    """Around a delete: an AWS error whose code is one of `codes` (the service's "no such ...")
    says the resource is already gone, which is what the delete wanted; any other error propagates."""
    try:
        yield
    except ClientError as error:
        if error_code(error) not in codes:
            raise


def unless_gone(read: Callable[[], T], *codes: str) -> T | None:
    """`read()`, or None when AWS answers one of `codes` (the service's "no such ..."): the resource
    is absent. Any other error propagates: a failed read is never absent."""
    try:
        return read()
    except ClientError as error:
        if error_code(error) in codes:
            return None
        raise


def set_parameters(state: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """The request parameters (`parameters`: spec field -> parameter name) of the fields `state`
    sets: a field that is None is left out of the request (AWS's default, or not managed)."""
    return {
        parameter: state[field] for field, parameter in parameters.items() if state.get(field) is not None
    }


def made_by_this_apply(live_tags: Mapping[str, str] | None, desired_tags: Mapping[str, str]) -> bool:
    """Whether a resource carries this stack's owner tag and the fingerprint of this very spec, as
    a create of this apply tags it."""
    tags = live_tags or {}
    return all(tags.get(key) == desired_tags.get(key) for key in (OWNER_TAG, FINGERPRINT_TAG))


def claim_after_lost_create(
    what: str, live_tags: Mapping[str, str] | None, desired_tags: Mapping[str, str]
) -> None:
    """A create answered "already exists": carry on with the existing resource only when it is the
    one this apply made, its response lost (a retried call then meets its own first attempt): it
    carries this stack's owner tag and the fingerprint of this very spec. Anything else (another
    stack's, an unowned one, this stack's from another spec) is never adopted: ReconcileError."""
    tags = dict(live_tags or {})
    if made_by_this_apply(tags, desired_tags):
        return
    owner = tags.get(OWNER_TAG)
    raise _not_this_applys(what, f"stack {owner!r}" if owner else "no stack", "another spec")


def claim_identical_after_lost_create(what: str, found: Any, asked: Any) -> None:
    """The same for what carries no tags (a rule, a statement, a mount target; children of an owned
    parent): a create answered "already exists" carries on only when what exists is exactly what
    this apply asked for (`found == asked`, both in the same normalized form), as its own first
    attempt left it. Anything else is someone else's: ReconcileError."""
    if found is not None and found == asked:
        return
    raise _not_this_applys(what, "not what this apply asked for", "")


def _not_this_applys(what: str, whose: str, also: str) -> ReconcileError:
    made_by = ", ".join(part for part in (whose, also) if part)
    return ReconcileError(
        f"{what} was created meanwhile by someone else ({made_by}): it exists and is not this "
        "apply's; plan again"
    )


def arn_service(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[2] if len(parts) > 2 else ""


def arn_resource(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[5] if len(parts) > 5 else ""


SWEPT_SERVICES = frozenset(
    {"cloudwatch", "ecs", "elasticfilesystem", "events", "kms", "lambda", "logs", "sns", "sqs", "ssm"}
)
"""The services whose resources' ownership the kinds take from the owner-tag sweep (owned_of's
callers). A sweep split by resource type (sweep_apart) asks for the rest of them by name, so
owned_of refuses a service not listed here: a kind of a new service cannot be left out of it."""


def owned_resources(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
    """ARN -> tags of every resource the Resource Groups Tagging API lists with this stack's owner tag.

    One paginated sweep (100 resources a page, the API's maximum) per run, shared by every kind
    (IAM roles, EventBridge rules and dashboards are not covered by the tagging API: their kinds
    read tags themselves), or its parts read side by side when the run swept some types apart
    (sweep_apart). It is swept again only when this context has changed something in AWS since
    (a read after an apply, or in a test), so a later read never sees tags from before.
    """
    parts = _sweep_parts(ctx, stack)
    if len(parts) == 1:
        return _swept(ctx, stack, parts[0])
    found: dict[str, dict[str, str]] = {}
    for part in concurrently(lambda filters: _swept(ctx, stack, filters), parts, len(parts)):
        found.update(part)
    return found


def sweep_apart(ctx: AwsContext, stack: str, resource_types: Collection[str]) -> None:
    """Sweep each of `resource_types` (`service:type`) apart from the rest, in this run's reads.

    The pages of one sweep follow one another (each asks for the page after the last one's
    token): a stack of 1,000 alarms and 370 other resources swept at once takes 14 pages in a row
    (at 40 ms a call, the longest chain of a large plan), its alarms apart and the rest beside
    them 11 and 4 at once, for one call more. To be called before the run reads anything."""
    key = f"owned-resources-parts:{stack}"
    ctx.forget(key)
    ctx.memo(key, lambda: tuple(sorted(resource_types)))


def _swept_apart(ctx: AwsContext, stack: str) -> tuple[str, ...]:
    """The resource types this run sweeps apart (sweep_apart), none unless it was told."""
    apart: tuple[str, ...] = ctx.memo(f"owned-resources-parts:{stack}", tuple)
    return apart


def _sweep_parts(ctx: AwsContext, stack: str) -> list[tuple[str, ...] | None]:
    """The ResourceTypeFilters of each of this run's sweeps (None: one sweep of everything)."""
    apart = _swept_apart(ctx, stack)
    return [*((resource_type,) for resource_type in apart), _rest_of(apart)]


def _rest_of(apart: tuple[str, ...]) -> tuple[str, ...] | None:
    """The filters of the sweep of what is not swept apart (None: nothing is, one sweep of all)."""
    if not apart:
        return None
    return tuple(sorted(SWEPT_SERVICES - {resource_type.partition(":")[0] for resource_type in apart}))


def _swept(ctx: AwsContext, stack: str, resource_types: tuple[str, ...] | None) -> dict[str, dict[str, str]]:
    """One sweep of the owned resources (of these ResourceTypeFilters, or of every type)."""

    def sweep() -> dict[str, dict[str, str]]:
        paginator = ctx.client("resourcegroupstaggingapi").get_paginator("get_resources")
        pages = paginator.paginate(
            TagFilters=[{"Key": OWNER_TAG, "Values": [stack]}],
            ResourcesPerPage=TAGGING_PAGE_SIZE,
            **({"ResourceTypeFilters": list(resource_types)} if resource_types else {}),
        )
        return {
            item["ResourceARN"]: tags_from_list(item.get("Tags"))
            for page in pages
            for item in page.get("ResourceTagMappingList", [])
        }

    key = f"owned-resources:{stack}" + (":" + ",".join(resource_types) if resource_types else "")
    return memo_until_write(ctx, key, sweep)


@dataclass(frozen=True)
class _Read(Generic[T]):
    writes_before: int
    """How many mutating calls this context had made when the read started."""
    value: T


def memo_until_write(ctx: AwsContext, key: str, read: Callable[[], T]) -> T:
    """`read()` once per run and shared by every caller, until this context changes something in
    AWS: then read again, so a read after a write (an apply's, or a test's) never sees old state."""
    writes = _writes_so_far(ctx)
    found: _Read[T] = ctx.memo(key, lambda: _Read(writes, read()))
    if found.writes_before != writes:
        ctx.forget(key)
        found = ctx.memo(key, lambda: _Read(writes, read()))
    return found.value


def _writes_so_far(ctx: AwsContext) -> int:
    calls = dict(ctx.stats.calls)  # a copy: other threads may be recording calls
    return sum(count for name, count in calls.items() if is_mutating(name.partition(".")[2]))


def owned_of(
    ctx: AwsContext, stack: str, service: str, resource_prefix: str = ""
) -> dict[str, dict[str, str]]:
    """The owned resources of one service (and resource type, by the ARN's resource part prefix),
    from the sweep that holds them."""
    if service not in SWEPT_SERVICES:
        raise ValueError(f"{service} is not in SWEPT_SERVICES: a sweep split by type would leave it out")
    apart = _swept_apart(ctx, stack)
    holding = _rest_of(apart)
    for resource_type in apart:
        swept_service, _, swept_type = resource_type.partition(":")
        if swept_service == service:
            if not resource_prefix.startswith(swept_type):
                raise ValueError(f"{service}:{resource_prefix} is not in the sweep of {resource_type} alone")
            holding = (resource_type,)
    return {
        arn: tags
        for arn, tags in _swept(ctx, stack, holding).items()
        if arn_service(arn) == service and arn_resource(arn).startswith(resource_prefix)
    }


def read_pages(client: Any, operation: str, result_key: str, **params: Any) -> list[Any]:
    """Every item of a paginated list/describe call (botocore's paginator)."""
    paginator = client.get_paginator(operation)
    return [item for page in paginator.paginate(**params) for item in page.get(result_key, [])]


class AccountListing:
    """An account-wide listing, for a read of several resources while it costs fewer calls than
    one per resource: `within(n)` gives every item, or None once n pages did not hold them all (an
    account full of other resources: the caller then reads its resources one by one, so the read
    never costs more than twice that) or when the listing is denied (a policy that allows the
    per-resource form only: those reads raise if they are denied too).

    It is read a page at a time as callers need, and shared by them:
    a read may start it before it knows how many pages it will allow (a child kind's, before its
    parents are read: Reconciler.read_ahead), and go on where it stopped once it does. Pages are
    read in order, once; a caller that allows more pages than were read continues the listing."""

    def __init__(self, client: Any, operation: str, result_key: str, **params: Any) -> None:
        self._start: Callable[[], Iterator[Mapping[str, Any]]] = lambda: iter(
            client.get_paginator(operation).paginate(**params)
        )
        self._pages: Iterator[Mapping[str, Any]] | None = None
        self._result_key = result_key
        self._lock = threading.Lock()
        self._items: list[Any] = []
        self._read = 0
        self._more = True
        self._denied = False
        self._failure: Exception | None = None

    def within(self, max_pages: int) -> list[Any] | None:
        """Every item, or None once `max_pages` pages did not hold them all, or when the listing is
        denied (AccessDenied): then the caller reads per resource. A failed page fails every caller.
        `within(0)`: every item if another caller has read them all, without a call."""
        with self._lock:
            while self._more and self._read < max_pages and not self._denied:
                self._next_page()
            if self._denied or self._more:
                return None
            return list(self._items)

    def _next_page(self) -> None:
        if self._failure is not None:
            raise self._failure
        try:
            self._pages = self._pages or self._start()
            page = next(self._pages, None)
        except Exception as exc:
            if isinstance(exc, ClientError) and error_code(exc) in ("AccessDenied", "AccessDeniedException"):
                self._denied = True
                return
            self._failure = exc  # the paginator is spent: every later caller gets this error
            raise
        if page is None:
            self._more = False
            return
        self._read += 1
        self._items.extend(page.get(self._result_key, []))
        self._more = _has_more(page)


def _has_more(page: Mapping[str, Any]) -> bool:
    return bool(page.get("nextToken") or page.get("NextToken"))


def names_with_prefix(names: Sequence[str], prefix: str) -> list[str]:
    """Sorted, unique, filtered again here: an API's own prefix filter may be missing or loose
    (emulators)."""
    return [name for name in sorted(set(names)) if name.startswith(prefix)]
