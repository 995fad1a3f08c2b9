"""The apply lock is a short lease: 60 s, renewed every 20 s by the holder's heartbeat (each
renewal moves the parameter's SSM version). A dead holder's lease lapses within a minute; on the
same host a holder whose process is gone is taken over at once, with a message naming it; and a
takeover stays safe under clock skew: a live holder whose clock is far behind (its expiry looks
long past) is never taken over while its lease's version moves, and a dead holder whose clock was
ahead (its expiry looks far off) lapses by AWS's own clock."""

from __future__ import annotations

import subprocess
import sys
import time
from email.utils import formatdate
from typing import Any

import pytest
from moto import mock_aws

from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine import lock as lock_module
from pacs_reconcile.engine.lock import LockHeld, LockInfo, StackLock, lock_name, whoami

from .helpers import share_model_loader

REGION = "ap-northeast-2"
STACK = "pacs-monitoring"
OTHER_HOST = "ci@runner-7"


@pytest.fixture
def new_ctx(monkeypatch: pytest.MonkeyPatch) -> Any:
    share_model_loader(monkeypatch)
    with mock_aws():
        yield lambda: AwsContext(AwsSettings(region=REGION, max_attempts=2), stack=STACK)


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _write_lock(ctx: AwsContext, who: str, pid: int, expires: float, lock_id: str = "holder1") -> None:
    value = LockInfo(lock_id, who, pid, "apply", _iso(expires - 60), _iso(expires)).to_json()
    ctx.client("ssm").put_parameter(Name=lock_name(STACK), Value=value, Type="String", Overwrite=True)


def _holder_id(ctx: AwsContext) -> str:
    info = LockInfo.from_json(ctx.client("ssm").get_parameter(Name=lock_name(STACK))["Parameter"]["Value"])
    assert info is not None
    return info.id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _aws_clock_ahead(ctx: AwsContext, seconds: float) -> None:
    """AWS answers GetParameter `seconds` later than the parameter's last change (Date header)."""

    def later(parsed: dict[str, Any], **_: Any) -> None:
        headers = parsed.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        headers["date"] = formatdate(time.time() + seconds, usegmt=True)

    ctx.client("ssm").meta.events.register("after-call.ssm.GetParameter", later)


def test_the_lease_is_a_minute_renewed_every_twenty_seconds() -> None:
    assert lock_module.LOCK_TTL_SECONDS == 60
    assert lock_module.RENEW_EVERY_SECONDS == 20  # two renewals may fail before the lease lapses


def test_a_dead_process_on_this_host_is_taken_over_at_once_naming_it(new_ctx: Any) -> None:
    ctx = new_ctx()
    dead = _dead_pid()
    _write_lock(ctx, whoami(), dead, time.time() + 50)  # a fresh lease: killed a moment ago
    said: list[str] = []
    naps: list[float] = []
    info = StackLock(ctx, STACK, sleep=naps.append).acquire(0, "apply", said.append)
    assert naps == [] and _holder_id(ctx) == info.id
    assert len(said) == 1
    assert said[0].startswith(f"took over the lock of {whoami()} (pid {dead}, apply since")
    assert said[0].endswith(f"lock id holder1): its process {dead} on this host is gone")


def test_a_live_process_on_this_host_keeps_its_lock(new_ctx: Any) -> None:
    ctx = new_ctx()
    _write_lock(ctx, whoami(), 1, time.time() + 50)  # pid 1 always exists
    with pytest.raises(LockHeld, match="is locked: held by"):
        StackLock(ctx, STACK).acquire(0, "apply")
    assert _holder_id(ctx) == "holder1"


def test_a_dead_holder_elsewhere_lapses_within_a_minute_by_the_leases_version(new_ctx: Any) -> None:
    """Killed 61 s ago on another machine: its lease says expired, and we cannot see its process.
    Waiting one lease (timed on our own clock) with its version unchanged proves it dead."""
    ctx = new_ctx()
    clock = [time.time()]
    _write_lock(ctx, OTHER_HOST, 4242, clock[0] - 1)
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        clock[0] += seconds

    said: list[str] = []
    info = StackLock(ctx, STACK, clock=lambda: clock[0], sleep=nap).acquire(0, "apply", said.append)
    assert _holder_id(ctx) == info.id
    assert 60 <= sum(naps) <= 62
    assert said and said[0].endswith("it was not renewed for 60s (version 1 unchanged)")


def test_a_dead_holder_whose_clock_ran_ahead_lapses_by_aws_clock(new_ctx: Any) -> None:
    """Its expiry, written by a clock 20 minutes ahead, still looks far off to us; AWS's own clock
    (Date of the response against the parameter's LastModifiedDate) says the lease lapsed."""
    ctx = new_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 20 * 60)
    _aws_clock_ahead(ctx, 75)
    said: list[str] = []
    info = StackLock(ctx, STACK, sleep=lambda s: None).acquire(0, "apply", said.append)
    assert _holder_id(ctx) == info.id
    assert said and "by AWS's clock" in said[0]


def test_a_live_holder_whose_clock_is_behind_is_never_taken_over(new_ctx: Any) -> None:
    """Its clock is 10 minutes behind ours: every expiry it writes looks 9 minutes past to us. It
    keeps renewing (its lease's version moves), so after watching one lease we give up, and the
    lock is still its own."""
    ctx = new_ctx()
    holder_ctx = new_ctx()
    clock = [time.time()]
    skewed = -600.0

    def renew() -> None:
        _write_lock(holder_ctx, OTHER_HOST, 4242, clock[0] + skewed + 60)

    renew()
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        clock[0] += seconds
        if len(naps) % 10 == 0:  # the holder's heartbeat, every 20 s
            renew()

    with pytest.raises(LockHeld, match="is locked"):
        StackLock(ctx, STACK, clock=lambda: clock[0], sleep=nap).acquire(0, "apply")
    assert _holder_id(ctx) == "holder1"
    assert 60 <= sum(naps) <= 64  # watched for one lease, not longer


def test_a_live_holder_with_a_fresh_lease_is_refused_at_once(new_ctx: Any) -> None:
    ctx = new_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 55)
    naps: list[float] = []
    with pytest.raises(LockHeld):
        StackLock(ctx, STACK, sleep=naps.append).acquire(0, "apply")
    assert naps == []


def test_a_takeover_checks_the_version_it_judged(new_ctx: Any) -> None:
    """Judged dead, but renewed before the takeover deletes it: left alone."""
    ctx = new_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() - 3600)
    lock = StackLock(ctx, STACK)
    lapsed = lock._observe()
    assert lapsed is not None and lock._lapsed(lapsed, 0) == f"it expired at {lapsed.info.expires}"
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 60)  # the holder renews: version 2
    assert lock._take_over(lapsed, lock._new_info("apply")) is False
    assert _holder_id(ctx) == "holder1"
