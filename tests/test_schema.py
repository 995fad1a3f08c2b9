"""The editor schema: in sync with the models, covering every kind and lookup with descriptions, and
accepting the repository's own spec files.

Validation uses a small draft-07 checker below rather than the `jsonschema` package (a dependency
we do not add). It implements every keyword the generator emits, and a test fails when the
generator starts emitting one it does not know, so a passing check is never a keyword ignored."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pacs_reconcile import schema as spec_schema
from pacs_reconcile.resources.registry import KINDS, LOOKUPS, child_kinds, load_all, top_level_kinds
from pacs_reconcile.spec.loader import META_KEYS, ROOT_KEYS
from pacs_reconcile.spec.variables import DECLARATION_KEYS

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "schema"
REGENERATE = (
    "pacs-reconcile schema --out schema/monitoring.schema.json && "
    "pacs-reconcile schema --included --out schema/include.schema.json"
)

Schema = dict[str, Any]

# The keywords the checker understands (annotations included): the generator may use no other.
CHECKED = {
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "items",
    "additionalItems",
    "anyOf",
    "allOf",
    "not",
    "if",
    "then",
    "$ref",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "uniqueItems",
}
ANNOTATIONS = {"$schema", "title", "description", "default", "definitions", "examples"}


def check(schema: Schema, value: Any, root: Schema, path: str = "$") -> list[str]:
    """Every way `value` fails `schema` (a draft-07 subset: the keywords in CHECKED)."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/definitions/")
        return check(root["definitions"][name], value, root, path)
    problems: list[str] = []
    if "type" in schema and not _has_type(value, schema["type"]):
        return [f"{path}: {value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        problems.append(f"{path}: {value!r} is not {schema['const']!r}")
    problems += _check_combinations(schema, value, root, path)
    if isinstance(value, str):
        problems += _check_text(schema, value, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        problems += _check_number(schema, value, path)
    if isinstance(value, dict):
        problems += _check_object(schema, value, root, path)
    if isinstance(value, list):
        problems += _check_array(schema, value, root, path)
    return problems


def _has_type(value: Any, expected: str | list[str]) -> bool:
    tests = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
    }
    return any(tests[t](value) for t in ([expected] if isinstance(expected, str) else expected))


def _check_combinations(schema: Schema, value: Any, root: Schema, path: str) -> list[str]:
    problems: list[str] = []
    if "anyOf" in schema:
        failures = [check(s, value, root, path) for s in schema["anyOf"]]
        if all(failures):
            problems.append(f"{path}: matches no alternative ({'; '.join(f[0] for f in failures)})")
    for sub in schema.get("allOf", []):
        problems += check(sub, value, root, path)
    if "not" in schema and not check(schema["not"], value, root, path):
        problems.append(f"{path}: {value!r} is not allowed")
    if "if" in schema and not check(schema["if"], value, root, path) and "then" in schema:
        problems += check(schema["then"], value, root, path)
    return problems


def _check_text(schema: Schema, value: str, path: str) -> list[str]:
    problems = []
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
        problems.append(f"{path}: length of {value!r} out of bounds")
    return problems


def _check_number(schema: Schema, value: float, path: str) -> list[str]:
    bounds = [
        ("minimum", lambda b: value >= b),
        ("maximum", lambda b: value <= b),
        ("exclusiveMinimum", lambda b: value > b),
        ("exclusiveMaximum", lambda b: value < b),
    ]
    return [
        f"{path}: {value} breaks {key} {schema[key]}"
        for key, ok in bounds
        if key in schema and not ok(schema[key])
    ]


def _check_object(schema: Schema, value: dict[str, Any], root: Schema, path: str) -> list[str]:
    problems = [
        f"{path}: missing required key {key!r}" for key in schema.get("required", []) if key not in value
    ]
    if not schema.get("minProperties", 0) <= len(value) <= schema.get("maxProperties", len(value)):
        problems.append(f"{path}: {len(value)} keys out of bounds")
    properties = schema.get("properties", {})
    for key, item in value.items():
        if "propertyNames" in schema:
            problems += check(schema["propertyNames"], key, root, f"{path}.{key} (name)")
        if key in properties:
            problems += check(properties[key], item, root, f"{path}.{key}")
        elif schema.get("additionalProperties") is False:
            problems.append(f"{path}: unknown key {key!r}")
        elif isinstance(schema.get("additionalProperties"), dict):
            problems += check(schema["additionalProperties"], item, root, f"{path}.{key}")
    return problems


def _check_array(schema: Schema, value: list[Any], root: Schema, path: str) -> list[str]:
    problems = []
    if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
        problems.append(f"{path}: {len(value)} items out of bounds")
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            problems += check(items, item, root, f"{path}[{index}]")
    elif isinstance(items, list):
        for index, (sub, item) in enumerate(zip(items, value, strict=False)):
            problems += check(sub, item, root, f"{path}[{index}]")
        if schema.get("additionalItems") is False and len(value) > len(items):
            problems.append(f"{path}: too many items")
    if schema.get("uniqueItems") and len({json.dumps(v, sort_keys=True) for v in value}) != len(value):
        problems.append(f"{path}: items are not unique")
    return problems


def _keywords(schema: Any, found: set[str]) -> set[str]:
    """Every keyword used anywhere in `schema` (names under properties/definitions excluded)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            found.add(key)
            if key in ("properties", "definitions"):
                for sub in value.values():
                    _keywords(sub, found)
            elif key not in ("enum", "const", "default", "examples"):
                _keywords(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _keywords(item, found)
    return found


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root_schema() -> Schema:
    return spec_schema.spec_schema()


@pytest.fixture(scope="module")
def included_schema() -> Schema:
    return spec_schema.included_schema()


@pytest.mark.parametrize(
    ("file_name", "included"), [(spec_schema.ROOT_FILE, False), (spec_schema.INCLUDED_FILE, True)]
)
def test_committed_schema_is_in_sync_with_the_models(file_name: str, included: bool) -> None:
    generated = spec_schema.render(spec_schema.included_schema() if included else spec_schema.spec_schema())
    committed = SCHEMA_DIR / file_name
    assert committed.is_file(), f"schema/{file_name} is missing; regenerate it with: {REGENERATE}"
    assert committed.read_text(encoding="utf-8") == generated, (
        f"schema/{file_name} differs from the models; regenerate it with: {REGENERATE}"
    )


def test_the_generator_uses_only_keywords_the_checker_understands(
    root_schema: Schema, included_schema: Schema
) -> None:
    used = _keywords(root_schema, set()) | _keywords(included_schema, set())
    assert used - CHECKED - ANNOTATIONS == set()


def test_the_repository_spec_files_are_valid(root_schema: Schema, included_schema: Schema) -> None:
    root = yaml.safe_load((REPO / "monitoring.yaml").read_text(encoding="utf-8"))
    assert check(root_schema, root, root_schema) == []
    specs = sorted((REPO / "specs").glob("*.yaml"))
    assert specs
    for path in specs:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        assert check(included_schema, data, included_schema) == [], path.name


def test_the_documentation_examples_are_valid(included_schema: Schema) -> None:
    examples = sorted((REPO / "docs" / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert check(included_schema, data, included_schema) == [], path.name


def test_every_kind_and_lookup_has_an_entry_whose_keys_are_all_described(root_schema: Schema) -> None:
    load_all()
    definitions = root_schema["definitions"]
    for kind, reconciler in KINDS.items():
        entry = definitions[f"kind.{kind}"]
        assert entry["description"] and entry["title"] == reconciler.meta.title
        expected = set(reconciler.meta.model.model_fields) | set(META_KEYS) | set(child_kinds(kind))
        if not reconciler.meta.taggable:
            expected.discard("tags")
        assert set(entry["properties"]) == expected, kind
        for name, prop in entry["properties"].items():
            assert prop.get("description"), f"{kind}.{name} has no description (write the field's docstring)"
    for kind, lookup in LOOKUPS.items():
        entry = definitions[f"lookup.{kind}"]
        assert set(entry["properties"]) == set(lookup.meta.model.model_fields)
        for name, prop in entry["properties"].items():
            assert prop.get("description"), f"lookup {kind}.{name} has no description"
    assert set(root_schema["properties"]) == set(ROOT_KEYS) | set(top_level_kinds())


def test_variable_declarations_cover_exactly_the_loaders_keys(root_schema: Schema) -> None:
    declaration = root_schema["properties"]["variables"]["additionalProperties"]["anyOf"][0]
    assert set(declaration["properties"]) == DECLARATION_KEYS


def test_allowed_values_come_from_the_models(root_schema: Schema) -> None:
    retention = root_schema["definitions"]["kind.log_groups"]["properties"]["retention_days"]
    enums = [v for member in retention["anyOf"] for v in member.get("enum", [member.get("const")])]
    assert 30 in enums and "never" in enums and 31 not in enums


# The checker against the schema: what an editor would flag, and what it must not -------------


def _alarm(**changes: Any) -> dict[str, Any]:
    alarm = {
        "name": "a",
        "metric": {"name": "M", "namespace": "N", "statistic": "Sum", "period": 300},
        "comparison": "GreaterThanThreshold",
        "threshold": 1,
        "evaluation_periods": 2,
    }
    return {"alarms": {"x": {**alarm, **changes}}}


def test_expressions_are_accepted_where_numbers_enums_and_patterns_go(included_schema: Schema) -> None:
    spec = _alarm(
        threshold="${var.threshold}",
        evaluation_periods="${var.periods}",
        comparison="${var.comparison}",
        actions_enabled="${var.enabled}",
    )
    spec["log_groups"] = {"g": {"name": "/x", "retention_days": "${var.log_retention_days}"}}
    spec["dashboards"] = {"d": {"name": "${var.dashboard}", "body": {"widgets": []}}}
    assert check(included_schema, spec, included_schema) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (_alarm(threshhold=1), "unknown key 'threshhold'"),
        (_alarm(comparison="GreaterThan"), "'GreaterThan'"),
        (_alarm(evaluation_periods="two"), "'two'"),
        ({"alarms": {"x": {"name": "a"}}}, "missing required key 'comparison'"),
        ({"log_groups": {"g": {"name": "/x", "retention_days": 31}}}, "31"),
        ({"log_groups": {"g": {"name": "/x", "tags": {"pacs-reconcile:stack": "s"}}}}, "not allowed"),
        ({"log_groups": {"9bad": {"name": "/x"}}}, "(name)"),
        ({"lookups": {"db": {"kind": "rds_instance", "name": "x"}}}, "unknown key 'name'"),
        ({"lookups": {"db": {"kind": "rds"}}}, "'rds' is not one of"),
        (
            {
                "sns_topics": {
                    "t": {"name": "t", "subscriptions": {"s": {"protocol": "pigeon", "endpoint": "x"}}}
                }
            },
            "'pigeon'",
        ),
        ({"version": 1}, "unknown key 'version'"),
    ],
)
def test_mistakes_an_editor_should_flag(included_schema: Schema, spec: dict[str, Any], expected: str) -> None:
    problems = check(included_schema, spec, included_schema)
    assert any(expected in p for p in problems), problems


def test_the_root_schema_requires_the_header_and_checks_variables(root_schema: Schema) -> None:
    assert "missing required key 'stack'" in " ".join(check(root_schema, {"version": 1}, root_schema))
    spec = {"version": 1, "stack": "s", "variables": {"x": {"type": "str", "secret": True}}}
    assert any("unknown key 'secret'" in p for p in check(root_schema, spec, root_schema))
    bare = {"version": 1, "stack": "s", "variables": {"x": 3, "y": {"default": [1]}}}
    assert check(root_schema, bare, root_schema) == []


def test_schema_command_writes_both_schemas(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pacs_reconcile.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["schema", "--included", "--out", str(tmp_path / "inc.json")])
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "inc.json").read_text())["title"] == "pacs-reconcile included spec file"
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0
    assert json.loads(printed.stdout)["required"] == ["version", "stack"]


def test_the_repository_spec_files_name_their_schema_for_editors() -> None:
    files = [REPO / "monitoring.yaml", *sorted((REPO / "specs").glob("*.yaml"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        modeline = re.search(r"^# yaml-language-server: \$schema=(\S+)$", text, re.M)
        assert modeline, f"{path.name} lacks the yaml-language-server schema comment"
        expected = spec_schema.ROOT_FILE if path.name == "monitoring.yaml" else spec_schema.INCLUDED_FILE
        target = (path.parent / modeline.group(1)).resolve()
        assert target == (SCHEMA_DIR / expected).resolve(), path.name


def test_a_promql_alarm_needs_no_comparison_nor_evaluation_periods(included_schema: Schema) -> None:
    """comparison and evaluation_periods are required unless the alarm evaluates PromQL."""
    promql = {"name": "a", "promql": {"query": "up == 0"}, "evaluation_interval": 60}
    assert check(included_schema, {"alarms": {"x": promql}}, included_schema) == []
    problems = check(
        included_schema, {"alarms": {"x": {"name": "a", "evaluation_interval": 60}}}, included_schema
    )
    assert any("missing required key 'evaluation_periods'" in p for p in problems), problems
