"""The text plan is printed a change at a time (one console call per change, not per line: rich's
work per call was most of printing a large plan), and reads exactly as printed line by line,
colours and the masking of secrets included."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from pacs_reconcile.commands import GlobalOptions, Session
from pacs_reconcile.engine.changes import Change
from pacs_reconcile.engine.plan import Plan
from pacs_reconcile.render import PlanPrinter

from .sample_plans import SECRET, every_action_plan, redactor


class Counted(PlanPrinter):
    """Counts the console calls each change makes."""

    def __init__(self, console: Console, calls: list[int]) -> None:
        super().__init__(console, redactor())
        self.calls = calls
        self.per_change: list[int] = []

    def change(self, change: Change) -> None:
        before = len(self.calls)
        super().change(change)
        self.per_change.append(len(self.calls) - before)


class LineByLine(Counted):
    """Every line in a console call of its own (as the printer did before)."""

    @contextmanager
    def _together(self) -> Iterator[None]:
        yield


def _printed(
    printer_type: type[Counted], colors: bool = True, plan: Plan | None = None
) -> tuple[str, list[int]]:
    out = io.StringIO()
    if colors:
        console = Console(file=out, force_terminal=True, color_system="truecolor", width=120)
    else:  # as the CLI makes it for a file or NO_COLOR
        console = Console(file=out, no_color=True, color_system=None, highlight=False, soft_wrap=True)
    calls: list[int] = []
    real_print = console.print

    def counting_print(*objects: Any, **options: Any) -> None:
        calls.append(1)
        real_print(*objects, **options)

    console.print = counting_print  # type: ignore[method-assign]
    printer = printer_type(console, calls)
    printer.plan(plan or every_action_plan())
    return out.getvalue(), printer.per_change


def test_a_plan_prints_a_change_at_a_time_and_reads_as_line_by_line() -> None:
    together, per_change = _printed(Counted)
    line_by_line, per_line = _printed(LineByLine)
    assert together == line_by_line
    assert SECRET not in together
    assert all(lines >= 3 for lines in per_line)  # a change is several lines...
    assert per_change == [1] * len(per_line)  # ...printed in one call


def test_without_colors_a_change_is_written_as_plain_text_as_rich_writes_it() -> None:
    """No color system (a file, a pipe, NO_COLOR): a change's lines are written as their plain text
    (rich's work on them was most of printing a large plan), exactly as rich prints them line by
    line: tabs expanded, control codes stripped, secrets masked."""
    plan = every_action_plan()
    plan.changes[0] = replace(plan.changes[0], reason="a\ttab, a bell\x07 and a\rreturn")
    together, per_change = _printed(Counted, colors=False, plan=plan)
    line_by_line, per_line = _printed(LineByLine, colors=False, plan=plan)
    assert together == line_by_line
    assert "tab, a bell and areturn" in together and "\t" not in together
    assert SECRET not in together
    assert all(lines >= 3 for lines in per_line)
    assert per_change == [0] * len(per_line)  # none through rich


def test_without_colors_a_wide_character_before_a_tab_is_left_to_rich() -> None:
    """rich places tab stops by terminal cells: a wide character takes two, where str.expandtabs
    counts one. Such a change goes through rich, and reads as rich writes it."""
    plan = every_action_plan()
    plan.changes[0] = replace(plan.changes[0], reason="画像\tstudies")
    together, per_change = _printed(Counted, colors=False, plan=plan)
    line_by_line, _ = _printed(LineByLine, colors=False, plan=plan)
    assert together == line_by_line
    assert per_change[0] == 1 and set(per_change[1:]) == {0}


class RichLineByLine(PlanPrinter):
    """Every line printed by the rich console it is given, one call each: rich's own rendering."""

    @contextmanager
    def _together(self) -> Iterator[None]:
        yield


@pytest.mark.parametrize("color", [False, True], ids=["no-color", "not-a-terminal"])
def test_a_session_writes_a_plan_without_rich_as_its_rich_console_prints_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, color: bool
) -> None:
    """Where rich would write no styles (--no-color, NO_COLOR, a pipe) and the session has not made
    its console, the plan is written without rich (rich's import is ~16 ms of a ~0.7 s plan), byte
    for byte as the console the session would make prints it line by line: tabs, control codes,
    secrets, and a wide character before a tab, which only rich can place (that change alone goes
    through rich)."""
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    plan = every_action_plan()
    plan.changes[0] = replace(plan.changes[0], reason="a\ttab, a bell\x07 and a\rreturn")

    def written(printer: PlanPrinter, plan: Plan) -> str:
        capsys.readouterr()
        printer.plan(plan)
        return capsys.readouterr().out

    def by_rich(plan: Plan) -> str:
        console = Session(GlobalOptions(color=color)).stdout  # made as the session makes it
        return written(RichLineByLine(console, redactor()), plan)

    plain = Session(GlobalOptions(color=color))
    expected = by_rich(plan)
    assert written(PlanPrinter(plain.output(), redactor()), plan) == expected
    assert "tab, a bell and areturn" in expected and "\t" not in expected and SECRET not in expected
    assert "stdout" not in plain.__dict__  # no console was made: rich did not print

    plan.changes[1] = replace(plan.changes[1], reason="画像\tstudies")
    plain = Session(GlobalOptions(color=color))
    assert written(PlanPrinter(plain.output(), redactor()), plan) == by_rich(plan)
    assert "stdout" in plain.__dict__  # the wide character's change was printed by rich
