"""The command's process sets Python's garbage collector for a short life (collector.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
import weakref
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import collector, commands
from pacs_reconcile.commands import GlobalOptions, Session, SpecInputs
from pacs_reconcile.spec import loader

_COMMAND_THEN_REPORT = """
import atexit, gc, sys
# Registered before the command's own handlers, so it runs after them, just before finalization.
atexit.register(lambda: print("at exit", gc.get_threshold()[0], gc.get_freeze_count(), file=sys.stderr))
sys.argv = ["pacs-reconcile", "--help"]
from pacs_reconcile.cli import main
main()
"""


def test_the_command_collects_less_often_and_freezes_its_heap_before_finalization() -> None:
    """Finalization's collections walked the whole heap (~0.5 s of a 2 s plan): at exit every
    object is in the permanent generation, which they skip; meanwhile the young generation is
    collected after YOUNG_THRESHOLD objects of growth, not every 700 allocations."""
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND_THEN_REPORT], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    label, threshold, frozen = done.stderr.strip().splitlines()[-1].rsplit(" ", 2)
    assert label == "at exit"
    assert int(threshold) == collector.YOUNG_THRESHOLD
    assert int(frozen) > 10_000  # the modules, classes and functions the command imported


def test_a_higher_threshold_already_set_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[object] = []
    thresholds: list[tuple[int, ...]] = []
    higher = collector.YOUNG_THRESHOLD + 1
    monkeypatch.setattr(gc, "get_threshold", lambda: (higher, 7, 9))
    monkeypatch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
    monkeypatch.setattr(collector.atexit, "register", registered.append)
    monkeypatch.setattr(collector, "_one_command", False)  # this process is no command's: restored after
    collector.tune_for_one_command()
    assert thresholds == [(higher, 7, 9)]
    assert registered == [gc.freeze]


MOST_GROWTH_MEASURED = 255_000
"""The most a command's heap grew from its start to its end, in the collector's count of container
objects (collector.py): `drift --env all` of the repository's two environments."""


class _Cycle:
    def __init__(self) -> None:
        self.itself = self


def test_a_command_collects_nothing_until_its_heap_has_grown_by_the_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At a threshold of 10,000 a plan still made 20-35 collections (60-80 ms of its CPU) that
    freed little. Now a command's whole growth passes without one; past the bound one runs and
    frees the cycles left behind, so a longer run's garbage stays bounded."""
    assert gc.isenabled()
    monkeypatch.setattr(collector.atexit, "register", lambda handler: None)
    monkeypatch.setattr(collector, "_one_command", False)  # this process is no command's: restored after
    thresholds = gc.get_threshold()
    collections: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect(0)  # the young generation's count starts from nothing
    collector.tune_for_one_command()
    gc.callbacks.append(record)
    try:
        garbage = _Cycle()
        left_behind = weakref.ref(garbage)
        del garbage
        grown = [[] for _ in range(MOST_GROWTH_MEASURED)]
        assert collections == []
        assert left_behind() is not None
        grown += [[] for _ in range(collector.YOUNG_THRESHOLD - MOST_GROWTH_MEASURED + 1_000)]
        assert len(collections) == 1
        assert left_behind() is None
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*thresholds)


SPEC = """\
version: 1
stack: settled
log_groups:
  app: {name: /settled/app}
"""


@pytest.mark.parametrize("environment", [None, "dev"], ids=["validate", "one environment"])
def test_a_command_loads_its_spec_without_collections_and_freezes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    """The first collection after a load walked every object the load made (20-35 ms of
    `validate`) and freed nothing: in a command's process the load runs without collections
    (its kinds' imports and validators too) and what it made is frozen before they resume."""
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(SPEC + ("environments: {dev: {}}\n" if environment else ""), encoding="utf-8")
    collecting_while_loading: list[bool] = []
    frozen: list[bool] = []
    original = loader.load_spec, loader.load_every_environment

    def watching_one(*args: Any, **kwargs: Any) -> Any:
        collecting_while_loading.append(gc.isenabled())
        return original[0](*args, **kwargs)

    def watching_every(*args: Any, **kwargs: Any) -> Any:
        collecting_while_loading.append(gc.isenabled())
        return original[1](*args, **kwargs)

    monkeypatch.setattr(loader, "load_spec", watching_one)
    monkeypatch.setattr(loader, "load_every_environment", watching_every)
    monkeypatch.setattr(collector, "_one_command", True)
    monkeypatch.setattr(collector.gc, "freeze", lambda: frozen.append(gc.isenabled()))
    session = Session(GlobalOptions())
    commands.validate(SpecInputs(spec, environment, {}), session)
    assert collecting_while_loading == [False]
    assert frozen == [False]  # before the collector runs again
    assert gc.isenabled()


def test_outside_a_command_a_spec_load_leaves_the_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "_one_command", False)
    monkeypatch.setattr(collector.gc, "freeze", lambda: pytest.fail("froze a library caller's heap"))
    with collector.settled():
        assert gc.isenabled()
    assert gc.isenabled()
