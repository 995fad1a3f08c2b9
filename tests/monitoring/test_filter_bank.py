"""The FilterBank gives exactly what evaluating every pattern on every event gives; it only skips the
patterns an event cannot match."""

from __future__ import annotations

import itertools
import json

from pacs_reconcile.monitoring.chain import publish
from pacs_reconcile.monitoring.filter_bank import FilterBank
from pacs_reconcile.monitoring.filter_pattern import LogEvent, compile_pattern
from pacs_reconcile.monitoring.metric_filter import MetricFilterRule

from .test_filter_conformance import CASES


def _every_pattern(patterns: list, line: str) -> list[int]:  # type: ignore[type-arg]
    return [i for i, p in enumerate(patterns) if p.evaluate(LogEvent(line)).matched]


def test_the_bank_agrees_with_every_pattern_on_the_conformance_table() -> None:
    patterns = [compile_pattern(text) for text in dict.fromkeys(case[0] for case in CASES)]
    bank = FilterBank(patterns)
    for line in dict.fromkeys(case[1] for case in CASES):
        assert [i for i, _ in bank.evaluate(LogEvent(line))] == _every_pattern(patterns, line), line


LEVELS = ("ERROR", "WARN", "INFO", "DEBUG")


def test_the_bank_agrees_with_every_pattern_on_generated_lines() -> None:
    texts = [
        f'[ts, id, level="{level}", msg="job {n}", ...]' for level, n in itertools.product(LEVELS, range(5))
    ]
    texts += [f'{{ $.svc = "s{n}" && $.code >= {n}00 }}' for n in range(6)]
    texts += [f'"job {n}" {level}' for level, n in itertools.product(LEVELS, range(3))]
    patterns = [compile_pattern(text) for text in texts]
    bank = FilterBank(patterns)
    assert bank.always == []  # every generated pattern is indexed
    lines = [f't{n} r{n} {level} "job {n % 6}" x' for level, n in itertools.product(LEVELS, range(12))]
    lines += [json.dumps({"svc": f"s{n % 7}", "code": 100 * (n % 9)}) for n in range(40)]
    lines += [f"text job {n % 4} {level}" for level, n in itertools.product(LEVELS, range(8))]
    for line in lines:
        assert [i for i, _ in bank.evaluate(LogEvent(line))] == _every_pattern(patterns, line), line


def test_or_conditions_and_ellipses_are_indexed_without_losing_matches() -> None:
    patterns = [
        compile_pattern(text)
        for text in (
            "[w1=ERROR || w1=WARN, w2]",
            "[..., level = ERROR, code = 500]",
            '{ ($.a = "x" || $.a = "y") && $.b = 2 }',
            "?ERROR ?WARN",
            "-DEBUG",
        )
    ]
    bank = FilterBank(patterns)
    assert bank.always == [4]  # only the exclusion-only pattern has no index
    for line in ("WARN m", "a b ERROR 500", '{"a": "y", "b": 2}', '{"a": "y", "b": "2"}', "DEBUG x", "x"):
        assert [i for i, _ in bank.evaluate(LogEvent(line))] == _every_pattern(patterns, line), line


def test_a_default_value_is_published_for_every_line_the_filter_does_not_match() -> None:
    # AWS: "the Default Value of 0 is used for both log records and the metric value for that minute is 0"
    rule = MetricFilterRule(compile_pattern("ERROR"), "1", default_value=0, metric_name="E", namespace="N")
    published = publish([rule], [(0.0, "INFO a"), (1.0, "INFO b"), (61.0, "ERROR c")])
    assert [(s.at, s.value) for s in published[("N", "E", frozenset())]] == [(0.0, 0), (1.0, 0), (61.0, 1)]
