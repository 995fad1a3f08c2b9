"""How many environments one machine checks: `drift --env all` over N copies of the repository's
stack, each environment in an AWS account of its own, 40 ms per AWS call.

    .venv/bin/python -m benchmarks.environments --count 4 --count 8

One emulator process (benchmarks/emulator.py) serves every account: moto keeps one backend per
account and answers the credentials of an assumed role with that role's account. Each environment
`benchK` sets `assume_role` (a role in account 00000000000K) and the `account_id` guard, so the run
pays what it would against AWS: one AssumeRole and one GetCallerIdentity per environment on top of
the stack's reads. The script seeds each account's existing infrastructure (VPC, RDS, ...),
converges every environment with `apply --env benchK`, then times `drift --env all` (one process,
the environments concurrently) against `drift --env benchK` run one after the other.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3

from pacs_reconcile.emulator.seed import seed_existing_infrastructure

from .run import LATENCY_MS, Emulator, Run, machine, run_cli
from .specs import SCENARIOS, write_scenario

REGION = "ap-northeast-2"
ROLE = "pacs-reconcile-bench"


def account(index: int) -> str:
    return f"{index:012d}"


def write_spec(into: Path, count: int) -> Path:
    """The repository's stack, with `count` environments in accounts 1..count."""
    spec = write_scenario(SCENARIOS[0], into)
    overlays = "".join(
        f"  bench{i}:\n"
        f'    account_id: "{account(i)}"\n'
        f'    assume_role: {{role_arn: "arn:aws:iam::{account(i)}:role/{ROLE}", session_name: bench{i}}}\n'
        for i in range(1, count + 1)
    )
    text = spec.read_text()
    text = re.sub(r"(?ms)^environments:\n.*?(?=^\S)", "environments:\n" + overlays + "\n", text)
    text = text.replace("required_in: [prod]", "required_in: []")  # no prod among the copies
    spec.write_text(text)
    return spec


def seed_account(endpoint: str, index: int) -> None:
    """The existing infrastructure the spec looks up, in account `index` (through its role)."""
    sts = boto3.client("sts", region_name=REGION, endpoint_url=endpoint)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account(index)}:role/{ROLE}", RoleSessionName="seed"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    seed_existing_infrastructure(session, REGION, endpoint)


def measure(count: int, workdir: Path, repeat: int, latency_ms: float) -> dict[str, object]:
    spec = write_spec(workdir, count)
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    emulator = Emulator(latency_ms)
    try:
        for index in range(1, count + 1):
            seed_account(emulator.endpoint, index)
            applied = run_cli(
                ["apply", "--auto-approve", "-f", str(spec), "--env", f"bench{index}"], emulator.endpoint
            )
            if applied.exit_code != 0:
                raise RuntimeError(f"apply of bench{index} failed:\n{applied.stderr_tail}")
            print(f"[{count}] bench{index} applied in {applied.wall_s:.1f} s", file=sys.stderr)
        together: list[Run] = []
        for _ in range(repeat):
            together.append(run_cli(["drift", "-f", str(spec), "--env", "all"], emulator.endpoint))
            print(f"[{count}] drift --env all: {together[-1].wall_s:.2f} s", file=sys.stderr)
        one_by_one = [
            run_cli(["drift", "-f", str(spec), "--env", f"bench{i}"], emulator.endpoint)
            for i in range(1, count + 1)
        ]
    finally:
        emulator.stop()
    failed = [r for r in [*together, *one_by_one] if r.exit_code != 0]
    if failed:
        raise RuntimeError(f"drift of a converged stack is not clean:\n{failed[0].stderr_tail}")
    return {
        "environments": count,
        "drift_all_wall_s": [round(r.wall_s, 2) for r in together],
        "drift_all_cpu_s": [round(r.cpu_s, 2) for r in together],
        "drift_all_rss_mb": [round(r.max_rss_mb) for r in together],
        "one_by_one_wall_s": round(sum(r.wall_s for r in one_by_one), 2),
        "calls_per_environment": one_by_one[0].total_calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark `drift --env all` over N environments.")
    parser.add_argument("--count", type=int, action="append", help="Environments (repeatable; default 4).")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS)
    args = parser.parse_args(argv)
    info = machine()
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="pacs-bench-env-") as tmp:
        for count in args.count or [4]:
            results.append(measure(count, Path(tmp) / f"envs-{count}", args.repeat, args.latency_ms))
    info["benchmark_minutes"] = round((time.perf_counter() - started) / 60, 1)
    info["load_average_at_end"] = os.getloadavg()
    print(info)
    print(f"\n`drift --env all`, {args.latency_ms:g} ms per AWS call, one account per environment:\n")
    print(
        "| environments | drift --env all wall (s) | client CPU (s) | peak RSS (MB) | one by one (s) "
        "| calls per environment |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        walls = r["drift_all_wall_s"]
        cpus = r["drift_all_cpu_s"]
        rss = r["drift_all_rss_mb"]
        assert isinstance(walls, list) and isinstance(cpus, list) and isinstance(rss, list)
        print(
            f"| {r['environments']} | {statistics.median(walls):.2f} | {statistics.median(cpus):.2f} | "
            f"{max(rss)} | {r['one_by_one_wall_s']} | {r['calls_per_environment']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
