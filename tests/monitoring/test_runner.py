"""The example runner on what the repository's spec does not use: dimensions, anomaly bands, metric
math alarms fed by a chain, and the reasons it gives when an example fails."""

from __future__ import annotations

from pathlib import Path

from pacs_reconcile.monitoring.runner import ExampleResult, run_examples
from pacs_reconcile.spec.loader import load_spec

from .sample import write_spec

SPEC = """\
version: 1
stack: runner
log_groups:
  api:
    name: /api
    tests:
      - name: one failing request in ten pages
        events:
          - {at: 1, line: '{"service": "api", "status": 500, "latency": 20}', repeat: 2}
          - {at: 2, line: '{"service": "api", "status": 200, "latency": 10}', repeat: 8}
        expect: {failure_ratio: ALARM, slow: OK}
      - name: wrong expectation
        events: [{at: 1, line: '{"service": "api", "status": 200, "latency": 10}'}]
        expect: {failure_ratio: ALARM}
    metric_filters:
      requests:
        name: requests
        pattern: '{ $.status = * }'
        metric: {name: Requests, namespace: Api/X, value: "1"}
      failures:
        name: failures
        pattern: '{ $.status >= 500 }'
        metric: {name: Failures, namespace: Api/X, value: "1"}
      latency:
        name: latency
        pattern: '{ $.latency = * }'
        metric: {name: Latency, namespace: Api/X, value: "$.latency", dimensions: {Service: $.service}}
        tests:
          - {line: '{"service": "api", "latency": 12}', value: 12, dimensions: {Service: api}}
          - {line: '{"service": "web", "latency": 12}', dimensions: {Service: api}}
          - {line: '{"latency": 12}'}
alarms:
  failure_ratio:
    name: failure-ratio
    metrics:
      - id: failures
        metric: {name: Failures, namespace: Api/X, stat: Sum, period: 60}
      - id: requests
        metric: {name: Requests, namespace: Api/X, stat: Sum, period: 60}
      - id: ratio
        expression: 100 * FILL(failures, 0) / requests
        return_data: true
    comparison: GreaterThanThreshold
    threshold: 10
    evaluation_periods: 1
  slow:
    name: slow
    metric: {name: Latency, namespace: Api/X, statistic: Average, period: 60, dimensions: {Service: api}}
    comparison: GreaterThanThreshold
    threshold: 100
    evaluation_periods: 1
  latency_band:
    name: latency-band
    metrics:
      - id: m1
        metric: {name: Latency, namespace: Api/X, stat: Average, period: 60}
        return_data: true
      - id: band
        expression: ANOMALY_DETECTION_BAND(m1, 2)
        return_data: true
    threshold_metric_id: band
    comparison: LessThanLowerOrGreaterThanUpperThreshold
    evaluation_periods: 1
    tests:
      - name: outside the band alarms
        series: {m1: [50, 90, 10]}
        band: [[20, 80], [20, 80], [20, 80]]
        expect: [OK, ALARM, ALARM]
      - name: a band per period is needed
        series: {m1: [50]}
        expect: [OK]
"""


def _results(tmp_path: Path) -> dict[str, ExampleResult]:
    results = run_examples(load_spec(write_spec(tmp_path, SPEC)))
    return {f"{r.field}": r for r in results}


def test_dimensions_from_json_fields(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert results["log_groups.api.metric_filters.latency.tests[0]"].passed
    assert results["log_groups.api.metric_filters.latency.tests[1]"].failure == (
        'published the dimensions {"Service": "web"}, expected {"Service": "api"}'
    )
    assert results["log_groups.api.metric_filters.latency.tests[2]"].failure == (
        "dimension Service ($.service) has no value: nothing is published"
    )


def test_a_chain_into_a_metric_math_alarm_and_a_dimensioned_metric(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert results["log_groups.api.tests[0]"].passed, results["log_groups.api.tests[0]"].failure
    failure = results["log_groups.api.tests[1]"].failure
    assert failure == "failure_ratio ends OK, expected ALARM (after each 60 s period: OK)"


def test_anomaly_band_alarms_take_the_band_of_each_period(tmp_path: Path) -> None:
    results = _results(tmp_path)
    assert results["alarms.latency_band.tests[0]"].passed, results["alarms.latency_band.tests[0]"].failure
    assert results["alarms.latency_band.tests[1]"].failure == (
        "cannot be checked offline: LessThanLowerOrGreaterThanUpperThreshold needs the band's [lower, upper] "
        "in every period"
    )
