"""The plan benchmark: specs of growing size against moto with 40 ms per call, measured from outside.

    .venv/bin/python -m benchmarks.run                 # every scenario, 3 plans each (3-6 minutes)
    .venv/bin/python -m benchmarks.run --quick         # the repository's stack only
    .venv/bin/python -m benchmarks.run --json out.json # also keep the raw numbers

Run from the repository's root. For each scenario (benchmarks/specs.py) a fresh emulator process
starts (benchmarks/emulator.py: moto's server with AWS's page limits and a sleep per request),
`pacs-reconcile apply` converges the stack, then `pacs-reconcile --stats plan` runs `--repeat`
times as a subprocess and one no-op `apply` checks that nothing is changed. Reported per
scenario: AWS calls (from --stats), the wall time, CPU time and peak RSS of the whole process
(os.wait4 of that very child), the emulator's CPU time meanwhile, the calls Terraform's
per-resource refresh would make (benchmarks/terraform_model.py), and the mutating calls of the
no-op apply; after each plan, a replay of that plan's own requests by the libraries alone
(benchmarks/floor.py: the floor under its wall time, measured under the same load). Then the time
of `pacs-reconcile --help`. Medians of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .ansible_side import AnsibleRun, run_check_mode, tasks_from_live
from .floor import Floor, record_requests, spec_files, time_replay, time_unvalidated
from .floor import summary as floor_summary
from .specs import REPO, SCENARIOS, Scenario, write_scenario
from .terraform_model import terraform_calls

CLI = Path(sys.executable).with_name("pacs-reconcile")
LATENCY_MS = 40.0
PARALLELISM = 8
"""`apply --parallelism`'s default."""
REGION = "ap-northeast-2"
STATS_TOTAL = re.compile(r"AWS calls: (\d+) \((\d+) retries, ([\d.]+)s in calls\)")
STATS_LINE = re.compile(r"^\s+([\w-]+\.\w+): (\d+)$")


@dataclass
class Run:
    """One CLI process, measured from outside."""

    exit_code: int
    wall_s: float
    cpu_s: float
    """User + system CPU time of the process."""
    max_rss_mb: float
    calls: dict[str, int]
    retries: int
    stderr_tail: str = ""

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def mutating(self) -> dict[str, int]:
        from pacs_reconcile.aws import is_mutating

        return {k: v for k, v in self.calls.items() if is_mutating(k.split(".", 1)[1])}


@dataclass
class ScenarioResult:
    scenario: str
    resources: int
    lookups: int
    terraform_calls: int
    apply_wall_s: float
    apply_calls: int
    plan_calls: dict[str, int]
    plan_total_calls: int
    plan_wall_s: list[float]
    plan_cpu_s: list[float]
    plan_rss_mb: list[float]
    noop_apply_mutating: dict[str, int]
    noop_apply_wall_s: float
    server_requests_per_plan: int = 0
    """Requests the emulator saw during a plan (a check on --stats: retries would show here)."""
    server_cpu_s_per_plan: float = 0.0
    """The emulator's own CPU time during a plan (moto's work, on the same 2 cores as the client)."""
    by_kind: dict[str, int] = field(default_factory=dict)
    validate_wall_s: list[float] = field(default_factory=list)
    """`pacs-reconcile validate` of the scenario's spec (no AWS call)."""
    validate_cpu_s: list[float] = field(default_factory=list)
    """Its CPU time (user + system): what the machine's load does not change much, unlike the wall."""
    validate_load: float = 0.0
    """The 1-minute load average when validate ran."""
    unvalidated_cpu_s: list[float] = field(default_factory=list)
    """What validate cannot skip (floor.read_unvalidated), one run after each validate: its CPU."""
    apply_mutating_calls: int = 0
    apply_floor_s: float = 0.0
    """The first apply's floor: its calls at the latency, `--parallelism` (8) at a time."""
    apply_write_floor_s: float = 0.0
    """The same for its mutating calls alone: the writes no apply can do without."""
    apply_cpu_s: float = 0.0
    apply_calls_by_operation: dict[str, int] = field(default_factory=dict)
    change: dict[str, Any] | None = None
    """The apply of `Scenario.changed_alarms` edited alarms on the converged stack (ChangeApply)."""
    ansible: dict[str, Any] | None = None
    """The Ansible check-mode side-by-side (benchmarks/ansible_side.py), repository stack only."""
    floor: dict[str, Any] = field(default_factory=dict)
    """The plan's own requests replayed by the libraries alone (benchmarks/floor.py: Floor)."""


@dataclass
class ChangeApply:
    """`apply` of an edit of some generated alarms on the converged stack, then a plan checking it."""

    alarms: int
    wall_s: float
    cpu_s: float
    calls: int
    mutating_calls: int
    floor_s: float
    write_floor_s: float
    calls_by_operation: dict[str, int]


def floor_s(calls: int, latency_ms: float) -> float:
    """`calls` at the latency, `--parallelism` (8) at a time: no apply making them can be faster."""
    return calls * latency_ms / 1000 / PARALLELISM


def aws_test_environment() -> dict[str, str]:
    """This process's environment with the emulator's test credentials and no AWS profile."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_COLOR": "1",
    }
    env.pop("AWS_PROFILE", None)
    return env


def run_cli(args: list[str], endpoint: str) -> Run:
    """`pacs-reconcile --stats ARGS` as a child process: wall time, peak RSS, calls by operation."""
    return run_child([str(CLI), "--no-color", "--stats", "--endpoint-url", endpoint, *args])


def run_child(command: list[str]) -> Run:
    """`command` as a child process, measured from outside: its wall time, its own CPU time and
    peak RSS, and the calls by operation its `--stats` lines report (none for other programs)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=aws_test_environment())
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    calls, retries = parse_stats(stderr)
    cpu = usage.ru_utime + usage.ru_stime
    return Run(child.returncode, wall, cpu, usage.ru_maxrss / 1024, calls, retries, stderr[-2000:])


def parse_stats(stderr: str) -> tuple[dict[str, int], int]:
    calls: dict[str, int] = {}
    retries = 0
    in_stats = False
    for line in stderr.splitlines():
        total = STATS_TOTAL.search(line)
        if total:
            in_stats, retries = True, int(total.group(2))
            continue
        match = STATS_LINE.match(line) if in_stats else None
        if match:
            calls[match.group(1)] = int(match.group(2))
    return calls, retries


class Emulator:
    """benchmarks.emulator in a child process."""

    def __init__(self, latency_ms: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.emulator", "--latency-ms", str(latency_ms)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.endpoint = line.removeprefix("READY ")

    def counters(self) -> tuple[int, float]:
        """(AWS requests served, the emulator's CPU seconds) so far."""
        with urllib.request.urlopen(f"{self.endpoint}/bench/latency", timeout=10) as answer:
            state = json.load(answer)
        return int(state["requests"]), float(state["cpu_s"])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def repo_stack_counts() -> tuple[Counter[str], int]:
    from pacs_reconcile.spec.loader import load_spec

    spec = load_spec(REPO / "monitoring.yaml", environ=os.environ)  # as the CLI runs below see it
    return Counter(node.kind for node in spec.resources.values()), len(spec.lookups)


def measure(
    scenario: Scenario, workdir: Path, repeat: int, latency_ms: float, with_ansible: bool = False
) -> ScenarioResult:
    spec_file = write_scenario(scenario, workdir)
    kinds, lookups = repo_stack_counts()
    kinds.update(
        {
            "alarms": scenario.alarms,
            "log_groups": scenario.log_groups,
            "metric_filters": scenario.log_groups,
            "dashboards": scenario.dashboards,
        }
    )
    validate_load = os.getloadavg()[0]
    validate = ["validate", "-f", str(spec_file)]
    validates: list[Run] = []
    unvalidated: list[float] = []
    read = spec_files(spec_file)
    for _ in range(max(repeat, 5)):  # alternating, so both meet the same load
        validates.append(run_cli(validate, "http://127.0.0.1:9"))
        unvalidated.append(time_unvalidated(read))
    if any(v.exit_code != 0 for v in validates) or any(v.total_calls for v in validates):
        raise RuntimeError(f"validate failed or called AWS:\n{validates[0].stderr_tail}")
    emulator = Emulator(latency_ms)
    ansible: AnsibleRun | None = None
    try:
        print(f"[{scenario.name}] applying {sum(kinds.values())} resources...", file=sys.stderr)
        apply = run_cli(
            ["apply", "--auto-approve", "--parallelism", str(PARALLELISM), "-f", str(spec_file)],
            emulator.endpoint,
        )
        if apply.exit_code != 0:
            raise RuntimeError(f"apply failed ({apply.exit_code}):\n{apply.stderr_tail}")
        plans: list[Run] = []
        server_requests: list[int] = []
        server_cpu: list[float] = []
        # each plan is followed by a replay of its requests, so both meet the same load
        requests_file, requests = record_requests(spec_file, emulator.endpoint, workdir)
        floor = Floor(requests, [], [])
        for _ in range(repeat):
            requests_before, cpu_before = emulator.counters()
            plans.append(run_cli(["plan", "--detailed-exitcode", "-f", str(spec_file)], emulator.endpoint))
            requests_after, cpu_after = emulator.counters()
            server_requests.append(requests_after - requests_before)
            server_cpu.append(cpu_after - cpu_before)
            wall, cpu = time_replay(requests_file, emulator.endpoint)
            floor.wall_s.append(wall)
            floor.cpu_s.append(cpu)
            print(
                f"[{scenario.name}] plan: {plans[-1].total_calls} calls, {plans[-1].wall_s:.2f} s, "
                f"{plans[-1].max_rss_mb:.0f} MB",
                file=sys.stderr,
            )
        failed = [p for p in plans if p.exit_code != 0]
        if failed:
            raise RuntimeError(f"the plan of a converged stack is not empty:\n{failed[0].stderr_tail}")
        noop = run_cli(["apply", "--auto-approve", "-f", str(spec_file)], emulator.endpoint)
        print(f"[{scenario.name}] the libraries alone: {floor_summary(floor)}", file=sys.stderr)
        change = change_alarms(scenario, workdir, emulator, latency_ms) if scenario.changed_alarms else None
        if with_ansible:
            ansible = side_by_side(spec_file, emulator)
    finally:
        emulator.stop()
    return ScenarioResult(
        scenario=scenario.name,
        resources=sum(kinds.values()),
        lookups=lookups,
        terraform_calls=terraform_calls(kinds.elements(), lookups),
        apply_wall_s=apply.wall_s,
        apply_calls=apply.total_calls,
        plan_calls=plans[-1].calls,
        plan_total_calls=plans[-1].total_calls,
        plan_wall_s=[p.wall_s for p in plans],
        plan_cpu_s=[p.cpu_s for p in plans],
        plan_rss_mb=[p.max_rss_mb for p in plans],
        noop_apply_mutating=noop.mutating(),
        noop_apply_wall_s=noop.wall_s,
        server_requests_per_plan=int(statistics.median(server_requests)),
        server_cpu_s_per_plan=statistics.median(server_cpu),
        by_kind=dict(kinds),
        validate_wall_s=[v.wall_s for v in validates],
        validate_cpu_s=[v.cpu_s for v in validates],
        validate_load=validate_load,
        unvalidated_cpu_s=unvalidated,
        apply_mutating_calls=sum(apply.mutating().values()),
        apply_floor_s=floor_s(apply.total_calls, latency_ms),
        apply_write_floor_s=floor_s(sum(apply.mutating().values()), latency_ms),
        apply_cpu_s=apply.cpu_s,
        apply_calls_by_operation=apply.calls,
        change=asdict(change) if change else None,
        ansible=asdict(ansible) if ansible else None,
        floor=asdict(floor),
    )


def change_alarms(scenario: Scenario, workdir: Path, emulator: Emulator, latency_ms: float) -> ChangeApply:
    """Edit the threshold of the scenario's first `changed_alarms` generated alarms, apply, and
    check that a plan then has nothing to do."""
    spec_file = write_scenario(scenario, workdir, changed_alarms=scenario.changed_alarms)
    print(f"[{scenario.name}] applying a change of {scenario.changed_alarms} alarms...", file=sys.stderr)
    args = ["apply", "--auto-approve", "--parallelism", str(PARALLELISM), "-f", str(spec_file)]
    apply = run_cli(args, emulator.endpoint)
    if apply.exit_code != 0:
        raise RuntimeError(f"the change's apply failed ({apply.exit_code}):\n{apply.stderr_tail}")
    after = run_cli(["plan", "--detailed-exitcode", "-f", str(spec_file)], emulator.endpoint)
    if after.exit_code != 0:
        raise RuntimeError(f"the plan after the change is not empty:\n{after.stderr_tail}")
    mutating = sum(apply.mutating().values())
    return ChangeApply(
        alarms=scenario.changed_alarms,
        wall_s=apply.wall_s,
        cpu_s=apply.cpu_s,
        calls=apply.total_calls,
        mutating_calls=mutating,
        floor_s=floor_s(apply.total_calls, latency_ms),
        write_floor_s=floor_s(mutating, latency_ms),
        calls_by_operation=apply.calls,
    )


def side_by_side(spec_file: Path, emulator: Emulator) -> AnsibleRun:
    """Ansible check mode on the converged repository stack's log groups, metric filters and
    single-metric alarms, against the same emulator."""
    import boto3

    from pacs_reconcile.spec.loader import load_spec

    spec = load_spec(spec_file, environ=os.environ)
    names: dict[str, list[str]] = {"log_groups": [], "alarms": []}
    for node in spec.resources.values():
        if node.kind in names:
            names[node.kind].append(str(node.config["name"]))

    class Session:
        def client(self, service: str) -> Any:
            return boto3.client(  # type: ignore[call-overload]
                service,
                region_name=REGION,
                endpoint_url=emulator.endpoint,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )

    tasks = tasks_from_live(Session(), names)
    print(f"[ansible] check mode on {len(tasks)} resources...", file=sys.stderr)
    result = run_check_mode(tasks, emulator.endpoint, REGION, lambda: emulator.counters()[0])
    if result.exit_code != 0:
        raise RuntimeError(f"ansible-playbook --check failed ({result.exit_code}):\n{result.output_tail}")
    return result


def _compile_bytecode() -> None:
    """Compile the package's bytecode first, as an installed package has it: with stale or missing
    .pyc files (PYTHONDONTWRITEBYTECODE, or sources just edited) every CLI process measured would
    compile the modules it imports again (0.1 s and more of a validate's start-up)."""
    import compileall

    import pacs_reconcile

    compileall.compile_dir(Path(pacs_reconcile.__file__).parent, quiet=1)


def help_times(repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([str(CLI), "--help"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    import boto3
    import moto

    from pacs_reconcile import __version__

    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "pacs_reconcile": __version__,
        "boto3": boto3.__version__,
        "moto": moto.__version__,
    }


def markdown(results: list[ScenarioResult], help_s: list[float], latency_ms: float) -> str:
    median = statistics.median
    lines = [
        f"`pacs-reconcile plan` on a converged stack, {latency_ms:g} ms per AWS call "
        "(medians of the repeats):",
        "",
        "| scenario | resources (+lookups) | plan AWS calls | Terraform model | wall (s) | client CPU (s) | "
        "emulator CPU (s) | peak RSS (MB) | no-op apply: mutating calls |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        mutating = ", ".join(f"{op} {n}" for op, n in sorted(r.noop_apply_mutating.items())) or "none"
        lines.append(
            f"| {r.scenario} | {r.resources} (+{r.lookups}) | {r.plan_total_calls} | {r.terraform_calls} | "
            f"{median(r.plan_wall_s):.2f} | {median(r.plan_cpu_s):.2f} | {r.server_cpu_s_per_plan:.2f} | "
            f"{median(r.plan_rss_mb):.0f} | {sum(r.noop_apply_mutating.values())} ({mutating}) |"
        )
    lines += ["", f"`pacs-reconcile --help`: median {median(help_s):.2f} s of {len(help_s)} runs.", ""]
    for r in results:
        walls = ", ".join(f"{w:.2f}" for w in r.plan_wall_s)
        lines.append(
            f"- {r.scenario}: plan wall times {walls} s; apply from empty {r.apply_wall_s:.1f} s "
            f"({r.apply_calls} calls); no-op apply {r.noop_apply_wall_s:.2f} s."
        )
        lines.append("  plan calls: " + ", ".join(f"{k} {v}" for k, v in sorted(r.plan_calls.items())))
        lines.append(
            "  first apply calls: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r.apply_calls_by_operation.items()))
        )
        if r.change:
            by_operation = sorted(r.change["calls_by_operation"].items())
            lines.append(
                f"  change of {r.change['alarms']} alarms, calls: "
                + ", ".join(f"{k} {v}" for k, v in by_operation)
            )
    return "\n".join(lines)


def issue_table(results: list[ScenarioResult], help_s: list[float]) -> str:
    """The targets' table: every figure measured in this run next to its goal."""
    median = statistics.median
    lines = ["| figure | measured | goal |", "|---|---|---|"]
    repo = next((r for r in results if r.scenario == SCENARIOS[0].name), None)
    scaled = next((r for r in results if r.scenario == SCENARIOS[1].name), None)
    if repo:
        wall = median(repo.plan_wall_s)
        lines.append(
            f"| repo stack ({repo.resources} resources): plan wall, whole process | {wall:.2f} s, "
            f"{repo.plan_total_calls} calls | <= 0.5 s, <= 40 calls |"
        )
        lines.append(_floor_row(repo))
        if repo.ansible:
            a = repo.ansible
            modules = ", ".join(f"{m} {n}" for m, n in sorted(a["by_module"].items()))
            lines.append(
                f"| Ansible {a['ansible_version']} amazon.aws check mode on {a['resources']} of those "
                f"resources ({modules}), same emulator | {a['wall_s']:.2f} s, {a['aws_requests']} requests, "
                f"{a['changed']} changed ({', '.join(a['changed_tasks']) or 'none'}); "
                f"we are **{a['wall_s'] / wall:.1f}x** faster on the whole stack | >= 20x |"
            )
    if scaled:
        lines.append(
            f"| + 1,000 alarms, 300 log groups with a filter, 50 dashboards: plan | "
            f"{median(scaled.plan_wall_s):.2f} s, {scaled.plan_total_calls} calls, "
            f"{median(scaled.plan_rss_mb):.0f} MB | <= 2.0 s, <= 120 calls, <= 250 MB |"
        )
        lines.append(_floor_row(scaled))
        lines.append(
            f"| same, first apply ({scaled.apply_mutating_calls} mutating calls) | "
            f"{scaled.apply_wall_s:.1f} s ({scaled.apply_cpu_s:.1f} s CPU), {scaled.apply_calls} calls; "
            f"floor {scaled.apply_floor_s:.1f} s ({scaled.apply_wall_s / scaled.apply_floor_s:.1f}x); "
            f"its writes alone {scaled.apply_write_floor_s:.1f} s "
            f"({scaled.apply_wall_s / scaled.apply_write_floor_s:.1f}x) | within 2x of the floor |"
        )
        change = scaled.change
        if change:
            wall, mutating = change["wall_s"], change["mutating_calls"]
            lines.append(
                f"| same, a change of {change['alarms']} alarms ({mutating} mutating calls) | "
                f"{wall:.1f} s ({change['cpu_s']:.1f} s CPU), {change['calls']} calls; floor "
                f"{change['floor_s']:.1f} s ({wall / change['floor_s']:.1f}x); its writes alone "
                f"{change['write_floor_s']:.1f} s ({wall / change['write_floor_s']:.1f}x) | measured |"
            )
        lines.append(
            f"| `validate` on the scaled spec | CPU {min(scaled.validate_cpu_s):.2f} s best, "
            f"{median(scaled.validate_cpu_s):.2f} s median of {len(scaled.validate_cpu_s)} (wall median "
            f"{median(scaled.validate_wall_s):.2f} s, load {scaled.validate_load:.1f}) | <= 0.4 s |"
        )
        if scaled.unvalidated_cpu_s:
            lines.append(
                "| what validate cannot skip: the CLI's libraries and command table, the kind modules, "
                "the files read with their line map; nothing validated (floor.read_unvalidated) | CPU "
                f"{min(scaled.unvalidated_cpu_s):.2f} s best, {median(scaled.unvalidated_cpu_s):.2f} s "
                f"median of {len(scaled.unvalidated_cpu_s)} | |"
            )
    lines.append(f"| `--help` | {median(help_s):.2f} s | <= 0.2 s |")
    return "\n".join(lines)


def _floor_row(result: ScenarioResult) -> str:
    """The row under a plan's: the same requests sent by the libraries alone (floor.py)."""
    floor = result.floor
    median = statistics.median
    return (
        f"| its {floor['calls']} requests from the libraries alone (floor: typer, pydantic, "
        f"PyYAML and botocore imported, the clients made, nothing else) | {median(floor['wall_s']):.2f} s "
        f"(best {min(floor['wall_s']):.2f} s), {median(floor['cpu_s']):.2f} s CPU; the plan is "
        f"{median(result.plan_wall_s) / median(floor['wall_s']):.2f}x of it | no plan making them is faster |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark `pacs-reconcile plan` against a slowed-down moto."
    )
    parser.add_argument("--quick", action="store_true", help="Only the repository's stack.")
    parser.add_argument("--repeat", type=int, default=3, help="Plans per scenario (default 3).")
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    parser.add_argument("--only", type=int, action="append", help="Scenario index (repeatable).")
    parser.add_argument("--json", type=Path, help="Also write the raw results here.")
    parser.add_argument("--no-ansible", action="store_true", help="Skip the Ansible check-mode side-by-side.")
    args = parser.parse_args(argv)

    scenarios = list(SCENARIOS[:1] if args.quick else SCENARIOS)
    if args.only:
        scenarios = [SCENARIOS[i] for i in args.only]
    info = machine()
    _compile_bytecode()
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="pacs-bench-") as tmp:
        for index, scenario in enumerate(scenarios):
            results.append(
                measure(
                    scenario,
                    Path(tmp) / f"scenario-{index}",
                    args.repeat,
                    args.latency_ms,
                    with_ansible=not args.no_ansible and scenario.generated_resources == 0,
                )
            )
    help_s = help_times(max(args.repeat, 5))
    info["benchmark_minutes"] = round((time.perf_counter() - started) / 60, 1)
    info["load_average_at_end"] = os.getloadavg()
    print(json.dumps(info, indent=2))
    print(issue_table(results, help_s))
    print()
    print(markdown(results, help_s, args.latency_ms))
    if args.json:
        document = {
            "machine": info,
            "latency_ms": args.latency_ms,
            "help_s": help_s,
            "scenarios": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
