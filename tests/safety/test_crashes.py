"""Point 5, crashes: the CLI, a subprocess, is killed with SIGKILL at chosen points of an apply of
the whole stack against a moto server running in another process; apply is run again. Every run
must end in an empty plan, with no resource existing twice (file systems by creation token, task
definition revisions, subscriptions, Lambda permissions, IAM policy versions, security groups,
mount targets) and none left without the owner tag (tags go in the create call).

A kill leaves the apply lock behind: the rerun on the same host finds its holder's process gone and
takes it over at once, naming it (elsewhere the lease lapses within a minute).

SIGINT (Ctrl-C): the calls in flight finish, nothing new starts, the summary says what was done,
the lock is released and the exit code is 130; a second Ctrl-C stops at once, still releasing the
lock. The next apply converges.

By default a handful of kill points run (CRASH_POINTS below). PACS_CRASH_POINTS=all tries every
mutating call of the apply in both modes (before the request is sent, after its response came
back); PACS_CRASH_POINTS=N tries N points spread over the apply.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from pacs_reconcile.emulator.seed import seed_existing_infrastructure
from pacs_reconcile.emulator.server import FAKE_CREDENTIALS, free_port

from .helpers import REGION, duplicates, untagged

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
STACK = "pacs-monitoring"
TIMEOUT = 180
CRASH_POINTS = [("after", 1), ("before", 9), ("after", 21), ("before", 34), ("after", 47)]
"""(mode, n-th mutating call): just after the lock is taken, then spread over the ~55 calls of a
full apply, alternating a kill before the request leaves and one after its response arrived."""


# Each case starts processes, an emulator of its own and many applies: minutes, not seconds.
pytestmark = pytest.mark.slow


@dataclass
class Proc:
    code: int
    stdout: str
    stderr: str


@dataclass
class Emulator:
    endpoint: str

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION, self.endpoint)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server_process.py"), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_env(),
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield Emulator(f"http://127.0.0.1:{port}")
    finally:
        process.kill()
        process.wait(timeout=30)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PACS_"))}
    env.update(
        FAKE_CREDENTIALS,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_DEFAULT_REGION=REGION,
        NO_COLOR="1",
        **extra,
    )
    return env


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    import shutil

    shutil.copy(REPO / "monitoring.yaml", tmp_path / "monitoring.yaml")
    for folder in ("specs", "functions", "configs"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def run_cli(emulator: Emulator, spec_dir: Path, *args: str, **env: str) -> Proc:
    command = [
        sys.executable,
        str(HERE / "crash_cli.py"),
        "--no-color",
        "--endpoint-url",
        emulator.endpoint,
        *args,
        "-f",
        str(spec_dir / "monitoring.yaml"),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=TIMEOUT, env=_env(**env), cwd=spec_dir, check=False
    )
    return Proc(done.returncode, done.stdout, done.stderr)


def apply_until_done(emulator: Emulator, spec_dir: Path) -> list[str]:
    """Run apply again as an operator would: remove a lock a killed run left (by its id), apply."""
    steps: list[str] = []
    for _ in range(3):
        again = run_cli(emulator, spec_dir, "apply", "--auto-approve")
        if again.code == 0:
            return [*steps, "apply"]
        stale = re.search(r"pacs-reconcile force-unlock (\w+)", again.stderr)
        assert stale, f"apply failed for another reason than a lock:\n{again.stdout}\n{again.stderr}"
        unlocked = run_cli(emulator, spec_dir, "force-unlock", stale[1])
        assert unlocked.code == 0, unlocked.stderr
        steps.append(f"force-unlock {stale[1]}")
    raise AssertionError(f"apply did not converge: {steps}")


def assert_converged(emulator: Emulator, spec_dir: Path) -> None:
    planned = run_cli(emulator, spec_dir, "plan", "--detailed-exitcode")
    assert planned.code == 0, planned.stdout[-3000:] + planned.stderr
    assert duplicates(emulator.endpoint) == {}
    assert untagged(STACK, emulator.endpoint) == []
    assert _lock(emulator) is None


def _lock(emulator: Emulator) -> dict[str, str] | None:
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=emulator.endpoint)
    try:
        return dict(json.loads(ssm.get_parameter(Name=f"/pacs-reconcile/{STACK}/lock")["Parameter"]["Value"]))
    except ssm.exceptions.ParameterNotFound:
        return None


def _mutating_calls_of_a_full_apply(emulator: Emulator, spec_dir: Path) -> int:
    emulator.reset()
    full = run_cli(emulator, spec_dir, "--stats", "apply", "--auto-approve")
    assert full.code == 0, full.stdout + full.stderr
    from pacs_reconcile.aws import is_mutating

    counts = re.findall(r"^  [\w-]+\.(\w+): (\d+)$", full.stderr, re.MULTILINE)
    return sum(int(n) for op, n in counts if is_mutating(op))


def _points(emulator: Emulator, spec_dir: Path) -> list[tuple[str, int]]:
    wanted = os.environ.get("PACS_CRASH_POINTS", "")
    if not wanted:
        return CRASH_POINTS
    total = _mutating_calls_of_a_full_apply(emulator, spec_dir)
    if wanted == "all":
        return [(mode, n) for n in range(1, total + 1) for mode in ("before", "after")]
    count = int(wanted)
    return [
        ("before" if i % 2 else "after", 1 + (i * (total - 1)) // max(1, count - 1)) for i in range(count)
    ]


def test_sigkill_at_any_point_of_an_apply_then_apply_again_converges(
    emulator: Emulator, spec_dir: Path
) -> None:
    points = _points(emulator, spec_dir)
    report: list[str] = []
    for mode, number in points:
        emulator.reset()
        killed = run_cli(emulator, spec_dir, "apply", "--auto-approve", PACS_TEST_KILL_AT=f"{mode}:{number}")
        assert killed.code == -signal.SIGKILL, (
            mode,
            number,
            killed.code,
            killed.stdout[-2000:],
            killed.stderr,
        )
        orphans = untagged(STACK, emulator.endpoint)
        assert orphans == [], f"killed {mode} mutating call {number}: untagged {orphans}"
        steps = apply_until_done(emulator, spec_dir)
        assert_converged(emulator, spec_dir)
        report.append(f"{mode}:{number} -> {', '.join(steps)}")
    print(f"\n{len(points)} kill points:\n  " + "\n  ".join(report))


def test_an_apply_killed_holding_the_lock_is_taken_over_by_the_next_apply_at_once(
    emulator: Emulator, spec_dir: Path
) -> None:
    """SIGKILL just after the lock was taken (and again a few changes in): the rerun, on the same
    host, finds the holder's process gone and takes the lock over at once, naming it."""
    for point in ("after:1", "after:9"):
        emulator.reset()
        killed = run_cli(emulator, spec_dir, "apply", "--auto-approve", PACS_TEST_KILL_AT=point)
        assert killed.code == -signal.SIGKILL, (point, killed.stderr)
        left = _lock(emulator)
        assert left is not None
        again = run_cli(emulator, spec_dir, "apply", "--auto-approve")
        assert again.code == 0, again.stdout[-2000:] + again.stderr
        assert f"took over the lock of {left['who']} (pid {left['pid']}" in again.stderr
        assert f"its process {left['pid']} on this host is gone" in again.stderr
        assert_converged(emulator, spec_dir)


def test_ctrl_c_finishes_what_is_in_flight_reports_it_and_exits_130(
    emulator: Emulator, spec_dir: Path
) -> None:
    emulator.reset()
    stopped = run_cli(emulator, spec_dir, "apply", "--auto-approve", PACS_TEST_SIGINT_AT="12")
    assert stopped.code == 130, stopped.stdout[-2000:] + stopped.stderr
    summary = re.search(
        r"Apply interrupted! Resources: (\d+) added, .*; (\d+) failed, (\d+) not done\.", stopped.stdout
    )
    assert summary, stopped.stdout[-2000:]
    added, failed, not_done = map(int, summary.groups())
    assert 1 <= added < 44 and failed == 0 and not_done >= 1
    assert "not started (interrupted)" in stopped.stdout
    assert "Traceback" not in stopped.stderr
    assert _lock(emulator) is None
    assert untagged(STACK, emulator.endpoint) == []
    assert apply_until_done(emulator, spec_dir) == ["apply"]
    assert_converged(emulator, spec_dir)


def test_a_second_ctrl_c_stops_at_once_and_still_releases_the_lock(
    emulator: Emulator, spec_dir: Path
) -> None:
    emulator.reset()
    stopped = run_cli(emulator, spec_dir, "apply", "--auto-approve", PACS_TEST_SIGINT_AT="10,10")
    assert stopped.code == 130, stopped.stdout[-2000:] + stopped.stderr
    assert "interrupted" in stopped.stderr + stopped.stdout
    assert "Traceback" not in stopped.stderr
    assert _lock(emulator) is None
    assert apply_until_done(emulator, spec_dir) == ["apply"]
    assert_converged(emulator, spec_dir)
