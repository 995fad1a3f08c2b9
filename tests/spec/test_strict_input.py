"""Strict input: non-finite numbers, loose YAML/--var coercions and hostile plan files.

- `.nan`/`.inf` are refused wherever they are written (spec, --var, a quoted "nan" in a number
  field, a saved plan), and every JSON document the tool writes is strict JSON.
- A bool is not a number, `!!binary` is not text, and integers are plain decimal digits
  (YAML 1.1 would read `0x1e`, `010` and `1:30` as 30, 8 and 90).
- A saved plan nested 100,000 levels deep, or of the wrong shape, is an invalid-input error
  (exit 3), not a crash.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pacs_reconcile.cli import app
from pacs_reconcile.commands import GlobalOptions, Session
from pacs_reconcile.errors import UsageError
from pacs_reconcile.planfile import load as load_plan
from pacs_reconcile.resources.base import SpecModel, _may_hold_numbers
from pacs_reconcile.resources.efs_access_points import PosixUserSpec
from pacs_reconcile.resources.registry import load_all
from pacs_reconcile.resources.sns import TopicSpec

from .test_loader import load, make_spec, problems

ALARM = """\
variables:
  days: {type: int, default: 30}
  ratio: {type: float, default: 0.5}
  enabled: {type: bool, default: true}
alarms:
  high:
    name: high
    metric: {name: Errors, namespace: PACS, statistic: Sum, period: 300}
    threshold: THRESHOLD
    comparison: GreaterThanThreshold
    evaluation_periods: PERIODS
log_groups:
  app: {name: /pacs/app, retention_days: "${var.days}"}
"""


def alarm_spec(tmp_path: Path, threshold: str = "10", periods: str = "2") -> Path:
    return make_spec(tmp_path, ALARM.replace("THRESHOLD", threshold).replace("PERIODS", periods))


# Non-finite numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("written", [".nan", ".NaN", ".inf", "-.inf", "+.Inf"])
def test_a_non_finite_number_in_the_spec_is_refused_where_it_is_written(tmp_path: Path, written: str) -> None:
    assert problems(alarm_spec(tmp_path, threshold=written)) == [
        "monitoring.yaml:12:16: alarms.high.threshold: must be a finite number "
        "(.nan and .inf are not accepted)"
    ]


@pytest.mark.parametrize("written", ['"nan"', '"inf"', '"-Infinity"', "1e999"])
def test_text_that_reads_as_a_non_finite_number_is_refused(tmp_path: Path, written: str) -> None:
    (problem,) = problems(alarm_spec(tmp_path, threshold=written))
    assert problem.startswith("monitoring.yaml:12:16: alarms.high.threshold: ")
    assert "finite number" in problem


@pytest.mark.parametrize("value", ["nan", ".nan", "inf", "-.inf", "1e999", "1.0e999", "Infinity"])
def test_a_non_finite_float_variable_is_refused(tmp_path: Path, value: str) -> None:
    (problem,) = problems(alarm_spec(tmp_path), cli={"ratio": value})
    assert problem.startswith("--var: ratio: ")


def test_json_output_is_always_strict(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(GlobalOptions(), output_format="json")
    with pytest.raises(ValueError, match="not JSON compliant"):
        session.emit_json({"threshold": math.nan})
    assert "NaN" not in capsys.readouterr().out


def test_a_saved_plan_holding_nan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text('{"saved_plan": {"spec_path": "m.yaml", "live": {}, "signature": []}, "x": NaN}')
    with pytest.raises(UsageError, match="NaN is not JSON"):
        load_plan(path)


# Strict types ------------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["true", "false", "yes"])
def test_a_boolean_is_not_a_number(tmp_path: Path, written: str) -> None:
    assert problems(alarm_spec(tmp_path, periods=written)) == [
        "monitoring.yaml:14:25: alarms.high.evaluation_periods: must be a number, not true/false"
    ]


def test_a_boolean_threshold_is_not_a_number_either(tmp_path: Path) -> None:
    assert problems(alarm_spec(tmp_path, threshold="true")) == [
        "monitoring.yaml:12:16: alarms.high.threshold: must be a number, not true/false"
    ]


def test_a_boolean_among_numbers_of_a_list_is_not_a_number_and_in_text_it_is_not_text() -> None:
    """Which fields refuse booleans is worked out once per field: a list of numbers refuses one
    among its items, a list of text leaves it to the field's own type."""
    with pytest.raises(ValidationError) as numbers:
        PosixUserSpec.model_validate({"uid": 1, "gid": 1, "secondary_gids": [1, True]})
    assert [(e["loc"], e["msg"]) for e in numbers.value.errors()] == [
        (("secondary_gids",), "Value error, must be a number, not true/false")
    ]
    PosixUserSpec.model_validate({"uid": 1, "gid": 1, "secondary_gids": [1, 2]})
    with pytest.raises(ValidationError) as text:
        TopicSpec.model_validate({"name": "t", "display_name": True})
    assert [e["type"] for e in text.value.errors()] == ["string_type"]


def test_binary_is_not_text(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "log_groups:\n  app: {name: !!binary L3BhY3MvYXBw}\n")
    assert problems(path) == [
        "monitoring.yaml:5:15: log_groups.app.name: unsupported YAML tag '!!binary': "
        "write plain text, numbers, true/false or null"
    ]


@pytest.mark.parametrize(
    ("written", "read_as"), [("0x1e", 30), ("010", 8), ("1:30", 90), ("1_0", 10), ("0b11", 3)]
)
def test_integers_in_the_spec_are_plain_decimal(tmp_path: Path, written: str, read_as: int) -> None:
    assert problems(alarm_spec(tmp_path, periods=written)) == [
        f"monitoring.yaml:14:25: alarms.high.evaluation_periods: write integers as plain decimal digits "
        f"(YAML reads {written!r} as {read_as})"
    ]


@pytest.mark.parametrize(("value", "read_as"), [("0x1e", 30), ("030", 24), ("1_000", 1000), ("1:30", 90)])
def test_int_variables_take_plain_decimal_integers_only(tmp_path: Path, value: str, read_as: int) -> None:
    assert problems(alarm_spec(tmp_path), cli={"days": value}) == [
        f"--var: days: cannot read the value as int: write integers as plain decimal digits "
        f"(YAML reads {value!r} as {read_as})"
    ]


@pytest.mark.parametrize(("value", "got"), [("3e1", "str"), ("30.0", "float"), ("true", "a boolean")])
def test_int_variables_take_no_other_kind_of_value(tmp_path: Path, value: str, got: str) -> None:
    assert problems(alarm_spec(tmp_path), cli={"days": value}) == [
        f"--var: days: must be of type int, got {got}"
    ]


def test_plain_values_still_read(tmp_path: Path) -> None:
    spec = load(alarm_spec(tmp_path), cli={"days": "+30", "ratio": "2", "enabled": "false"})
    assert spec.variables["days"].value == 30
    assert spec.variables["ratio"].value == 2.0
    assert spec.variables["enabled"].value is False
    assert spec.resources["log_groups.app"].config["retention_days"] == 30


def test_binary_is_not_a_value_from_the_command_line(tmp_path: Path) -> None:
    assert problems(alarm_spec(tmp_path), cli={"days": "!!binary MzA="}) == [
        "--var: days: cannot read the value as int: unsupported YAML tag '!!binary': "
        "write plain text, numbers, true/false or null"
    ]


def test_list_variables_refuse_what_the_spec_refuses(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "variables:\n  ids: {type: list, default: []}\n")
    (problem,) = problems(path, cli={"ids": "[1, .nan]"})
    assert (
        problem == "--var: ids: cannot read the value as list: must be a finite number "
        "(.nan and .inf are not accepted)"
    )


# Hostile plan files ------------------------------------------------------------------------------


def _apply(plan_file: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--no-color", "apply", str(plan_file)])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "{" * 100_000,
        '{"a":' * 50_000,
        "[]",
        '{"saved_plan": {"spec_path": "m.yaml", "live": [], "signature": []}}',
        '{"saved_plan": {"spec_path": "m.yaml", "live": {}, "signature": 5}}',
        '{"saved_plan": {"spec_path": "m.yaml", "live": {}, "signature": []}, "changes": [1]}',
    ],
)
def test_a_hostile_plan_file_is_invalid_input_not_a_crash(tmp_path: Path, text: str) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(text)
    code, output = _apply(plan_file)
    assert code == 3, output
    assert "not a plan saved by `pacs-reconcile plan --out`" in output
    assert "Traceback" not in output and "bug" not in output
    assert json.dumps  # documents are parsed with the standard library only


def _spec_models() -> list[type[SpecModel]]:
    load_all()
    found: list[type[SpecModel]] = []
    pending = list(SpecModel.__subclasses__())
    while pending:
        model = pending.pop()
        if model not in found:
            found.append(model)
            pending.extend(model.__subclasses__())
    return sorted(found, key=lambda m: f"{m.__module__}.{m.__qualname__}")


def _field_schema(model: type[SpecModel], name: str) -> dict[str, Any]:
    """The core schema pydantic built for one field of `model`."""

    def find(node: Any, inside: bool) -> dict[str, Any] | None:
        if isinstance(node, dict):
            if inside and node.get("type") == "model-fields":
                field: dict[str, Any] = node["fields"][name]
                return field
            inside = inside or (node.get("type") == "model" and node.get("cls") is model)
            values: Any = node.values()
        elif isinstance(node, list | tuple):
            values = node
        else:
            return None
        return next((f for f in (find(v, inside) for v in values) if f is not None), None)

    model.model_rebuild()
    found = find(model.__pydantic_core_schema__, False)
    assert found is not None, (model, name)
    return found


def _checks_booleans(model: type[SpecModel], name: str) -> bool:
    """Whether the field's own schema (not that of a model it holds) calls `_no_boolean_numbers`."""

    def calls(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("type") == "model":
                return False
            function = node.get("function")
            if isinstance(function, dict) and "_no_boolean_numbers" in repr(function.get("function")):
                return True
            return any(calls(v) for v in node.values())
        return isinstance(node, list | tuple) and any(calls(v) for v in node)

    return calls(_field_schema(model, name))


def test_every_field_that_holds_numbers_refuses_booleans_and_only_those_carry_the_check() -> None:
    """The check is on the fields that take numbers (themselves, or items of lists at any depth):
    pydantic calls a before-validator for every value of its field, and a text field has nothing
    to check."""
    numbers = []
    for model in _spec_models():
        for name, info in model.model_fields.items():
            holds_numbers = _may_hold_numbers(info.annotation)
            assert _checks_booleans(model, name) is holds_numbers, (model, name)
            if holds_numbers:
                numbers.append((model, name))
                value: Any = True
                annotation = info.annotation
                while get_origin(annotation) is list:
                    (annotation,) = get_args(annotation)
                    value = [value]
                with pytest.raises(ValidationError) as refused:
                    model.model_validate({name: value})
                assert ((name,), "Value error, must be a number, not true/false") in [
                    (e["loc"], e["msg"]) for e in refused.value.errors()
                ], (model, name)
    assert len(numbers) > 20
    assert not _checks_booleans(TopicSpec, "display_name")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("9" * 5000, "a number written with 5000 characters: at most 100"),
        ('!!int ""', "YAML cannot read '' as an integer"),
    ],
)
def test_a_value_from_the_command_line_that_yaml_cannot_read_is_a_problem(
    tmp_path: Path, value: str, why: str
) -> None:
    """Both ended the run as an internal error (ValueError: Python reads no decimal integer of
    over 4,300 digits; IndexError from PyYAML's int constructor)."""
    assert problems(alarm_spec(tmp_path), cli={"days": value}) == [
        f"--var: days: cannot read the value as int: {why}"
    ]
