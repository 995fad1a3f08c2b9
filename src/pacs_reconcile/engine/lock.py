"""One apply (or destroy) at a time per stack and region: a lock held in AWS itself.

The lock is the SSM parameter /pacs-reconcile/<stack>/lock in the stack's region, created only
if absent (PutParameter without Overwrite is atomic: exactly one creator wins). Its value says who
holds it: {"id", "who", "pid", "operation", "when", "expires"}. `plan` and `drift` never take it.

The lock is a short lease (60 s) that its holder renews every 20 s from a heartbeat thread while it
works; every renewal overwrites the parameter, which bumps its SSM `Version`. A holder that died
(SIGKILL, a cancelled CI job, a lost machine) stops renewing, and its lease lapses:

- on the same host, a holder whose process is gone is taken over at once;
- the lease's version has not moved for a whole lease, timed on the waiting run's own clock (so a
  holder's clock, however wrong, cannot make a live lease look dead); a run that finds a lease
  whose expiry looks past waits for that one lease even with --lock-timeout 0;
- AWS's own clock says so: the time of the last renewal (the parameter's LastModifiedDate) against
  the current time of the same response (its Date header), both read from AWS;
- the expiry the holder wrote is past by more than any two clocks that AWS accepts requests from
  can differ (a request is refused when its clock is about 15 minutes off AWS's).

SSM has no conditional delete, so taking over goes through a second parameter,
/pacs-reconcile/<stack>/takeover/<id>, created only if absent: of the runs that find the same lapsed
lease, only the one that creates it may delete that lease (after checking it is still the same
version) and then create its own. `force-unlock ID` removes the lock only when ID is the one it holds.

The parameters carry no owner tag on purpose: the ssm_parameters kind prunes what carries it.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from ..aws import AwsContext
from ..errors import ErrorType, ReconcileError
from ..resources.common import error_code

LOCK_TTL_SECONDS = 60.0
"""How long a lease outlives its last renewal: after that its holder is presumed dead."""
RENEW_EVERY_SECONDS = 20.0
"""The holder renews this often: two renewals may fail before the lease lapses."""
MAX_CLOCK_SKEW_SECONDS = 1800.0
"""Two machines that AWS accepts signed requests from have clocks within about 15 minutes of AWS's
each (https://aws.amazon.com/blogs/developer/clock-skew-correction/), so within 30 minutes of one
another: an expiry further in the past than that is past for the holder too."""
POLL_SECONDS = 2.0
"""How often a waiting run (--lock-timeout) checks the lock again."""
MAX_POLLS = 100_000
"""A bound on the waiting loop whatever the clock does."""


class LockHeld(ReconcileError):
    """Another run holds the stack's lock (exit 1)."""


class LockError(ReconcileError):
    """The lock could not be read, taken or removed as asked (exit 1)."""

    error_type = ErrorType.AWS


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str
    pid: int
    operation: str
    when: str
    """ISO 8601 UTC: when the lock was taken."""
    expires: str
    """ISO 8601 UTC: when the lock may be taken over unless renewed."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LockInfo | None:
        """The lock value, or None when it is not one this tool wrote."""
        try:
            data = json.loads(text)
            return cls(
                str(data["id"]),
                str(data["who"]),
                int(data["pid"]),
                str(data.get("operation", "?")),
                str(data["when"]),
                str(data["expires"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def expired(self, now: float) -> bool:
        return _parse_time(self.expires) <= now

    @property
    def host(self) -> str:
        return self.who.rpartition("@")[2]

    def describe(self) -> str:
        return (
            f"{self.who} (pid {self.pid}, {self.operation} since {self.when}, "
            f"expires {self.expires}; lock id {self.id})"
        )


def lock_name(stack: str) -> str:
    return f"/pacs-reconcile/{stack}/lock"


def takeover_name(stack: str, expired_id: str) -> str:
    return f"/pacs-reconcile/{stack}/takeover/{expired_id}"


def whoami() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return float("inf")  # a value we cannot read never expires by itself: force-unlock it


@dataclass(frozen=True)
class _Lease:
    info: LockInfo
    version: int
    """The parameter's SSM version: every renewal moves it."""
    aws_age: float | None
    """Seconds since the last renewal by AWS's clock (None when the response did not tell)."""


def _aws_age(response: dict[str, Any], parameter: dict[str, Any]) -> float | None:
    """Now minus the last renewal, both as AWS's clock tells them (the response's Date header and
    the parameter's LastModifiedDate): no local clock takes part."""
    modified = parameter.get("LastModifiedDate")
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if not isinstance(modified, datetime) or not date:
        return None
    try:
        now = parsedate_to_datetime(str(date))
    except (TypeError, ValueError):
        return None
    if now.tzinfo is None or modified.tzinfo is None:
        return None
    # Date has whole seconds: one second of slack keeps a fresh renewal from looking older.
    return (now - modified).total_seconds() - 1.0


def _process_exists(pid: int) -> bool:
    if pid <= 0:
        return True  # not a pid we can judge: never take over on its account
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, as another user's
        return True
    return True


class StackLock:
    """The lock of one stack in the context's region. Thread-safe for one holder."""

    def __init__(
        self,
        ctx: AwsContext,
        stack: str,
        *,
        ttl: float = LOCK_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ctx = ctx
        self.stack = stack
        self.name = lock_name(stack)
        self.ttl = ttl
        self.clock = clock
        self.sleep = sleep
        self.held: LockInfo | None = None

    @property
    def _ssm(self) -> Any:
        return self.ctx.client("ssm")

    # ------------------------------------------------------------------------------- reading
    def current(self) -> LockInfo | None:
        """Who holds the lock now (None: nobody). Raises LockError for a value we did not write."""
        seen = self._observe()
        return seen.info if seen is not None else None

    def _observe(self) -> _Lease | None:
        """The lease as it is now: its value, SSM version and age by AWS's clock (None: no lock)."""
        try:
            response = self._ssm.get_parameter(Name=self.name)
        except Exception as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise
        parameter = response["Parameter"]
        info = LockInfo.from_json(str(parameter["Value"]))
        if info is None:
            raise LockError(
                f"the SSM parameter {self.name} does not hold a lock this tool wrote; "
                "remove it by hand if no apply is running"
            )
        return _Lease(info, int(parameter.get("Version", 0)), _aws_age(response, parameter))

    def _value(self, name: str) -> str | None:
        try:
            return str(self._ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except Exception as exc:
            if error_code(exc) == "ParameterNotFound":
                return None
            raise

    # ------------------------------------------------------------------------------- taking
    def acquire(self, timeout: float, operation: str, say: Callable[[str], None] | None = None) -> LockInfo:
        """Take the lock, waiting up to `timeout` seconds for its holder (and, when the lease looks
        lapsed, for one lease); LockHeld when it does not come free in time. `say` is told when a
        dead holder's lease is taken over, naming it."""
        started = self.clock()
        deadline = started + max(0.0, timeout)
        watched: tuple[str, int] | None = None
        watched_since = started
        first_seen: dict[str, float] = {}
        for attempt in range(MAX_POLLS):
            mine = self._new_info(operation)
            if self._create(self.name, mine.to_json()):
                self.held = mine
                return mine
            lease = self._observe()
            if lease is not None and lease.info.id == mine.id:
                self.held = mine  # our create went through; its response was lost and the retry refused
                return mine
            if lease is None:
                if attempt == 0:
                    continue  # released between our create and our read: try again at once
                holder = None
            else:
                holder = lease.info
                now = self.clock()
                if (holder.id, lease.version) != watched:
                    watched, watched_since = (holder.id, lease.version), now
                lapsed = self._lapsed(lease, now - watched_since)
                if lapsed and self._take_over(lease, mine):
                    self.held = mine
                    if say is not None:
                        say(f"took over the lock of {holder.describe()}: {lapsed}")
                    return mine
            limit = deadline
            if holder is not None and holder.expired(self.clock()):
                # Past its expiry by our clock, which may be wrong: watch it for one lease.
                limit = max(
                    deadline, first_seen.setdefault(holder.id, watched_since) + self.ttl + POLL_SECONDS
                )
            remaining = limit - self.clock()
            if remaining <= 0:
                raise LockHeld(self._held_message(holder, timeout))
            self.sleep(min(POLL_SECONDS, remaining))
        raise LockHeld(f"gave up waiting for the lock {self.name} after {MAX_POLLS} attempts")

    def _lapsed(self, lease: _Lease, unchanged_for: float) -> str | None:
        """Why the lease's holder is dead, or None while it may be alive."""
        holder = lease.info
        if holder.host == socket.gethostname() and not _process_exists(holder.pid):
            return f"its process {holder.pid} on this host is gone"
        if unchanged_for >= self.ttl:
            return f"it was not renewed for {unchanged_for:.0f}s (version {lease.version} unchanged)"
        if lease.aws_age is not None and lease.aws_age > self.ttl:
            return f"it was last renewed {lease.aws_age:.0f}s ago by AWS's clock"
        if _parse_time(holder.expires) < self.clock() - MAX_CLOCK_SKEW_SECONDS:
            return f"it expired at {holder.expires}"
        return None

    def _new_info(self, operation: str) -> LockInfo:
        now = self.clock()
        return LockInfo(uuid.uuid4().hex, whoami(), os.getpid(), operation, _iso(now), _iso(now + self.ttl))

    def _create(self, name: str, value: str) -> bool:
        """Create the parameter only if absent: True when this call created it."""
        try:
            self._ssm.put_parameter(
                Name=name,
                Value=value,
                Type="String",
                Overwrite=False,
                Description=f"pacs-reconcile lock of stack {self.stack}; see `pacs-reconcile force-unlock`",
            )
        except Exception as exc:
            if error_code(exc) == "ParameterAlreadyExists":
                return False
            raise
        return True

    def _delete(self, name: str) -> None:
        try:
            self._ssm.delete_parameter(Name=name)
        except Exception as exc:
            if error_code(exc) != "ParameterNotFound":
                raise

    def _take_over(self, lapsed: _Lease, mine: LockInfo) -> bool:
        """Replace a lapsed lease, unless another run is doing so (it holds the takeover mark) or
        the holder renewed it meanwhile (its version moved)."""
        mark = takeover_name(self.stack, lapsed.info.id)
        if not self._create(mark, mine.to_json()):
            return False
        try:
            now = self._observe()
            if now is None or (now.info.id, now.version) != (lapsed.info.id, lapsed.version):
                return False  # renewed, released or already replaced: not ours to touch
            self._delete(self.name)
            if self._create(self.name, mine.to_json()):
                return True
            again = self.current()
            return again is not None and again.id == mine.id
        finally:
            self._delete(mark)

    def _held_message(self, holder: LockInfo | None, timeout: float) -> str:
        where = f"stack {self.stack} in {self.ctx.region}"
        if holder is None:
            return f"{where}: the lock {self.name} kept changing hands; waited {timeout:g}s (--lock-timeout)"
        state = "expired (another run is taking it over)" if holder.expired(self.clock()) else "held"
        return (
            f"{where} is locked: {state} by {holder.describe()}; waited {timeout:g}s (--lock-timeout). "
            f"If that run is gone, remove the lock with: pacs-reconcile force-unlock {holder.id}"
        )

    # ------------------------------------------------------------------------------- holding
    def renew(self) -> bool:
        """Push our lock's expiry forward; False when it is no longer ours (force-unlocked)."""
        if self.held is None:
            return False
        holder = self.current()
        if holder is None or holder.id != self.held.id:
            return False
        renewed = LockInfo(**{**asdict(self.held), "expires": _iso(self.clock() + self.ttl)})
        self._ssm.put_parameter(Name=self.name, Value=renewed.to_json(), Type="String", Overwrite=True)
        self.held = renewed
        return True

    def release(self) -> bool:
        """Remove our lock; False when it was not ours any more (someone force-unlocked it)."""
        if self.held is None:
            return False
        mine, self.held = self.held, None
        holder = self.current()
        if holder is None or holder.id != mine.id:
            return False
        self._delete(self.name)
        return True

    def force_unlock(self, lock_id: str) -> LockInfo:
        """Remove the lock if `lock_id` is the one it holds (and a takeover mark left for it)."""
        holder = self.current()
        if holder is None:
            raise LockError(f"stack {self.stack} in {self.ctx.region} is not locked; nothing to remove")
        if holder.id != lock_id:
            raise LockError(
                f"the lock of stack {self.stack} has id {holder.id}, not {lock_id} "
                f"(held by {holder.who}); nothing was removed"
            )
        self._delete(self.name)
        self._delete(takeover_name(self.stack, lock_id))
        return holder


@contextmanager
def stack_lock(
    ctx: AwsContext,
    stack: str,
    timeout: float,
    operation: str,
    warn: Callable[[str], None],
    renew_every: float = RENEW_EVERY_SECONDS,
) -> Iterator[LockInfo]:
    """Hold the stack's lock for the block, renewing it; released on success, error and Ctrl-C."""
    lock = StackLock(ctx, stack)
    info = lock.acquire(timeout, operation, warn)
    stop = threading.Event()
    lost: list[str] = []

    def heartbeat() -> None:
        while not stop.wait(renew_every):
            try:
                if not lock.renew():
                    lost.append("the lock was removed by someone else (force-unlock) while this run held it")
                    return
            except Exception as exc:  # a failed renewal is retried at the next beat
                lost.append(f"renewing the lock failed: {type(exc).__name__}")

    beat = threading.Thread(target=heartbeat, name="pacs-reconcile-lock", daemon=True)
    beat.start()
    try:
        yield info
    finally:
        stop.set()
        beat.join(timeout=30)
        for problem in dict.fromkeys(lost):
            warn(f"warning: {problem}")
        with _ctrl_c_deferred():
            try:
                if not lock.release():
                    warn(f"warning: the lock {lock.name} was no longer this run's; left as it is")
            except Exception as exc:  # never hide the run's own outcome behind a failed release
                warn(
                    f"warning: could not release the lock {lock.name} ({type(exc).__name__}); "
                    f"remove it with: pacs-reconcile force-unlock {info.id}"
                )


@contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """A Ctrl-C pressed while the lock is being released takes effect once it is (two quick
    calls): an impatient second Ctrl-C must not leave the stack locked."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt
