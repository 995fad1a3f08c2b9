"""CloudWatch Logs filter patterns, parsed and matched offline.

The grammar and the outcomes follow AWS's documentation of the pattern language:
- "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail"
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
  and its source text, doc_source/FilterAndPatternSyntax.md in
  https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide (the examples the conformance table
  in tests/monitoring/test_filter_conformance.py replays);
- "Using filter patterns to match terms in JSON log events"
  https://docs.amazonaws.cn/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html
- "Supported regular expressions (regex) syntax"
  https://docs.amazonaws.cn/AmazonCloudWatch/latest/logs/regex-expressions.html

Supported, as documented:
- "" (or only spaces) matches every event.
- Terms: words of letters, digits and '_' (anything else must be in double quotes), quoted phrases,
  all of which must appear (case-sensitive substring: ERROR matches "ERRORCODE"); `?term` terms of
  which at least one must appear; `-term` terms that must not appear.
- `%regex%` on its own, matched anywhere in the message.
- JSON patterns `{ ... }`: selectors `$.a.b`, `$.a[0]`, `$.a[0][1]`; `=` and `!=` against strings
  (quoted, or unquoted), `*` wildcards at the start and/or end (`*Event`, `Event*`, `*html*`; a `*`
  inside, `Ev*ent`, is literal), numbers and `%regex%`; `<`, `>`, `<=`, `>=` against numbers
  (sign, decimals, exponent); `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`; `&&`, `||` and
  parentheses with the documented precedence () > && > ||. A selector pointing at an object or an
  array satisfies no comparison, `=` or `!=` alike; an array index on a non-array is false.
- Space-delimited patterns `[a, b, ...]`: the message splits at spaces; text between `"..."` or
  `[...]` is one field (without its quotes or brackets). Without `...` the number of fields must be
  exactly the number of names ([w1=ERROR, w2] does not match "ERROR WARN message"); one `...` takes
  any number of fields anywhere. Conditions: `=`/`!=` with strings, wildcards, numbers and regex;
  `<`, `>`, `<=`, `>=` with numbers; several joined by `&&` or `||` in one field.
- Metric values and dimensions from fields: `$name` (space-delimited) and `$.path` (JSON).

Where the docs are silent, this engine decides as follows (and says so in its explanations):
- A comparison on a field that is missing is false, `!=` included.
- A numeric comparison (<, >, <=, >=) on a value that is not a number is false; `=` with a number
  compares numerically when the value is a number, else as text.
- A JSON pattern matches only a message that is a JSON object as a whole (leading and trailing
  spaces allowed); any other message matches no JSON pattern.
- Runs of spaces separate one field (no empty fields).

Not supported (compiling such a pattern raises UnsupportedPattern, so `validate` rejects it instead
of guessing what AWS would do):
- mixing `?term` OR-terms with plain required terms (`?ERROR WARN`): the docs only show `?` terms
  together, optionally with `-` exclusions;
- a `%regex%` together with other terms in an unstructured pattern;
- more than one `...` in a space-delimited pattern;
- a condition in a space-delimited field naming a field that is not in the pattern (the docs'
  `status_code = 4* && bytes > 1000` in the last position, where `bytes` names no field);
- JSON selectors with wildcards (`$.*`, `[*]`) or quoted keys (`$.['a b']`), and `IS NOT NULL`,
  `EXISTS` without NOT, or any keyword the docs do not list;
- more than two regular expressions in one JSON or space-delimited pattern (AWS's documented
  limit).

Documented but not checked: the regex page's character rules (only letters, digits, a few symbols
and operators; no parentheses; no multi-byte characters). `%...%` is evaluated with Python's `re`,
which accepts more; the spec validator has always accepted e.g. `%time(out|d)%`, and AWS would
refuse it when the filter is created.
"""

from __future__ import annotations

import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_REGEX_PER_STRUCTURED_PATTERN = 2
"""AWS: "a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern"."""

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TERM_WORD = re.compile(r"[A-Za-z0-9_]+")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SELECTOR_PART = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<paren>[()])
      | (?P<logic>&&|\|\|)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<quoted>"(?:[^"\\]|\\.)*")
      | (?P<regex>%[^%]*%)
      | (?P<word>[^\s()=!<>&|"%]+)
    )""",
    re.VERBOSE,
)
_OPERAND_KEYWORDS = frozenset({"IS", "NOT", "EXISTS"})
"""Keywords that cannot be a comparison's value (an unquoted NULL, TRUE or FALSE is compared as text)."""

Operator = Literal["=", "!=", "<", ">", "<=", ">="]
_NUMERIC_OPERATORS = frozenset({"<", ">", "<=", ">="})


class PatternError(ValueError):
    """The pattern is not valid filter pattern syntax."""


class UnsupportedPattern(PatternError):
    """The pattern uses a documented feature this engine does not implement."""


def as_number(text: str) -> float | None:
    """The number a field's text holds, or None (CloudWatch's numbers: sign, decimals, exponent)."""
    if _NUMBER.fullmatch(text):
        value = float(text)
        return value if math.isfinite(value) else None
    return None


# The log event, viewed once for every pattern -----------------------------------------------------


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: Any = _NotJson()
MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "MISSING"})()


class LogEvent:
    """One log message with its space-delimited fields and JSON document, each computed once and
    shared by every pattern that looks at it."""

    __slots__ = ("_document", "_fields", "message")

    def __init__(self, message: str) -> None:
        self.message = message
        self._fields: list[str] | None = None
        self._document: Any = MISSING

    @property
    def fields(self) -> list[str]:
        if self._fields is None:
            self._fields = split_fields(self.message)
        return self._fields

    @property
    def document(self) -> Any:
        """The message parsed as a JSON object, or NOT_JSON."""
        if self._document is MISSING:
            self._document = NOT_JSON
            text = self.message.strip()
            if text.startswith("{"):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = NOT_JSON
                except RecursionError:  # some 1,000 levels, as deep as Python's stack reads
                    raise PatternError(
                        "the event's JSON nests deeper than the offline engine reads; "
                        "give an example that nests less"
                    ) from None
                if isinstance(parsed, dict):
                    self._document = parsed
        return self._document


_FIELD = re.compile(r'"([^"]*)(?:"|$)|\[([^\]]*)(?:\]|$)|(\S+)')


def split_fields(message: str) -> list[str]:
    """Space-delimited fields: "..." and [...] are one field each, without their delimiters."""
    return [quoted or bracketed or plain for quoted, bracketed, plain in _FIELD.findall(message)]


# Outcomes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Whether a pattern matched a message, why not, and the values it extracted."""

    matched: bool
    reason: str = ""
    fields: Mapping[str, str] = field(default_factory=dict)
    """Space-delimited patterns: field name -> text."""


@dataclass(frozen=True)
class Requirement:
    """A cheap test every event a pattern matches passes: how a bank of patterns skips most of them.

    substring: the message contains one of `values` (each a 1-tuple); field: the space-delimited
    fields at the positions `keys` (negative: from the end) are one of the tuples in `values`;
    json: the JSON values (as text) at the selectors `keys` are one of the tuples in `values`."""

    kind: Literal["substring", "field", "json"]
    values: tuple[tuple[str, ...], ...]
    keys: tuple[str | int, ...] = ()


# Values compared against ----------------------------------------------------------------------


@dataclass(frozen=True)
class Operand:
    """The right-hand side of a comparison, as written in the pattern."""

    written: str
    text: str
    number: float | None = None
    regex: re.Pattern[str] | None = None
    any_value: bool = False
    prefix: bool = False
    """Written `*text`: the value ends with text."""
    suffix: bool = False
    """Written `text*`: the value starts with text."""

    @property
    def exact_text(self) -> str | None:
        """The only text this operand equals, when there is one."""
        plain = not (self.any_value or self.regex or self.prefix or self.suffix)
        return self.text if plain and self.number is None else None

    def equals(self, value: str) -> bool:
        if self.any_value:
            return True
        if self.regex is not None:
            return self.regex.search(value) is not None
        if self.number is not None:
            number = as_number(value)
            if number is not None:
                return number == self.number
            return value == self.text
        if self.prefix and self.suffix:
            return self.text in value
        if self.prefix:
            return value.endswith(self.text)
        if self.suffix:
            return value.startswith(self.text)
        return value == self.text


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _compile_regex(token: str) -> re.Pattern[str]:
    body = token[1:-1]
    if not body:
        raise PatternError("an empty regular expression %%")
    try:
        return re.compile(body)
    except re.error as exc:
        raise PatternError(f"regular expression {token!r}: {exc}") from None


def _literal(kind: str, token: str) -> Operand:
    if kind == "regex":
        return Operand(token, token, regex=_compile_regex(token))
    if kind == "quoted":
        text = _unquote(token)
        quoted = True
    else:
        text, quoted = token, False
    if text == "*":
        return Operand(token, text, any_value=True)
    number = as_number(text) if not quoted else None
    if number is not None:
        return Operand(token, text, number=number)
    prefix, suffix = text.startswith("*"), text.endswith("*")
    core = text[1 if prefix else 0 : len(text) - 1 if suffix else len(text)]
    return Operand(token, core, prefix=prefix, suffix=suffix)


# Condition trees (JSON and space-delimited) -------------------------------------------------------


Lookup = Callable[[str], Any]
"""Field reference -> its value (str, number, bool, None, list, dict) or MISSING."""


class _Node(ABC):
    @abstractmethod
    def test(self, lookup: Lookup) -> str | None:
        """None when true, else why it is false."""


@dataclass(frozen=True)
class _All(_Node):
    parts: tuple[_Node, ...]

    def test(self, lookup: Lookup) -> str | None:
        for part in self.parts:
            why = part.test(lookup)
            if why is not None:
                return why
        return None


@dataclass(frozen=True)
class _Any(_Node):
    parts: tuple[_Node, ...]

    def test(self, lookup: Lookup) -> str | None:
        reasons = []
        for part in self.parts:
            why = part.test(lookup)
            if why is None:
                return None
            reasons.append(why)
        return " and ".join(reasons)


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)


@dataclass(frozen=True)
class _Compare(_Node):
    ref: str
    op: Operator
    value: Operand

    def test(self, lookup: Lookup) -> str | None:
        found = lookup(self.ref)
        wanted = f"{self.op} {self.value.written}"
        if found is MISSING:
            return f"{self.ref} is missing (wanted {wanted})"
        if isinstance(found, dict | list):
            return f"{self.ref} is an {'object' if isinstance(found, dict) else 'array'}, not a value"
        if found is None or isinstance(found, bool):
            return f"{self.ref} is {_shown(found)}, not a string or number (wanted {wanted})"
        text = found if isinstance(found, str) else _number_text(found)
        if self.op in _NUMERIC_OPERATORS:
            number = float(found) if isinstance(found, int | float) else as_number(text)
            if number is None:
                return f"{self.ref} is {_shown(found)}, not a number (wanted {wanted})"
            assert self.value.number is not None  # checked when compiled
            ok = _ORDER[self.op](number, self.value.number)
        else:
            ok = self.value.equals(text) == (self.op == "=")
        return None if ok else f"{self.ref} is {_shown(found)} (wanted {wanted})"


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _number_text(value: float) -> str:
    return str(value)


@dataclass(frozen=True)
class _Is(_Node):
    ref: str
    expected: Literal["NULL", "TRUE", "FALSE", "NOT EXISTS"]

    def test(self, lookup: Lookup) -> str | None:
        found = lookup(self.ref)
        if self.expected == "NOT EXISTS":
            return None if found is MISSING else f"{self.ref} exists (wanted NOT EXISTS)"
        if found is MISSING:
            return f"{self.ref} is missing (wanted IS {self.expected})"
        wanted: Any = {"NULL": None, "TRUE": True, "FALSE": False}[self.expected]
        if found is wanted:
            return None
        return f"{self.ref} is {_shown(found)} (wanted IS {self.expected})"


MAX_NESTING = 100
"""Parentheses a condition may nest. A pattern's 1,024 characters could nest 500, and Python's stack
does not hold 200 (five frames each); the docs set no limit, and no condition written by hand
needs 100."""


class _Parser:
    """Recursive descent over the tokens of a JSON condition or a space-delimited field."""

    def __init__(self, text: str, offset: int, check_ref: Callable[[str, int], None], what: str) -> None:
        self.tokens: list[tuple[str, str, int]] = []
        self.index = 0
        self.depth = 0
        self.regex_count = 0
        self.refs: list[str] = []
        self.check_ref = check_ref
        self.what = what
        position = 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None:
                at = position + len(text[position:]) - len(text[position:].lstrip())
                raise PatternError(f"unexpected {text[at]!r} at position {offset + at + 1}")
            kind = match.lastgroup
            self.tokens.append((kind, match.group(kind), offset + match.start(kind) + 1))
            position = match.end()

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise PatternError(f"the {self.what} ends too early")
        self.index += 1
        return token

    def parse(self) -> _Node:
        node = self.or_expr()
        rest = self.peek()
        if rest is not None:
            raise PatternError(f"unexpected {rest[1]!r} at position {rest[2]}")
        return node

    def or_expr(self) -> _Node:
        return self._joined("||", self.and_expr, _Any)

    def and_expr(self) -> _Node:
        return self._joined("&&", self.unary, _All)

    def _joined(
        self, operator: str, operand: Callable[[], _Node], combine: Callable[[tuple[_Node, ...]], _Node]
    ) -> _Node:
        parts = [operand()]
        while (token := self.peek()) is not None and token[1] == operator:
            self.take()
            parts.append(operand())
        return parts[0] if len(parts) == 1 else combine(tuple(parts))

    def unary(self) -> _Node:
        kind, text, at = self.take()
        if text == "(":
            if self.depth >= MAX_NESTING:  # each level is five Python frames: no RecursionError
                raise UnsupportedPattern(
                    f"'(' at position {at} nests more than {MAX_NESTING} deep, more than the offline "
                    "engine evaluates: write the condition with fewer parentheses"
                )
            self.depth += 1
            node = self.or_expr()
            self.depth -= 1
            closing = self.take()
            if closing[1] != ")":
                raise PatternError(f"expected ')' at position {closing[2]}, found {closing[1]!r}")
            return node
        if kind != "word":
            raise PatternError(f"{text!r} at position {at} is not a {self.what}")
        self.check_ref(text, at)
        self.refs.append(text)
        return self.condition(text, at)

    def condition(self, ref: str, at: int) -> _Node:
        kind, text, op_at = self.take()
        if kind == "op":
            value_kind, value, _ = self.take()
            if value_kind not in ("word", "quoted", "regex") or value.upper() in _OPERAND_KEYWORDS:
                raise PatternError(f"expected a value after {text!r} at position {op_at}, found {value!r}")
            if value_kind == "regex":
                self.regex_count += 1
            literal = _literal(value_kind, value)
            if text in _NUMERIC_OPERATORS and literal.number is None:
                raise PatternError(f"{text} at position {op_at} compares numbers; {value!r} is not a number")
            return _Compare(ref, text, literal)  # type: ignore[arg-type]
        keyword = text.upper()
        if kind == "word" and keyword == "IS":
            _, target, target_at = self.take()
            target = target.upper()
            if target == "NOT":
                raise UnsupportedPattern(f"IS NOT at position {target_at} is not in the documented syntax")
            if target not in ("NULL", "TRUE", "FALSE"):
                raise PatternError(f"IS at position {op_at} must be followed by NULL, TRUE or FALSE")
            return _Is(ref, target)  # type: ignore[arg-type]
        if kind == "word" and keyword == "NOT":
            _, target, target_at = self.take()
            if target.upper() != "EXISTS":
                raise PatternError(f"NOT at position {op_at} must be followed by EXISTS")
            return _Is(ref, "NOT EXISTS")
        if kind == "word" and keyword == "EXISTS":
            raise UnsupportedPattern(f"EXISTS at position {op_at}: only NOT EXISTS is documented (use = *)")
        raise PatternError(
            f"{ref} at position {at} needs a comparison (=, !=, <, >, <=, >=, IS NULL, NOT EXISTS)"
        )


# Patterns ---------------------------------------------------------------------------------------


class FilterPattern(ABC):
    """A compiled filter pattern."""

    kind: str

    def __init__(self, text: str) -> None:
        self.text = text

    @abstractmethod
    def evaluate(self, event: LogEvent) -> Verdict:
        """Whether the event matches, why not, and the fields extracted."""

    def field_value(self, reference: str, event: LogEvent, verdict: Verdict) -> Any:
        """The value of `$name` or `$.path` in a matched event, or MISSING."""
        return MISSING

    def requirement(self) -> Requirement | None:
        """A cheap necessary condition of a match, if the pattern has one."""
        return None


class MatchAll(FilterPattern):
    kind = "all"

    def evaluate(self, event: LogEvent) -> Verdict:
        return Verdict(True)


class TermPattern(FilterPattern):
    kind = "terms"

    def __init__(self, text: str, required: list[str], optional: list[str], excluded: list[str]) -> None:
        super().__init__(text)
        self.required = required
        self.optional = optional
        self.excluded = excluded

    def evaluate(self, event: LogEvent) -> Verdict:
        message = event.message
        for term in self.required:
            if term not in message:
                return Verdict(False, f"term {json.dumps(term)} is not in the message")
        if self.optional and not any(term in message for term in self.optional):
            shown = ", ".join(json.dumps(t) for t in self.optional)
            return Verdict(False, f"none of the ?-terms {shown} is in the message")
        for term in self.excluded:
            if term in message:
                return Verdict(False, f"excluded term {json.dumps(term)} is in the message")
        return Verdict(True)

    def requirement(self) -> Requirement | None:
        if self.required:
            return Requirement("substring", ((max(self.required, key=len),),))
        return Requirement("substring", tuple((term,) for term in self.optional)) if self.optional else None


class RegexPattern(FilterPattern):
    kind = "regex"

    def __init__(self, text: str, regex: re.Pattern[str]) -> None:
        super().__init__(text)
        self.regex = regex

    def evaluate(self, event: LogEvent) -> Verdict:
        if self.regex.search(event.message):
            return Verdict(True)
        return Verdict(False, f"regular expression %{self.regex.pattern}% finds nothing in the message")


class JsonPattern(FilterPattern):
    kind = "json"

    def __init__(self, text: str, condition: _Node, selectors: set[str]) -> None:
        super().__init__(text)
        self.condition = condition
        self.selectors = selectors

    def evaluate(self, event: LogEvent) -> Verdict:
        document = event.document
        if document is NOT_JSON:
            return Verdict(False, "the message is not a JSON object")
        why = self.condition.test(lambda ref: resolve(document, ref))
        return Verdict(True) if why is None else Verdict(False, why)

    def field_value(self, reference: str, event: LogEvent, verdict: Verdict) -> Any:
        document = event.document
        return MISSING if document is NOT_JSON else resolve(document, reference)

    def requirement(self) -> Requirement | None:
        return _combined("json", list(_exact_values(self.condition)))


def parse_selector(selector: str) -> list[str | int]:
    """`$.a.b[0]` -> ["a", "b", 0]; raises PatternError when malformed."""
    if not selector.startswith("$"):
        raise PatternError(f"selector {selector!r} must start with $")
    parts: list[str | int] = []
    position = 1
    while position < len(selector):
        match = _SELECTOR_PART.match(selector, position)
        if match is None:
            raise PatternError(f"selector {selector!r} is malformed at {selector[position:]!r}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts:
        raise PatternError("selector $ names no property")
    return parts


_SELECTOR_CACHE: dict[str, list[str | int]] = {}


def resolve(document: Any, selector: str) -> Any:
    parts = _SELECTOR_CACHE.get(selector)
    if parts is None:
        parts = _SELECTOR_CACHE.setdefault(selector, parse_selector(selector))
    node = document
    for part in parts:
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return MISSING
        elif not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


@dataclass(frozen=True)
class _Slot:
    name: str | None
    """None for `...` and for unnamed fields."""
    ellipsis: bool = False
    condition: _Node | None = None


class DelimitedPattern(FilterPattern):
    kind = "space-delimited"

    def __init__(self, text: str, slots: list[_Slot]) -> None:
        super().__init__(text)
        self.slots = slots
        self.ellipsis = next((i for i, s in enumerate(slots) if s.ellipsis), None)
        self.names = [s.name for s in slots if s.name is not None]
        self.conditions = [(i, s) for i, s in enumerate(slots) if s.condition is not None]

    def bind(self, fields: Sequence[str]) -> dict[str, str] | str:
        """{name: field} for the event's fields, or why they do not fit the pattern."""
        count, wanted = len(fields), len(self.slots)
        bound: dict[str, str] = {}
        if self.ellipsis is None:
            if count != wanted:
                return f"the message has {count} fields; the pattern has {wanted}"
            for slot, value in zip(self.slots, fields, strict=True):
                if slot.name is not None:
                    bound[slot.name] = value
            return bound
        fixed = wanted - 1
        if count < fixed:
            return f"the message has {count} fields; the pattern needs at least {fixed}"
        for slot, value in zip(self.slots[: self.ellipsis], fields, strict=False):
            if slot.name is not None:
                bound[slot.name] = value
        tail = self.slots[self.ellipsis + 1 :]
        for slot, value in zip(tail, fields[count - len(tail) :], strict=True):
            if slot.name is not None:
                bound[slot.name] = value
        return bound

    def evaluate(self, event: LogEvent) -> Verdict:
        bound = self.bind(event.fields)
        if isinstance(bound, str):
            return Verdict(False, bound)
        lookup = bound.get
        for index, slot in self.conditions:
            assert slot.condition is not None
            why = slot.condition.test(lambda ref: lookup(ref, MISSING))
            if why is not None:
                return Verdict(False, f"field {index + 1} ({slot.name}): {why}")
        return Verdict(True, fields=bound)

    def field_value(self, reference: str, event: LogEvent, verdict: Verdict) -> Any:
        return verdict.fields.get(reference.removeprefix("$"), MISSING)

    def requirement(self) -> Requirement | None:
        position = {}
        for index, slot in enumerate(self.slots):
            after = self.ellipsis is not None and index > self.ellipsis
            if slot.name is not None:
                position[slot.name] = index - len(self.slots) if after else index
        found = []
        for _, slot in self.conditions:
            assert slot.condition is not None
            found += [(position[ref], values) for ref, values in _exact_values(slot.condition)]
        return _combined("field", found)


_MAX_KEYS = 64
"""A requirement with more value combinations than this is not worth indexing."""


def _combined(kind: Literal["field", "json"], found: list[tuple[Any, tuple[str, ...]]]) -> Requirement | None:
    """One requirement on every reference with exact values (all must hold: their combinations)."""
    by_key: dict[Any, tuple[str, ...]] = {}
    for key, values in found:
        by_key.setdefault(key, values)  # a second condition on the same key only narrows it
    if not by_key:
        return None
    keys = tuple(sorted(by_key, key=str))
    combinations: list[tuple[str, ...]] = [()]
    for key in keys:
        combinations = [(*done, value) for done in combinations for value in by_key[key]]
        if len(combinations) > _MAX_KEYS:
            return None
    return Requirement(kind, tuple(combinations), keys)


def _exact_values(node: _Node) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(reference, texts) such that every match has the reference equal to one of the texts."""
    if isinstance(node, _Compare) and node.op == "=" and node.value.exact_text is not None:
        yield node.ref, (node.value.exact_text,)
    elif isinstance(node, _All):
        for part in node.parts:
            yield from _exact_values(part)
    elif isinstance(node, _Any):
        options = [next(_exact_values(part), None) for part in node.parts]
        refs = {option[0] for option in options if option is not None}
        if None not in options and len(refs) == 1:
            yield refs.pop(), tuple(text for option in options if option for text in option[1])


# Compiling ----------------------------------------------------------------------------------------


def compile_pattern(text: str) -> FilterPattern:
    """Parse a filter pattern; raises PatternError (or UnsupportedPattern) with a position."""
    body = text.strip()
    if not body:
        return MatchAll(text)
    start = text.index(body[0])
    if body[0] == "{":
        return _compile_json(text, body, start)
    if body[0] == "[":
        return _compile_delimited(text, body, start)
    if len(body) >= 2 and body[0] == "%" and body[-1] == "%" and "%" not in body[1:-1]:
        return RegexPattern(text, _compile_regex(body))
    return _compile_terms(text)


def _enclosed(body: str, start: int, closing: str, form: str) -> str:
    if not body.endswith(closing):
        raise PatternError(f"the {form} pattern opened at position {start + 1} must end with {closing!r}")
    return body[1:-1]


def _compile_json(text: str, body: str, start: int) -> JsonPattern:
    inner = _enclosed(body, start, "}", "JSON")
    if not inner.strip():
        raise PatternError('the JSON pattern { } has no condition; use "" to match every event')
    parser = _Parser(inner, start + 1, _check_selector, "JSON selector such as $.level")
    condition = parser.parse()
    _check_regex_count(parser.regex_count)
    return JsonPattern(text, condition, set(parser.refs))


def _check_selector(token: str, at: int) -> None:
    if token.startswith("$") and ("*" in token or "['" in token or '["' in token):
        raise UnsupportedPattern(
            f"selector {token!r} at position {at}: wildcards and quoted keys are not supported"
        )
    try:
        parse_selector(token)
    except PatternError as exc:
        raise PatternError(f"{exc} (position {at})") from None


def _check_field_name(token: str, at: int) -> None:
    if not _FIELD_NAME.fullmatch(token):
        raise PatternError(f"{token!r} at position {at} is not a field name")


def _check_regex_count(count: int) -> None:
    if count > MAX_REGEX_PER_STRUCTURED_PATTERN:
        raise PatternError(
            f"{count} regular expressions; AWS allows at most {MAX_REGEX_PER_STRUCTURED_PATTERN} "
            "in a JSON or space-delimited pattern"
        )


def _split_top_level(inner: str) -> list[tuple[int, str]]:
    """(offset, text) of each comma-separated part outside quotes and %regex%."""
    parts: list[tuple[int, str]] = []
    begin, closing, escaped = 0, "", False
    for index, ch in enumerate(inner):
        if closing:
            if escaped:
                escaped = False
            elif ch == "\\" and closing == '"':
                escaped = True
            elif ch == closing:
                closing = ""
        elif ch in '"%':
            closing = ch
        elif ch == ",":
            parts.append((begin, inner[begin:index]))
            begin = index + 1
    parts.append((begin, inner[begin:]))
    return parts


def _compile_delimited(text: str, body: str, start: int) -> DelimitedPattern:
    inner = _enclosed(body, start, "]", "space-delimited")
    if not inner.strip():
        raise PatternError("the space-delimited pattern [ ] names no fields")
    slots: list[_Slot] = []
    regex_count = 0
    referenced: list[tuple[int, str]] = []
    for number, (offset, part) in enumerate(_split_top_level(inner), start=1):
        field_text = part.strip()
        if not field_text:
            raise PatternError(f"field {number} of the space-delimited pattern is empty")
        if field_text == "...":
            if any(s.ellipsis for s in slots):
                raise UnsupportedPattern("more than one '...' in a space-delimited pattern")
            slots.append(_Slot(None, ellipsis=True))
            continue
        if _FIELD_NAME.fullmatch(field_text):
            slots.append(_Slot(field_text))
            continue
        parser = _Parser(part, start + 1 + offset, _check_field_name, "field name")
        condition = parser.parse()
        regex_count += parser.regex_count
        own = parser.refs[0]
        referenced.extend((number, name) for name in parser.refs if name != own)
        slots.append(_Slot(own, condition=condition))
    _check_regex_count(regex_count)
    declared = {s.name for s in slots if s.name}
    for number, name in referenced:
        if name not in declared:
            raise UnsupportedPattern(
                f"field {number} tests {name!r}, which names no field of the pattern; "
                "conditions on other fields are not supported"
            )
    return DelimitedPattern(text, slots)


def _compile_terms(text: str) -> FilterPattern:
    required: list[str] = []
    optional: list[str] = []
    excluded: list[str] = []
    index, size = 0, len(text)
    while index < size:
        ch = text[index]
        if ch.isspace():
            index += 1
            continue
        at = index
        target = required
        if ch in "?-":
            target = optional if ch == "?" else excluded
            index += 1
            if index >= size or text[index].isspace():
                raise PatternError(f"{ch!r} at position {at + 1} must be followed by a term")
        if text[index] == '"':
            end = index + 1
            while end < size and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= size:
                raise PatternError(f"the quote at position {index + 1} is never closed")
            target.append(_unquote(text[index : end + 1]))
            index = end + 1
        elif text[index] == "%":
            raise UnsupportedPattern(
                f"the regular expression at position {index + 1} is mixed with terms; "
                "only a pattern that is one %regex% is supported"
            )
        else:
            word = _TERM_WORD.match(text, index)
            end = word.end() if word else index
            if end < size and not text[end].isspace():
                raise PatternError(
                    f"{text[end]!r} at position {end + 1}: terms with characters other than letters, "
                    'digits and _ must be in double quotes (e.g. "disk full")'
                )
            assert word is not None
            target.append(word.group())
            index = end
        if index < size and not text[index].isspace():
            raise PatternError(f"{text[index]!r} at position {index + 1}: separate terms with a space")
    if optional and required:
        raise UnsupportedPattern(
            "mixing ?-terms with plain terms is not documented; use only ?-terms (and -exclusions)"
        )
    return TermPattern(text, required, optional, excluded)
