"""A plan's reads overlap: lookups resolve while live state is read, and clients of different
services are made side by side. Each test is a rendezvous with a timeout: the serial code it
replaced waits out the timeout and fails, the concurrent code meets at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import retry_policy
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.engine import plan
from pacs_reconcile.resources.lookups import LookupFailed
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

    ctx._session.client = make  # type: ignore[method-assign]
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
