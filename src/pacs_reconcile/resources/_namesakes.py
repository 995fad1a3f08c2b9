"""The look for a namesake before a create that would replace one, read ahead for the run's creates.

PutMetricAlarm, PutCompositeAlarm, PutDashboard, PutRule and CreateQueue create or replace (or
answer the existing one): before such a create, its kind looks for a resource of the name, so that
one someone else made since the plan is refused instead of silently taken over. Asked one name a
call, that look was one read per create: 1,061 of the 4,311 calls of a first apply of 1,000
alarms and 50 dashboards. Shared only by the creates waiting at the same moment, about 3 names a
read, it still held each create's worker for one and a half reads: in a first apply of 1,000
alarms the workers making alarms spent more time waiting for looks than creating.

Here a read takes up to `batch_size` names (DescribeAlarms takes 100): the name of the create that
asked, then the names the run expects to create next, in the order it will likely create them
(`expect`, told by the apply before its first create). A create whose name a read already covers
uses that read's answer, and makes no read of its own, when that read started at most
`window` seconds (LOOK_WINDOW_SECONDS) before: the answer is that recent.

The window this leaves. A namesake someone else makes is refused when it exists at the start of
the read the create uses; one made after that start and before the create's Put is replaced, as it
always could be within the one round trip between a per-create look and its Put (AWS has no
create-only form of these calls). With a read ahead that interval is at most `window` plus the
read itself, where it was the read alone: a read made once for the whole apply would have widened
it to the whole apply (a namesake made while earlier creates ran replaced silently). A create
whose read ahead is older than the window, failed, or is not there (the run created in another
order than it expected), reads for itself: a read that starts after it asked, as before, shared
with the creates asking meanwhile. Someone else's namesake found is refused exactly as before
(the kinds' claim_after_lost_create: only this apply's own earlier attempt is carried on with).

Not a kind module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..aws import AwsContext

T = TypeVar("T")

ReadNamesakes = Callable[[Sequence[str]], Mapping[str, T]]
"""Names -> what exists of them (absent names left out); a failed read raises, never "absent"."""

LOOK_WINDOW_SECONDS = 1.0
"""How old a read ahead may be when a create uses its answer (from the read's start). At the
apply's 8 workers and tens of milliseconds a create, the 100 names of a read are created well
within it; creates slowed down (throttled Puts) read again instead of growing the window."""


@dataclass
class _Read(Generic[T]):
    """The names of one read: open (taking names) until it is sent, then answered."""

    names: list[str] = field(default_factory=list)
    started: float = 0.0
    found: Mapping[str, T] | None = None
    error: BaseException | None = None
    answered: bool = False


class NamesakeLooks(Generic[T]):
    """The looks of one kind's creates in one run (see the module docstring)."""

    def __init__(
        self,
        read: ReadNamesakes[T],
        batch_size: int,
        window: float | None = None,
        clock: Callable[[], float] | None = None,
        refill_below: int | None = None,
    ) -> None:
        self._read = read
        self._batch_size = batch_size
        self._refill_below = batch_size // 4 if refill_below is None else refill_below
        """Fewer recent names read ahead than this, and names still expected: the next create
        reads again (see look)."""
        self._window = LOOK_WINDOW_SECONDS if window is None else window
        self._clock = clock or time.monotonic
        self._changed = threading.Condition()
        self._queued: deque[_Read[T]] = deque()
        """Reads not sent yet, in the order they were opened; the last one may still take names."""
        self._reading = False
        self._expected: OrderedDict[str, None] = OrderedDict()
        """Names the run expects to create and no read has taken yet, in the expected order."""
        self._ahead: dict[str, _Read[T]] = {}
        """Name -> the latest sent read that took it (under way or answered), until its create."""
        self.reads = 0
        """Reads sent so far (for tests and benchmarks)."""

    def expect(self, names: Iterable[str]) -> None:
        """Names the run is about to create, in the order it will likely create them: each read
        also takes the next of them, up to `batch_size` names in all."""
        with self._changed:
            self._expected.update(dict.fromkeys(name for name in names if name not in self._ahead))

    def look(self, name: str) -> T | None:
        """What exists of `name` now (None: nothing): from a read ahead that started at most
        `window` seconds ago, else from a read that starts after this call."""
        with self._changed:
            self._expected.pop(name, None)
            ahead = self._ahead.pop(name, None)  # used once: a second create of the name looks again
        if ahead is not None:
            self._until_answered(ahead)
            if (
                ahead.error is None
                and self._clock() - ahead.started <= self._window
                and not self._running_low()
            ):
                return (ahead.found or {}).get(name)
            # too old, or failed (then this create's own read fails the create if it fails again),
            # or the last names read ahead: this create reads its own name and the next ones now,
            # while the other creates still have answers, not all of them at once when none is left
        with self._changed:
            mine = self._queued[-1] if self._queued else None
            if mine is None or len(mine.names) >= self._batch_size:
                mine = _Read()
                self._queued.append(mine)
            mine.names.append(name)
            self._changed.notify_all()
        self._until_answered(mine)
        with self._changed:
            if self._ahead.get(name) is mine:
                del self._ahead[name]
        if mine.error is not None:
            raise mine.error
        return (mine.found or {}).get(name)

    def _running_low(self) -> bool:
        """Whether the names read ahead and still recent are fewer than refill_below while more
        are expected and no read is under way or queued (recent ones are counted, old ones dropped)."""
        with self._changed:
            if self._reading or self._queued or not self._expected:
                return False
            now = self._clock()
            for name, read in list(self._ahead.items()):
                if read.answered and now - read.started > self._window:
                    del self._ahead[name]  # its create would read again anyway
            return len(self._ahead) < self._refill_below

    def waiting(self) -> int:
        """Names asked for and not yet sent in a read."""
        with self._changed:
            return sum(len(queued.names) for queued in self._queued)

    def _until_answered(self, mine: _Read[T]) -> None:
        """Send the oldest queued read whenever none is under way (whichever waiting create gets
        there first sends it, for everyone in it), until `mine` is answered."""
        while True:
            with self._changed:
                self._changed.wait_for(lambda: mine.answered or (not self._reading and bool(self._queued)))
                if mine.answered:
                    return
                sending = self._queued.popleft()  # closed: later looks open the next read
                names = self._with_expected(sending.names)
                sending.started = self._clock()  # before the call: the answer is at least this recent
                self._ahead.update(dict.fromkeys(names, sending))
                self._reading = True
                self.reads += 1
            try:
                sending.found = self._read(names)
            except BaseException as error:  # every create of the read fails with it, as alone
                sending.error = error
            with self._changed:
                sending.answered = True
                self._reading = False
                self._changed.notify_all()

    def _with_expected(self, asked: Sequence[str]) -> list[str]:
        """The names asked for, then the next expected ones, up to batch_size (called locked)."""
        names = dict.fromkeys(asked)
        while self._expected and len(names) < self._batch_size:
            names.setdefault(self._expected.popitem(last=False)[0])
        return list(names)


def namesake_looks(ctx: AwsContext, kind: str, read: ReadNamesakes[T], batch_size: int) -> NamesakeLooks[T]:
    """The run's one NamesakeLooks of `kind` (made at its first create, or when told what the run
    expects to create)."""
    return ctx.memo(f"namesake-looks:{kind}", lambda: NamesakeLooks(read, batch_size))
