"""Plans, drift reports and apply results as GitHub-flavoured Markdown, for pull-request comments
and CI job summaries: a summary line, a table by action (or drift class), and each resource's
attribute diff folded in a `<details>` block, cut to fit a GitHub comment."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .engine.apply import ApplyResult
from .engine.changes import Action, Change
from .engine.drift import DriftItem, DriftReport, Finding, classify
from .engine.plan import Plan
from .engine.scheduler import Status
from .redact import Redactor
from .render import SYMBOLS, PlanPrinter, difference_lines

COMMENT_LIMIT = 65_536
"""GitHub refuses an issue or pull-request comment longer than this many characters ("Body is too
long (maximum is 65536 characters)": google/go-github#440, telia-oss/github-pr-resource#259)."""

HEADER_ROOM = 512
"""Left free below the comment limit for a line a CI step puts above the report (the marker by
which the action finds its own comment to update)."""

DEFAULT_LIMIT = COMMENT_LIMIT - HEADER_ROOM

ADDRESSES_PER_ROW = 10
"""Addresses listed in one table row before "and N more" (the details below name them all)."""

CLASS_HEADINGS = {
    Finding.DRIFTED: "Drift: changed in AWS outside pacs-reconcile",
    Finding.PENDING: "Pending: the spec changed since the last apply",
    Finding.MISSING: "Missing: declared but absent in AWS",
    Finding.UNMANAGED: "Unmanaged: owned by this stack but no longer declared",
    Finding.CONFLICT: "Conflict: refused, apply stops before starting",
}
"""Section titles, in the order they are shown. Drift (AWS moved) comes apart from pending work
(the spec moved) exactly as the `drift` command tells them apart: by the fingerprint tag."""

Summary = Callable[[Change, DriftItem | None], str]
"""The one-line summary of a resource's folded details."""

TABLE_ACTIONS = (
    Action.CREATE,
    Action.UPDATE,
    Action.REPLACE,
    Action.DELETE,
    Action.RETAINED,
    Action.RELEASE,
    Action.REFUSED,
)


@dataclass(frozen=True)
class Block:
    """A piece of the document. Optional blocks (one resource's details) may be left out to fit."""

    text: str
    optional: bool = False


def plan_markdown(plan: Plan, redactor: Redactor, limit: int = DEFAULT_LIMIT) -> str:
    blocks = [Block(f"### pacs-reconcile plan: stack {_code(plan.stack)} ({_text(plan.region)})")]
    if not plan.has_changes and not plan.refused:
        blocks += _notes(plan.changes)
        blocks.append(
            Block(
                f"**No changes.** AWS matches the spec ({len(plan.changes)} resources, "
                f"stack {_code(plan.stack)}, {_text(plan.region)})."
            )
        )
        blocks += _bookkeeping(plan)
        return _fit(blocks, redactor, limit, "the plan")
    blocks.append(Block(_plan_summary(plan)))
    blocks.append(Block(_action_table(plan.changes)))
    items = [i for i in classify(plan).items if i.change.action is not Action.NOOP]
    blocks += _sections(items, _change_summary)
    blocks += _notes(plan.changes)
    blocks += _bookkeeping(plan)
    return _fit(blocks, redactor, limit, "the plan")


def drift_markdown(report: DriftReport, redactor: Redactor, limit: int = DEFAULT_LIMIT) -> str:
    blocks = [Block(f"### pacs-reconcile drift: stack {_code(report.stack)} ({_text(report.region)})")]
    if not report.findings:
        blocks.append(
            Block(
                f"**No drift.** AWS matches the spec and the spec is applied "
                f"({report.resources} declared resources)."
            )
        )
        blocks += _notes(i.change for i in report.of(Finding.INFO))
        return _fit(blocks, redactor, limit, "the report")
    counts = {f: len(report.of(f)) for f in Finding}
    blocks.append(
        Block(
            f"**Drift: {counts[Finding.DRIFTED]} drifted, {counts[Finding.MISSING]} missing, "
            f"{counts[Finding.UNMANAGED]} unmanaged, {counts[Finding.CONFLICT]} conflicts; "
            f"{counts[Finding.PENDING]} pending (spec changed, not applied).** "
            f"{report.resources} declared resources checked."
        )
    )
    rows = [(f.value, [i.address for i in report.of(f)]) for f in CLASS_HEADINGS if report.of(f)]
    blocks.append(Block(_table("Class", rows)))
    blocks += _sections(report.findings, _finding_summary)
    blocks += _notes(i.change for i in report.of(Finding.INFO))
    return _fit(blocks, redactor, limit, "the report")


def apply_markdown(plan: Plan, result: ApplyResult, redactor: Redactor, limit: int = DEFAULT_LIMIT) -> str:
    """What apply did, resource by resource, with the differences it applied."""
    blocks = [Block(f"### pacs-reconcile apply: stack {_code(plan.stack)} ({_text(plan.region)})")]
    count = {a: result.count(a) for a in (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE)}
    failed = [o for o in result.outcomes if o.status is Status.FAILED]
    not_done = [o for o in result.outcomes if o.status in (Status.SKIPPED, Status.NOT_STARTED)]
    verb = "Destroy" if plan.options.destroy else "Apply"
    head = (
        f"{verb} interrupted" if result.interrupted else f"{verb} complete" if result.ok else f"{verb} failed"
    )
    blocks.append(
        Block(
            f"**{head}! Resources: {count[Action.CREATE]} added, {count[Action.UPDATE]} changed, "
            f"{count[Action.REPLACE]} replaced, {count[Action.DELETE]} destroyed"
            + (f"; {len(failed)} failed, {len(not_done)} not done" if failed or not_done else "")
            + ".**"
        )
    )
    if result.outcomes:
        lines = ["| Resource | Action | Result | Seconds | Message |", "|---|---|---|---:|---|"]
        for outcome in result.outcomes:
            lines.append(
                f"| {_code(outcome.address)} | {_cell(str(outcome.action))} | {_cell(str(outcome.status))} "
                f"| {outcome.seconds:.1f} | {_cell(outcome.message)} |"
            )
        blocks.append(Block("\n".join(lines)))
    done = {o.address for o in result.outcomes if o.status is Status.DONE}
    changes = [c for c in plan.changes if c.address in done and c.differences]
    if changes:
        blocks.append(Block("#### Differences applied"))
        blocks += [Block(_details(_applied_summary(c), c), optional=True) for c in changes]
    return _fit(blocks, redactor, limit, "the apply result")


# Pieces -------------------------------------------------------------------------------------------


def _plan_summary(plan: Plan) -> str:
    line = PlanPrinter.summary_line(plan).plain
    head, _, tail = line.partition("(")
    return f"**{head.strip()}**" + (f" ({_text(tail)}" if tail else "")


def _action_table(changes: Sequence[Change]) -> str:
    rows = [
        (f"{SYMBOLS[a][0]} {a}", [c.address for c in changes if c.action is a])
        for a in TABLE_ACTIONS
        if any(c.action is a for c in changes)
    ]
    return _table("Action", rows)


def _table(first: str, rows: Iterable[tuple[str, list[str]]]) -> str:
    lines = [f"| {first} | Count | Resources |", "|---|---:|---|"]
    for label, addresses in rows:
        shown = ", ".join(_code(a) for a in addresses[:ADDRESSES_PER_ROW])
        more = len(addresses) - ADDRESSES_PER_ROW
        lines.append(
            f"| {_cell(label)} | {len(addresses)} | {shown}{f' and {more} more' if more > 0 else ''} |"
        )
    return "\n".join(lines)


def _sections(items: Sequence[DriftItem], summary: Summary) -> list[Block]:
    blocks: list[Block] = []
    for finding, heading in CLASS_HEADINGS.items():
        of_class = [i for i in items if i.finding is finding]
        if not of_class:
            continue
        blocks.append(Block(f"#### {heading} ({len(of_class)})"))
        blocks += [Block(_details(summary(i.change, i), i.change), optional=True) for i in of_class]
    return blocks


def _change_summary(change: Change, item: DriftItem | None = None) -> str:
    symbol, _, verb = SYMBOLS[change.action]
    reason = f" ({change.reason})" if change.reason else ""
    return f"{_code(f'{symbol} {change.address}')} {_cell(verb + reason)}"


def _finding_summary(change: Change, item: DriftItem | None = None) -> str:
    detail = item.detail if item is not None else ""
    return f"{_code(change.address)} {_cell(detail)}"


APPLIED = {
    Action.CREATE: "was created",
    Action.UPDATE: "was updated in place",
    Action.REPLACE: "was replaced",
    Action.DELETE: "was destroyed",
}


def _applied_summary(change: Change) -> str:
    symbol = SYMBOLS[change.action][0]
    return f"{_code(f'{symbol} {change.address}')} {APPLIED.get(change.action, str(change.action))}"


def _details(summary: str, change: Change) -> str:
    """A folded block. `summary` is HTML: Markdown is not read inside a <summary> line."""
    lines = [f"<details><summary>{summary}</summary>", ""]
    notes = [f"- {_text(n)}" for n in change.notes]
    if notes:
        lines += [*notes, ""]
    diff = difference_lines(change)
    if diff:
        lines += _fenced("diff", diff)
    elif not notes:
        lines.append("_No attribute differences to show._")
    lines += ["", "</details>"]
    return "\n".join(lines)


def _notes(changes: Iterable[Change]) -> list[Block]:
    lines = [f"- {_code(c.address)}: {_text(n)}" for c in changes if not c.action.mutates for n in c.notes]
    return [Block("#### Notes\n\n" + "\n".join(lines), optional=True)] if lines else []


def _bookkeeping(plan: Plan) -> list[Block]:
    if not plan.bookkeeping:
        return []
    return [
        Block(
            f"_{len(plan.bookkeeping)} resources will have their spec fingerprint tag updated by apply "
            "(the spec was rewritten; AWS resources are unchanged)._"
        )
    ]


def _fenced(language: str, lines: list[str]) -> list[str]:
    """A code fence longer than any backtick run inside, so no value can close it early."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", *lines, fence]


def _fit(blocks: list[Block], redactor: Redactor, limit: int, what: str) -> str:
    """Join the blocks; when too long, leave out resources' details from the end, with a note."""
    texts = [redactor.text(b.text) for b in blocks]
    full = "\n\n".join(texts) + "\n"
    if len(full) <= limit:
        return full
    optional = sum(1 for b in blocks if b.optional)

    def note(left_out: int) -> str:
        return (
            f"> [!NOTE]\n> Cut to {limit:,} characters (a GitHub comment holds {COMMENT_LIMIT:,} at most): "
            f"{left_out} of {optional} sections are not shown. Run pacs-reconcile without "
            f"`--format markdown` (or see the job's log) for {what} in full."
        )

    budget = limit - len(note(optional)) - 2
    budget -= sum(len(t) + 2 for t, b in zip(texts, blocks, strict=True) if not b.optional)
    kept: list[str] = []
    left_out = 0
    for text, block in zip(texts, blocks, strict=True):
        if block.optional:
            if left_out or len(text) + 2 > budget:
                left_out += 1
                continue
            budget -= len(text) + 2
        kept.append(text)
    kept.append(note(left_out))
    return "\n\n".join(kept) + "\n"


def _code(text: str) -> str:
    """Inline code that stays one table cell and cannot open HTML."""
    return f"<code>{_cell(text)}</code>"


def _cell(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "&#124;").replace("\n", " ")


def _text(text: str) -> str:
    """Plain text in Markdown: HTML and table syntax escaped, Markdown emphasis left inert."""
    return re.sub(r"([\\`*_\[\]])", r"\\\1", _cell(text))
