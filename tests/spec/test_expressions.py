"""`${...}` templates: parsing references, substituting values, escapes, comparisons, truthiness."""

from __future__ import annotations

from typing import Any

import pytest

from pacs_reconcile.diff import UNKNOWN
from pacs_reconcile.spec.expressions import (
    ExpressionError,
    Reference,
    kept_as_written,
    parse_reference,
    references_in,
    render,
    truthy,
)

VALUES: dict[str, Any] = {
    "var.days": 30,
    "var.name": "backend",
    "var.enabled": True,
    "var.off": False,
    "var.team": ["a", "b"],
    "var.limits": {"cpu": 80},
    "var.empty": "",
    "var.three": "3",
    "sns_topics.alerts.arn": UNKNOWN,
}


def resolve(ref: Reference) -> Any:
    """Knows VALUES; anything else stays in place as text (KeyError), as at load time."""
    return VALUES[ref.text]


# Parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("var.days", ("var", "days")),
        ("  sns_topics.alerts.arn ", ("sns_topics", "alerts", "arn")),
        ('log_groups.app["a"].arn', ("log_groups", 'app["a"]', "arn")),
        ("log_groups.app.metric_filters.e.name", ("log_groups", "app", "metric_filters", "e", "name")),
        ("lookups.vpc-main.id", ("lookups", "vpc-main", "id")),
    ],
)
def test_parse_reference(text: str, parts: tuple[str, ...]) -> None:
    ref = parse_reference(text)
    assert ref.parts == parts
    assert ref.root == parts[0]
    assert ref.text == text.strip()


@pytest.mark.parametrize("text", ["", "var", "var.", ".x", "a..b", "1a.b", "a.b c", "a.b[", "a-b.c!"])
def test_invalid_references(text: str) -> None:
    with pytest.raises(ExpressionError, match="invalid reference"):
        parse_reference(text)


def test_references_in_nested_values_skip_escapes() -> None:
    value = {
        "a": "${sns_topics.alerts.arn}",
        "b": ["x-${lookups.vpc.id}-y", 3, None],
        "c": {"d": "$${not.a.ref} and ${log_groups.app.name}"},
        "e": "no template at all",
    }
    found = [r.text for r in references_in(value)]
    assert found == ["sns_topics.alerts.arn", "lookups.vpc.id", "log_groups.app.name"]


@pytest.mark.parametrize("value", ["/pacs/${var.env", "${var.a}${", "x ${a{b}} y"])
def test_an_unclosed_template_is_an_error_not_literal_text(value: str) -> None:
    with pytest.raises(ExpressionError, match=r"\$\{ has no matching \}"):
        references_in(value)
    with pytest.raises(ExpressionError, match=r"\$\{ has no matching \}"):
        render(value, resolve)


def test_a_lone_dollar_or_brace_is_plain_text() -> None:
    assert render("cost: $5 {approx}", resolve) == "cost: $5 {approx}"
    assert references_in("cost: $5 {approx} }") == []


# Whole values and embedded values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("${var.days}", 30),
        ("${ var.days }", 30),
        ("${var.enabled}", True),
        ("${var.team}", ["a", "b"]),
        ("${var.limits}", {"cpu": 80}),
    ],
)
def test_a_whole_value_template_keeps_the_type(template: str, expected: Any) -> None:
    result = render(template, resolve)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/aws/ecs/${var.name}", "/aws/ecs/backend"),
        ("${var.name}-${var.days}", "backend-30"),
        ("on=${var.enabled} off=${var.off}", "on=true off=false"),
        ("[${var.empty}]", "[]"),
    ],
)
def test_an_embedded_template_becomes_text(template: str, expected: str) -> None:
    assert render(template, resolve) == expected


@pytest.mark.parametrize("template", ["team: ${var.team}", "${var.limits}!"])
def test_a_list_or_map_cannot_be_embedded(template: str) -> None:
    with pytest.raises(ExpressionError, match="cannot be embedded in text"):
        render(template, resolve)


def test_unknown_references_stay_as_text() -> None:
    assert render("${lookups.vpc.id}", resolve) == "${lookups.vpc.id}"
    assert render("vpc ${lookups.vpc.id} for ${var.name}", resolve) == "vpc ${lookups.vpc.id} for backend"


def test_known_after_apply_propagates() -> None:
    assert render("${sns_topics.alerts.arn}", resolve) is UNKNOWN
    # Text that depends on an unknown value is unknown as a whole.
    assert render("arn=${sns_topics.alerts.arn}", resolve) is UNKNOWN
    assert render({"a": ["${sns_topics.alerts.arn}", "x"]}, resolve) == {"a": [UNKNOWN, "x"]}


def test_render_walks_nested_values_and_leaves_other_types_alone() -> None:
    value = {"a": ["${var.days}", 1.5, None, True], "b": {"c": "${var.name}"}}
    assert render(value, resolve) == {"a": [30, 1.5, None, True], "b": {"c": "backend"}}


# Escapes -----------------------------------------------------------------------------------------


def test_escape_is_kept_while_loading_and_unescaped_when_applying() -> None:
    template = "literal $${var.days} and ${var.days}"
    loaded = render(template, resolve)
    assert loaded == "literal $${var.days} and 30"
    assert render(loaded, resolve, unescape=True) == "literal ${var.days} and 30"


def test_an_escape_alone_is_not_a_whole_value_reference() -> None:
    assert render("$${var.days}", resolve) == "$${var.days}"
    assert render("$${var.days}", resolve, unescape=True) == "${var.days}"
    assert references_in("$${var.days}") == []


# Comparisons -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('${var.name == "backend"}', True),
        ("${var.name == 'backend'}", True),
        ('${var.name != "backend"}', False),
        ('${var.name=="frontend"}', False),
        ("${var.days == 30}", True),
        ("${var.days != 30}", False),
        ("${var.days == 30.0}", True),  # numbers compare as numbers
        ("${var.days == 30.5}", False),
        ("${var.enabled == 1}", False),  # a boolean is not a number
        ("${var.enabled == true}", True),
        ("${var.off == true}", False),
        ('${var.days == "30"}', True),  # different types compare as text
        ("${var.three == 3}", True),
        ('${var.empty == ""}', True),
        ("${var.name == var.name}", True),
    ],
)
def test_comparisons(template: str, expected: bool) -> None:
    assert render(template, resolve) is expected


def test_a_comparison_embedded_in_text_is_text() -> None:
    assert render('is prod: ${var.name == "prod"}', resolve) == "is prod: false"


def test_comparisons_take_only_variables_and_literals() -> None:
    with pytest.raises(ExpressionError, match=r"comparisons may only use variables, each\.\* and literals"):
        render('${sns_topics.other.arn == "x"}', resolve)


def test_a_number_too_long_to_read_in_a_comparison_is_refused() -> None:
    assert render("${var.days == " + "0" * 98 + "30}", resolve) is True  # 100 characters are read
    for number in ("9" * 5000, "1." + "9" * 5000):  # Python reads no integer of over 4,300 digits
        with pytest.raises(ExpressionError, match=r"a number written with 500[02] characters"):
            render("${var.days == " + number + "}", resolve)


# Truthiness ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (0, False),
        (1, True),
        ("", False),
        ("  ", False),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("yes", True),
        ("https://hooks.example.com/x", True),
        ([], False),
        (["a"], True),
        ({}, False),
        (None, False),
    ],
)
def test_truthy(value: Any, expected: bool) -> None:
    assert truthy(value) is expected


# Left for plan -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "${sns_topics.alerts.arn}",
        "arn-of ${ sns_topics.alerts.arn } and ${lookups.vpc.id}",
        "$${var.days} is written as is",
        '${log_groups.app["a"].arn}',
    ],
)
def test_text_holding_only_references_left_for_plan_is_kept_as_written(text: str) -> None:
    def variables_only(ref: Reference) -> Any:
        if ref.root != "var":
            raise KeyError(ref.text)  # left in place, as the loader leaves what plan resolves
        return VALUES[ref.text]

    assert kept_as_written(text, frozenset({"var"}))
    assert render(text, variables_only) == text  # what the loader no longer asks render for


@pytest.mark.parametrize(
    "text",
    [
        "${var.days}",
        "x-${var.name}-${sns_topics.alerts.arn}",
        "${sns_topics.alerts.arn == 1}",  # a comparison takes variables and literals only: an error
        "${var.days == 30}",
        "${sns_topics.alerts.arn",  # unclosed: an error
        "${not a reference}",
        "\x00ESCAPED\x00 ${sns_topics.alerts.arn}",  # render would make the marker an escape
    ],
)
def test_text_render_would_change_or_refuse_is_not_kept_as_written(text: str) -> None:
    assert not kept_as_written(text, frozenset({"var"}))
