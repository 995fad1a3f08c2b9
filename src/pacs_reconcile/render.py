"""Plans and apply results for people (rich text, like `terraform plan`) and for machines (JSON)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from .diff import UNKNOWN, Difference, contains_unknown
from .engine.apply import ApplyResult, Outcome
from .engine.changes import Action, Change
from .engine.plan import Plan, kept_because
from .engine.scheduler import Status
from .plain_text import StyledLine, expand_tabs, plain_file
from .redact import MASK, Redactor, is_sensitive_path

if TYPE_CHECKING:  # rich is imported where it prints: a plan written to a file or a pipe does without it
    from rich.console import Console

SYMBOLS = {
    Action.CREATE: ("+", "green", "will be created"),
    Action.UPDATE: ("~", "yellow", "will be updated in place"),
    Action.REPLACE: ("-/+", "magenta", "must be replaced"),
    Action.DELETE: ("-", "red", "will be destroyed"),
    Action.REFUSED: ("!", "bold red", "cannot be planned"),
    Action.RETAINED: ("=", "cyan", "is kept"),
    Action.RELEASE: ("~", "blue", "will be released (no longer managed, not deleted)"),
    Action.NOOP: (" ", "dim", "is up to date"),
}
JSON_FORMAT_VERSION = 2
"""format_version of the plan, apply and drift documents: 2 marks unknown and sensitive values
beside them (1 wrote "(known after apply)" and "(sensitive value)" into them)."""


def value_text(value: Any) -> str:
    if value is UNKNOWN:
        return "(known after apply)"
    if value is None:
        return "null"
    if value == MASK:
        return MASK
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def is_long(value: Any) -> bool:
    return isinstance(value, dict | list) and len(value_text(value)) > 70


def masked_difference(change: Change, diff: Difference) -> Difference:
    if is_sensitive_path(diff.path, change.sensitive_paths):
        return Difference(
            diff.path, MASK if diff.old is not None else None, MASK if diff.new is not None else None
        )
    return diff


SIGN_STYLES = {"+": "green", "-": "red", "~": "yellow"}


def difference_sign(diff: Difference) -> str:
    """`+` a value AWS lacks, `-` a value the spec drops, `~` a value that changes."""
    if diff.old is None and diff.new is not None:
        return "+"
    if diff.new is None:
        return "-"
    return "~"


def difference_body(diff: Difference) -> str:
    """The value (or `old -> new`) shown after a scalar difference's path."""
    sign = difference_sign(diff)
    if sign == "~":
        return f"{value_text(diff.old)} -> {value_text(diff.new)}"
    if sign == "+":
        return value_text(diff.new)
    return f"{value_text(diff.old)} -> null"


def difference_lines(change: Change) -> list[str]:
    """Plain `+`/`-`/`~` lines, one per attribute path (structures as a unified diff below their
    path); sensitive values masked. For Markdown diff fences and HTML reports."""
    out: list[str] = []
    for diff in (masked_difference(change, d) for d in change.differences):
        sign = difference_sign(diff)
        if is_long(diff.old) or is_long(diff.new):
            out.append(f"{sign} {diff.path}:")
            # the sign stays in the first column: that is what colours a line in a diff fence
            out += [
                f"{line[0]}    {line[1:]}" if line[:1] in ("+", "-", " ") else f"     {line}"
                for line in structure_diff(diff.old, diff.new)
            ]
        else:
            out.append(f"{sign} {diff.path} = {difference_body(diff)}")
    return out


@runtime_checkable
class Output(Protocol):
    """Where a printer's lines go: the stream their plain text is written to as it is (where rich
    would write no styles: a file, a pipe, NO_COLOR), else None and `console()` prints them (a method:
    the console may be made only when asked for)."""

    def plain_stream(self) -> IO[str] | None: ...

    def console(self) -> Console: ...


class ConsoleOutput:
    """A rich Console as a printer's output."""

    def __init__(self, console: Console) -> None:
        self._console = console

    def plain_stream(self) -> IO[str] | None:
        return plain_file(self._console)

    def console(self) -> Console:
        return self._console


class PlanPrinter:
    def __init__(self, output: Output | Console, redactor: Redactor) -> None:
        self.output: Output = output if isinstance(output, Output) else ConsoleOutput(output)
        self.redactor = redactor
        self._held: list[StyledLine] | None = None
        """Lines kept to be printed together (one change's), else None."""

    def out(self, text: StyledLine | str) -> None:
        line = _redacted(StyledLine(text) if isinstance(text, str) else text, self.redactor)
        if self._held is not None:
            self._held.append(line)
        elif isinstance(self.output, ConsoleOutput):  # rich prints each line, as it always did
            self.output.console().print(line.rich(), highlight=False, soft_wrap=True)
        else:
            self._print_held([line])

    @contextmanager
    def _together(self) -> Iterator[None]:
        """The lines printed meanwhile go out in one console call: rich's work per call, not per
        line, is most of printing a large plan (1,726 creates are 31,000 lines: 1.9 s of CPU a
        line at a time, 0.6 s a change at a time, before the apply can start)."""
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            if held:
                self._print_held(held)

    def _print_held(self, lines: list[StyledLine]) -> None:
        """The lines in one console call; their plain text written as it is where the output takes
        no styles, as rich would write it: control codes stripped (StyledLine.plain), nothing
        wrapped, tabs expanded as rich does (where only rich can tell where a tab stops, rich writes
        them: plain_text.expand_tabs). rich's work on a change's lines was 0.48 of the 0.68 s of CPU a
        plan of 1,726 creates took to print before the apply could start (0.2 s without it); rich's
        import alone is ~16 ms of the ~0.7 s a plan of the repository's stack takes."""
        stream = self.output.plain_stream()
        if stream is not None:
            shown = expand_tabs("\n".join(line.plain for line in lines))
            if shown is not None:
                stream.write(shown + "\n")
                stream.flush()  # as rich does after each call: stderr's lines stay in order
                return
        from rich.text import Text

        self.output.console().print(
            Text("\n").join(line.rich() for line in lines), highlight=False, soft_wrap=True
        )

    def plan(self, plan: Plan) -> None:
        shown = [c for c in plan.changes if c.action is not Action.NOOP or c.notes]
        if not any(c.action is not Action.NOOP for c in plan.changes):
            for change in shown:
                self._notes(change)
            if plan.bookkeeping:
                self.out(
                    StyledLine(
                        f"  i {len(plan.bookkeeping)} resources will have their spec fingerprint tag "
                        "updated by apply (the spec was rewritten; AWS resources are unchanged)",
                        style="cyan",
                    )
                )
            self._housekeeping(plan)
            self.out(
                StyledLine.assemble(
                    ("No changes. ", "bold green"),
                    f"AWS matches the spec ({len(plan.changes)} resources, stack {plan.stack}, "
                    f"{plan.region}).",
                )
            )
            return
        self.out(
            StyledLine.assemble(
                "pacs-reconcile will perform the following actions (stack ",
                (plan.stack, "bold"),
                f", {plan.region}):",
                "\n",
            )
        )
        for change in shown:
            if change.action is Action.NOOP:
                self._notes(change)
                continue
            self.change(change)
        self._housekeeping(plan)
        self.out(self.summary_line(plan))

    def _housekeeping(self, plan: Plan) -> None:
        for reason in plan.housekeeping.values():
            self.out(StyledLine(f"  i {reason}", style="cyan"))

    def _notes(self, change: Change) -> None:
        for note in change.notes:
            self.out(StyledLine.assemble("  ", ("i", "cyan"), f" {change.address}: {note}"))

    def change(self, change: Change) -> None:
        with self._together():
            self._change(change)

    def _change(self, change: Change) -> None:
        symbol, style, verb = SYMBOLS[change.action]
        reason = f" ({change.reason})" if change.reason else ""
        self.out(
            StyledLine(
                f"  # {change.address} {verb}{reason}",
                style="bold" if change.action is Action.REFUSED else "",
            )
        )
        for note in change.notes:
            self.out(StyledLine(f"  # {note}", style="dim"))
        self.out(StyledLine.assemble(("  " + symbol + " ", style), (change.address, "bold")))
        diffs = [masked_difference(change, d) for d in change.differences]
        width = max((len(d.path) for d in diffs), default=0)
        for diff in diffs:
            self._difference(diff, width, change.action)
        self.out("")

    def _difference(self, diff: Difference, width: int, action: Action) -> None:
        sign = difference_sign(diff)
        style = SIGN_STYLES[sign]
        if is_long(diff.old) or is_long(diff.new):
            self.out(StyledLine.assemble(("      " + sign + " ", style), f"{diff.path}:"))
            for line in structure_diff(diff.old, diff.new):
                line_style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                self.out(StyledLine("          " + line, style=line_style))
            return
        self.out(
            StyledLine.assemble(
                ("      " + sign + " ", style), f"{diff.path.ljust(width)} = {difference_body(diff)}"
            )
        )

    @staticmethod
    def summary_line(plan: Plan) -> StyledLine:
        extra = []
        if plan.count(Action.RELEASE):
            extra.append(f"{plan.count(Action.RELEASE)} to release")
        for why in ("stateful", "protected"):
            kept = sum(1 for c in plan.changes if c.action is Action.RETAINED and kept_because(c) == why)
            if kept:
                extra.append(f"{kept} kept ({why})")
        if plan.refused:
            extra.append(f"{len(plan.refused)} refused")
        tail = f" ({', '.join(extra)})" if extra else ""
        return StyledLine.assemble(
            ("Plan: ", "bold"),
            f"{plan.count(Action.CREATE)} to add, {plan.count(Action.UPDATE)} to change, "
            f"{plan.count(Action.REPLACE)} to replace, {plan.count(Action.DELETE)} to destroy.{tail}",
        )

    def apply_result(self, result: ApplyResult, verb: str = "Apply") -> None:
        """The outcome line, e.g. `Apply complete! Resources: ...` (`Destroy complete!` for destroy)."""
        failed = [o for o in result.outcomes if o.status is Status.FAILED]
        skipped = [o for o in result.outcomes if o.status in (Status.SKIPPED, Status.NOT_STARTED)]
        for outcome in failed + skipped:
            self.out(
                StyledLine.assemble(
                    (f"  {outcome.status}: ", "bold red"), f"{outcome.address}: {outcome.message}"
                )
            )
        done = {
            a: result.count(a)
            for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE, Action.RELEASE)
        }
        head = (
            f"{verb} interrupted"
            if result.interrupted
            else f"{verb} complete"
            if result.ok
            else f"{verb} failed"
        )
        style = "bold green" if result.ok else "bold red"
        self.out(
            StyledLine.assemble(
                (f"{head}! ", style),
                f"Resources: {done[Action.CREATE]} added, {done[Action.UPDATE]} changed, "
                f"{done[Action.REPLACE]} replaced, {done[Action.DELETE]} destroyed"
                + (f", {done[Action.RELEASE]} released" if done[Action.RELEASE] else "")
                + (f"; {len(failed)} failed, {len(skipped)} not done" if failed or skipped else "")
                + ".",
            )
        )


def _redacted(line: StyledLine, redactor: Redactor) -> StyledLine:
    if not redactor.secrets or not any(s in line.plain for s in redactor.secrets):
        return line
    return StyledLine(redactor.text(line.plain), style=line.style)


def structure_diff(old: Any, new: Any) -> Iterable[str]:
    before = [] if old is None else json.dumps(old, indent=2, sort_keys=True, default=str).splitlines()
    after = [] if new is None else json.dumps(new, indent=2, sort_keys=True, default=str).splitlines()
    if not before:
        return ["+ " + line for line in after]
    lines = list(difflib.unified_diff(before, after, lineterm="", n=2))[2:]
    return [line if not line.startswith("@@") else "..." for line in lines]


# ----------------------------------------------------------------------------------- JSON
# The JSON documents are described by schema/output/*.schema.json (one file per format_version).
# Values known only after apply and sensitive values are marked beside the value, never written
# into it (as Terraform's plan JSON does with after_unknown and after_sensitive):
#   "new": null, "new_unknown": true                 the whole value is known after apply
#   "new": [null, "x"], "new_unknown": [true, false]  part of it is (a mirror of the value)
#   "old": null, "old_sensitive": true               the value is sensitive, never written


def _known_part(value: Any) -> Any:
    """`value` with what is known only after apply left as null."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: _known_part(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known_part(v) for v in value]
    return value


def _unknown_mirror(value: Any) -> Any:
    """True where `value` is known only after apply: a bool, or the value's shape with bools."""
    if value is UNKNOWN:
        return True
    if isinstance(value, dict) and contains_unknown(value):
        return {k: _unknown_mirror(v) for k, v in value.items()}
    if isinstance(value, list) and contains_unknown(value):
        return [_unknown_mirror(v) for v in value]
    return False


def difference_json(change: Change, diff: Difference) -> dict[str, Any]:
    """One attribute's difference: `old` is what AWS has, `new` what the spec asks for."""
    sensitive = is_sensitive_path(diff.path, change.sensitive_paths)
    old_sensitive = sensitive and diff.old is not None
    new_sensitive = sensitive and diff.new is not None
    return {
        "path": diff.path,
        "old": None if old_sensitive else diff.old,
        "new": None if new_sensitive else _known_part(diff.new),
        "new_unknown": _unknown_mirror(diff.new),
        "old_sensitive": old_sensitive,
        "new_sensitive": new_sensitive,
    }


def change_json(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": str(change.action),
        "reason": change.reason or None,
        "notes": change.notes,
        "depends_on": change.depends_on,
        "differences": [difference_json(change, d) for d in change.differences],
    }


def plan_json(plan: Plan, redactor: Redactor) -> dict[str, Any]:
    summary = {str(a): plan.count(a) for a in Action}
    document = {
        "format_version": JSON_FORMAT_VERSION,
        "stack": plan.stack,
        "region": plan.region,
        "spec_fingerprint": plan.spec_fingerprint,
        "changes_present": plan.has_changes,
        "summary": summary,
        "changes": [change_json(c) for c in plan.changes],
    }
    return redactor.data(document)  # type: ignore[no-any-return]


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "address": outcome.address,
        "action": str(outcome.action),
        "status": str(outcome.status),
        "message": outcome.message or None,
        "seconds": round(outcome.seconds, 3),
    }


def apply_json(plan: Plan, result: ApplyResult | None, redactor: Redactor) -> dict[str, Any]:
    """The apply (and destroy) document: the plan it carried out and, under `applied`, what became
    of each change (None: there was nothing to do)."""
    applied = {
        "ok": result.ok if result else True,
        "interrupted": result.interrupted if result else False,
        "outcomes": [outcome_json(o) for o in result.outcomes] if result else [],
    }
    return {**plan_json(plan, redactor), "applied": redactor.data(applied)}


# ----------------------------------------------------------------------------------- drift
FINDING_STYLES = {
    "drifted": "bold red",
    "missing": "red",
    "unmanaged": "yellow",
    "conflict": "bold red",
    "pending": "cyan",
    "info": "dim",
}


def masked_differences_json(change: Change) -> list[dict[str, Any]]:
    return [difference_json(change, d) for d in change.differences]


def print_drift(printer: PlanPrinter, report: Any) -> None:
    """`report` is an engine.drift.DriftReport."""
    printer.out(
        StyledLine.assemble(
            "Drift check of stack ",
            (report.stack, "bold"),
            f" ({report.region}): {report.resources} declared resources.",
        )
    )
    width = max((len(i.address) for i in report.items), default=0)
    for item in report.items:
        finding = str(item.finding)
        head = StyledLine.assemble(
            ("  " + finding.ljust(10), FINDING_STYLES.get(finding, "")), item.address.ljust(width)
        )
        diffs = [masked_difference(item.change, d) for d in item.change.differences]
        if not diffs:
            head.append(f"  {item.detail}", style="dim")
            printer.out(head)
            continue
        printer.out(head)
        for diff in diffs:
            old = "(sensitive value)" if diff.old == MASK else _short(diff.old)
            new = "(sensitive value)" if diff.new == MASK else _short(diff.new)
            printer.out(StyledLine(f"      {diff.path}: {old} -> {new}", style="dim"))
    counts = {f: len([i for i in report.items if str(i.finding) == f]) for f in FINDING_STYLES}
    if not report.findings:
        printer.out(
            StyledLine.assemble(("No drift. ", "bold green"), "AWS matches the spec and the spec is applied.")
        )
        return
    printer.out(
        StyledLine.assemble(
            ("Drift: ", "bold"),
            f"{counts['drifted']} drifted, {counts['missing']} missing, {counts['unmanaged']} unmanaged, "
            f"{counts['conflict']} conflicts; {counts['pending']} pending (spec changed, not applied).",
        )
    )


def _short(value: Any, limit: int = 80) -> str:
    text = value_text(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
