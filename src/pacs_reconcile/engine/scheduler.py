"""Runs jobs with dependencies on a thread pool: independent work in parallel, dependents in order,
failures' dependents skipped, and a clean stop on Ctrl-C (in-flight calls finish, nothing new starts).

The order is graphlib's: `TopologicalSorter.get_ready()` hands out the jobs whose dependencies are
finished, `done()` reports one finished. A failed or skipped job is reported done too, so that its
dependents come out of the sorter and are skipped in turn, naming what blocked them."""

from __future__ import annotations

import concurrent.futures as futures
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
) -> tuple[dict[str, JobResult], bool]:
    """Run every job once all its deps are DONE. Returns results and whether Ctrl-C stopped the run."""
    run = _Run(jobs, deps, max(1, parallelism), on_start, on_finish)
    graph = TopologicalSorter(run.deps)
    try:
        graph.prepare()
    except CycleError:  # validation rules cycles out: nothing can be ordered, nothing starts
        for name in sorted(jobs):
            run.finish(JobResult(name, Status.SKIPPED, blocked_by="a dependency cycle"))
        return run.results, False
    with futures.ThreadPoolExecutor(max_workers=run.parallelism) as pool:
        run.execute(graph, pool)
    for name in sorted(set(jobs) - set(run.results)):
        run.finish(JobResult(name, Status.NOT_STARTED))
    return run.results, run.interrupted


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
        self.ready: list[str] = []
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
        room (in name order), until nothing more comes out of the sorter."""
        while True:
            new = graph.get_ready()
            if new:
                self.ready = sorted({*self.ready, *new})
            if not self.any_not_done:
                # Nothing failed, so nothing ready is broken: start the first ones (the loop below
                # would do the same, after looking at the dependencies of every ready job, which
                # cost the main thread O(ready) per finished job: most of a large apply's jobs).
                room = max(0, self.parallelism - len(self.running))
                starting, self.ready = self.ready[:room], self.ready[room:]
                for name in starting:
                    self._start(name, pool)
                return
            skipped = False
            for name in list(self.ready):
                broken = self._broken(name)
                if broken is not None:
                    self.ready.remove(name)
                    self.finish(JobResult(name, Status.SKIPPED, blocked_by=broken))
                    graph.done(name)
                    skipped = True
                elif len(self.running) < self.parallelism:
                    self.ready.remove(name)
                    self._start(name, pool)
            if not skipped:
                return

    def _broken(self, name: str) -> str | None:
        """The first dependency of `name` that did not succeed (None: all did)."""
        return next((d for d in sorted(self.deps[name]) if self.results[d].status is not Status.DONE), None)

    def _start(self, name: str, pool: futures.Executor) -> None:
        if self.on_start:
            self.on_start(name)
        self.running[pool.submit(self.jobs[name])] = (name, time.perf_counter())
