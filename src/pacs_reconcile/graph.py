"""`pacs-reconcile graph`: the dependency graph of a loaded spec, as Mermaid or Graphviz DOT.

Offline: it only loads the spec. Nodes are the declared resources (children included) and the
lookups; an arrow goes from what is read or created first to what waits for it:
parent -> child (dotted), referenced -> referencing, and `depends_on` (dashed, labelled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .engine.graph import topological
from .spec.model import Spec
from .spec.references import normalize_address, split_reference

if TYPE_CHECKING:
    from .commands import Session, SpecInputs

EdgeKind = Literal["parent", "reference", "lookup", "depends_on"]
FORMATS = ("mermaid", "dot")
_MERMAID_ID_JUNK = re.compile(r"[^A-Za-z0-9_]+")
_PRIORITY: dict[EdgeKind, int] = {"parent": 0, "reference": 1, "lookup": 1, "depends_on": 2}


@dataclass(frozen=True)
class Edge:
    source: str
    """Read or created first."""
    target: str
    """Waits for `source`."""
    kind: EdgeKind


@dataclass(frozen=True)
class Graph:
    stack: str
    lookups: list[str]
    """Lookup nodes, `lookups.NAME`."""
    resources: list[str]
    """Resource addresses, dependencies before dependents."""
    edges: list[Edge]


def build(spec: Spec) -> Graph:
    lookups = [f"lookups.{name}" for name in sorted(spec.lookups)]
    resources = topological(spec.resources)
    known = set(lookups) | set(resources)
    found: dict[tuple[str, str], EdgeKind] = {}

    def add(source: str, target: str, kind: EdgeKind) -> None:
        if source not in known or source == target:
            return
        current = found.get((source, target))
        if current is None or _PRIORITY[kind] < _PRIORITY[current]:
            found[(source, target)] = kind

    for address in resources:
        node = spec.resources[address]
        if node.parent:
            add(node.parent, address, "parent")
        for ref in node.references:
            if ref.text.startswith("@"):
                add(normalize_address(ref.text[1:]), address, "depends_on")
                continue
            target, _ = split_reference(ref.text)
            add(target, address, "lookup" if target.startswith("lookups.") else "reference")
    order = {name: index for index, name in enumerate([*lookups, *resources])}
    ordered = sorted(found.items(), key=lambda item: (order[item[0][0]], order[item[0][1]]))
    edges = [Edge(source, target, kind) for (source, target), kind in ordered]
    return Graph(spec.stack, lookups, resources, edges)


def render(graph: Graph, output_format: str) -> str:
    if output_format == "mermaid":
        return mermaid(graph)
    if output_format == "dot":
        return dot(graph)
    raise ValueError(f"unknown graph format {output_format!r} (use {' or '.join(FORMATS)})")


def mermaid(graph: Graph) -> str:
    ids = _mermaid_ids([*graph.lookups, *graph.resources])
    lines = [
        "flowchart LR",
        "  %% arrows run from what is read or created first to what waits for it;",
        "  %% dotted: parent to child; dashed and labelled: depends_on",
    ]
    lines += [f'  {ids[name]}(["{_mermaid_text(name)}"])' for name in graph.lookups]
    lines += [f'  {ids[name]}["{_mermaid_text(name)}"]' for name in graph.resources]
    arrows = {"parent": "-.->", "reference": "-->", "lookup": "-->", "depends_on": "-- depends_on -->"}
    lines += [f"  {ids[e.source]} {arrows[e.kind]} {ids[e.target]}" for e in graph.edges]
    if graph.lookups:
        lines.append("  classDef lookup stroke-dasharray: 4 3")
        lines.append(f"  class {','.join(ids[name] for name in graph.lookups)} lookup")
    return "\n".join(lines) + "\n"


def dot(graph: Graph) -> str:
    lines = [
        f"digraph {_dot_text(graph.stack)} {{",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica"];',
    ]
    lines += [f"  {_dot_text(name)} [shape=ellipse, style=dashed];" for name in graph.lookups]
    lines += [f"  {_dot_text(name)};" for name in graph.resources]
    styles = {
        "parent": " [style=dotted]",
        "reference": "",
        "lookup": "",
        "depends_on": ' [style=dashed, label="depends_on"]',
    }
    lines += [f"  {_dot_text(e.source)} -> {_dot_text(e.target)}{styles[e.kind]};" for e in graph.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_ids(names: list[str]) -> dict[str, str]:
    """Readable node ids (the address with `_` for punctuation), unique."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = _MERMAID_ID_JUNK.sub("_", name).strip("_")
        candidate, number = base, 2
        while candidate in used:
            candidate, number = f"{base}_{number}", number + 1
        used.add(candidate)
        ids[name] = candidate
    return ids


def _mermaid_text(text: str) -> str:
    """Mermaid labels are quoted; a quote inside is written as an entity."""
    return text.replace('"', "#quot;")


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run(session: Session, inputs: SpecInputs, *, output_format: str, out: Path | None) -> int:
    """`pacs-reconcile graph`: load the spec (offline) and print its graph."""
    from . import commands
    from .errors import ExitStatus, UsageError
    from .outfile import write_document

    if output_format not in FORMATS:
        raise UsageError(f"--format must be {' or '.join(FORMATS)}, not {output_format!r}")
    spec = commands.load(inputs, session)
    write_document(session, render(build(spec), output_format), out, f"the {output_format} graph")
    return ExitStatus.OK
