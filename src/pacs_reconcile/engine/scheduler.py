"""Runs jobs with dependencies on a thread pool: independent work in parallel, dependents in order,
failures' dependents skipped, and a clean stop on Ctrl-C (in-flight calls finish, nothing new starts).

The order is graphlib's: `TopologicalSorter.get_ready()` hands out the jobs whose dependencies are
finished, `done()` reports one finished. A failed or skipped job is reported done too, so that its
dependents come out of the sorter and are skipped in turn, naming what blocked them.

Of the ready jobs, those on the longest chains of dependents start first, then those more jobs
wait for, then by name (`start_order`): started in name order, the 618 log group jobs of a large
apply ran before the one topic 1,000 alarms waited for, and the chains behind them (role, policy,
function, permission; security groups, mount targets, services) ran one link at a time after the
bulk, with the workers half idle."""

from __future__ import annotations

import concurrent.futures as futures
import heapq
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from graphlib import CycleError, TopologicalSorter


class Status(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_STARTED = "not started"


@dataclass
class JobResult:
    name: str
    status: Status
    error: BaseException | None = None
    seconds: float = 0.0
    blocked_by: str = ""


def run_jobs(
    jobs: Mapping[str, Callable[[], None]],
    deps: Mapping[str, set[str]],
    parallelism: int,
    on_start: Callable[[str], None] | None = None,
    on_finish: Callable[[JobResult], None] | None = None,
    rank: Mapping[str, Rank] | None = None,
) -> tuple[dict[str, JobResult], bool]:
    """Run every job once all its deps are DONE. Returns results and whether Ctrl-C stopped the run.
    `rank`: start_order of these jobs, when the caller has worked it out already."""
    run = _Run(jobs, deps, max(1, parallelism), on_start, on_finish)
    graph = TopologicalSorter(run.deps)
    try:
        graph.prepare()
    except CycleError:  # validation rules cycles out: nothing can be ordered, nothing starts
        for name in sorted(jobs):
            run.finish(JobResult(name, Status.SKIPPED, blocked_by="a dependency cycle"))
        return run.results, False
    run.rank = dict(rank) if rank is not None else start_order(run.deps)
    with futures.ThreadPoolExecutor(max_workers=run.parallelism) as pool:
        run.execute(graph, pool)
    for name in sorted(set(jobs) - set(run.results)):
        run.finish(JobResult(name, Status.NOT_STARTED))
    return run.results, run.interrupted


Rank = tuple[int, int, str]
"""Sorts first what starts first: (-longest chain of dependents, -jobs waiting on it, name)."""


def start_order(deps: Mapping[str, set[str]]) -> dict[str, Rank]:
    """Each job's rank among ready jobs: the longest chain of jobs that wait on it first (its
    dependents can only start once it is done), then the number of jobs that wait on it directly or
    transitively, then its name. `deps` must be acyclic (every job a key)."""
    dependents: dict[str, list[str]] = {name: [] for name in deps}
    for name, needs in deps.items():
        for need in needs:
            dependents[need].append(name)
    index = {name: i for i, name in enumerate(deps)}
    height: dict[str, int] = {}
    below: dict[str, int] = {}
    """A job's transitive dependents, as a bit set of their indexes (an int: unions stay cheap)."""
    for name in reversed(list(TopologicalSorter(deps).static_order())):
        height[name] = max((height[d] + 1 for d in dependents[name]), default=0)
        waiting = 0
        for d in dependents[name]:
            waiting |= below[d] | (1 << index[d])
        below[name] = waiting
    return {name: (-height[name], -below[name].bit_count(), name) for name in deps}


class _Run:
    """The state of one run_jobs call."""

    def __init__(
        self,
        jobs: Mapping[str, Callable[[], None]],
        deps: Mapping[str, set[str]],
        parallelism: int,
        on_start: Callable[[str], None] | None,
        on_finish: Callable[[JobResult], None] | None,
    ) -> None:
        self.jobs = jobs
        self.deps = {name: {d for d in deps.get(name, set()) if d in jobs} for name in jobs}
        self.parallelism = parallelism
        self.on_start = on_start
        self.on_finish = on_finish
        self.results: dict[str, JobResult] = {}
        self.rank: dict[str, Rank] = {}
        self.ready: list[Rank] = []
        """The ready jobs not started, a heap by rank (the name is a rank's last part)."""
        self.running: dict[futures.Future[None], tuple[str, float]] = {}
        self.interrupted = False
        self.any_not_done = False
        """Whether a job failed or was skipped: only then can a ready job have a broken dependency."""

    def finish(self, result: JobResult) -> None:
        self.results[result.name] = result
        if result.status is not Status.DONE:
            self.any_not_done = True
        if self.on_finish:
            self.on_finish(result)

    def execute(self, graph: TopologicalSorter[str], pool: futures.Executor) -> None:
        """Start what is ready, wait for one to finish, repeat; after Ctrl-C only wait."""
        while True:
            if not self.interrupted:
                self._admit(graph, pool)
            if not self.running:
                return
            try:
                finished, _ = futures.wait(self.running, return_when=futures.FIRST_COMPLETED)
            except KeyboardInterrupt:
                self.interrupted = True
                continue
            for future in finished:
                name, started = self.running.pop(future)
                error = future.exception()
                status = Status.DONE if error is None else Status.FAILED
                self.finish(JobResult(name, status, error, time.perf_counter() - started))
                graph.done(name)

    def _admit(self, graph: TopologicalSorter[str], pool: futures.Executor) -> None:
        """Skip the ready jobs whose dependencies did not succeed, start the others while there is
        room (in rank order: `start_order`), until nothing more comes out of the sorter."""
        while True:
            for name in graph.get_ready():
                heapq.heappush(self.ready, self.rank[name])
            if not self.any_not_done:
                # Nothing failed, so nothing ready is broken: start the first ones (the loop below
                # would do the same, after looking at the dependencies of every ready job, which
                # cost the main thread O(ready) per finished job: most of a large apply's jobs).
                while self.ready and len(self.running) < self.parallelism:
                    self._start(heapq.heappop(self.ready)[-1], pool)
                return
            skipped = False
            waiting: list[Rank] = []
            for rank in sorted(self.ready):
                name = rank[-1]
                broken = self._broken(name)
                if broken is not None:
                    self.finish(JobResult(name, Status.SKIPPED, blocked_by=broken))
                    graph.done(name)
                    skipped = True
                elif len(self.running) < self.parallelism:
                    self._start(name, pool)
                else:
                    waiting.append(rank)
            self.ready = waiting  # sorted: a heap
            if not skipped:
                return

    def _broken(self, name: str) -> str | None:
        """The first dependency of `name` that did not succeed (None: all did)."""
        return next((d for d in sorted(self.deps[name]) if self.results[d].status is not Status.DONE), None)

    def _start(self, name: str, pool: futures.Executor) -> None:
        if self.on_start:
            self.on_start(name)
        self.running[pool.submit(self.jobs[name])] = (name, time.perf_counter())
