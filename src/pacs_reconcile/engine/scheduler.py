"""Runs jobs with dependencies on a thread pool: independent work in parallel, dependents in order,
failures' dependents skipped, and a clean stop on Ctrl-C (in-flight calls finish, nothing new starts)."""

from __future__ import annotations

import concurrent.futures as futures
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum


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
    results: dict[str, JobResult] = {}
    waiting = {name: {d for d in deps.get(name, set()) if d in jobs} for name in jobs}
    running: dict[futures.Future[None], tuple[str, float]] = {}
    interrupted = False

    def finish(result: JobResult) -> None:
        results[result.name] = result
        if on_finish:
            on_finish(result)

    with futures.ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        while waiting or running:
            if not interrupted:
                for name in sorted(waiting):
                    blockers = waiting[name]
                    broken = next(
                        (
                            b
                            for b in sorted(blockers)
                            if b in results and results[b].status is not Status.DONE
                        ),
                        None,
                    )
                    if broken:
                        del waiting[name]
                        finish(JobResult(name, Status.SKIPPED, blocked_by=broken))
                        continue
                    if len(running) >= parallelism or not all(
                        b in results and results[b].status is Status.DONE for b in blockers
                    ):
                        continue
                    del waiting[name]
                    if on_start:
                        on_start(name)
                    running[pool.submit(jobs[name])] = (name, time.perf_counter())
                if (
                    waiting
                    and not running
                    and not any(all(b in results for b in waiting[n]) for n in waiting)
                ):
                    # Only reachable if deps form a cycle, which validation rules out.
                    for name in sorted(waiting):
                        finish(JobResult(name, Status.SKIPPED, blocked_by="a dependency cycle"))
                    waiting.clear()
            if not running:
                if interrupted:
                    break
                continue
            try:
                done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
            except KeyboardInterrupt:
                interrupted = True
                continue
            for future in done:
                name, started = running.pop(future)
                error = future.exception()
                status = Status.DONE if error is None else Status.FAILED
                finish(JobResult(name, status, error, time.perf_counter() - started))
        for name in sorted(waiting):
            finish(JobResult(name, Status.NOT_STARTED))
    return results, interrupted
