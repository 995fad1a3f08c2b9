"""Small timings the test suite must not assert (a busy machine makes any wall-clock bound flaky):
how long seeding the emulator's existing infrastructure takes, and how fast hostile YAML is refused.

    .venv/bin/python -m benchmarks.micro          # a few seconds; prints a markdown table

Each figure is the median of `--repeat` runs after one warm-up run, with the load average of the
machine at the end, so a figure taken on a busy machine says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REGION = "ap-northeast-2"


def _seed_once() -> None:
    import boto3
    from moto import mock_aws

    from pacs_reconcile.emulator.seed import seed_existing_infrastructure

    with mock_aws():
        seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION)


def _billion_laughs() -> str:
    """Nine levels of ten aliases each: 10**9 strings if expanded naively, 700 bytes on disk."""
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def _refusal(content: bytes) -> Callable[[], None]:
    from pacs_reconcile.spec.yamlsrc import YamlProblem, read_yaml

    folder = Path(tempfile.mkdtemp(prefix="pacs-micro-"))
    path = folder / "spec.yaml"
    path.write_bytes(content)

    def refuse() -> None:
        try:
            read_yaml(path, path.name)
        except YamlProblem:
            return
        raise AssertionError(f"{path} was accepted")

    return refuse


CASES: dict[str, Callable[[], Callable[[], None]]] = {
    "seed the emulator's existing infrastructure (in-process moto)": lambda: _seed_once,
    "refuse a billion-laughs alias bomb (700 bytes)": lambda: _refusal(_billion_laughs().encode()),
    "refuse a 3 MB spec file by its size": lambda: _refusal(b"key: [unclosed\n" + b"#" * (3 << 20)),
}


def measure(repeat: int) -> list[tuple[str, float]]:
    rows = []
    for name, make in CASES.items():
        run = make()
        run()  # warm-up: imports, moto's backends
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        rows.append((name, statistics.median(times)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows = measure(args.repeat)
    print(f"| case (median of {args.repeat}) | wall |")
    print("|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.0f} ms |")
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
