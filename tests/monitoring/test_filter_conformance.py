"""Conformance of the offline filter pattern engine.

Each case is (pattern, log event message, must match, metric value field, value it must publish).
Cases marked DOC replay the examples of AWS's "Filter pattern syntax for metric filters, subscription
filters, filter log events, and Live Tail" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html;
source text doc_source/FilterAndPatternSyntax.md of awsdocs/amazon-cloudwatch-logs-user-guide) and of
its regex page (https://docs.amazonaws.cn/AmazonCloudWatch/latest/logs/regex-expressions.html) with
the documented outcome; the others are edge cases (quoting, escaping, unicode, numbers that are not
numbers, missing fields, JSON and text lines) whose outcome follows from the documented rules, or
from the engine's stated choices where the docs are silent (filter_pattern.py lists them).
"""

from __future__ import annotations

import json

import pytest

from pacs_reconcile.monitoring.filter_pattern import (
    LogEvent,
    PatternError,
    UnsupportedPattern,
    compile_pattern,
)
from pacs_reconcile.monitoring.metric_filter import MetricFilterRule

Case = tuple[str, str, bool, str | None, float | None]

# DOC: the three lines of "OR pattern matching".
BOTH, ERR, WARN = "ERROR WARN message", "ERROR message", "WARN message"
# DOC: the JSON event of "JSON metric filter examples".
TRAIL = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
    }
)
# DOC: the JSON event of "JSON compound conditions".
USERS = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)
# DOC: the Apache lines of "space-delimited log events".
APACHE_200 = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534'
APACHE_500 = '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324'
APACHE_404 = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
FIELDS7 = "[ip, user, username, timestamp, request, status_code, bytes]"
ROW = "[ip, user, username, timestamp, request, status_code = 200, bytes]"

DOC_CASES: list[Case] = [
    # Matching terms: "" matches everything; terms are case-sensitive substrings.
    ("", "anything at all", True, None, None),
    ("ERROR", "[ERROR] A fatal exception has occurred", True, None, None),
    ("ERROR", "Exiting with ERRORCODE: -1", True, None, None),
    ("ERROR -Exiting", "Exiting with ERRORCODE: -1", False, None, None),
    ("ERROR -Exiting", "[ERROR] A fatal exception has occurred", True, None, None),
    ("ERROR Exception", "[ERROR] Caught IllegalArgumentException", True, None, None),
    ("ERROR Exception", "[ERROR] Unhandled Exception", True, None, None),
    ("Failed to process the request", "[WARN] Failed to process the request", True, None, None),
    (
        "Failed to process the request",
        "[ERROR] Unable to continue: Failed to process the request",
        True,
        None,
        None,
    ),
    # OR pattern matching with text.
    ("ERROR", BOTH, True, None, None),
    ("ERROR", ERR, True, None, None),
    ("ERROR", WARN, False, None, None),
    ("?ERROR ?WARN", BOTH, True, None, None),
    ("?ERROR ?WARN", ERR, True, None, None),
    ("?ERROR ?WARN", WARN, True, None, None),
    ("ERROR WARN", BOTH, True, None, None),
    ("ERROR WARN", ERR, False, None, None),
    ("ERROR WARN", WARN, False, None, None),
    ("ERROR -WARN", BOTH, False, None, None),
    ("ERROR -WARN", ERR, True, None, None),
    ("ERROR -WARN", WARN, False, None, None),
    # OR pattern matching in space-delimited patterns: w1 is the first word.
    ("[w1=ERROR, w2]", BOTH, False, None, None),
    ("[w1=ERROR, w2]", ERR, True, None, None),
    ("[w1=ERROR, w2]", WARN, False, None, None),
    ("[w1=ERROR || w1=WARN, w2]", BOTH, False, None, None),
    ("[w1=ERROR || w1=WARN, w2]", ERR, True, None, None),
    ("[w1=ERROR || w1=WARN, w2]", WARN, True, None, None),
    # OR pattern matching in JSON patterns.
    ("{$.foo = bar}", '{"foo": "bar"}', True, None, None),
    ("{$.foo = bar}", '{"foo": "baz"}', False, None, None),
    ("{$.foo = baz }", '{"foo": "bar"}', False, None, None),
    ("{$.foo = baz }", '{"foo": "baz"}', True, None, None),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "bar"}', True, None, None),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "baz"}', True, None, None),
    # JSON metric filter examples: "The following filters would match".
    ('{ $.eventType = "UpdateTrail" }', TRAIL, True, None, None),
    ("{ $.sourceIPAddress != 123.123.* }", TRAIL, True, None, None),
    ('{ $.arrayKey[0] = "value" }', TRAIL, True, None, None),
    ("{ $.objectList[1].id = 2 }", TRAIL, True, None, None),
    ("{ $.SomeObject IS NULL }", TRAIL, True, None, None),
    ("{ $.SomeOtherObject NOT EXISTS }", TRAIL, True, None, None),
    ("{ $.ThisFlag IS TRUE }", TRAIL, True, None, None),
    # "If arrayKey is not an array this will be false" and friends.
    ('{ $.eventType[0] = "UpdateTrail" }', TRAIL, False, None, None),
    ("{ $.objectList[1].missing = 2 }", TRAIL, False, None, None),
    ("{ $.objectList[0].id = 2 }", TRAIL, False, None, None),
    ("{ $.ThisFlag IS FALSE }", TRAIL, False, None, None),
    ("{ $.eventType IS NULL }", TRAIL, False, None, None),
    ("{ $.SomeObject NOT EXISTS }", TRAIL, False, None, None),
    # JSON compound conditions: precedence () > && > ||.
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', USERS, True, None, None),
    (
        '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }',
        USERS,
        False,
        None,
        None,
    ),
    (
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch '
        "&& $.actions[2] = nomatch }",
        USERS,
        True,
        None,
        None,
    ),
    (
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) '
        "&& $.actions[2] = nomatch }",
        USERS,
        False,
        None,
        None,
    ),
    ("{ $.coordinates[1][2] = 6 }", USERS, True, None, None),
    # JSON special considerations: a selector on an array matches neither = nor !=.
    ("{$.users = 1}", '{"users": [1, 2, 3]}', False, None, None),
    ("{$.users != 1}", '{"users": [1, 2, 3]}', False, None, None),
    # Numeric comparisons: integers, signs, decimals and scientific notation.
    ("{ $.latency >= 500 }", '{"latency": 500}', True, None, None),
    ("{ $.latency >= 500 }", '{"latency": 499.9}', False, None, None),
    ("{ $.numbers[0] < 10e3 }", '{"numbers": [9999]}', True, None, None),
    ("{ $.numbers[0] < 10e3 }", '{"numbers": [10000]}', False, None, None),
    ("{ $.numbers[0] < 10e-3 }", '{"numbers": [0.001]}', True, None, None),
    ("{ $.numbers[0] < 10e-3 }", '{"numbers": [0.01]}', False, None, None),
    (
        "{ $.processes[4].averageRuntime <= 55.5 }",
        '{"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]}',
        True,
        None,
        None,
    ),
    (
        "{ $.processes[4].averageRuntime <= 55.5 }",
        '{"processes": [{"averageRuntime": 1}]}',
        False,
        None,
        None,
    ),
    ("{ $.errorCode = 400 }", '{"errorCode": 400}', True, None, None),
    ("{ $.errorCode = 400 }", '{"errorCode": 401}', False, None, None),
    ("{ $.errorCode != 500 }", '{"errorCode": 400}', True, None, None),
    ("{ $.errorCode != 500 }", '{"errorCode": 500}', False, None, None),
    ("{ $.latency > +1000 }", '{"latency": 1001}', True, None, None),
    ("{ $.latency > +1000 }", '{"latency": -1001}', False, None, None),
    # Wildcards: *Event matches PutEvent, Event* matches EventId, Ev*ent only the string Ev*ent.
    ("{ $.name = *Event }", '{"name": "PutEvent"}', True, None, None),
    ("{ $.name = *Event }", '{"name": "GetEvent"}', True, None, None),
    ("{ $.name = Event* }", '{"name": "EventId"}', True, None, None),
    ("{ $.name = Event* }", '{"name": "EventName"}', True, None, None),
    ("{ $.name = Ev*ent }", '{"name": "Event"}', False, None, None),
    ('{ $.name = "Ev*ent" }', '{"name": "Ev*ent"}', True, None, None),
    # Space-delimited: every field named, ..., and conditions on fields.
    (FIELDS7, APACHE_200, True, None, None),
    ("[..., status_code, bytes]", APACHE_200, True, None, None),
    ("[ip, user, ..., status_code, bytes]", APACHE_500, True, None, None),
    ("[ip, user, ...]", APACHE_404, True, None, None),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", APACHE_200, True, None, None),
    ("[ip, user, username, timestamp, request, status_code, bytes > 5000]", APACHE_200, False, None, None),
    (ROW, APACHE_200, True, None, None),
    (ROW, APACHE_500, False, None, None),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE_404, True, None, None),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE_500, False, None, None),
    (
        "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
        APACHE_404,
        True,
        None,
        None,
    ),
    (
        "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
        APACHE_200,
        False,
        None,
        None,
    ),
    (
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
        APACHE_404,
        True,
        None,
        None,
    ),
    (
        "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
        APACHE_500,
        False,
        None,
        None,
    ),
    ("[..., request=*.html*, status_code=4*, bytes]", APACHE_404, True, None, None),
    # Metric values: the documented $.latency example publishes 50; space-delimited fields by name.
    ("{ $.latency = * }", '{"latency": 50, "requestType": "GET"}', True, "$.latency", 50),
    (FIELDS7, APACHE_500, True, "$bytes", 5324),
    ("[..., status_code, bytes]", APACHE_404, True, "$status_code", 404),
    # Regular expressions.
    ("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", True, None, None),
    ("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST", True, None, None),
    (r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "client 10.0.12.34 connected", True, None, None),
    (r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", "client 10.0.12 connected", False, None, None),
    ("%[Ee]rror|[Ff]ail%", "request failed: upstream error", True, None, None),
    ("%[Ee]rror|[Ff]ail%", "Fail over complete", True, None, None),
    ("%[Ee]rror|[Ff]ail%", "all good", False, None, None),
]

EDGE_CASES: list[Case] = [
    # Case, quoting, escaping.
    ("error", "ERROR in module", False, None, None),
    ('"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL SERVER ERROR", True, None, None),
    ('"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL ERROR on SERVER", False, None, None),
    ("INTERNAL SERVER ERROR", "[ERROR 500] INTERNAL ERROR on SERVER", True, None, None),
    ('"[ERROR]"', "[ERROR] disk full", True, None, None),
    ('"[ERROR]"', "ERROR disk full", False, None, None),
    (r'"say \"hi\""', 'they say "hi" twice', True, None, None),
    (r'"C:\\temp"', r"wrote C:\temp\x.log", True, None, None),
    ("ERROR_42", "code ERROR_42 raised", True, None, None),
    ("-DEBUG", "INFO started", True, None, None),
    ("-DEBUG", "DEBUG cache warm", False, None, None),
    ('?ERROR ?WARN -"health check"', "WARN health check slow", False, None, None),
    ('?ERROR ?WARN -"health check"', "WARN disk slow", True, None, None),
    ("   ", "spaces only match everything", True, None, None),
    ("ERROR", "", False, None, None),
    ('""', "an empty phrase is in every message", True, None, None),
    # Unicode.
    ('"오류"', "DICOM 저장 오류 발생", True, None, None),
    ('"오류"', "DICOM 저장 완료", False, None, None),
    ('{ $.msg = "café" }', '{"msg": "caf\\u00e9"}', True, None, None),
    ('{ $.msg = "저장 실패" }', '{"msg": "저장 실패"}', True, None, None),
    ('[ts, level = "경고", ...]', "2024-01-15 경고 디스크", True, None, None),
    # Numbers that are not numbers, and numbers written differently.
    ("{ $.latency > 100 }", '{"latency": "slow"}', False, None, None),
    ("{ $.latency > 100 }", '{"latency": "150"}', True, None, None),
    ("{ $.latency > 100 }", '{"latency": true}', False, None, None),
    ("{ $.latency > 100 }", '{"latency": null}', False, None, None),
    ("[a, b > 5]", "x slow", False, None, None),
    ("[a, b > 5]", "x 6", True, None, None),
    ("[a, b > 5]", "x 6.5e1", True, None, None),
    ("[a, b > 5]", "x -7", False, None, None),
    ("[a, b = 200]", "x 200.0", True, None, None),
    ("[a, b = 200]", "x 2000", False, None, None),
    ("{ $.code = 404 }", '{"code": "404"}', True, None, None),
    ('{ $.code = "404" }', '{"code": 404}', True, None, None),
    # Missing fields: no comparison holds, != included.
    ("{ $.missing = 1 }", '{"present": 1}', False, None, None),
    ("{ $.missing != 1 }", '{"present": 1}', False, None, None),
    ("{ $.a.b = 1 }", '{"a": "text"}', False, None, None),
    ("{ $.user = * }", '{"user": {"id": 1}}', False, None, None),
    ("{ $.user = * }", '{"user": ""}', True, None, None),
    ("{ $.user = * }", '{"user": null}', False, None, None),
    ("{ $.arr[5] = x }", '{"arr": ["x"]}', False, None, None),
    # JSON patterns against text lines, and text patterns against JSON lines.
    ('{ $.level = "ERROR" }', "level=ERROR something broke", False, None, None),
    ('{ $.level = "ERROR" }', '   {"level": "ERROR"}   ', True, None, None),
    ('{ $.level = "ERROR" }', '[{"level": "ERROR"}]', False, None, None),
    ('{ $.level = "ERROR" }', '{"level": "ERROR"', False, None, None),
    ("ERROR", '{"level": "ERROR"}', True, None, None),
    ('"\\"level\\": \\"ERROR\\""', '{"level": "ERROR"}', True, None, None),
    # Space-delimited fields: quotes and brackets group, counts must fit.
    ("[a, b, c]", 'x "two words" [three more words]', True, None, None),
    ('[a, b = "two words", c]', 'x "two words" y', True, None, None),
    ("[a, b, c]", "x y", False, None, None),
    ("[a, b, c]", "w x y z", False, None, None),
    ("[..., c]", "only", True, None, None),
    ("[a, ..., c]", "only", False, None, None),
    ("[a, ..., c]", "first middle stuff last", True, "$c", None),
    ("[a, b]", 'x "unclosed quote runs to the end', True, None, None),
    ("[a,   b]", "x    y", True, None, None),
    ("[a, level = ERR*]", "x ERROR", True, None, None),
    ("[a, level = *OR]", "x ERROR", True, None, None),
    ("[a, level = E*R]", "x ER", False, None, None),
    ("[a, level != ERROR]", "x WARN", True, None, None),
    ("[a, level != ERROR]", "x ERROR", False, None, None),
    ("[a, level = %^ERR[A-Z]+$%]", "x ERROR", True, None, None),
    ("[a, level = %^ERR[A-Z]+$%]", "x xERROR", False, None, None),
    ("{ $.msg = %time[o]ut% }", '{"msg": "upstream timeout"}', True, None, None),
    ("{ $.msg != %time[o]ut% }", '{"msg": "upstream timeout"}', False, None, None),
    # Metric values that are not numbers publish nothing.
    ("[ts, id, level, msg, duration]", 't r INFO "Request completed" duration=250', True, "$duration", None),
    ("{ $.latency = * }", '{"latency": "fast"}', True, "$.latency", None),
    ("{ $.latency = * }", '{"latency": "12.5"}', True, "$.latency", 12.5),
    ("[ts, id, level, msg, duration]", 't r INFO "Request completed" 250', True, "1", 1),
]

CASES = DOC_CASES + EDGE_CASES


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 120
    assert len({(c[0], c[1], c[3]) for c in CASES}) == len(CASES)  # no case twice


@pytest.mark.parametrize(("pattern", "line", "matched", "value_field", "value"), CASES)
def test_conformance(
    pattern: str, line: str, matched: bool, value_field: str | None, value: float | None
) -> None:
    compiled = compile_pattern(pattern)
    verdict = compiled.evaluate(LogEvent(line))
    assert verdict.matched is matched, verdict.reason
    assert bool(verdict.reason) is not matched  # a miss always says why
    if value_field is None:
        return
    rule = MetricFilterRule(pattern=compiled, value=value_field)
    published = rule.publish(LogEvent(line))
    assert published.value == value, published.problem
    if value is None:
        assert "nothing is published" in published.problem


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]", "names no field"),
        ("?ERROR WARN", "with plain terms is not documented"),
        ("ERROR %timeout%", "mixed with terms"),
        ("[a, ..., b, ...]", "more than one '...'"),
        ("{ $.users[*].id = 1 }", "wildcards and quoted keys"),
        ("{ $.a IS NOT NULL }", "IS NOT"),
        ("{ $.a EXISTS }", "only NOT EXISTS is documented"),
    ],
)
def test_documented_forms_it_cannot_evaluate_are_refused(pattern: str, reason: str) -> None:
    with pytest.raises(UnsupportedPattern, match=reason):
        compile_pattern(pattern)


def test_conditions_nested_up_to_the_limit_are_evaluated_and_deeper_ones_refused() -> None:
    # 300 levels (within the 1,024 characters of a pattern) ended validate as a RecursionError.
    for form in ("{{ {open}$.a = 1{close} }}", "[a, {open}b = 1{close}]"):
        deepest = form.format(open="(" * 100, close=")" * 100)
        assert compile_pattern(deepest).evaluate(LogEvent('{"a": 1}' if "$" in form else "x 1")).matched
        for levels in (101, 300):
            deeper = form.format(open="(" * levels, close=")" * levels)
            with pytest.raises(UnsupportedPattern, match="nests more than 100 deep"):
                compile_pattern(deeper)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("ERROR:", "must be in double quotes"),
        ("{ $.latency > slow }", "compares numbers"),
        ("{ $.a = 1 && }", "ends too early"),
        ("[a=%x%, b=%y%, c=%z%]", "at most 2"),
        ("{ $.a = %x% || $.b = %y% || $.c = %z% }", "at most 2"),
        ("{ $.a.b. = 1 }", "malformed"),
        ("- ERROR", "must be followed by a term"),
        ("[a, b c]", "needs a comparison"),
    ],
)
def test_syntax_errors(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        compile_pattern(pattern)
