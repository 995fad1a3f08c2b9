"""`tests:` on metric filters, alarms and log groups: loaded with their locations, kept out of the
config that plans, fingerprints and AWS calls are made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacs_reconcile.errors import SpecError
from pacs_reconcile.monitoring.examples import AlarmExample, ChainExample, FilterExample
from pacs_reconcile.spec.loader import load_spec

from .sample import LOG_GROUP_WITH_A_FILTER, errors_alarm, write_spec

SPEC = (
    LOG_GROUP_WITH_A_FILTER
    + """\
TESTS_FILTER
"""
    + errors_alarm(evaluation_periods=1)
    + """TESTS_ALARM
"""
)
FILTER_TESTS = """\
        tests:
          - {line: 't1 r1 ERROR boom', value: 1}
          - {line: 't1 r1 INFO fine', match: false}
"""
ALARM_TESTS = """\
    tests:
      - {name: one bad minute, datapoints: [0, 5], expect: [OK, ALARM]}
"""
CHAIN_TESTS = """\
    tests:
      - name: burst
        events: [{at: 0, line: 't1 r1 ERROR boom', repeat: 2}]
        expect: {errors: ALARM}
"""


def _write(tmp_path: Path, with_tests: bool) -> Path:
    text = SPEC.replace("TESTS_FILTER\n", FILTER_TESTS if with_tests else "")
    text = text.replace("TESTS_ALARM\n", ALARM_TESTS if with_tests else "")
    if with_tests:
        text = text.replace("    name: /app\n", "    name: /app\n" + CHAIN_TESTS)
    return write_spec(tmp_path / ("with" if with_tests else "without"), text)


def test_examples_are_loaded_with_their_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, with_tests=True)
    monkeypatch.chdir(path.parent)  # files are named from the working directory: here, as written
    spec = load_spec(path)
    filters = spec.resources["log_groups.app.metric_filters.errors"].examples
    assert [type(e.example) for e in filters] == [FilterExample, FilterExample]
    where = [(e.location.file, e.location.line) for e in filters]
    assert where == [("monitoring.yaml", 16), ("monitoring.yaml", 17)]
    assert filters[1].field == "log_groups.app.metric_filters.errors.tests[1]"
    alarm = spec.resources["alarms.errors"].examples
    assert isinstance(alarm[0].example, AlarmExample) and alarm[0].location.line == 26
    chain = spec.resources["log_groups.app"].examples
    assert isinstance(chain[0].example, ChainExample) and chain[0].location.line == 7


def test_examples_never_reach_the_config_plans_or_fingerprints(tmp_path: Path) -> None:
    with_tests = load_spec(_write(tmp_path, with_tests=True))
    without = load_spec(_write(tmp_path, with_tests=False))
    for address, node in with_tests.resources.items():
        assert "tests" not in node.config
        assert node.config == without.resources[address].config
        assert node.tags == without.resources[address].tags  # the fingerprint tag included
    assert with_tests.fingerprint() == without.fingerprint()


def test_validate_refuses_a_pattern_the_offline_engine_cannot_evaluate(tmp_path: Path) -> None:
    text = LOG_GROUP_WITH_A_FILTER.replace("'[ts, request_id, level=\"ERROR\", ...]'", "'?ERROR WARN'")
    with pytest.raises(SpecError) as raised:
        load_spec(write_spec(tmp_path, text))
    (diagnostic,) = raised.value.diagnostics
    assert (diagnostic.line, diagnostic.field) == (9, "log_groups.app.metric_filters.errors.pattern")
    assert "mixing ?-terms with plain terms is not documented" in diagnostic.message
