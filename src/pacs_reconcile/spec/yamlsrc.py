"""YAML reading that remembers where every key came from, and refuses hostile input early.

PyYAML's composer gives nodes with marks; we build plain Python values ourselves so that
aliases cannot blow up (every constructed node counts against a budget), duplicate keys are
errors, and each mapping key's line and column are kept for error messages.
"""

from __future__ import annotations

import functools
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from ..errors import Diagnostic

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000
"""Values built, each alias counted at every use: far more than a real spec holds, and it bounds
the time and memory an alias bomb can take (about 20 MB, well under a second)."""
MAX_DEPTH = 64

PathKey = tuple[str | int, ...]
STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
_FLATTENED_KEY_TAGS = (MERGE_TAG, "tag:yaml.org,2002:value")
"""Keys PyYAML's flatten_mapping acts on: `<<` merges, and `=` (its value key) becomes text."""


@dataclass
class SourceFile:
    """One parsed file: its data and where each path in it was written (1-based line, column)."""

    path: Path
    display: str
    data: Any
    locations: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    """Where each key (or list item) was written."""
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    """Where each value written on one line (a scalar, a flow list or mapping) starts."""
    lines: list[str] = field(default_factory=list)
    """The file's text, for the source line shown under a diagnostic."""

    def where(self, path: PathKey) -> tuple[int, int]:
        """The location of `path`'s value when written on one line, else of its key (or the key of
        its nearest written ancestor)."""
        return self.values.get(path) or self.key_where(path)

    def key_where(self, path: PathKey) -> tuple[int, int]:
        """The location of `path`'s key, or of its nearest written ancestor's."""
        found = self.locations.get(path)  # nearly always written itself: no prefixes made then
        if found:
            return found
        for end in range(len(path) - 1, -1, -1):
            found = self.locations.get(path[:end])
            if found:
                return found
        return (1, 1)

    def diagnostic(
        self, path: PathKey, field_name: str, message: str, help: str = "", at_key: bool = False
    ) -> Diagnostic:
        """A problem with the value at `path` (with `at_key`: with the key itself, e.g. unknown)."""
        line, col = self.key_where(path) if at_key else self.where(path)
        return Diagnostic(self.display, line, col, field_name, message, help=help)


class YamlProblem(Exception):
    def __init__(self, diagnostic: Diagnostic, lines: list[str] | None = None) -> None:
        self.diagnostic = diagnostic
        self.lines = lines or []
        """The file's text when it could be decoded (for the source line under the message)."""
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
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw[: exc.start].count(b"\n") + 1
        # Columns count characters, like YAML's marks: the bytes before the bad one are valid.
        col = len(raw[line_start : exc.start].decode("utf-8")) + 1
        raise YamlProblem(
            Diagnostic(
                display,
                line,
                col,
                "",
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            )
        ) from None
    return _parse(path, display, text)


def read_text(text: str, display: str = "--var") -> Any:
    """Parse one YAML value given on the command line or in the environment, with the same
    guards as a spec file; raises YamlProblem."""
    return _parse(Path(display), display, text).data


def _parse(path: Path, display: str, text: str) -> SourceFile:
    lines = text.splitlines()
    source = SourceFile(path, display, None, lines=lines)
    try:
        if _libyaml_guards_depth():
            try:
                source.data = _build(yaml.CSafeLoader(text), source)
                return source
            except (yaml.YAMLError, YamlProblem):
                # Composed again in pure Python below, so every message and location stays the
                # one PyYAML words (and the nesting guard names the level past MAX_DEPTH, not
                # libyaml's own limit of 1000).
                source = SourceFile(path, display, None, lines=lines)
        source.data = _build(_GuardedLoader(text), source)
    except YamlProblem as exc:
        raise YamlProblem(exc.diagnostic, lines) from None
    except _TooDeep as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise YamlProblem(Diagnostic(display, line, col, "", str(exc.problem)), lines) from None
    except yaml.MarkedYAMLError as exc:
        raise YamlProblem(_syntax_diagnostic(display, text, exc), lines) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Diagnostic(display, 0, 0, "", f"YAML error: {exc}"), lines) from None
    return source


def _build(loader: yaml.SafeLoader | yaml.CSafeLoader, source: SourceFile) -> Any:
    """The document's value, composed by `loader`: libyaml's composer (about ten times faster
    than PyYAML's pure-Python scanner) or the depth-guarded pure-Python one."""
    try:
        node = loader.get_single_node()
        return _Builder(loader, source).build(node) if node is not None else None
    finally:
        loader.dispose()


@functools.cache
def _libyaml_guards_depth() -> bool:
    """Whether PyYAML has libyaml and that libyaml refuses deep nesting before its recursive C
    composer can overflow the stack: libyaml limits nesting to 1000 levels by default since
    yaml/libyaml#287 (2024); older builds, or PyYAML built without libyaml, compose in Python.
    Probed once: 1,001 levels are harmless even to a libyaml without the limit."""
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    try:
        yaml.compose("[" * 1001 + "]" * 1001, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        return "nesting depth" in str(exc)
    return False


def _syntax_diagnostic(display: str, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """`YAML syntax error: PROBLEM (CONTEXT started at line L, column C)`, located at the problem."""
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
    message = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context:
        context = exc.context
        start = exc.context_mark
        if start is not None and mark is not None and (start.line, start.column) != (mark.line, mark.column):
            context += f" started at line {start.line + 1}, column {start.column + 1}"
        # PyYAML splits sentences: "expected a single document..." + "but found another document".
        message = f"{context}, {exc.problem}" if exc.problem.startswith("but ") else f"{message} ({context})"
    if "'\\t'" in message:
        message += "; indent with spaces: YAML does not allow tabs there"
    elif mark is not None and 0 < mark.index <= len(text) and text[mark.index - 1] == "$":
        message += "; quote a ${...} value written inside [ ] or { }"
    return Diagnostic(display, line, col, "", f"YAML syntax error: {message}")


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _GuardedLoader(yaml.SafeLoader):
    """SafeLoader whose (recursive) composer refuses deep nesting before Python's stack does."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeep(problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    def __init__(self, loader: yaml.SafeLoader | yaml.CSafeLoader, source: SourceFile) -> None:
        self.loader = loader
        self.source = source
        self.nodes = 0
        self.merged: dict[int, int] = {}
        """id(mapping node) -> how many of its (flattened) pairs came from `<<` merge keys. An
        aliased node is built once per alias, but flattened (in place) only the first time."""

    def _fail(self, node: yaml.Node, message: str, field_name: str = "") -> YamlProblem:
        line, col = _pos(node)
        return YamlProblem(Diagnostic(self.source.display, line, col, field_name, message))

    def build(self, node: yaml.Node, path: PathKey = ()) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            # Reported at the top-level key being built: with an alias bomb, that is where the
            # aliases multiply (the node itself is deep inside the first anchor).
            line, col = self.source.key_where(path[:1])
            raise YamlProblem(
                Diagnostic(
                    self.source.display,
                    line,
                    col,
                    dotted(path[:1]),
                    f"document too large: more than {MAX_NODES} values (alias bomb?)",
                )
            )
        if len(path) > MAX_DEPTH:  # only after libyaml composed it (the pure-Python composer stops first)
            raise _TooDeep(problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=node.start_mark)
        if isinstance(node, ScalarNode):
            if node.tag == STR_TAG:  # most of a spec: the text itself (what construct_yaml_str gives)
                return node.value
            return self._scalar(node, path)
        if node.tag not in (MAP_TAG, SEQ_TAG):
            raise self._fail(
                node, f"unsupported YAML tag {node.tag!r}: use plain mappings and lists", dotted(path)
            )
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        out = []
        locations = self.source.locations
        plain = len(path) < MAX_DEPTH  # text items are taken here as in _mapping
        for index, item in enumerate(node.value):
            where = (*path, index)
            mark = item.start_mark
            locations.setdefault(where, (mark.line + 1, mark.column + 1))
            if plain and isinstance(item, ScalarNode) and item.tag == STR_TAG and self.nodes < MAX_NODES:
                self.nodes += 1
                out.append(item.value)
            else:
                out.append(self.build(item, where))
        return out

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        """A scalar that is not text (a number, true/false, null or a date) as PyYAML reads it, or
        a located problem: a tag no setting takes, a number written too long to read (MAX_NUMBER_TEXT),
        text its tag's constructor cannot read, or what scalar_problem refuses."""
        tag, text = node.tag, node.value
        if tag not in SCALAR_TAGS:
            raise self._fail(node, unsupported_tag(tag), dotted(path))
        if tag in NUMBER_TAGS and len(text) > MAX_NUMBER_TEXT:
            raise self._fail(
                node, f"a number written with {len(text)} characters: at most {MAX_NUMBER_TEXT}", dotted(path)
            )
        if tag == INT_TAG and DECIMAL_INT.match(text.strip()):
            # Nearly every such scalar: plain decimal digits, which construct_yaml_int reads with
            # int() as well (the constructor's bookkeeping cost more than the number).
            return int(text)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, IndexError, KeyError, AttributeError, TypeError):
            # PyYAML's constructors take the text to be of their tag's form, as an implicit tag's
            # is; an explicit one is not checked (`!!int ""`, `!!bool maybe`, `!!timestamp x`).
            raise self._fail(
                node, f"YAML cannot read {_quoted(text)} as {_TAG_READS[tag]}", dotted(path)
            ) from None
        problem = scalar_problem(tag, text, value)
        if problem:
            raise self._fail(node, problem, dotted(path))
        return value

    def _merged(self, node: MappingNode) -> int:
        """How many of the mapping's pairs (first in it) came from `<<` merge keys, once flattened."""
        merged = self.merged.get(id(node))
        if merged is not None:
            return merged
        for key_node, _ in node.value:  # a plain loop: a generator made for each mapping cost more
            if key_node.tag in _FLATTENED_KEY_TAGS:
                break
        else:
            return 0
        explicit = sum(1 for key_node, _ in node.value if key_node.tag != MERGE_TAG)
        self.loader.flatten_mapping(node)  # resolves YAML merge keys (<<): merged pairs come first
        merged = self.merged[id(node)] = len(node.value) - explicit
        return merged

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        merged = self._merged(node)
        out: dict[str, Any] = {}
        written: set[str] = set()  # keys written in this mapping itself (not merged in)
        locations, values = self.source.locations, self.source.values
        # Text values (most of a spec) are taken here as `build` would take them, without a call
        # of it for each, while within both of its limits: the node budget, and MAX_DEPTH for
        # their path (one longer than this mapping's).
        plain = len(path) < MAX_DEPTH
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, ScalarNode):
                raise self._fail(key_node, "mapping keys must be plain strings")
            key = key_node.value if key_node.tag == STR_TAG else self._scalar(key_node, path)
            if not isinstance(key, str):
                key = str(key)
            if index >= merged:
                # Without merged pairs, every key so far was written here: `out` holds them.
                if key in (written if merged else out):
                    first = locations.get((*path, key), (0, 0))
                    raise self._fail(
                        key_node,
                        f"duplicate key {key!r} (first defined at line {first[0]})",
                        dotted((*path, key)),
                    )
                if merged:
                    written.add(key)
            if merged:
                out.pop(key, None)  # a later pair overrides a merged one (and keeps the written order)
            where = (*path, key)
            mark = key_node.start_mark
            locations[where] = (mark.line + 1, mark.column + 1)
            if isinstance(value_node, ScalarNode):
                mark = value_node.start_mark
                values[where] = (mark.line + 1, mark.column + 1)
                if plain and value_node.tag == STR_TAG and self.nodes < MAX_NODES:
                    self.nodes += 1
                    out[key] = value_node.value
                else:
                    out[key] = self.build(value_node, where)
                continue
            if _on_one_line(value_node):
                values[where] = _pos(value_node)
            out[key] = self.build(value_node, where)
        return out


def display_path(path: Path) -> str:
    """`path` as a person at this shell would open it: relative to the current directory, or
    absolute outside it (symbolic links kept as named)."""
    absolute = Path(os.path.abspath(path))
    for folder in {Path.cwd(), Path.cwd().resolve()}:
        if absolute.is_relative_to(folder):
            return str(absolute.relative_to(folder))
    return str(absolute)


DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    INT_TAG,
    FLOAT_TAG,
}


NUMBER_TAGS = frozenset({INT_TAG, FLOAT_TAG})
MAX_NUMBER_TEXT = 100
"""Characters a number may be written with, refused before it is read: far more than any AWS
setting takes (the APIs' widest integer, a long, has 19 digits), and few enough that reading one
costs nothing. Python refuses to read a decimal integer of over 4,300 digits (ValueError,
sys.int_info.default_max_str_digits), and YAML 1.1 reads `1:30:...` (base 60) with one
multiplication of an ever larger number for each part."""
_TAG_READS = {
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "a date",
    INT_TAG: "an integer",
    FLOAT_TAG: "a number",
}


def unsupported_tag(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return f"unsupported YAML tag {shown!r}: write plain text, numbers, true/false or null"


def _quoted(text: str, at_most: int = 40) -> str:
    """`text` quoted for a message, cut short past `at_most` characters."""
    return (
        repr(text)
        if len(text) <= at_most
        else repr(text[:at_most]) + f" (and {len(text) - at_most} more characters)"
    )


def scalar_problem(tag: str, text: str, value: Any) -> str | None:
    """Why a constructed scalar of a supported tag is refused, or None. Strict on purpose: YAML 1.1
    reads `0x1e`, `010` (octal) and `1:30` (base 60) as numbers and `.nan`/`.inf` as floats no AWS
    API takes; each would reach AWS as something other than what the file shows (as `!!binary`'s
    bytes would: unsupported_tag). Checked on the composed node, so it holds whichever loader
    (pure Python or libyaml) built it."""
    if tag == INT_TAG and not DECIMAL_INT.match(text.strip()):
        return f"write integers as plain decimal digits (YAML reads {text!r} as {value})"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number (.nan and .inf are not accepted)"
    return None


def dotted(path: PathKey) -> str:
    """`("alarms", "x", "actions", 0)` -> `alarms.x.actions[0]`, as fields are named in messages."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _on_one_line(node: yaml.Node) -> bool:
    """A scalar, or a flow list or mapping (`[a, b]`, `{k: v}`) that starts and ends on one line:
    a diagnostic about it points at the value itself. A block collection is pointed at by its key."""
    if isinstance(node, yaml.ScalarNode):
        return True
    return bool(getattr(node, "flow_style", False)) and node.start_mark.line == node.end_mark.line
