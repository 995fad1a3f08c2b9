"""Point 2, one apply at a time per stack and region: the lock is an SSM parameter created only
if absent, holding who, when and an expiry; apply and destroy take it, plan and drift never do;
a second apply waits up to --lock-timeout then exits 1 naming the holder; an expired lock is taken
over by exactly one run; `force-unlock ID` removes it only when the id matches; the lock is
released on success, failure and Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pacs_reconcile.aws import AwsContext, AwsSettings, is_mutating
from pacs_reconcile.engine import lock as lock_module
from pacs_reconcile.engine.lock import LockError, LockHeld, LockInfo, StackLock, lock_name, whoami

from .conftest import Cli, Server
from .faults import FaultInjector, inject_into_every_context

REGION = "ap-northeast-2"
STACK = "pacs-monitoring"


@pytest.fixture
def moto_ctx(monkeypatch: pytest.MonkeyPatch) -> Any:
    with mock_aws():
        yield lambda: AwsContext(AwsSettings(region=REGION, max_attempts=2), stack=STACK)


def _value(name: str = lock_name(STACK), endpoint: str | None = None) -> dict[str, Any] | None:
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint)
    try:
        return dict(json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"]))
    except ssm.exceptions.ParameterNotFound:
        return None


def _expired_lock(lock_id: str = "deadbeef") -> str:
    return LockInfo(
        lock_id, "ci@runner-7", 4242, "apply", "2020-01-01T00:00:00Z", "2020-01-01T00:10:00Z"
    ).to_json()


# In-process ------------------------------------------------------------------------------------


def test_the_lock_is_an_ssm_parameter_naming_its_holder_and_a_second_taker_is_refused(moto_ctx: Any) -> None:
    first = StackLock(moto_ctx(), STACK)
    info = first.acquire(0, "apply")
    stored = _value()
    assert stored is not None
    assert set(stored) == {"id", "who", "pid", "operation", "when", "expires"}
    assert stored["id"] == info.id and stored["operation"] == "apply" and "@" in stored["who"]
    assert LockInfo.from_json(json.dumps(stored)) == info
    assert not info.expired(time.time()) and info.expired(time.time() + lock_module.LOCK_TTL_SECONDS + 1)

    with pytest.raises(LockHeld) as held:
        StackLock(moto_ctx(), STACK).acquire(0, "destroy")
    message = str(held.value)
    assert f"stack {STACK} in {REGION} is locked" in message
    assert info.who in message and f"pid {info.pid}" in message and info.id in message
    assert f"pacs-reconcile force-unlock {info.id}" in message

    assert first.release() is True
    assert _value() is None
    assert StackLock(moto_ctx(), STACK).acquire(0, "apply").id != info.id


def test_a_waiting_run_polls_until_the_holder_releases_within_its_timeout(moto_ctx: Any) -> None:
    holder = StackLock(moto_ctx(), STACK)
    holder.acquire(0, "apply")
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        if len(naps) == 3:
            holder.release()

    waiter = StackLock(moto_ctx(), STACK, sleep=nap)
    info = waiter.acquire(60, "apply")
    assert len(naps) == 3 and all(0 < n <= lock_module.POLL_SECONDS for n in naps)
    assert _value() is not None and _value()["id"] == info.id  # type: ignore[index]


def test_the_wait_is_bounded_by_the_timeout(moto_ctx: Any) -> None:
    StackLock(moto_ctx(), STACK).acquire(0, "apply")
    clock = [1_000_000.0]
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        clock[0] += seconds

    with pytest.raises(LockHeld, match=r"waited 5s \(--lock-timeout\)"):
        StackLock(moto_ctx(), STACK, clock=lambda: clock[0], sleep=nap).acquire(5, "apply")
    assert sum(naps) == pytest.approx(5.0)
    assert len(naps) == 3  # 2 s, 2 s, then the 1 s left


def test_an_expired_lock_is_taken_over(moto_ctx: Any) -> None:
    ctx = moto_ctx()
    ctx.client("ssm").put_parameter(Name=lock_name(STACK), Value=_expired_lock(), Type="String")
    info = StackLock(ctx, STACK).acquire(0, "apply")
    assert _value()["id"] == info.id != "deadbeef"  # type: ignore[index]
    assert _value(lock_module.takeover_name(STACK, "deadbeef")) is None  # the takeover mark is cleaned up


def test_of_runs_racing_for_an_expired_lock_exactly_one_wins(moto_ctx: Any) -> None:
    for round_ in range(5):
        ctx = moto_ctx()
        ssm = ctx.client("ssm")
        ssm.delete_parameters(Names=[lock_name(STACK)])
        ssm.put_parameter(Name=lock_name(STACK), Value=_expired_lock(f"dead{round_}"), Type="String")
        start = threading.Barrier(4)
        winners: list[str] = []
        losers: list[str] = []

        def race(
            start: threading.Barrier = start, winners: list[str] = winners, losers: list[str] = losers
        ) -> None:
            contender = StackLock(moto_ctx(), STACK)
            start.wait(timeout=10)
            try:
                winners.append(contender.acquire(0, "apply").id)
            except LockHeld as exc:
                losers.append(str(exc))

        threads = [threading.Thread(target=race) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(winners) == 1, (winners, losers)
        assert len(losers) == 3
        assert _value()["id"] == winners[0]  # type: ignore[index]


def test_renewal_moves_the_expiry_and_stops_once_someone_else_holds_the_lock(moto_ctx: Any) -> None:
    clock = [2_000_000.0]
    mine = StackLock(moto_ctx(), STACK, clock=lambda: clock[0])
    info = mine.acquire(0, "apply")
    clock[0] += 300
    assert mine.renew() is True
    assert _value()["expires"] > info.expires  # type: ignore[index]
    StackLock(moto_ctx(), STACK).force_unlock(info.id)
    theirs = StackLock(moto_ctx(), STACK).acquire(0, "apply")
    assert mine.renew() is False
    assert mine.release() is False  # never removes the newcomer's lock
    assert _value()["id"] == theirs.id  # type: ignore[index]


def test_force_unlock_needs_the_id_of_the_lock_it_removes(moto_ctx: Any) -> None:
    info = StackLock(moto_ctx(), STACK).acquire(0, "apply")
    with pytest.raises(LockError, match=f"has id {info.id}, not 0123"):
        StackLock(moto_ctx(), STACK).force_unlock("0123")
    assert _value() is not None
    assert StackLock(moto_ctx(), STACK).force_unlock(info.id) == info
    assert _value() is None
    with pytest.raises(LockError, match="is not locked"):
        StackLock(moto_ctx(), STACK).force_unlock(info.id)


def test_a_value_this_tool_did_not_write_is_never_taken_over(moto_ctx: Any) -> None:
    moto_ctx().client("ssm").put_parameter(Name=lock_name(STACK), Value="not json", Type="String")
    with pytest.raises(LockError, match="does not hold a lock this tool wrote"):
        StackLock(moto_ctx(), STACK).acquire(0, "apply")


def test_the_heartbeat_renews_and_the_block_always_releases(moto_ctx: Any) -> None:
    ctx = moto_ctx()
    warnings: list[str] = []
    with lock_module.stack_lock(ctx, STACK, 0, "apply", warnings.append, renew_every=0.05) as info:
        first = _value()["expires"]  # type: ignore[index]
        deadline = time.monotonic() + 10
        while ctx.stats.calls["ssm.PutParameter"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ctx.stats.calls["ssm.PutParameter"] >= 2  # created, then renewed by the heartbeat
        assert _value()["id"] == info.id and _value()["expires"] >= first  # type: ignore[index]
    assert _value() is None
    assert warnings == []
    with pytest.raises(RuntimeError), lock_module.stack_lock(ctx, STACK, 0, "apply", warnings.append):
        raise RuntimeError("the apply failed")
    assert _value() is None


# The lease ---------------------------------------------------------------------------------------
# The apply lock is a short lease: 60 s, renewed every 20 s by the holder's heartbeat (each
# renewal moves the parameter's SSM version). A dead holder's lease lapses within a minute; on the
# same host a holder whose process is gone is taken over at once, with a message naming it; and a
# takeover stays safe under clock skew: a live holder whose clock is far behind (its expiry looks
# long past) is never taken over while its lease's version moves, and a dead holder whose clock was
# ahead (its expiry looks far off) lapses by AWS's own clock.

OTHER_HOST = "ci@runner-7"


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


def test_a_dead_process_on_this_host_is_taken_over_at_once_naming_it(moto_ctx: Any) -> None:
    ctx = moto_ctx()
    dead = _dead_pid()
    _write_lock(ctx, whoami(), dead, time.time() + 50)  # a fresh lease: killed a moment ago
    said: list[str] = []
    naps: list[float] = []
    info = StackLock(ctx, STACK, sleep=naps.append).acquire(0, "apply", said.append)
    assert naps == [] and _holder_id(ctx) == info.id
    assert len(said) == 1
    assert said[0].startswith(f"took over the lock of {whoami()} (pid {dead}, apply since")
    assert said[0].endswith(f"lock id holder1): its process {dead} on this host is gone")


def test_a_live_process_on_this_host_keeps_its_lock(moto_ctx: Any) -> None:
    ctx = moto_ctx()
    _write_lock(ctx, whoami(), 1, time.time() + 50)  # pid 1 always exists
    with pytest.raises(LockHeld, match="is locked: held by"):
        StackLock(ctx, STACK).acquire(0, "apply")
    assert _holder_id(ctx) == "holder1"


def test_a_dead_holder_elsewhere_lapses_within_a_minute_by_the_leases_version(moto_ctx: Any) -> None:
    """Killed 61 s ago on another machine: its lease says expired, and we cannot see its process.
    Waiting one lease (timed on our own clock) with its version unchanged proves it dead."""
    ctx = moto_ctx()
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


def test_a_dead_holder_whose_clock_ran_ahead_lapses_by_aws_clock(moto_ctx: Any) -> None:
    """Its expiry, written by a clock 20 minutes ahead, still looks far off to us; AWS's own clock
    (Date of the response against the parameter's LastModifiedDate) says the lease lapsed."""
    ctx = moto_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 20 * 60)
    _aws_clock_ahead(ctx, 75)
    said: list[str] = []
    info = StackLock(ctx, STACK, sleep=lambda s: None).acquire(0, "apply", said.append)
    assert _holder_id(ctx) == info.id
    assert said and "by AWS's clock" in said[0]


def test_a_live_holder_whose_clock_is_behind_is_never_taken_over(moto_ctx: Any) -> None:
    """Its clock is 10 minutes behind ours: every expiry it writes looks 9 minutes past to us. It
    keeps renewing (its lease's version moves), so after watching one lease we give up, and the
    lock is still its own."""
    ctx = moto_ctx()
    holder_ctx = moto_ctx()
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


def test_a_live_holder_with_a_fresh_lease_is_refused_at_once(moto_ctx: Any) -> None:
    ctx = moto_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 55)
    naps: list[float] = []
    with pytest.raises(LockHeld):
        StackLock(ctx, STACK, sleep=naps.append).acquire(0, "apply")
    assert naps == []


def test_a_takeover_checks_the_version_it_judged(moto_ctx: Any) -> None:
    """Judged dead, but renewed before the takeover deletes it: left alone."""
    ctx = moto_ctx()
    _write_lock(ctx, OTHER_HOST, 4242, time.time() - 3600)
    lock = StackLock(ctx, STACK)
    lapsed = lock._observe()
    assert lapsed is not None and lock._lapsed(lapsed, 0) == f"it expired at {lapsed.info.expires}"
    _write_lock(ctx, OTHER_HOST, 4242, time.time() + 60)  # the holder renews: version 2
    assert lock._take_over(lapsed, lock._new_info("apply")) is False
    assert _holder_id(ctx) == "holder1"


# End to end: the CLI against the moto server ----------------------------------------------------


def _hold(server: Server) -> LockInfo:
    ctx = AwsContext(AwsSettings(region=REGION, endpoint_url=server.endpoint), stack=STACK)
    return StackLock(ctx, STACK).acquire(0, "apply")


def test_a_second_apply_exits_1_naming_the_holder_while_plan_and_drift_never_take_the_lock(
    cli: Cli, server: Server
) -> None:
    holder = _hold(server)
    refused = cli("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "is locked: held by" in refused.stderr and holder.id in refused.stderr
    assert f"pacs-reconcile force-unlock {holder.id}" in refused.stderr
    assert refused.mutating_calls == {"ssm.PutParameter": 1}  # its own try at the lock, nothing else
    nothing_to_destroy = cli("destroy", "--auto-approve")  # nothing exists yet: no work, so no lock needed
    assert nothing_to_destroy.exit_code == 0 and "ssm.PutParameter" not in nothing_to_destroy.calls

    planned = cli("plan")
    assert planned.exit_code == 0, planned.stderr
    drifted = cli("drift")
    assert drifted.exit_code in (0, 2), drifted.stderr
    for result in (planned, drifted):
        assert not {
            c
            for c in result.calls
            if c.startswith("ssm.") and c != "ssm.GetParameters" and c != "ssm.DescribeParameters"
        }, result.calls
        assert result.mutating_calls == {}
    assert _value(endpoint=server.endpoint)["id"] == holder.id  # type: ignore[index]

    started = time.monotonic()
    waited = cli("apply", "--auto-approve", "--lock-timeout", "1.5")
    assert waited.exit_code == 1 and "waited 1.5s" in waited.stderr
    assert 1.4 <= time.monotonic() - started < 30

    wrong = cli("force-unlock", "0000")
    assert wrong.exit_code == 1 and f"has id {holder.id}, not 0000" in wrong.stderr
    unlocked = cli("force-unlock", holder.id)
    assert unlocked.exit_code == 0, unlocked.stderr
    assert "Removed the lock" in unlocked.stderr and holder.who in unlocked.stderr
    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert _value(endpoint=server.endpoint) is None


def test_the_lock_is_released_when_apply_fails(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    injector = FaultInjector(denied=lambda service, operation: operation == "CreateTopic")
    inject_into_every_context(monkeypatch, injector)
    failed = cli("apply", "--auto-approve")
    monkeypatch.undo()
    # The stack has more than one topic (alerts, and undelivered for the notifier's dead letters):
    # each topic's CreateTopic is sent once and denied once; AccessDenied is never retried.
    topics = set(re.findall(r"# (sns_topics\.\w+) will be created\n", failed.stdout))
    assert len(topics) >= 1
    assert failed.calls.get("sns.CreateTopic", 0) == len(topics)
    assert failed.exit_code == 1 and injector.injected["denied"] == len(topics)
    assert all(f"failed: {topic}: CreateTopic: AccessDenied" in failed.stdout for topic in topics)
    assert failed.calls.get("ssm.DeleteParameter", 0) >= 1
    assert _value(endpoint=server.endpoint) is None


def test_the_lock_is_released_on_ctrl_c_and_the_run_exits_130(
    cli: Cli, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C arrives (in the main thread, as it would) while the fifth change is being sent."""
    sent: list[str] = []

    def interrupt_at_the_fifth_change(service: str, operation: str) -> bool:
        if is_mutating(operation) and operation != "PutParameter":
            sent.append(operation)
            if len(sent) == 5:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does (the handler runs in the main thread)
        return False

    inject_into_every_context(monkeypatch, FaultInjector(only=interrupt_at_the_fifth_change))
    interrupted = cli("apply", "--auto-approve")
    monkeypatch.undo()
    assert interrupted.exit_code == 130, interrupted.stdout + interrupted.stderr
    assert "Apply interrupted!" in interrupted.stdout
    summary = re.search(r"Resources: (\d+) added", interrupted.stdout)
    assert summary and 1 <= int(summary[1]) < 44
    assert _value(endpoint=server.endpoint) is None
    assert cli("apply", "--auto-approve").exit_code == 0
    assert cli("plan", "--detailed-exitcode").exit_code == 0
