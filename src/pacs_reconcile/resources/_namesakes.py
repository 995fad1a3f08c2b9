"""The look for a namesake before a create that would replace one, shared by the creates running at once.

PutMetricAlarm, PutCompositeAlarm, PutDashboard, PutRule and CreateQueue create or replace (or
answer the existing one): before such a create, its kind looks for a resource of the name, so that
one someone else made since the plan is refused instead of silently taken over. Asked one name a
call, that look was one read per create: 1,061 of the 4,311 calls of a first apply of 1,000
alarms and 50 dashboards.

Here the looks of the creates of one kind that are waiting at the same moment go out as one read of
up to `batch_size` names (DescribeAlarms takes 100 names a call). The safety is the per-create
look's, exactly: a create is answered only by a read that started after it asked, never by one
already under way or made earlier (that one may have looked before a namesake appeared), and it
sends its create as soon as that read returns. So a namesake that exists when a create asks is
always seen, as before, and the window in which one made by someone else can still be replaced is
what it was: from the read to the create, one round trip. A read made once for the whole apply
would not keep that: a namesake made after it, while earlier creates ran, would be replaced
silently where the per-create look refused it.

While a read is under way, the creates that ask meanwhile gather for the next one; with the
apply's 8 workers a read serves several creates at once instead of one each.

Not a kind module (the leading underscore keeps registry.load_all from treating it as one).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..aws import AwsContext

T = TypeVar("T")

ReadNamesakes = Callable[[Sequence[str]], Mapping[str, T]]
"""Names -> what exists of them (absent names left out); a failed read raises, never "absent"."""


@dataclass
class _Read(Generic[T]):
    """The names of one read: open (taking names) until it is sent, then answered."""

    names: list[str] = field(default_factory=list)
    found: Mapping[str, T] | None = None
    error: BaseException | None = None
    answered: bool = False


class NamesakeLooks(Generic[T]):
    """The looks of one kind's creates in one run (see the module docstring)."""

    def __init__(self, read: ReadNamesakes[T], batch_size: int) -> None:
        self._read = read
        self._batch_size = batch_size
        self._changed = threading.Condition()
        self._queued: deque[_Read[T]] = deque()
        """Reads not sent yet, in the order they were opened; the last one may still take names."""
        self._reading = False
        self.reads = 0
        """Reads sent so far (for tests and benchmarks)."""

    def look(self, name: str) -> T | None:
        """What exists of `name` now (None: nothing), from a read that starts after this call."""
        with self._changed:
            mine = self._queued[-1] if self._queued else None
            if mine is None or len(mine.names) >= self._batch_size:
                mine = _Read()
                self._queued.append(mine)
            mine.names.append(name)
            self._changed.notify_all()
        self._until_answered(mine)
        if mine.error is not None:
            raise mine.error
        return (mine.found or {}).get(name)

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
                self._reading = True
                self.reads += 1
            try:
                sending.found = self._read(list(dict.fromkeys(sending.names)))
            except BaseException as error:  # every create of the read fails with it, as alone
                sending.error = error
            with self._changed:
                sending.answered = True
                self._reading = False
                self._changed.notify_all()


def namesake_looks(ctx: AwsContext, kind: str, read: ReadNamesakes[T], batch_size: int) -> NamesakeLooks[T]:
    """The run's one NamesakeLooks of `kind` (made at its first create)."""
    return ctx.memo(f"namesake-looks:{kind}", lambda: NamesakeLooks(read, batch_size))
