"""The account id is asked of STS once per context, however many reads want it at the same time."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pacs_reconcile.aws import AwsContext

READERS = 8


def test_reads_asking_for_the_account_id_at_once_share_one_get_caller_identity(aws: AwsContext) -> None:
    start = threading.Barrier(READERS)
    arrived = threading.Condition()
    calls = [0]

    def first_call_waits_for_company(**_: Any) -> None:
        # Hold each call until a second one arrives: they do (each reader saw no id yet) unless
        # the readers wait for the first call. Bounded, so a single call goes on regardless.
        with arrived:
            calls[0] += 1
            arrived.notify_all()
            arrived.wait_for(lambda: calls[0] >= 2, timeout=0.5)

    aws.client("sts").meta.events.register("before-call.sts.GetCallerIdentity", first_call_waits_for_company)

    def reader(_: int) -> str:
        start.wait()
        return aws.account_id

    with ThreadPoolExecutor(READERS) as pool:
        ids = list(pool.map(reader, range(READERS)))

    assert set(ids) == {"123456789012"}
    assert aws.stats.calls["sts.GetCallerIdentity"] == 1
