"""Benchmark: log lines through many metric filters, offline (target: 10,000 lines through 300
filters in under a second). Not a test; run it and record the result in BENCHMARKS.md:

    .venv/bin/python -m benchmarks.filters [--lines 10000] [--filters 300] [--repeat 5]

The filters are a third each of the pattern forms the repository's spec and AWS's examples use:
terms with a quoted phrase, space-delimited patterns with conditions on the level and the message,
and JSON patterns with an equality and a numeric comparison. The lines mix the backend's
space-delimited format (60 %), JSON (30 %) and free text (10 %). Every line goes through the
FilterBank (what chain tests use); the count of matches is checked against evaluating every
pattern on every line for the first 500 lines.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from pacs_reconcile.monitoring.filter_bank import FilterBank
from pacs_reconcile.monitoring.filter_pattern import FilterPattern, LogEvent, compile_pattern

LEVELS = ("ERROR", "WARN", "INFO")


def make_filters(count: int) -> list[FilterPattern]:
    patterns = []
    for index in range(count):
        form = index % 3
        if form == 0:
            patterns.append(f'"code-{index:03d}" ERROR')
        elif form == 1:
            level = LEVELS[index % 3]
            patterns.append(f'[ts, request_id, level="{level}", message="op {index}", value=*]')
        else:
            patterns.append(f'{{ $.service = "svc-{index}" && $.latency > {index * 3} }}')
    return [compile_pattern(p) for p in patterns]


def make_lines(count: int, filters: int) -> list[str]:
    lines = []
    for n in range(count):
        kind = n % 10
        if kind < 6:
            level = LEVELS[n % 3]
            lines.append(
                f'2024-01-15T10:30:{n % 60:02d}Z req-{n} {level} "op {n % (filters + 20)}" {n % 900}'
            )
        elif kind < 9:
            lines.append(
                json.dumps({"service": f"svc-{n % (filters + 50)}", "latency": n % 2000, "level": "INFO"})
            )
        else:
            lines.append(f"free text code-{n % (filters + 30):03d} ERROR happened at {n}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--filters", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--exhaustive", action="store_true", help="Also time every pattern on every line, once."
    )
    args = parser.parse_args()
    patterns = make_filters(args.filters)
    lines = make_lines(args.lines, args.filters)
    started = time.perf_counter()
    bank = FilterBank(patterns)
    build = time.perf_counter() - started
    sample = lines[:500]
    expected = sum(p.evaluate(LogEvent(line)).matched for line in sample for p in patterns)
    assert sum(len(bank.evaluate(LogEvent(line))) for line in sample) == expected
    load_before = os.getloadavg()
    times, matches = [], 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        matches = sum(len(bank.evaluate(LogEvent(line))) for line in lines)
        times.append(time.perf_counter() - started)
    load_after = os.getloadavg()
    print(
        f"{args.lines} lines x {args.filters} filters: median {statistics.median(times):.3f} s, "
        f"best {min(times):.3f} s, worst {max(times):.3f} s over {args.repeat} runs; "
        f"{matches} matches; index built in {build * 1000:.1f} ms; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    if args.exhaustive:
        started = time.perf_counter()
        every = sum(p.evaluate(LogEvent(line)).matched for line in lines for p in patterns)
        print(
            f"every pattern on every line (no index): {time.perf_counter() - started:.3f} s, {every} matches"
        )


if __name__ == "__main__":
    main()
