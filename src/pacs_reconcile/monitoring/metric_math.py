"""CloudWatch metric math, evaluated offline over aligned series (one value or None per period).

Source: "Using metric math", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
(doc_source/using-metric-math.md in awsdocs/amazon-cloudwatch-user-guide). As documented:
- `+ - * / ^` and unary minus on scalars, series and arrays of series; "Missing values in a time
  series are treated as 0"; a division by zero drops the datapoint.
- Comparisons `== != <= >= < >` and `AND`/`&&`, `OR`/`||` give 1 or 0; between two series a missing
  value counts as 0.
- `SUM`, `AVG`, `MIN`, `MAX` of an array of series (`[m1, m2]` or `METRICS()`, `METRICS("text")`):
  one series, missing values as 0.
- `IF(condition, trueValue[, falseValue])` with the documented outcomes for series and scalars
  (a missing trueValue datapoint gives 0; a missing or omitted falseValue drops the datapoint; a
  missing condition datapoint drops it).
- `FILL(series, number or series)`.
Where a period has no operand value at all, the result is missing too; a series combined with a
scalar (`errors * 100`) has no value where the series has none.

Not simulated (evaluating raises MathError, so the example fails and says why): the scalar forms
(`SUM(m1)` of one series, which AWS recommends against in alarms because they depend on how much data
is retrieved), `FILL(..., REPEAT | LINEAR)`, and every other function.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Series = list[float | None]
Result = float | Series | list[Series]


@dataclass(frozen=True)
class _TS:
    """One time series: a value or None per period."""

    points: tuple[float | None, ...]


@dataclass(frozen=True)
class _Array:
    """An array of time series ([m1, m2], METRICS())."""

    items: tuple[_TS, ...]


_Value = float | _TS | _Array

_TOKEN = re.compile(
    r"""\s*(?:(?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
    |(?P<string>"[^"]*")
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>&&|\|\||==|!=|<=|>=|[-+*/^<>(),\[\]]))""",
    re.VERBOSE,
)


def _power(base: float, exponent: float) -> float:
    """`base ^ exponent`, or MathError where it has no finite real value (`10 ^ 1000`, `(-4) ^ 0.5`,
    `0 ^ -1`): what CloudWatch gives then is not documented, so the example cannot be checked."""
    try:
        return math.pow(base, exponent)
    except (OverflowError, ValueError):
        raise MathError(
            f"{base:g} ^ {exponent:g} has no finite real value; what CloudWatch makes of it is not "
            "documented, so it is not simulated"
        ) from None


_BINARY: dict[str, tuple[int, Callable[[float, float], float | None]]] = {
    "OR": (1, lambda a, b: float(bool(a) or bool(b))),
    "AND": (2, lambda a, b: float(bool(a) and bool(b))),
    "==": (3, lambda a, b: float(a == b)),
    "!=": (3, lambda a, b: float(a != b)),
    "<": (3, lambda a, b: float(a < b)),
    ">": (3, lambda a, b: float(a > b)),
    "<=": (3, lambda a, b: float(a <= b)),
    ">=": (3, lambda a, b: float(a >= b)),
    "+": (4, operator.add),
    "-": (4, operator.sub),
    "*": (5, operator.mul),
    "/": (5, lambda a, b: None if b == 0 else a / b),
    "^": (6, _power),
}
_ALIASES = {"&&": "AND", "||": "OR"}
_AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "SUM": lambda values: sum(values),
    "AVG": lambda values: sum(values) / len(values),
    "MIN": min,
    "MAX": max,
}


class MathError(ValueError):
    """The expression cannot be evaluated offline."""


def evaluate(
    expression: str, series: Mapping[str, Sequence[float | None]], metric_ids: Sequence[str], length: int
) -> Result:
    """The value of `expression`, whose ids name the `series` (metrics and computed expressions)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expression) and expression[position:].strip():
        match = _TOKEN.match(expression, position)
        if match is None or match.lastgroup is None:
            raise MathError(f"unexpected {expression[position:].strip()[:1]!r} in {expression!r}")
        tokens.append((match.lastgroup, match.group(match.lastgroup)))
        position = match.end()
    known = {name: _TS(tuple(points)) for name, points in series.items()}
    evaluator = _Evaluator(tokens, known, metric_ids, length)
    value = evaluator.expression(0)
    rest = evaluator.peek()
    if rest is not None:
        raise MathError(f"unexpected {rest[1]!r} in {expression!r}")
    if isinstance(value, _TS):
        return list(value.points)
    if isinstance(value, _Array):
        return [list(item.points) for item in value.items]
    return value


MAX_NESTING = 100
"""Levels an expression may nest: the 2,048 characters an expression may have could nest 1,000,
and Python would run out of stack long before."""


class _Evaluator:
    def __init__(
        self, tokens: list[tuple[str, str]], series: Mapping[str, _TS], metric_ids: Sequence[str], length: int
    ) -> None:
        self.tokens = tokens
        self.index = 0
        self.series = series
        self.metric_ids = metric_ids
        self.length = length
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (expected is not None and token[1] != expected):
            found = token[1] if token else "its end"
            raise MathError(f"expected {expected or 'more'} in the expression, found {found}")
        self.index += 1
        return token

    def expression(self, floor: int) -> _Value:
        """The value of the expression from here, its operators binding tighter than `floor`."""
        if self.depth >= MAX_NESTING:  # each level is a few Python frames: no RecursionError
            raise MathError(
                f"the expression nests more than {MAX_NESTING} levels deep (parentheses, signs, powers, "
                "arguments); it is not simulated"
            )
        self.depth += 1
        try:
            return self._operations(floor)
        finally:
            self.depth -= 1

    def _operations(self, floor: int) -> _Value:
        left = self.unary()
        while (token := self.peek()) is not None:
            op = _ALIASES.get(token[1], token[1].upper())
            if op not in _BINARY or _BINARY[op][0] <= floor:
                break
            precedence, function = _BINARY[op]
            self.take()
            right = self.expression(precedence - 1 if op == "^" else precedence)  # ^ binds to the right
            left = _combine(left, right, function, pair_missing_as_zero=True)
        return left

    def unary(self) -> _Value:
        kind, text = self.take()
        if text == "-":
            return _combine(0.0, self.expression(5), operator.sub, pair_missing_as_zero=False)
        if text == "(":
            value = self.expression(0)
            self.take(")")
            return value
        if text == "[":
            items: list[_TS] = []
            while True:
                item = self.expression(0)
                items.extend(item.items if isinstance(item, _Array) else [self.as_series(item)])
                if self.take()[1] == "]":
                    return _Array(tuple(items))
        if kind == "number":
            return float(text)
        if kind == "name" and (self.peek() or ("", ""))[1] == "(":
            return self.call(text)
        if kind == "name" and text in self.series:
            return self.series[text]
        raise MathError(f"{text!r} is not a number, a function or an id of the alarm's metrics")

    def as_series(self, value: _Value) -> _TS:
        if isinstance(value, float):
            return _TS((value,) * self.length)
        if isinstance(value, _Array):
            raise MathError("an array of series where one series is needed")
        return value

    def arguments(self) -> list[_Value | str]:
        self.take("(")
        values: list[_Value | str] = []
        if (self.peek() or ("", ""))[1] == ")":
            self.take()
            return values
        while True:
            token = self.peek()
            if token is not None and token[0] == "string":
                self.take()
                values.append(token[1].strip('"'))
            elif token is not None and token[1] in ("REPEAT", "LINEAR"):
                raise MathError(f"FILL(..., {token[1]}) is not simulated offline; fill with a number")
            else:
                values.append(self.expression(0))
            if self.take()[1] == ")":
                return values

    def call(self, name: str) -> _Value:
        arguments = self.arguments()
        values = [a for a in arguments if not isinstance(a, str)]
        if name == "METRICS" and len(values) == 0 and len(arguments) <= 1:
            needle = str(arguments[0]) if arguments else ""
            return _Array(tuple(self.series[i] for i in self.metric_ids if needle in i))
        if name in _AGGREGATES and len(values) == len(arguments) == 1:
            if not isinstance(values[0], _Array):
                raise MathError(
                    f"{name} of one series is a scalar over everything retrieved; AWS advises against it "
                    "in alarms and it is not simulated: use it over an array, e.g. SUM([m1, m2])"
                )
            return _aggregate(_AGGREGATES[name], values[0])
        if name == "IF" and len(values) == len(arguments) and len(values) in (2, 3):
            return self.if_(*values)
        if name == "FILL" and len(values) == len(arguments) == 2:
            return self.fill(values[0], values[1])
        raise MathError(f"{name} with {len(arguments)} arguments is not simulated offline")

    def if_(self, condition: _Value, when_true: _Value, when_false: _Value | None = None) -> _Value:
        if isinstance(condition, float):
            chosen = when_true if condition else when_false
            return _TS((None,) * self.length) if chosen is None else self.as_series(chosen)
        flags = self.as_series(condition).points
        yes = self.as_series(when_true).points
        no = None if when_false is None else self.as_series(when_false).points
        out: list[float | None] = []
        for index, flag in enumerate(flags):
            if flag is None:
                out.append(None)
            elif flag:
                value = yes[index]
                out.append(0.0 if value is None else value)
            else:
                out.append(None if no is None else no[index])
        return _TS(tuple(out))

    def fill(self, target: _Value, filler: _Value) -> _Value:
        if isinstance(target, _Array):
            return _Array(tuple(self.as_series(self.fill(item, filler)) for item in target.items))
        if isinstance(target, float):
            raise MathError("FILL takes a series, not a number")
        spare = self.as_series(filler).points
        return _TS(tuple(v if v is not None else spare[i] for i, v in enumerate(target.points)))


def _combine(
    left: _Value, right: _Value, function: Callable[[float, float], float | None], pair_missing_as_zero: bool
) -> _Value:
    if isinstance(left, _Array):
        return _Array(
            tuple(_as_ts(_combine(item, right, function, pair_missing_as_zero)) for item in left.items)
        )
    if isinstance(right, _Array):
        return _Array(
            tuple(_as_ts(_combine(left, item, function, pair_missing_as_zero)) for item in right.items)
        )
    if isinstance(left, float) and isinstance(right, float):
        result = function(left, right)
        if result is None:
            raise MathError("division by zero in a scalar expression")
        return result
    both_series = isinstance(left, _TS) and isinstance(right, _TS)
    size = len(left.points) if isinstance(left, _TS) else len(right.points)  # type: ignore[union-attr]
    out: list[float | None] = []
    for index in range(size):
        a = left.points[index] if isinstance(left, _TS) else left
        b = right.points[index] if isinstance(right, _TS) else right
        if a is None and b is None:
            out.append(None)
        elif a is None or b is None:
            out.append(function(a or 0.0, b or 0.0) if both_series and pair_missing_as_zero else None)
        else:
            out.append(function(a, b))
    return _TS(tuple(out))


def _as_ts(value: _Value) -> _TS:
    if not isinstance(value, _TS):
        raise MathError("an array combined with a number gives series")  # pragma: no cover - cannot happen
    return value


def _aggregate(function: Callable[[list[float]], float], array: _Array) -> _TS:
    out: list[float | None] = []
    for values in zip(*(item.points for item in array.items), strict=True):
        if all(v is None for v in values):
            out.append(None)
        else:
            out.append(function([v if v is not None else 0.0 for v in values]))
    return _TS(tuple(out))
