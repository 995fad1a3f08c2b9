"""A throttling storm: the repository's stack applied while 30 % of all AWS requests are throttled.

    .venv/bin/python -m benchmarks.throttle_storm            # calm, then the storm (about a minute)
    .venv/bin/python -m benchmarks.throttle_storm --rate 0.3 --seed 7 --repeat 3

Run from the repository's root. moto in-process, seeded with the stack's existing infrastructure;
the throttles come from a botocore before-send hook (tests/safety/faults.py), answered in each
service's wire protocol so botocore reads them as AWS's. The backoff sleeps are real: the figure
is the wall time an operator would wait. Reported: apply wall time calm and in the storm, HTTP
attempts, throttles answered, and whether the stack converged (the next plan is empty).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    MOTO_EC2_LOAD_DEFAULT_AMIS="false",
)

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from pacs_reconcile.aws import AwsContext, AwsSettings  # noqa: E402
from pacs_reconcile.emulator import install_moto_patches  # noqa: E402
from pacs_reconcile.emulator.seed import seed_existing_infrastructure  # noqa: E402
from pacs_reconcile.engine.apply import apply_plan  # noqa: E402
from pacs_reconcile.engine.plan import make_plan  # noqa: E402
from pacs_reconcile.spec.loader import load_spec  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.safety.faults import FaultInjector  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
REGION = "ap-northeast-2"


def one_apply(rate: float, seed: int) -> dict[str, float | int | bool]:
    spec = load_spec(REPO / "monitoring.yaml")
    with mock_aws():
        seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION)
        ctx = AwsContext(AwsSettings(region=REGION), stack=spec.stack)
        injector = FaultInjector(rate=rate, kinds=("throttle",), seed=seed)
        injector.attach(ctx.events)
        started = time.perf_counter()
        plan = make_plan(spec, ctx)
        assert plan.values is not None
        result = apply_plan(plan, plan.values, ctx)
        wall = time.perf_counter() - started
        ctx.forget_all()
        injector.rate = 0.0
        converged = result.ok and not any(c.action.mutates for c in make_plan(spec, ctx).changes)
        return {
            "wall_s": wall,
            "attempts": injector.attempts,
            "throttles": injector.injected["throttle"],
            "failed": sum(1 for o in result.outcomes if str(o.status) != "done"),
            "converged": converged,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    install_moto_patches()
    for label, rate in (("calm", 0.0), (f"storm {args.rate:.0%}", args.rate)):
        runs = [one_apply(rate, args.seed + i) for i in range(args.repeat)]
        wall = statistics.median(float(r["wall_s"]) for r in runs)
        print(
            f"{label}: apply {wall:.1f} s (median of {len(runs)}), "
            + "; ".join(
                f"{r['attempts']} attempts, {r['throttles']} throttled, {r['failed']} failed, "
                f"converged={r['converged']}"
                for r in runs
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
