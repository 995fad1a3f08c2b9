"""The floor under a plan's wall time: the libraries alone, making the very calls the plan made.

    python -m benchmarks.floor record SPEC ENDPOINT OUT.json   # a plan, its AWS requests recorded
    python -m benchmarks.floor replay OUT.json ENDPOINT        # those requests and nothing else
    python -m benchmarks.floor unvalidated FILE...             # what validate cannot skip

`record` runs `pacs-reconcile plan` in this process with botocore's `_make_api_call` wrapped, and
writes each request (service, region, operation, parameters). `replay`, run as its own process by
`time_replay` after each measured plan, imports what the tool cannot do without (typer, pydantic,
PyYAML, botocore), makes one client per service the way the tool does (its shared model loader and
cache, `pacs_reconcile.aws_models`), then sends every recorded request, REPLAY_WORKERS at a time: no spec
read, no lookup, no ownership check, no diff, no output, and no request waiting for another's
answer (the plan's chains, e.g. file system -> mount targets -> network interfaces, are flattened).
A plan making the same requests with the same libraries does all of this and more; what it takes
above the replay is the tool's own work and the waits of its chains.

`unvalidated` is the same for `validate`: what it cannot skip (the CLI's libraries and command
table, the kind modules, the spec's files read with their line map), without validating anything.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .run import Run

REPLAY_WORKERS = 16
"""Requests sent at once by a replay: of 4, 8, 16 and one thread per request (56 for the repository's
stack), 16 took the least wall time and CPU on the 2-core machine of BENCHMARKS.md (5 alternating
runs each, 2026-12-05 05:01 UTC, load 1.4: wall medians 1.28, 0.89, 0.81, 0.84 s)."""


@dataclass
class Floor:
    """Replays of a plan's requests, each measured from outside like a plan (run.run_child)."""

    calls: int
    wall_s: list[float]
    cpu_s: list[float]


def record(spec_file: Path, endpoint: str, out: Path) -> int:
    """Run a plan in this process and write its requests to `out`; the plan's exit code."""
    import botocore.client

    requests: list[dict[str, Any]] = []
    lock = threading.Lock()
    # botocore's one way into every request, private: the stubs do not declare it
    send = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
        with lock:
            requests.append(
                {
                    "service": client.meta.service_model.service_name,
                    "region": client.meta.region_name,
                    "operation": operation,
                    "params": params,
                }
            )
        return send(client, operation, params)

    setattr(botocore.client.BaseClient, "_make_api_call", recorded)  # noqa: B010
    sys.argv = ["pacs-reconcile", "--no-color", "--endpoint-url", endpoint, "plan", "-f", str(spec_file)]
    try:
        from pacs_reconcile.cli import main

        main()
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    finally:
        setattr(botocore.client.BaseClient, "_make_api_call", send)  # noqa: B010
    out.write_text(json.dumps(requests))  # a parameter JSON cannot hold fails here, loudly
    return code


def replay(requests_file: Path, endpoint: str) -> None:
    """Make one client per service, then send every request (an error answer counts as an
    answer: a plan gets those too, e.g. a lookup's missing resource)."""
    import botocore.session
    import pydantic  # noqa: F401  (imported as the tool must: its cost is part of the floor)
    import typer  # noqa: F401
    import yaml  # noqa: F401
    from botocore.config import Config

    from pacs_reconcile.aws_models import shared_loader

    requests = json.loads(requests_file.read_text())
    session = botocore.session.get_session()
    session.register_component("data_loader", shared_loader(None))
    config = Config(retries={"mode": "standard"}, max_pool_connections=REPLAY_WORKERS)
    clients = {
        (r["service"], r["region"]): session.create_client(
            r["service"], region_name=r["region"], endpoint_url=endpoint, config=config
        )
        for r in requests
    }

    def send(request: dict[str, Any]) -> None:
        client = clients[(request["service"], request["region"])]
        with contextlib.suppress(client.exceptions.ClientError):
            # the request exactly as recorded (the generated methods would name the operation)
            getattr(client, "_make_api_call")(request["operation"], request["params"])  # noqa: B009

    with ThreadPoolExecutor(max_workers=REPLAY_WORKERS) as pool:
        list(pool.map(send, requests))


def read_unvalidated(files: list[Path]) -> None:
    """What `validate` cannot skip, and nothing more: the CLI's libraries and command table, the
    spec language's kind modules (a kind is one unit: its model and its AWS code), and the spec's
    files (those its load reads: `spec_files`) read with their line map. No variable, reference or
    environment is resolved and no entry validated."""
    import pacs_reconcile.cli  # noqa: F401  (typer, pydantic and the command table, as validate)
    from pacs_reconcile.resources.registry import load_all
    from pacs_reconcile.spec.loader import collection_paused
    from pacs_reconcile.spec.yamlsrc import read_yaml

    load_all()
    with collection_paused():  # as the loader reads
        for path in files:
            read_yaml(path, path.name)


def spec_files(spec_file: Path) -> list[Path]:
    """The files a load of `spec_file` reads (the root and what its includes match)."""
    import os

    from pacs_reconcile.spec.loader import load_spec

    spec = load_spec(spec_file, environ=os.environ)
    return [Path(display).resolve() for display in spec.files]


def time_unvalidated(files: list[Path]) -> float:
    """One `read_unvalidated` of `files` in a child process: its CPU seconds."""
    return _run_child("unvalidated", *map(str, files)).cpu_s


def record_requests(spec_file: Path, endpoint: str, workdir: Path) -> tuple[Path, int]:
    """A plan of `spec_file` in a child process, its requests written to a file: the file and how
    many requests it holds."""
    requests_file = workdir / "plan-requests.json"
    _run_child("record", str(spec_file), endpoint, str(requests_file))
    return requests_file, len(json.loads(requests_file.read_text()))


def time_replay(requests_file: Path, endpoint: str) -> tuple[float, float]:
    """One replay of the recorded requests in a child process: its wall and CPU seconds."""
    replayed = _run_child("replay", str(requests_file), endpoint)
    return replayed.wall_s, replayed.cpu_s


def _run_child(command: str, *args: str) -> Run:
    """`python -m benchmarks.floor COMMAND ARGS` measured from outside; RuntimeError if it fails."""
    from .run import run_child  # not at the top: a measured child imports nothing it does not use

    done = run_child([sys.executable, "-m", "benchmarks.floor", command, *args])
    if done.exit_code != 0:
        raise RuntimeError(f"benchmarks.floor {command} failed ({done.exit_code}):\n{done.stderr_tail}")
    return done


def summary(floor: Floor) -> str:
    import statistics  # not at the top: a measured child process imports nothing it does not use

    return (
        f"{statistics.median(floor.wall_s):.2f} s wall (median of {len(floor.wall_s)}, best "
        f"{min(floor.wall_s):.2f} s), {statistics.median(floor.cpu_s):.2f} s CPU, {floor.calls} calls"
    )


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "record":
        sys.exit(record(Path(rest[0]), rest[1], Path(rest[2])))
    elif command == "unvalidated":
        read_unvalidated([Path(file) for file in rest])
    elif command == "replay":
        replay(Path(rest[0]), rest[1])
    else:
        sys.exit(f"unknown command {command!r}: record, replay or unvalidated")
