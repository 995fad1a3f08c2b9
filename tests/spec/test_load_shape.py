"""How a spec load spends its work, checked without a clock (the times are in BENCHMARKS.md):
what it pauses, what it reads, and what it leaves for the commands that need it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import FINGERPRINT_TAG
from pacs_reconcile.errors import SpecError
from pacs_reconcile.resources.cloudwatch import AlarmSpec
from pacs_reconcile.spec import loader

from .test_loader import make_spec

ROOT = """\
include: [specs/*.yaml]
variables:
  suffix: {default: ""}
environments:
  prod: {variables: {suffix: -prod}}
"""

ALARMS = """\
alarms:
  errors:
    name: errors${var.suffix}
    metric: {name: Errors, namespace: Shape, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: 1
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    return make_spec(tmp_path, ROOT, {"specs/alarms.yaml": ALARMS})


@pytest.fixture
def collector_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Whether the garbage collector ran each time a spec file was parsed."""
    seen: list[bool] = []
    original = loader.read_yaml

    def watching(path: Path, display: str) -> Any:
        seen.append(gc.isenabled())
        return original(path, display)

    monkeypatch.setattr(loader, "read_yaml", watching)
    assert gc.isenabled()
    yield seen
    gc.enable()


def test_the_collector_is_paused_while_a_spec_loads_and_runs_again_after(
    spec_file: Path, collector_seen: list[bool]
) -> None:
    loader.load_every_environment(spec_file)
    assert gc.isenabled()
    loader.load_spec(spec_file, environment="prod")
    assert gc.isenabled()
    assert collector_seen == [False, False, False, False]  # two files, two loads


def test_the_collector_runs_again_after_a_spec_with_problems(
    spec_file: Path, collector_seen: list[bool]
) -> None:
    (spec_file.parent / "specs" / "alarms.yaml").write_text(ALARMS.replace("threshold: 1", "threshold: x"))
    with pytest.raises(SpecError):
        loader.load_every_environment(spec_file)
    assert gc.isenabled()
    with pytest.raises(SpecError):
        loader.load_spec(spec_file)
    assert gc.isenabled()
    assert collector_seen and not any(collector_seen)


def test_a_collector_paused_by_the_caller_stays_paused(spec_file: Path) -> None:
    gc.disable()
    try:
        loader.load_spec(spec_file)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_configurations_equal_in_python_but_not_in_type_are_validated_apart() -> None:
    """Validations shared between loads are keyed by what was written: `true` is not `1` (Python
    holds True == 1), nor `"1"` (text) the number 1."""
    validations = loader.Validations()
    written = {
        "name": "errors",
        "metric": {"name": "Errors", "namespace": "Shape", "statistic": "Sum", "period": 300},
        "threshold": 1,
        "comparison": "GreaterThanThreshold",
    }
    one, true, text = (validations.of(AlarmSpec, written | {"evaluation_periods": v}) for v in (1, True, "1"))
    assert one.errors is None and text.errors is None
    assert true.errors is not None and true.errors[0]["loc"] == ("evaluation_periods",)
    assert validations.of(AlarmSpec, written | {"evaluation_periods": 1}) is one


def test_validate_fingerprints_no_spec(spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """validate compares nothing with AWS: neither the base spec nor an environment is given the
    fingerprint tags plan, apply and drift compare (a load for those still has them)."""
    fingerprinted: list[int] = []
    original = loader.add_fingerprints

    def counting(resources: Any, secrets: Any = ()) -> None:
        fingerprinted.append(len(resources))
        original(resources, secrets)

    monkeypatch.setattr(loader, "add_fingerprints", counting)
    spec, environments = loader.load_every_environment(spec_file)
    assert environments == ["prod"]  # checked: it resolves otherwise than the base spec
    assert fingerprinted == []
    assert spec.resources["alarms.errors"].tags is not None
    assert FINGERPRINT_TAG not in spec.resources["alarms.errors"].tags
    prod = loader.load_spec(spec_file, environment="prod").resources["alarms.errors"].tags
    assert prod is not None and FINGERPRINT_TAG in prod
    assert fingerprinted == [1]


REFERRING = (
    """\
sns_topics:
  alerts:
    name: alerts${var.suffix}
"""
    + ALARMS
    + """\
    alarm_actions: ["${sns_topics.alerts.arn}"]
    depends_on: [sns_topics.alerts]
"""
)


def test_a_valid_load_leaves_no_cyclic_garbage(tmp_path: Path) -> None:
    """What a load frees dies by reference counting: cyclic garbage (a closure calling itself, for
    one) would keep the environments' loads alive until the collector walks the whole heap, a
    pass that took longer than checking the environment itself."""
    spec_file = make_spec(tmp_path, ROOT, {"specs/alarms.yaml": REFERRING})
    gc.collect()
    gc.disable()
    try:
        spec, environments = loader.load_every_environment(spec_file)
        loader.load_spec(spec_file, environment="prod")
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert environments == ["prod"]
    assert spec.resources["alarms.errors"].depends_on == {"sns_topics.alerts"}
