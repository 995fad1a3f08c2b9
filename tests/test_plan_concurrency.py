"""A plan's reads overlap: lookups resolve while live state is read, and clients of different
services are made side by side. Each test is a rendezvous with a timeout: the serial code it
replaced waits out the timeout and fails, the concurrent code meets at once."""

from __future__ import annotations

import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import retry_policy
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine import plan
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.lookups import LookupFailed
from pacs_reconcile.resources.registry import KINDS, child_kinds, top_level_kinds
from pacs_reconcile.spec.loader import load_spec
from pacs_reconcile.spec.model import Spec

WAIT_S = 5.0


@pytest.fixture
def empty_spec(tmp_path: Path) -> Spec:
    (tmp_path / "monitoring.yaml").write_text("version: 1\nstack: pacs-test\nregion: ap-northeast-2\n")
    return load_spec(tmp_path / "monitoring.yaml")


def test_lookups_resolve_while_live_state_is_read(empty_spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    lookups_started = threading.Event()
    reading_started = threading.Event()
    met: dict[str, bool] = {}

    def resolve_lookups(spec: Spec, ctx: Any) -> dict[str, dict[str, Any]]:
        lookups_started.set()
        met["lookups saw the read"] = reading_started.wait(WAIT_S)
        return {"vpc": {"id": "vpc-1"}}

    def read_live(spec: Spec, ctx: Any, *options: Any) -> plan.LiveByKind:
        reading_started.set()
        met["read saw the lookups"] = lookups_started.wait(WAIT_S)
        return {}

    monkeypatch.setattr(plan, "resolve_lookups", resolve_lookups)
    monkeypatch.setattr(plan, "read_live", read_live)
    monkeypatch.setattr(plan, "sweep_ahead", lambda spec, ctx: None)  # no AWS here
    result = plan.make_plan(empty_spec, AwsContext(AwsSettings(region="ap-northeast-2")))
    assert met == {"lookups saw the read": True, "read saw the lookups": True}
    assert result.lookups == {"vpc": {"id": "vpc-1"}}


def test_a_failed_lookup_is_reported_even_when_the_read_fails_too(
    empty_spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    def resolve_lookups(spec: Spec, ctx: Any) -> dict[str, dict[str, Any]]:
        raise LookupFailed("existing infrastructure the spec needs was not found: lookups.vpc")

    def read_live(spec: Spec, ctx: Any, *options: Any) -> plan.LiveByKind:
        raise RuntimeError("the read failed")

    monkeypatch.setattr(plan, "resolve_lookups", resolve_lookups)
    monkeypatch.setattr(plan, "read_live", read_live)
    monkeypatch.setattr(plan, "sweep_ahead", lambda spec, ctx: None)  # no AWS here
    with pytest.raises(LookupFailed, match=r"lookups\.vpc"):
        plan.make_plan(empty_spec, AwsContext(AwsSettings(region="ap-northeast-2")))


def test_a_client_is_not_held_up_by_another_service_s_client_being_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stand-in clients below are bare objects: no retry handler to install on them.
    monkeypatch.setattr(retry_policy, "install", lambda *_: None)
    ctx = AwsContext(AwsSettings(region="ap-northeast-2"))
    release_slow = threading.Event()
    made: list[str] = []

    def make(service: str, **_: Any) -> object:
        if service == "cloudwatch":
            release_slow.wait(WAIT_S)
        made.append(service)
        return object()

    ctx._session.create_client = make  # type: ignore[method-assign]
    first = ctx.client("sts")  # the first client is made alone (it sets up the session)
    slow = threading.Thread(target=ctx.client, args=("cloudwatch",))
    slow.start()
    fast: dict[str, object] = {}
    other = threading.Thread(target=lambda: fast.update(logs=ctx.client("logs"), sts=ctx.client("sts")))
    other.start()
    other.join(WAIT_S / 2)
    still_making_cloudwatch = not release_slow.is_set() and slow.is_alive()
    release_slow.set()
    slow.join()
    other.join()
    assert still_making_cloudwatch
    assert made[:2] == ["sts", "logs"], made
    assert fast["sts"] is first
    assert ctx.client("cloudwatch") is ctx.client("cloudwatch")
    assert sorted(made) == ["cloudwatch", "logs", "sts"]


def _reads_replaced(monkeypatch: pytest.MonkeyPatch, read: Any) -> None:
    """Every kind's read replaced by `read(kind, scope)`; nothing read ahead (no AWS here)."""
    for kind, reconciler in KINDS.items():
        monkeypatch.setattr(reconciler, "read", lambda ctx, keys, scope, kind=kind: read(kind, scope))
        monkeypatch.setattr(reconciler, "read_ahead", lambda ctx, keys, stack: None)


def test_every_top_level_kind_is_read_at_once(empty_spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """A barrier of every top-level kind's read: with 8 workers for 20-odd kinds, the ninth kind
    waited for one of the first eight to finish."""
    top = top_level_kinds()
    everyone = threading.Barrier(len(top), timeout=WAIT_S)

    def read(kind: str, scope: ReadScope) -> dict[Any, Any]:
        if kind in top:
            everyone.wait()
        return {}

    _reads_replaced(monkeypatch, read)
    live = plan.read_live(empty_spec, AwsContext(AwsSettings(region="ap-northeast-2")))
    assert set(live) == set(KINDS)


def test_a_kind_s_children_are_read_as_soon_as_it_is_read(
    empty_spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Children waited for the slowest top-level kind, whoever's parent it was: the slow kind here
    can only finish once another kind's child read has started."""
    parent = next(kind for kind in top_level_kinds() if child_kinds(kind))
    child = child_kinds(parent)[0]
    slow = next(kind for kind in top_level_kinds() if kind != parent)
    child_started = threading.Event()
    met: dict[str, bool] = {}

    def read(kind: str, scope: ReadScope) -> dict[Any, Any]:
        if kind == slow:
            met["the child read started meanwhile"] = child_started.wait(WAIT_S)
        if kind == child:
            child_started.set()
        return {}

    _reads_replaced(monkeypatch, read)
    plan.read_live(empty_spec, AwsContext(AwsSettings(region="ap-northeast-2")))
    assert met == {"the child read started meanwhile": True}


def test_the_first_failed_kind_in_order_is_reported_and_no_child_read_follows_a_failure(
    empty_spec: Spec, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = top_level_kinds()
    first, second = top[1], top[-1]
    second_failed = threading.Event()
    children_read: list[str] = []

    def read(kind: str, scope: ReadScope) -> dict[Any, Any]:
        if kind == second:
            raise RuntimeError(f"{kind} failed")
        if kind == first:
            second_failed.wait(WAIT_S)  # fails after the other, but comes first in the kinds' order
            raise RuntimeError(f"{kind} failed")
        if kind not in top:
            children_read.append(kind)
        else:
            second_failed.wait(WAIT_S)  # every other top-level kind finishes after a failure
        return {}

    class Pool(futures.ThreadPoolExecutor):
        """The read pool, telling when a read's failure is in its future (the moment read_live can
        know of it: the event the read itself could set comes before, and another kind finishing in
        between would rightly have its children read)."""

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> futures.Future[Any]:
            future = super().submit(fn, *args, **kwargs)
            future.add_done_callback(lambda f: f.exception() is not None and second_failed.set())
            return future

    monkeypatch.setattr(plan.futures, "ThreadPoolExecutor", Pool)
    _reads_replaced(monkeypatch, read)
    with pytest.raises(RuntimeError, match=f"^{first} failed$"):
        plan.read_live(empty_spec, AwsContext(AwsSettings(region="ap-northeast-2")))
    assert children_read == []
