"""Offline checks of a CloudWatch dashboard body, after AWS's "Dashboard Body Structure and Syntax".

PutDashboard validates little up front and reports the rest as `DashboardValidationMessages`
(and moto validates nothing), so the spec catches the common mistakes first: unknown keys, widgets
outside the 24-unit grid, metric rows that are not `[namespace, name, dimension, value, ...,
{options}]`. Every problem is reported at once, each at its own path (`widgets[2].width`), so the
loader can point at the exact YAML line. Widget `properties` are checked only where a mistake is
certain: AWS keeps adding optional properties, and an unknown one is not an error here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails

from .base import is_unresolved

BodyPath = tuple[str | int, ...]

TOP_LEVEL_KEYS = ("widgets", "start", "end", "periodOverride", "variables")
WIDGET_KEYS = ("type", "x", "y", "width", "height", "properties")
WIDGET_TYPES = ("metric", "text", "log", "alarm", "explorer", "custom", "chart")
METRIC_VIEWS = ("timeSeries", "singleValue", "gauge", "bar", "pie", "table")
LOG_VIEWS = ("table", "timeSeries", "bar", "pie")
GRID_WIDTH = 24
DEFAULT_WIDGET_SIZE = 6
MAX_WIDGETS = 500
MAX_DIMENSIONS = 30
MAX_ALARMS_PER_WIDGET = 100
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


@dataclass(frozen=True)
class BodyProblem:
    path: BodyPath
    """Where in the body, e.g. ("widgets", 2, "width")."""
    message: str


def validate_dashboard_body(body: dict[str, Any]) -> dict[str, Any]:
    """Pydantic after-validator: the body unchanged, or every problem with its own location."""
    problems = check_dashboard_body(body)
    if problems:
        raise ValidationError.from_exception_data(
            "dashboard body",
            [
                InitErrorDetails(
                    type="value_error", loc=p.path, input=body, ctx={"error": ValueError(p.message)}
                )
                for p in problems
            ],
        )
    return body


def check_dashboard_body(body: Mapping[str, Any]) -> list[BodyProblem]:
    checker = _BodyChecker()
    checker.check_body(body)
    return checker.problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_dashboard_period(seconds: int) -> bool:
    return seconds in HIGH_RESOLUTION_PERIODS or (seconds > 0 and seconds % 60 == 0)


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(values)


class _BodyChecker:
    def __init__(self) -> None:
        self.problems: list[BodyProblem] = []

    def problem(self, path: BodyPath, message: str) -> None:
        self.problems.append(BodyProblem(path, message))

    # top level --------------------------------------------------------------------------------
    def check_body(self, body: Mapping[str, Any]) -> None:
        for key in body:
            if key not in TOP_LEVEL_KEYS:
                self.problem((key,), f"unknown key; a dashboard body has only {_one_of(TOP_LEVEL_KEYS)}")
        self.check_widgets(body.get("widgets"), "widgets" in body)
        for key in ("start", "end"):
            if key in body and not _is_text(body[key]):
                self.problem((key,), "must be text: a relative time like -PT3H or an ISO 8601 timestamp")
        if "end" in body and "start" not in body:
            self.problem(("end",), "needs start as well")
        if "periodOverride" in body and body["periodOverride"] not in ("auto", "inherit"):
            self.problem(("periodOverride",), "must be auto or inherit")
        if "variables" in body:
            self.check_variables(body["variables"])

    def check_widgets(self, widgets: Any, present: bool) -> None:
        if not present:
            self.problem(("widgets",), "required (a list of widgets, which may be empty)")
        elif not isinstance(widgets, list):
            self.problem(("widgets",), "must be a list of widgets")
        elif len(widgets) > MAX_WIDGETS:
            self.problem(("widgets",), f"at most {MAX_WIDGETS} widgets")
        else:
            for index, widget in enumerate(widgets):
                self.check_widget(("widgets", index), widget)

    def check_variables(self, variables: Any) -> None:
        if not isinstance(variables, list):
            self.problem(("variables",), "must be a list of variables")
            return
        for index, variable in enumerate(variables):
            path: BodyPath = ("variables", index)
            if not isinstance(variable, Mapping):
                self.problem(path, "must be a mapping with type, property and inputType")
                continue
            if variable.get("type") not in ("property", "pattern"):
                self.problem((*path, "type"), "must be property or pattern")
            if not _is_text(variable.get("property")):
                self.problem((*path, "property"), "required: the text the variable replaces")
            if variable.get("inputType") not in ("input", "select", "radio"):
                self.problem((*path, "inputType"), "must be input, select or radio")

    # widgets ----------------------------------------------------------------------------------
    def check_widget(self, path: BodyPath, widget: Any) -> None:
        if not isinstance(widget, Mapping):
            self.problem(path, "must be a mapping with type, x, y, width, height and properties")
            return
        for key in widget:
            if key not in WIDGET_KEYS:
                self.problem((*path, key), f"unknown key; a widget has only {_one_of(WIDGET_KEYS)}")
        self.check_placement(path, widget)
        kind = widget.get("type")
        if kind is None:
            self.problem((*path, "type"), f"required: one of {_one_of(WIDGET_TYPES)}")
        elif kind not in WIDGET_TYPES:
            expected = _one_of(WIDGET_TYPES)
            self.problem((*path, "type"), f"unknown widget type {kind!r}; expected one of {expected}")
        properties = widget.get("properties")
        if not isinstance(properties, Mapping):
            self.problem((*path, "properties"), "required: a mapping of the widget's properties")
        elif kind in WIDGET_TYPES:
            self.check_properties(str(kind), (*path, "properties"), properties)

    def check_placement(self, path: BodyPath, widget: Mapping[str, Any]) -> None:
        bounds = (("x", 0, GRID_WIDTH - 1), ("width", 1, GRID_WIDTH), ("height", 1, 1000))
        valid = {key: self.check_int_range((*path, key), widget, key, low, high) for key, low, high in bounds}
        if "y" in widget and not (_is_int(widget["y"]) and widget["y"] >= 0):
            self.problem((*path, "y"), "must be a whole number of grid units, 0 or more")
        if "x" in widget and valid["x"] and valid["width"]:
            x: int = widget["x"]
            width: int = widget.get("width", DEFAULT_WIDGET_SIZE)
            if x + width > GRID_WIDTH:
                where = "width" if "width" in widget else "x"
                self.problem(
                    (*path, where),
                    f"x ({x}) + width ({width}) is {x + width}: the grid is {GRID_WIDTH} units wide",
                )

    def check_int_range(
        self, path: BodyPath, widget: Mapping[str, Any], key: str, low: int, high: int
    ) -> bool:
        if key not in widget:
            return True
        value = widget[key]
        if not (_is_int(value) and low <= value <= high):
            self.problem(path, f"must be a whole number from {low} to {high}")
            return False
        return True

    # properties by widget type ----------------------------------------------------------------
    def check_properties(self, kind: str, path: BodyPath, properties: Mapping[str, Any]) -> None:
        if kind == "metric":
            self.check_metric_properties(path, properties)
        elif kind == "text":
            self.require_text(path, properties, "markdown", "the text shown, in Markdown")
            if "background" in properties and properties["background"] not in ("solid", "transparent"):
                self.problem((*path, "background"), "must be solid or transparent")
        elif kind == "log":
            self.require_text(path, properties, "query", "a Logs Insights query starting with SOURCE '...'")
            self.require_text(path, properties, "region", "the region of the log groups")
            self.check_choice(path, properties, "view", LOG_VIEWS)
        elif kind == "alarm":
            self.check_alarm_list(path, properties)
        elif kind == "custom":
            self.require_text(path, properties, "endpoint", "the ARN of the Lambda function that draws it")

    def require_text(self, path: BodyPath, properties: Mapping[str, Any], key: str, what: str) -> None:
        if not _is_text(properties.get(key)):
            self.problem((*path, key), f"required: {what}")

    def check_choice(
        self, path: BodyPath, properties: Mapping[str, Any], key: str, choices: tuple[str, ...]
    ) -> None:
        if key in properties and properties[key] not in choices:
            self.problem((*path, key), f"must be one of {_one_of(choices)}")

    def check_metric_properties(self, path: BodyPath, properties: Mapping[str, Any]) -> None:
        annotations = properties.get("annotations")
        graphs_alarms = isinstance(annotations, Mapping) and bool(annotations.get("alarms"))
        if "metrics" in properties or not graphs_alarms:
            self.check_metric_rows((*path, "metrics"), properties.get("metrics"))
        self.require_text(path, properties, "region", "the region of the metrics")
        self.check_choice(path, properties, "view", METRIC_VIEWS)
        if "period" in properties:
            period = properties["period"]
            if not (_is_int(period) and _is_dashboard_period(period)):
                self.problem((*path, "period"), "must be a multiple of 60 seconds (or 1, 5, 10, 20, 30)")
        if "stacked" in properties and not isinstance(properties["stacked"], bool):
            self.problem((*path, "stacked"), "must be true or false")
        for key in ("title", "stat"):
            if key in properties and not _is_text(properties[key]):
                self.problem((*path, key), "must be text")

    def check_alarm_list(self, path: BodyPath, properties: Mapping[str, Any]) -> None:
        alarms = properties.get("alarms")
        if not isinstance(alarms, list) or not 1 <= len(alarms) <= MAX_ALARMS_PER_WIDGET:
            self.problem((*path, "alarms"), f"required: a list of 1 to {MAX_ALARMS_PER_WIDGET} alarm ARNs")
            return
        for index, arn in enumerate(alarms):
            if not (is_unresolved(arn) or (_is_text(arn) and arn.startswith("arn:") and ":alarm:" in arn)):
                self.problem((*path, "alarms", index), "must be an alarm ARN (arn:...:alarm:NAME)")

    # metric rows ------------------------------------------------------------------------------
    def check_metric_rows(self, path: BodyPath, rows: Any) -> None:
        if not isinstance(rows, list) or not rows:
            self.problem(path, "required: a list of metrics, each [namespace, name, dimension, value...]")
            return
        for index, row in enumerate(rows):
            self.check_metric_row((*path, index), row, first=index == 0)

    def check_metric_row(self, path: BodyPath, row: Any, first: bool) -> None:
        shape = "[namespace, metric name, dimension name, value, ..., {options}]"
        if not isinstance(row, list) or not row:
            self.problem(path, f"each metric must be a list {shape}")
            return
        names = row[:-1] if isinstance(row[-1], Mapping) else row
        options = row[-1] if isinstance(row[-1], Mapping) else None
        for index, item in enumerate(names):
            if not _is_text(item):
                self.problem((*path, index), f"must be text (only the last item may be {{options}}): {shape}")
        if not names:
            if options is not None and "expression" not in options:
                self.problem(path, "a metric made of an options object alone must have an expression")
            return
        if first and any(item in (".", "...") for item in names):
            self.problem(path, "'.' and '...' repeat the metric above, and the first metric has none")
        if names[0] == "...":
            return  # the rest of the row is taken from the row above: its length is free
        if len(names) < 2:
            self.problem(path, f"needs at least a namespace and a metric name: {shape}")
        elif len(names) % 2:
            self.problem(path, f"dimension names and values must come in pairs: {shape}")
        elif (len(names) - 2) // 2 > MAX_DIMENSIONS:
            self.problem(path, f"at most {MAX_DIMENSIONS} dimensions")
