"""The job scheduler apply runs on: dependencies first, independent jobs side by side, a failure's
dependents skipped (naming the failure), and Ctrl-C leaving what had not started unstarted."""

from __future__ import annotations

import concurrent.futures as futures
import threading
from collections.abc import Callable
from typing import Any

import pytest

from pacs_reconcile.engine.scheduler import JobResult, Status, run_jobs


def _recorder() -> tuple[list[str], Callable[[str], Callable[[], None]]]:
    order: list[str] = []
    lock = threading.Lock()

    def job(name: str) -> Callable[[], None]:
        def run() -> None:
            with lock:
                order.append(name)

        return run

    return order, job


def test_dependencies_run_first_and_results_cover_every_job() -> None:
    order, job = _recorder()
    jobs = {name: job(name) for name in ("a", "b", "c", "d")}
    deps = {"c": {"a", "b"}, "d": {"c", "not-a-job"}}
    results, interrupted = run_jobs(jobs, deps, parallelism=2)
    assert not interrupted
    assert {name: r.status for name, r in results.items()} == dict.fromkeys("abcd", Status.DONE)
    assert order.index("c") > max(order.index("a"), order.index("b")) and order[-1] == "d"


def test_independent_jobs_run_at_the_same_time() -> None:
    both_started = threading.Barrier(2, timeout=5)
    jobs = {name: both_started.wait for name in ("a", "b")}
    results, _ = run_jobs(jobs, {}, parallelism=2)  # one at a time, the barrier would time out
    assert all(r.status is Status.DONE for r in results.values())


def test_one_at_a_time_in_name_order() -> None:
    order, job = _recorder()
    run_jobs({name: job(name) for name in ("c", "a", "b")}, {}, parallelism=1)
    assert order == ["a", "b", "c"]


def test_a_failure_skips_its_dependents_transitively_and_nothing_else() -> None:
    order, job = _recorder()

    def fail() -> None:
        raise RuntimeError("boom")

    jobs = {"bad": fail, "child": job("child"), "grandchild": job("grandchild"), "other": job("other")}
    deps = {"child": {"bad"}, "grandchild": {"child"}}
    finished: list[JobResult] = []
    results, _ = run_jobs(jobs, deps, parallelism=4, on_finish=finished.append)
    assert results["bad"].status is Status.FAILED and isinstance(results["bad"].error, RuntimeError)
    assert (results["child"].status, results["child"].blocked_by) == (Status.SKIPPED, "bad")
    assert (results["grandchild"].status, results["grandchild"].blocked_by) == (Status.SKIPPED, "child")
    assert order == ["other"]
    assert sorted(r.name for r in finished) == sorted(jobs)


def test_ctrl_c_lets_running_jobs_finish_and_starts_nothing_new(monkeypatch: pytest.MonkeyPatch) -> None:
    order, job = _recorder()
    real_wait = futures.wait
    interruptions = [KeyboardInterrupt()]

    def wait_then_interrupt(*args: Any, **kwargs: Any) -> Any:
        found = real_wait(*args, **kwargs)  # the running job finishes...
        if interruptions:
            raise interruptions.pop()  # ...while Ctrl-C reaches the waiting main thread, once
        return found

    monkeypatch.setattr(futures, "wait", wait_then_interrupt)
    jobs = {"first": job("first"), "second": job("second"), "third": job("third")}
    results, interrupted = run_jobs(jobs, {"second": {"first"}}, parallelism=1)
    assert interrupted
    assert order == ["first"] and results["first"].status is Status.DONE
    assert results["second"].status is Status.NOT_STARTED and results["third"].status is Status.NOT_STARTED


def test_while_nothing_failed_no_ready_job_has_its_dependencies_looked_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large apply has a thousand ready jobs waiting for 8 workers: looking at every ready job's
    dependencies each time one finished made the main thread's work grow with the square of the
    jobs. Until something fails nothing ready can be broken; after a failure its dependents are
    still skipped (the tests above)."""
    from pacs_reconcile.engine import scheduler

    looked: list[str] = []
    broken = scheduler._Run._broken
    monkeypatch.setattr(scheduler._Run, "_broken", lambda run, name: looked.append(name) or broken(run, name))
    order, job = _recorder()
    jobs = {f"job{i:03d}": job(f"job{i:03d}") for i in range(300)}
    jobs["root"] = job("root")
    results, _ = run_jobs(jobs, {name: {"root"} for name in jobs if name != "root"}, parallelism=4)
    assert all(r.status is Status.DONE for r in results.values())
    assert order[0] == "root" and sorted(order[1:]) == sorted(set(jobs) - {"root"})
    assert looked == []


def test_jobs_others_wait_for_start_before_jobs_nobody_waits_for() -> None:
    """Of the ready jobs, the one a chain of others waits for starts first, then the one most jobs
    wait for, then the rest by name: in name order the leaves `a*` would hold every worker while
    the chain behind `z_head` waited, one link at a time, until they were all done."""
    order, job = _recorder()
    names = ["a0", "a1", "a2", "m_topic", "z_head", "z_body", "z_tail", "alarm0", "alarm1", "alarm2"]
    deps = {
        "z_body": {"z_head"},
        "z_tail": {"z_body"},
        **{f"alarm{i}": {"m_topic"} for i in range(3)},
    }
    run_jobs({name: job(name) for name in names}, deps, parallelism=1)
    # z_head: a chain of 2 behind it; m_topic: a chain of 1 and 3 jobs behind it; z_body: a chain
    # of 1 and 1 job; then the leaves, by name
    assert order == ["z_head", "m_topic", "z_body", "a0", "a1", "a2", "alarm0", "alarm1", "alarm2", "z_tail"]


def test_start_order_ranks_by_chain_then_by_jobs_waiting_then_by_name() -> None:
    from pacs_reconcile.engine.scheduler import start_order

    deps = {"root": set(), "mid": {"root"}, "leaf": {"mid"}, "wide": set(), "w1": {"wide"}, "w2": {"wide"}}
    deps |= {"w3": {"wide"}, "solo": set()}
    ranks = start_order(deps)
    assert sorted(deps, key=ranks.__getitem__) == ["root", "wide", "mid", "leaf", "solo", "w1", "w2", "w3"]
