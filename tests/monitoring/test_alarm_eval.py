"""Alarm evaluation against AWS's documented outcomes.

The tables are those of "Configuring how CloudWatch alarms treat missing data" in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
(doc_source/AlarmThatSendsEmail.md of awsdocs/amazon-cloudwatch-user-guide): CloudWatch retrieves the
5 most recent datapoints; 0 is non-breaching, X breaching, - missing.
"""

from __future__ import annotations

import itertools

import pytest

from pacs_reconcile.monitoring.alarm_eval import (
    AlarmRule,
    SimulationError,
    State,
    TreatMissing,
    evaluate,
    statistic,
)

RETAIN = "retain"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# (datapoints, MISSING, IGNORE, BREACHING, NOT BREACHING) with 3 of 3 ...
THREE_OF_THREE = [
    ("0 - X - X", "OK", "OK", "OK", "OK"),
    ("0 - - - -", "OK", "OK", "OK", "OK"),
    ("- - - - -", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
    ("X - - - -", "ALARM", RETAIN, "ALARM", "OK"),
]
# ... and with 2 of 3 (an M out of N alarm).
TWO_OF_THREE = [
    ("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    ("0 - X - -", "OK", "OK", "ALARM", "OK"),
    ("- - - - 0", "OK", "OK", "ALARM", "OK"),
    ("- - - - X", "INSUFFICIENT_DATA", RETAIN, "ALARM", "OK"),
]


def _window(text: str) -> list[bool | None]:
    return [{"0": False, "X": True, "-": None}[point] for point in text.split()]


def _cases(table: list[tuple[str, ...]], m: int) -> list[tuple[str, int, str, str]]:
    return [
        (row[0], m, treat, expected)
        for row in table
        for treat, expected in zip(TREATMENTS, row[1:], strict=True)
    ]


@pytest.mark.parametrize(
    ("points", "m", "treat", "expected"), _cases(THREE_OF_THREE, 3) + _cases(TWO_OF_THREE, 2)
)
@pytest.mark.parametrize("current", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_every_row_of_the_missing_data_tables(
    points: str, m: int, treat: str, expected: str, current: State
) -> None:
    state = evaluate(_window(points), 3, m, treat, current)  # type: ignore[arg-type]
    assert state == (current if expected == RETAIN else expected)


def test_the_documented_figure_three_of_three_above_three_units() -> None:
    # "when all three datapoints in the most recent three consecutive periods are above the threshold,
    # the alarm goes to ALARM ... in the third through fifth time periods. At period six, the value
    # dips below the threshold ... the alarm state changes to OK. During the ninth time period, the
    # threshold is breached again, but for only one period ... the alarm state remains OK."
    rule = AlarmRule("GreaterThanThreshold", 3, 3, 3, "missing")
    states = rule.simulate([4, 5, 4, 4.5, 5, 2, 1, 2, 4, 2])
    assert states[2:5] == ["ALARM"] * 3
    assert states[5:] == ["OK"] * 5


@pytest.mark.parametrize(("n", "m"), [(n, m) for n in range(1, 6) for m in range(1, n + 1)])
def test_m_of_n_needs_m_breaching_datapoints_anywhere_in_the_last_n(n: int, m: int) -> None:
    # "Datapoints to Alarm is the number of data points within the evaluation period that must be
    # breaching ... The breaching data points do not have to be consecutive."
    rule = AlarmRule("GreaterThanThreshold", 10, n, m, "missing")
    for breaching in itertools.combinations(range(n), m):
        values = [0.0] * n  # a full history of OK first, then the N periods under test
        values += [20.0 if i in breaching else 0.0 for i in range(n)]
        assert rule.simulate(values)[-1] == "ALARM", breaching
    for breaching in itertools.combinations(range(n), m - 1):
        values = [0.0] * n + [20.0 if i in breaching else 0.0 for i in range(n)]
        assert rule.simulate(values)[-1] == "OK", breaching


def test_breaching_datapoints_older_than_n_periods_no_longer_count() -> None:
    rule = AlarmRule("GreaterThanThreshold", 10, 3, 2, "missing")
    assert rule.simulate([20, 20, 0, 0, 0]) == ["INSUFFICIENT_DATA", "ALARM", "ALARM", "OK", "OK"]


@pytest.mark.parametrize("treat", ["missing", "ignore", "breaching", "notBreaching"])
def test_an_evaluation_range_reaching_past_the_first_period_decides_as_a_range_that_reaches_it(
    treat: TreatMissing,
) -> None:
    # Periods before the first are missing ones: a range of any length past N of them gives the
    # same states, including one too long to allocate (it ended validate as an OverflowError).
    rule = AlarmRule("GreaterThanThreshold", 10, 3, 2, treat)
    for values in itertools.product([20.0, 0.0, None], repeat=4):
        expected = rule.simulate(values, evaluation_range=len(values) + 3)
        for longer in (len(values) + 4, len(values) + 50, 10**19):
            assert rule.simulate(values, evaluation_range=longer) == expected, (values, longer)


@pytest.mark.parametrize(
    ("comparison", "value", "expected"),
    [
        ("GreaterThanOrEqualToThreshold", 10, True),
        ("GreaterThanThreshold", 10, False),
        ("LessThanThreshold", 9.5, True),
        ("LessThanOrEqualToThreshold", 10.5, False),
    ],
)
def test_static_comparisons(comparison: str, value: float, expected: bool) -> None:
    rule = AlarmRule(comparison, 10, 1, 1, "missing")
    assert rule.simulate([value]) == ["ALARM" if expected else "OK"]


@pytest.mark.parametrize(
    ("comparison", "values", "expected"),
    [
        ("LessThanLowerOrGreaterThanUpperThreshold", [5, 15, 25], ["ALARM", "OK", "ALARM"]),
        ("LessThanLowerThreshold", [5, 15, 25], ["ALARM", "OK", "OK"]),
        ("GreaterThanUpperThreshold", [5, 15, 25], ["OK", "OK", "ALARM"]),
    ],
)
def test_anomaly_band_comparisons_use_the_band_of_each_period(
    comparison: str, values: list[float], expected: list[str]
) -> None:
    rule = AlarmRule(comparison, None, 1, 1, "missing")
    assert rule.simulate(values, bands=[[10, 20]] * 3) == expected
    with pytest.raises(SimulationError, match="band"):
        rule.simulate(values)


@pytest.mark.parametrize(
    ("name", "samples", "expected"),
    [
        ("Sum", [1, 2, 3], 6),
        ("Average", [1, 2, 6], 3),
        ("SampleCount", [7, 7], 2),
        ("Minimum", [4, 2], 2),
        ("Maximum", [4, 2], 4),
        ("Sum", [], None),
    ],
)
def test_statistics_over_raw_samples(name: str, samples: list[float], expected: float | None) -> None:
    assert statistic(name, samples) == expected


def test_percentiles_over_raw_samples_are_refused_not_guessed() -> None:
    with pytest.raises(SimulationError, match="p99 is not computed"):
        statistic("p99", [1.0])
