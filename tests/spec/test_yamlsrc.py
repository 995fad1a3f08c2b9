"""Located YAML reading: hostile input is refused early and cheaply, every defect has a place.

How fast it is refused is measured by `python -m benchmarks.micro`, not asserted here."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from pacs_reconcile.spec import yamlsrc
from pacs_reconcile.spec.yamlsrc import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    SourceFile,
    YamlProblem,
    read_yaml,
)


def write(tmp_path: Path, content: str | bytes, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


def problem_of(path: Path) -> YamlProblem:
    with pytest.raises(YamlProblem) as caught:
        read_yaml(path, path.name)
    return caught.value


def billion_laughs() -> str:
    """Nine levels of ten aliases each: 10**9 strings if expanded naively, 700 bytes on disk."""
    lines = ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 9):
        lines.append(f"lol{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


# Hostile input ---------------------------------------------------------------------------------


def test_billion_laughs_is_rejected_quickly_and_without_ballooning(tmp_path: Path) -> None:
    path = write(tmp_path, billion_laughs())
    tracemalloc.start()
    try:
        problem = problem_of(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    diagnostic = problem.diagnostic
    assert diagnostic.message == f"document too large: more than {MAX_NODES} values (alias bomb?)"
    # Located at the top-level key whose aliases pass the budget: 10 + 100 + 1000 + 10**4 values
    # before it, 10**5 in it.
    assert (diagnostic.line, diagnostic.column, diagnostic.field) == (5, 1, "lol4")
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_billion_laughs_keeps_a_fresh_process_small(tmp_path: Path) -> None:
    """Resident memory, measured by the OS in a process of its own (ru_maxrss is in KiB on Linux)."""
    path = write(tmp_path, billion_laughs())
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from pacs_reconcile.spec.yamlsrc import YamlProblem, read_yaml
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            read_yaml(Path({str(path)!r}), "spec.yaml")
        except YamlProblem as exc:
            print("rejected:", exc)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("grew_kib:", after - before)
        """
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert "alias bomb" in lines["rejected"]
    assert int(lines["grew_kib"]) < 50 * 1024


def test_a_3_mb_file_is_rejected_by_size_before_parsing(tmp_path: Path) -> None:
    # Not even valid YAML: a parse would report a syntax error instead of the size.
    path = write(tmp_path, b"key: [unclosed\n" + b"#" * (3 * 1024 * 1024))
    diagnostic = problem_of(path).diagnostic
    assert diagnostic.message == f"file is {path.stat().st_size} bytes; the limit is {MAX_FILE_BYTES}"
    assert (diagnostic.line, diagnostic.column) == (0, 0)
    assert str(diagnostic) == f"spec.yaml: {diagnostic.message}"


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    header = b"key: value\n"
    path = write(tmp_path, header + b"#" * (MAX_FILE_BYTES - len(header)))
    assert read_yaml(path, "spec.yaml").data == {"key": "value"}


def nested_mapping(levels: int) -> str:
    lines = [" " * (2 * depth) + f"k{depth}:" for depth in range(levels)]
    return "\n".join(lines) + " leaf\n"


def test_100_levels_of_nesting_are_rejected_at_the_level_past_the_limit(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, nested_mapping(100))).diagnostic
    assert diagnostic.message == f"nesting deeper than {MAX_DEPTH} levels"
    # Past the limit: the key k{MAX_DEPTH}, on line MAX_DEPTH + 1, indented 2 * MAX_DEPTH.
    assert (diagnostic.line, diagnostic.column) == (MAX_DEPTH + 1, 2 * MAX_DEPTH + 1)


def test_nesting_within_the_limit_is_read(tmp_path: Path) -> None:
    data = read_yaml(write(tmp_path, nested_mapping(MAX_DEPTH)), "spec.yaml").data
    for depth in range(MAX_DEPTH):
        data = data[f"k{depth}"]
    assert data == "leaf"


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deep_flow_nesting_is_a_located_problem_not_a_recursion_error(tmp_path: Path, depth: int) -> None:
    path = write(tmp_path, "key: " + "[" * depth + "]" * depth + "\n")
    diagnostic = problem_of(path).diagnostic
    assert diagnostic.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert diagnostic.line == 1
    assert 6 <= diagnostic.column <= 6 + MAX_DEPTH + 2


def test_non_utf8_byte_is_located_by_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, b"version: 1\nstack: pacs\ntags: {Owner: Fran\xe7ois}\n")
    diagnostic = problem_of(path).diagnostic
    assert (diagnostic.line, diagnostic.column) == (3, 19)
    assert diagnostic.message == "not valid UTF-8 (byte 0xe7); save the file as UTF-8"


def test_non_utf8_column_counts_characters_not_bytes(tmp_path: Path) -> None:
    # "é" and "한" are 2 and 3 bytes of UTF-8 but one column each, as YAML's own marks count.
    path = write(tmp_path, 'a: 1\nname: "é한'.encode() + b'\xff"\n')
    diagnostic = problem_of(path).diagnostic
    assert (diagnostic.line, diagnostic.column) == (2, 10)
    assert "byte 0xff" in diagnostic.message


def test_non_utf8_on_the_first_line(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, b"\x80version: 1\n")).diagnostic
    assert (diagnostic.line, diagnostic.column) == (1, 1)


@pytest.mark.parametrize(
    "content",
    [
        "a: !!python/object/apply:os.system [touch pwned]\n",
        "a: !!python/object/apply:os.system\n  args: [touch pwned]\n",
        "a: !!set {x, y}\n",
        "a: !!omap [x: 1]\n",
        "a: !!python/name:os.system x\n",
    ],
)
def test_unsupported_tags_are_refused_and_nothing_runs(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, content)
    diagnostic = problem_of(path).diagnostic
    assert diagnostic.line == 1
    assert "tag" in diagnostic.message
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize(
    ("written", "message"),
    [
        ('!!int ""', "YAML cannot read '' as an integer"),
        ('!!int "-"', "YAML cannot read '-' as an integer"),
        ("!!int abc", "YAML cannot read 'abc' as an integer"),
        ('!!float ""', "YAML cannot read '' as a number"),
        ("!!float abc", "YAML cannot read 'abc' as a number"),
        ('!!bool ""', "YAML cannot read '' as true or false"),
        ("!!bool maybe", "YAML cannot read 'maybe' as true or false"),
        ("!!timestamp x", "YAML cannot read 'x' as a date"),
        (
            "!!bool " + "y" * 50,
            "YAML cannot read '" + "y" * 40 + "' (and 10 more characters) as true or false",
        ),
    ],
)
def test_text_an_explicit_tag_cannot_read_is_a_located_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool, written: str, message: str
) -> None:
    """PyYAML's constructors take the text to be of their tag's form: with an explicit tag it need
    not be, and they failed with IndexError, KeyError, ValueError or AttributeError."""
    monkeypatch.setattr(yamlsrc, "_libyaml_guards_depth", lambda: libyaml)
    diagnostic = problem_of(write(tmp_path, f"a:\n  b: {written}\n")).diagnostic
    assert (diagnostic.line, diagnostic.column, diagnostic.field, diagnostic.message) == (
        2,
        6,
        "a.b",
        message,
    )


NUMBERS_TOO_LONG = [
    "9" * 5000,  # Python reads no decimal integer of over 4,300 digits
    "0x" + "f" * 5000,  # read, but too long to show in a message
    "0b" + "1" * 20_000,
    "1" + ":30" * 3000,  # base 60: a multiplication of an ever larger number for each part
    "1." + "5" * 5000,
]


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize("number", NUMBERS_TOO_LONG, ids=["decimal", "hex", "binary", "base-60", "float"])
def test_a_number_written_too_long_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool, number: str
) -> None:
    monkeypatch.setattr(yamlsrc, "_libyaml_guards_depth", lambda: libyaml)
    value = problem_of(write(tmp_path, f"a: {number}\n", "value.yaml")).diagnostic
    assert (value.line, value.column, value.field, value.message) == (
        1,
        4,
        "a",
        f"a number written with {len(number)} characters: at most {yamlsrc.MAX_NUMBER_TEXT}",
    )
    # an explicit key (`? KEY`): YAML allows an implicit one 1,024 characters at most
    key = problem_of(write(tmp_path, f"a:\n  ? {number}\n  : x\n", "key.yaml")).diagnostic
    assert (key.line, key.column, key.field) == (2, 5, "a")
    assert key.message == value.message


def test_a_number_of_the_longest_length_allowed_is_read(tmp_path: Path) -> None:
    longest = yamlsrc.MAX_NUMBER_TEXT
    data = read_yaml(write(tmp_path, f"i: {'9' * longest}\nf: 1.{'5' * (longest - 2)}\n"), "spec.yaml").data
    assert data == {"i": int("9" * longest), "f": float("1." + "5" * (longest - 2))}


# Defects with a place ---------------------------------------------------------------------------


def test_duplicate_key_names_the_field_and_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        log_groups:
          app:
            name: /a
            retention_days: 30
            name: /b
        """,
    )
    diagnostic = problem_of(path).diagnostic
    assert str(diagnostic) == (
        "spec.yaml:5:5: log_groups.app.name: duplicate key 'name' (first defined at line 3)"
    )


def test_tab_indentation_gets_a_hint(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, b"log_groups:\n  app:\n\tname: /a\n")).diagnostic
    assert (diagnostic.line, diagnostic.column) == (3, 1)
    assert diagnostic.message.startswith("YAML syntax error: found character '\\t'")
    assert diagnostic.message.endswith("indent with spaces: YAML does not allow tabs there")


def test_unquoted_template_in_flow_mapping_gets_a_hint(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, "sub: {protocol: email, endpoint: ${var.email}}\n")).diagnostic
    assert (diagnostic.line, diagnostic.column) == (1, 35)
    assert diagnostic.message.endswith("quote a ${...} value written inside [ ] or { }")


def test_unclosed_flow_sequence_says_where_it_started(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, "a: 1\nb: [1, 2\n")).diagnostic
    assert diagnostic.message == (
        "YAML syntax error: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence started at line 2, column 4)"
    )


def test_two_documents_are_one_too_many(tmp_path: Path) -> None:
    diagnostic = problem_of(write(tmp_path, "a: 1\n---\nb: 2\n")).diagnostic
    assert (diagnostic.line, diagnostic.column) == (2, 1)
    assert diagnostic.message.endswith(
        "expected a single document in the stream started at line 1, column 1, but found another document"
    )


def test_unreadable_file(tmp_path: Path) -> None:
    diagnostic = problem_of(tmp_path / "missing.yaml").diagnostic
    assert diagnostic.message.startswith("cannot read file:")
    assert diagnostic.file == "missing.yaml"


# What a good file gives -------------------------------------------------------------------------


def test_locations_of_keys_and_list_items(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        alarms:
          errors:
            actions:
              - one
              - two
            metric: {name: X, period: 60}
        """,
    )
    source = read_yaml(path, "spec.yaml")
    errors = {"actions": ["one", "two"], "metric": {"name": "X", "period": 60}}
    assert source.data == {"alarms": {"errors": errors}}
    assert source.locations[("alarms",)] == (1, 1)
    assert source.locations[("alarms", "errors", "actions", 1)] == (5, 9)
    assert source.locations[("alarms", "errors", "metric", "period")] == (6, 23)
    # Not written: the nearest written ancestor; nothing at all: the top of the file.
    assert source.where(("alarms", "errors", "threshold")) == (2, 3)
    assert source.where(("nowhere",)) == (1, 1)
    assert source.diagnostic(("alarms", "errors", "metric", "period"), "f", "m").line == 6


def test_merge_keys_merge_and_can_be_overridden(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        base: &base {statistic: Sum, period: 300}
        metric: &metric
          <<: *base
          period: 60
        again: [*metric, *metric]
        """,
    )
    data = read_yaml(path, "spec.yaml").data
    assert data["metric"] == {"statistic": "Sum", "period": 60}
    # An aliased mapping with a merge is flattened once but built twice: still no false duplicate.
    assert data["again"] == [{"statistic": "Sum", "period": 60}] * 2


def test_a_key_written_twice_next_to_a_merge_is_still_a_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path, "base: &b {x: 1}\nm:\n  <<: *b\n  y: 1\n  y: 2\n")
    assert problem_of(path).diagnostic.field == "m.y"


def test_empty_file_and_non_string_keys(tmp_path: Path) -> None:
    assert read_yaml(write(tmp_path, ""), "spec.yaml").data is None
    assert read_yaml(write(tmp_path, "1: one\ntrue: yes\n"), "spec.yaml").data == {"1": "one", "True": True}


def test_source_file_where_prefers_the_deepest_written_path() -> None:
    source = SourceFile(Path("x"), "x", {}, {("a",): (1, 1), ("a", "b"): (2, 3)})
    assert source.where(("a", "b", "c", 0)) == (2, 3)
    assert source.where(("a", "z")) == (1, 1)


def test_limits_are_the_documented_ones() -> None:
    assert yamlsrc.MAX_FILE_BYTES == 2 * 1024 * 1024
    assert MAX_DEPTH == 64


# Composition by libyaml ------------------------------------------------------------------------


def test_valid_files_are_composed_by_libyaml_not_the_pure_python_scanner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libyaml composes ~10x faster; the pure-Python loader is only for defects and old libyaml."""

    def refuse(text: str) -> None:
        raise AssertionError("the pure-Python loader composed a valid file")

    monkeypatch.setattr(yamlsrc, "_GuardedLoader", refuse)
    source = read_yaml(write(tmp_path, "a:\n  b: [1, {c: d}]\n  e: &x {f: 1}\n  g: *x\n"), "spec.yaml")
    assert source.data == {"a": {"b": [1, {"c": "d"}], "e": {"f": 1}, "g": {"f": 1}}}
    assert source.locations[("a", "b", 1)] == (2, 10)
    assert source.locations[("a", "g")] == (4, 3)


def test_libyaml_in_this_environment_guards_nesting_depth() -> None:
    assert yamlsrc._libyaml_guards_depth()


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_both_composers_locate_deep_nesting_and_duplicates_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool
) -> None:
    monkeypatch.setattr(yamlsrc, "_libyaml_guards_depth", lambda: libyaml)
    deep = problem_of(write(tmp_path, nested_mapping(100), "deep.yaml")).diagnostic
    assert (deep.line, deep.column, deep.message) == (
        MAX_DEPTH + 1,
        2 * MAX_DEPTH + 1,
        f"nesting deeper than {MAX_DEPTH} levels",
    )
    flow = problem_of(write(tmp_path, "key: " + "[" * 5000 + "]" * 5000 + "\n", "flow.yaml")).diagnostic
    assert flow.message == f"nesting deeper than {MAX_DEPTH} levels"
    assert flow.line == 1 and 6 <= flow.column <= 6 + MAX_DEPTH + 2
    duplicate = problem_of(write(tmp_path, "a: 1\nb:\n  c: 2\n  c: 3\n", "dup.yaml")).diagnostic
    assert (duplicate.line, duplicate.column, duplicate.field) == (4, 3, "b.c")


MERGES_AND_ALIASES = """\
base: &base {statistic: Sum, period: 300, dims: [a, b]}
alarm:
  <<: *base
  period: 60
  dims: [c]
  =: plain
list:
  - {x: 1}
  - *base
  - [1, 2]
flow: {a: [1, {b: 2}]}
"""


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_the_line_and_column_map_of_merges_aliases_and_flow_collections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, libyaml: bool
) -> None:
    """Every key's and one-line value's place, as each composer's nodes give them: merged pairs are
    located where they were written (in the anchor), a key written next to a merge where it is."""
    monkeypatch.setattr(yamlsrc, "_libyaml_guards_depth", lambda: libyaml)
    source = read_yaml(write(tmp_path, MERGES_AND_ALIASES), "spec.yaml")
    assert source.data["alarm"] == {"statistic": "Sum", "period": 60, "dims": ["c"], "=": "plain"}
    assert source.locations == {
        ("base",): (1, 1),
        ("base", "statistic"): (1, 14),
        ("base", "period"): (1, 30),
        ("base", "dims"): (1, 43),
        ("base", "dims", 0): (1, 50),
        ("base", "dims", 1): (1, 53),
        ("alarm",): (2, 1),
        ("alarm", "statistic"): (1, 14),
        ("alarm", "period"): (4, 3),
        ("alarm", "dims"): (5, 3),
        ("alarm", "dims", 0): (1, 50),  # the merged list's item, built first, keeps its place
        ("alarm", "dims", 1): (1, 53),
        ("alarm", "="): (6, 3),
        ("list",): (7, 1),
        ("list", 0): (8, 5),
        ("list", 0, "x"): (8, 6),
        ("list", 1): (1, 7),
        ("list", 1, "statistic"): (1, 14),
        ("list", 1, "period"): (1, 30),
        ("list", 1, "dims"): (1, 43),
        ("list", 1, "dims", 0): (1, 50),
        ("list", 1, "dims", 1): (1, 53),
        ("list", 2): (10, 5),
        ("list", 2, 0): (10, 6),
        ("list", 2, 1): (10, 9),
        ("flow",): (11, 1),
        ("flow", "a"): (11, 8),
        ("flow", "a", 0): (11, 12),
        ("flow", "a", 1): (11, 15),
        ("flow", "a", 1, "b"): (11, 16),
    }
    assert source.values == {
        ("base",): (1, 7),
        ("base", "statistic"): (1, 25),
        ("base", "period"): (1, 38),
        ("base", "dims"): (1, 49),
        ("alarm", "statistic"): (1, 25),
        ("alarm", "period"): (4, 11),
        ("alarm", "dims"): (5, 9),
        ("alarm", "="): (6, 6),
        ("list", 0, "x"): (8, 9),
        ("list", 1, "statistic"): (1, 25),
        ("list", 1, "period"): (1, 38),
        ("list", 1, "dims"): (1, 49),
        ("flow",): (11, 7),
        ("flow", "a"): (11, 11),
        ("flow", "a", 1, "b"): (11, 19),
    }
