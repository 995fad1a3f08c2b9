"""The text plan is printed a change at a time (one console call per change, not per line: rich's
work per call was most of printing a large plan), and reads exactly as printed line by line,
colours and the masking of secrets included."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.text import Text

from pacs_reconcile.engine.changes import Change
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
    printer_type: type[Counted], colors: bool = True, spans: list[int] | None = None
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
        if spans is not None:
            spans.extend(len(o.spans) for o in objects if isinstance(o, Text))
        real_print(*objects, **options)

    console.print = counting_print  # type: ignore[method-assign]
    printer = printer_type(console, calls)
    printer.plan(every_action_plan())
    return out.getvalue(), printer.per_change


def test_a_plan_prints_a_change_at_a_time_and_reads_as_line_by_line() -> None:
    together, per_change = _printed(Counted)
    line_by_line, per_line = _printed(LineByLine)
    assert together == line_by_line
    assert SECRET not in together
    assert all(lines >= 3 for lines in per_line)  # a change is several lines...
    assert per_change == [1] * len(per_line)  # ...printed in one call


def test_without_colors_a_change_goes_out_as_plain_text_and_reads_the_same() -> None:
    """No color system (a file, a pipe, NO_COLOR): the styles are not written, so they are not
    handed to rich either (its work on them was a third of printing a large plan)."""
    spans: list[int] = []
    together, per_change = _printed(Counted, colors=False, spans=spans)
    line_by_line, _ = _printed(LineByLine, colors=False)
    assert together == line_by_line
    assert SECRET not in together
    assert per_change == [1] * len(per_change) and len(per_change) >= 3
    assert spans and not any(spans[1:-1])  # the changes, between the heading and the summary
