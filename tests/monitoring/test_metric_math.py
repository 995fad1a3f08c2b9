"""Metric math against the examples of AWS's "Using metric math" (doc_source/using-metric-math.md,
awsdocs/amazon-cloudwatch-user-guide): None stands for the documentation's '-' (no value)."""

from __future__ import annotations

import pytest

from pacs_reconcile.monitoring.metric_math import MathError, Series, evaluate

COMPARED = {"metric1": [30.0, 20.0, 0.0, 0.0], "metric2": [20.0, None, 20.0, None]}
IF_SERIES: dict[str, Series] = {
    "metric1": [1.0, 1.0, 0.0, 0.0, None],
    "metric2": [30.0, None, 0.0, 0.0, 30.0],
    "metric3": [0.0, 0.0, 20.0, None, 20.0],
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(metric1 < metric2)", [0, 0, 1, 0]),
        ("(metric1 >= 30)", [1, 0, 0, 0]),
        ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0]),
        ("(metric1 > 15 && metric2 > 15)", [1, 0, 0, 0]),
    ],
)
def test_documented_comparisons(expression: str, expected: list[float]) -> None:
    assert evaluate(expression, COMPARED, list(COMPARED), 4) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("IF(metric1, metric2, metric3)", [30, 0, 20, None, None]),
        ("IF(metric1, 5, metric3)", [5, 5, 20, None, None]),
        ("IF(metric1, metric2, 5)", [30, 0, 5, 5, None]),
    ],
)
def test_documented_if_tables(expression: str, expected: list[float | None]) -> None:
    assert evaluate(expression, IF_SERIES, list(IF_SERIES), 5) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("100 * errors / requests", [10.0, 0.0, 0.0]),  # the missing error count is 0 against requests
        ("SUM([errors, requests])", [11.0, 5.0, 10.0]),
        ("AVG(METRICS())", [5.5, 2.5, 5.0]),
        ('SUM(METRICS("err"))', [1.0, None, 0.0]),
        ("FILL(errors, 0) + 1", [2.0, 1.0, 1.0]),
        ("IF(errors > 0, 1, 0)", [1.0, None, 0.0]),
        ("-errors + 2 ^ 3 ^ 0", [1.0, None, 2.0]),  # ^ binds right: 2 ^ (3 ^ 0)
        ("errors - requests", [-9.0, -5.0, -10.0]),
    ],
)
def test_arithmetic_functions_and_missing_values(expression: str, expected: list[float | None]) -> None:
    series: dict[str, Series] = {"errors": [1.0, None, 0.0], "requests": [10.0, 5.0, 10.0]}
    assert evaluate(expression, series, ["errors", "requests"], 3) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("SUM(errors)", "scalar over everything retrieved"),
        ("FILL(errors, REPEAT)", r"REPEAT\) is not simulated"),
        ("RATE(errors)", "RATE with 1 arguments is not simulated"),
        ("errors +", "expected more"),
        ("nope * 2", "'nope' is not a number"),
        ("errors ^ 1000 * 10 ^ 1000", r"10 \^ 1000 has no finite real value"),  # OverflowError before
        ("(0 - 4) ^ 0.5", r"-4 \^ 0.5 has no finite real value"),  # "math domain error" before
        ("(errors - 1) ^ -1", r"0 \^ -1 has no finite real value"),
        ("(" * 1000 + "errors" + ")" * 1000, "nests more than 100 levels"),  # RecursionError before
        ("-" * 2000 + "errors", "nests more than 100 levels"),
        (" ^ ".join(["errors"] * 600), "nests more than 100 levels"),
    ],
)
def test_what_is_not_simulated_is_refused(expression: str, message: str) -> None:
    with pytest.raises(MathError, match=message):
        evaluate(expression, {"errors": [1.0]}, ["errors"], 1)
