"""The command's process sets Python's garbage collector for a short life (collector.py)."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from pacs_reconcile import collector

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
    collected every 10,000 allocations, not every 700."""
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
    monkeypatch.setattr(gc, "get_threshold", lambda: (50_000, 7, 9))
    monkeypatch.setattr(gc, "set_threshold", lambda *values: thresholds.append(values))
    monkeypatch.setattr(collector.atexit, "register", registered.append)
    collector.tune_for_one_command()
    assert thresholds == [(50_000, 7, 9)]
    assert registered == [gc.freeze]
