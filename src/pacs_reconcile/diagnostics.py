"""How a spec's problems are shown to people, as compilers do (gcc's first line, rustc's snippet):

    specs/logs.yaml:4:21: log_groups.app.retention_days: 45 is not a retention CloudWatch Logs accepts
       4 |     retention_days: 45
         |                     ^^
      note: ${var.log_retention_days} = 45 comes from environments.prod.variables... at monitoring.yaml:14:7
      help: the nearest allowed values are 30 and 60

The first line is the one editors and grep understand (`file:line:col: field: message`); the rest is
indented, so each problem starts at column 0.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import Diagnostic

Line = tuple[str, str]
"""A line of text and its style (rich's syntax; "" for plain)."""

SNIPPET_WIDTH = 100
"""Longer source lines are cut around the value."""
SNIPPET_CONTEXT = 40
"""Characters kept before the value in a cut line."""
_QUOTES = "'\""
_CLOSING = {"[": "]", "{": "}"}


def render(diagnostic: Diagnostic) -> Iterator[Line]:
    yield str(diagnostic), "red"
    if diagnostic.snippet and diagnostic.line > 0:
        number = str(diagnostic.line)
        gutter = " " * len(number)
        # a tab is one column to YAML's marks: shown as one space, the caret stays under the value
        text = diagnostic.snippet.replace("\t", " ")
        start = max(diagnostic.column - 1, 0)
        width = span_at(text, start)
        text, start, width = _window(text, start, width)
        yield f"  {number} | {text}", ""
        yield f"  {gutter} | {' ' * start}{'^' * width}", "bold red"
    for note in diagnostic.notes:
        yield f"  note: {note}", ""
    if diagnostic.help:
        yield f"  help: {diagnostic.help}", "cyan"


def _window(text: str, start: int, width: int) -> tuple[str, int, int]:
    """A long line cut to about SNIPPET_WIDTH characters around the value (marked with ...)."""
    if len(text) <= SNIPPET_WIDTH:
        return text, start, width
    begin = max(0, start - SNIPPET_CONTEXT)
    end = min(len(text), max(start + min(width, SNIPPET_WIDTH), begin + SNIPPET_WIDTH))
    shown = ("..." if begin else "") + text[begin:end] + ("..." if end < len(text) else "")
    offset = start - begin + (3 if begin else 0)
    return shown, offset, min(width, end - start)


def span_at(line: str, start: int) -> int:
    """How many characters the caret underlines: the value (or key) that starts at `start`."""
    if start >= len(line):
        return 1
    first = line[start]
    if first in _QUOTES:
        end = line.find(first, start + 1)
        return (end if end >= 0 else len(line.rstrip()) - 1) - start + 1
    if line.startswith("${", start):
        end = line.find("}", start)
        return (end if end >= 0 else len(line.rstrip()) - 1) - start + 1
    if first in _CLOSING:
        return _bracketed(line, start)
    inside_flow = any(c in line[:start] for c in _CLOSING)
    stops = [": ", " #", *((",", "]", "}") if inside_flow else ())]
    end = len(line)
    for stop in stops:
        found = line.find(stop, start)
        if found >= 0:
            end = min(end, found)
    if line.rstrip().endswith(":") and end == len(line):
        end = len(line.rstrip()) - 1  # a key at the end of its line
    return max(len(line[start:end].rstrip()), 1)


def _bracketed(line: str, start: int) -> int:
    depth = 0
    for index in range(start, len(line)):
        if line[index] in _CLOSING:
            depth += 1
        elif line[index] in _CLOSING.values():
            depth -= 1
            if depth == 0:
                return index - start + 1
    return max(len(line.rstrip()) - start, 1)
