"""YAML reading that remembers where every key came from, and refuses hostile input early.

PyYAML's composer gives nodes with marks; we build plain Python values ourselves so that
aliases cannot blow up (every constructed node counts against a budget), duplicate keys are
errors, and each mapping key's line and column are kept for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Diagnostic

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]


@dataclass
class SourceFile:
    """One parsed file: its data and where each path in it was written (1-based line, column)."""

    path: Path
    display: str
    data: Any
    locations: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: PathKey) -> tuple[int, int]:
        """The location of `path`, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found:
                return found
        return (1, 1)

    def diagnostic(self, path: PathKey, field_name: str, message: str) -> Diagnostic:
        line, col = self.where(path)
        return Diagnostic(self.display, line, col, field_name, message)


class YamlProblem(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def read_yaml(path: Path, display: str) -> SourceFile:
    """Parse one YAML file; raises YamlProblem with a located message on any defect."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(Diagnostic(display, 0, 0, "", f"cannot read file: {exc.strerror}")) from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblem(
            Diagnostic(display, 0, 0, "", f"file is {len(raw)} bytes; the limit is {MAX_FILE_BYTES}")
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            Diagnostic(display, line, col, "", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
        ) from None
    source = SourceFile(path, display, None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        source.data = _Builder(loader, source).build(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise YamlProblem(Diagnostic(display, line, col, "", f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Diagnostic(display, 0, 0, "", f"YAML error: {exc}")) from None
    finally:
        loader.dispose()
    return source


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, source: SourceFile) -> None:
        self.loader = loader
        self.source = source
        self.nodes = 0

    def _fail(self, node: yaml.Node, message: str) -> YamlProblem:
        mark = node.start_mark
        return YamlProblem(Diagnostic(self.source.display, mark.line + 1, mark.column + 1, "", message))

    def build(self, node: yaml.Node, path: PathKey = ()) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self._fail(node, f"document too large: more than {MAX_NODES} values (alias bomb?)")
        if len(path) > MAX_DEPTH:
            raise self._fail(node, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            out = []
            for index, item in enumerate(node.value):
                self.source.locations.setdefault((*path, index), _pos(item))
                out.append(self.build(item, (*path, index)))
            return out
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, "mapping keys must be plain strings")
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                first = self.source.locations.get((*path, key), (0, 0))
                raise self._fail(key_node, f"duplicate key {key!r} (first defined at line {first[0]})")
            self.source.locations[(*path, key)] = _pos(key_node)
            out[key] = self.build(value_node, (*path, key))
        return out


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)
