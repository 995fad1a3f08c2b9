"""CloudWatch Logs kinds against moto: create, read, drift, update, delete, discovery, validation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.resources import logs as logs_kinds
from pacs_reconcile.resources.base import Desired, Live, ReadScope, Reconciler, SpecModel
from pacs_reconcile.resources.logs import (
    LogGroups,
    LogGroupSpec,
    MetricFilters,
    MetricFilterSpec,
    QueryDefinitions,
    QueryDefinitionSpec,
)
from pacs_reconcile.resources.registry import KINDS

GROUP = "/aws/ecs/pacs-backend"
KMS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KMS_KEY = "arn:aws:kms:ap-northeast-2:123456789012:key/9999abcd-12ab-34cd-56ef-1234567890ab"


# Helpers ---------------------------------------------------------------------------------------


def desired_of(
    kind: Reconciler, spec: dict[str, Any], *, parent: Live | None = None, tags: dict[str, str] | None = None
) -> Desired:
    """What the engine hands to create/update: the validated, dumped, canonical spec."""
    model: SpecModel = kind.meta.model.model_validate(spec)
    state = kind.canonical(model.model_dump(mode="json"))
    key = kind.key(state, parent.key if parent else None)
    return Desired(address=f"{kind.meta.kind}.test", key=key, state=state, tags=tags or {}, parent=parent)


def delta_of(kind: Reconciler, desired: Desired, live: Live) -> Delta:
    return diff_states(kind.canonical(desired.state), kind.canonical(live.state))


def owner_tags(aws: AwsContext, **extra: str) -> dict[str, str]:
    return {OWNER_TAG: aws.stack, **extra}


def make_group(aws: AwsContext, name: str = GROUP, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_of(LogGroups(), {"name": name, **spec}, tags=owner_tags(aws, Name="backend-logs"))
    return desired, LogGroups().create(aws, desired)


def read_one(kind: Reconciler, aws: AwsContext, key: Any, parents: dict[Any, Live] | None = None) -> Live:
    found = kind.read(aws, [key], ReadScope(aws.stack, parents or {}))
    assert key in found, f"{key!r} not read back; got {sorted(map(str, found))}"
    return found[key]


def mutating_calls(aws: AwsContext) -> dict[str, int]:
    return aws.stats.mutating()


# Registry ----------------------------------------------------------------------------------------


def test_kinds_are_registered_with_their_metadata() -> None:
    assert isinstance(KINDS["log_groups"], LogGroups)
    assert KINDS["log_groups"].meta.stateful and KINDS["log_groups"].meta.taggable
    assert KINDS["log_groups"].meta.force_new == frozenset({"name", "log_group_class"})
    assert {"name", "arn"} <= set(KINDS["log_groups"].meta.attributes)
    for child in ("metric_filters", "query_definitions"):
        assert KINDS[child].meta.parent == "log_groups"
        assert not KINDS[child].meta.taggable


# log_groups --------------------------------------------------------------------------------------


def test_log_group_create_read_drift_update_delete(aws: AwsContext) -> None:
    kind = LogGroups()
    desired, created = make_group(aws, retention_days=30)
    assert created.attrs["arn"] == f"arn:aws:logs:ap-northeast-2:123456789012:log-group:{GROUP}"

    live = read_one(kind, aws, GROUP)
    assert not delta_of(kind, desired, live)
    assert live.tags == desired.tags
    assert live.attrs == created.attrs
    assert not live.attrs["arn"].endswith(":*")

    aws.client("logs").put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    live = read_one(kind, aws, GROUP)
    delta = delta_of(kind, desired, live)
    assert delta.paths() == ["retention_days"]
    assert (delta.differences[0].old, delta.differences[0].new) == (7, 30)

    kind.update(aws, desired, live, delta)
    assert not delta_of(kind, desired, read_one(kind, aws, GROUP))

    kind.delete(aws, live)
    assert GROUP not in kind.read(aws, [GROUP], ReadScope(aws.stack))


def test_log_group_tag_removed_out_of_band_is_restored(aws: AwsContext) -> None:
    kind = LogGroups()
    desired, created = make_group(aws)
    aws.client("logs").untag_resource(resourceArn=created.attrs["arn"], tagKeys=["Name"])

    live = read_one(kind, aws, GROUP)
    changes = compare_tags(live.tags, desired.tags)
    assert changes.to_set == {"Name": "backend-logs"} and not changes.to_unset

    kind.update_tags(aws, live, changes)
    assert read_one(kind, aws, GROUP).tags == desired.tags


def test_log_group_tags_are_set_and_unset_on_the_arn_without_wildcard(aws: AwsContext) -> None:
    kind = LogGroups()
    _, created = make_group(aws)
    kind.update_tags(aws, created, compare_tags(created.tags, owner_tags(aws, Team="pacs")))
    tags = aws.client("logs").list_tags_for_resource(resourceArn=created.attrs["arn"])["tags"]
    assert tags == owner_tags(aws, Team="pacs")


def test_log_group_created_with_tags_in_one_call(aws: AwsContext) -> None:
    make_group(aws)
    calls = mutating_calls(aws)
    assert calls == {"logs.CreateLogGroup": 1}


def test_retention_never_round_trip(aws: AwsContext) -> None:
    kind = LogGroups()
    desired, _ = make_group(aws, retention_days="never")
    assert "logs.PutRetentionPolicy" not in mutating_calls(aws)
    live = read_one(kind, aws, GROUP)
    assert live.state["retention_days"] == "never"
    assert not delta_of(kind, desired, live)

    aws.client("logs").put_retention_policy(logGroupName=GROUP, retentionInDays=14)
    live = read_one(kind, aws, GROUP)
    delta = delta_of(kind, desired, live)
    assert [(d.path, d.old, d.new) for d in delta.differences] == [("retention_days", 14, "never")]

    kind.update(aws, desired, live, delta)
    group = aws.client("logs").describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
    assert "retentionInDays" not in group
    assert not delta_of(kind, desired, read_one(kind, aws, GROUP))


def test_unmanaged_retention_is_never_diffed(aws: AwsContext) -> None:
    kind = LogGroups()
    desired, _ = make_group(aws)
    aws.client("logs").put_retention_policy(logGroupName=GROUP, retentionInDays=90)
    live = read_one(kind, aws, GROUP)
    assert live.state["retention_days"] == 90
    assert desired.state["retention_days"] is None
    assert not delta_of(kind, desired, live)


def test_kms_key_create_change_and_remove(aws: AwsContext) -> None:
    kind = LogGroups()
    desired, created = make_group(aws, kms_key_id=KMS_KEY)
    assert created.state["kms_key_id"] == KMS_KEY
    live = read_one(kind, aws, GROUP)
    assert not delta_of(kind, desired, live)

    for wanted in (OTHER_KMS_KEY, "none"):
        desired = desired_of(kind, {"name": GROUP, "kms_key_id": wanted}, tags=desired.tags)
        delta = delta_of(kind, desired, live)
        assert delta.paths() == ["kms_key_id"]
        updated = kind.update(aws, desired, live, delta)
        live = read_one(kind, aws, GROUP)
        assert live.state["kms_key_id"] == wanted == updated.state["kms_key_id"]
    assert aws.stats.calls["logs.AssociateKmsKey"] == 1
    assert aws.stats.calls["logs.DisassociateKmsKey"] == 1


def test_owned_but_undeclared_log_groups_are_discovered(aws: AwsContext) -> None:
    client = aws.client("logs")
    client.create_log_group(logGroupName="/pacs/old", tags=owner_tags(aws))
    client.create_log_group(logGroupName="/pacs/other-stack", tags={OWNER_TAG: "someone-else"})
    client.create_log_group(logGroupName="/pacs/untagged")

    found = LogGroups().read(aws, [], ReadScope(aws.stack))

    assert set(found) == {"/pacs/old"}
    assert found["/pacs/old"].tags == owner_tags(aws)


def test_declared_group_outside_the_sweep_reads_its_own_tags(aws: AwsContext) -> None:
    """A declared name that exists without this stack's tag is returned, with its real tags."""
    aws.client("logs").create_log_group(logGroupName="/pacs/foreign", tags={"Team": "dba"})
    live = read_one(LogGroups(), aws, "/pacs/foreign")
    assert live.tags == {"Team": "dba"}
    assert aws.stats.calls["logs.ListTagsForResource"] == 1


def test_missing_log_group_is_absent(aws: AwsContext) -> None:
    assert LogGroups().read(aws, ["/does/not/exist"], ReadScope(aws.stack)) == {}


def test_log_group_reads_are_batched_by_fifty(aws: AwsContext) -> None:
    names = [f"/pacs/group-{i:03d}" for i in range(120)]
    client = aws.client("logs")
    for name in names:
        client.create_log_group(logGroupName=name, tags=owner_tags(aws))
    batches: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        batches.append(list(params.get("logGroupIdentifiers", [])))

    client.meta.events.register("provide-client-params.logs.DescribeLogGroups", record)
    found = LogGroups().read(aws, names[:60], ReadScope(aws.stack))

    assert set(found) == set(names)
    distinct = {tuple(batch) for batch in batches}
    # The 60 declared groups (read during the tag sweep), then the 60 owned undeclared ones.
    assert sorted(len(batch) for batch in distinct) == [10, 10, 50, 50]
    assert {name for batch in distinct for name in batch} == set(names)
    assert "logs.ListTagsForResource" not in aws.stats.calls  # the sweep supplied every tag


def test_read_errors_propagate(aws: AwsContext) -> None:
    """A failed read raises: it must never look like 'absent'."""
    client = aws.client("logs")

    def deny(**_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeLogGroups")

    client.meta.events.register("before-call.logs.DescribeLogGroups", deny)
    with pytest.raises(Exception, match="AccessDenied"):
        LogGroups().read(aws, [GROUP], ReadScope(aws.stack))


def test_delete_of_a_group_already_gone_is_quiet(aws: AwsContext) -> None:
    _, created = make_group(aws)
    aws.client("logs").delete_log_group(logGroupName=GROUP)
    LogGroups().delete(aws, created)
    assert LogGroups().read(aws, [GROUP], ReadScope(aws.stack)) == {}


# metric_filters ----------------------------------------------------------------------------------

ERRORS_FILTER = {
    "name": "pacs-backend-errors",
    "pattern": '[timestamp, request_id, level="ERROR", ...]',
    "metric": {"name": "PACSBackendErrors", "namespace": "PACS/Application", "value": "1"},
}


def parent_and_scope(aws: AwsContext) -> tuple[Live, dict[Any, Live]]:
    _, group = make_group(aws)
    return group, {group.key: group}


def test_metric_filter_create_read_drift_update_delete(aws: AwsContext) -> None:
    kind = MetricFilters()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERRORS_FILTER, parent=parent)
    created = kind.create(aws, desired)
    assert created.key == (GROUP, "pacs-backend-errors")
    assert created.attrs == {
        "name": "pacs-backend-errors",
        "metric_name": "PACSBackendErrors",
        "metric_namespace": "PACS/Application",
    }

    live = read_one(kind, aws, desired.key, parents)
    assert not delta_of(kind, desired, live)
    assert live.tags is None

    aws.client("logs").put_metric_filter(
        logGroupName=GROUP,
        filterName="pacs-backend-errors",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "PACSBackendErrors", "metricNamespace": "PACS/Application", "metricValue": "1"}
        ],
    )
    live = read_one(kind, aws, desired.key, parents)
    delta = delta_of(kind, desired, live)
    assert delta.paths() == ["pattern"]

    kind.update(aws, desired, live, delta)
    live = read_one(kind, aws, desired.key, parents)
    assert not delta_of(kind, desired, live)
    raw = aws.client("logs").describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    assert len(raw) == 1  # replaced, not appended

    kind.delete(aws, live)
    assert kind.read(aws, [desired.key], ReadScope(aws.stack, parents)) == {}


def test_metric_filter_full_transformation_round_trip(aws: AwsContext) -> None:
    kind = MetricFilters()
    parent, parents = parent_and_scope(aws)
    spec: dict[str, Any] = {
        "name": "latency",
        "pattern": "{ $.latency > 0 && $.service = * }\n",
        "metric": {
            "name": "Latency",
            "namespace": "PACS/Application",
            "value": "$.latency",
            "unit": "Milliseconds",
            "dimensions": {"Service": "$.service"},
        },
    }
    desired = desired_of(kind, spec, parent=parent)
    kind.create(aws, desired)
    live = read_one(kind, aws, desired.key, parents)
    assert live.state["metric"]["dimensions"] == {"Service": "$.service"}
    assert live.state["metric"]["unit"] == "Milliseconds"
    assert not delta_of(kind, desired, live)

    changed = {**spec, "metric": {**spec["metric"], "dimensions": {}}}
    desired = desired_of(kind, changed, parent=parent)
    delta = delta_of(kind, desired, live)
    assert delta.paths() == ["metric.dimensions"]
    kind.update(aws, desired, live, delta)
    assert not delta_of(kind, desired, read_one(kind, aws, desired.key, parents))


def test_metric_filter_update_keeps_unmanaged_fields(aws: AwsContext) -> None:
    """PutMetricFilter replaces everything: a field the spec leaves unset keeps its live value."""
    kind = MetricFilters()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERRORS_FILTER, parent=parent)
    kind.create(aws, desired)
    aws.client("logs").put_metric_filter(
        logGroupName=GROUP,
        filterName="pacs-backend-errors",
        filterPattern="ERROR",
        metricTransformations=[
            {
                "metricName": "PACSBackendErrors",
                "metricNamespace": "PACS/Application",
                "metricValue": "1",
                "defaultValue": 0.0,
            }
        ],
    )
    live = read_one(kind, aws, desired.key, parents)
    kind.update(aws, desired, live, delta_of(kind, desired, live))
    live = read_one(kind, aws, desired.key, parents)
    assert live.state["pattern"] == ERRORS_FILTER["pattern"]
    assert live.state["metric"]["default_value"] == 0.0


def test_metric_filters_lists_undeclared_children_of_owned_parents(aws: AwsContext) -> None:
    kind = MetricFilters()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERRORS_FILTER, parent=parent)
    kind.create(aws, desired)
    aws.client("logs").put_metric_filter(
        logGroupName=GROUP,
        filterName="hand-made",
        filterPattern="",
        metricTransformations=[{"metricName": "X", "metricNamespace": "Y", "metricValue": "1"}],
    )
    found = kind.read(aws, [desired.key], ReadScope(aws.stack, parents))
    assert set(found) == {desired.key, (GROUP, "hand-made")}


def test_metric_filters_of_a_missing_parent_are_absent(aws: AwsContext) -> None:
    assert MetricFilters().read(aws, [("/nope", "x")], ReadScope(aws.stack)) == {}


# query_definitions -------------------------------------------------------------------------------

ERROR_QUERY = {
    "name": "PACS Error Analysis",
    "query": "fields @timestamp, @message\n| filter @message like /ERROR/\n| sort @timestamp desc\n",
    "extra_log_groups": ["/aws/ecs/keycloak"],
}


def test_query_definition_create_read_drift_update_delete(aws: AwsContext) -> None:
    kind = QueryDefinitions()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERROR_QUERY, parent=parent)
    created = kind.create(aws, desired)
    assert created.key == (GROUP, "PACS Error Analysis")
    assert created.attrs["id"] == created.handle

    live = read_one(kind, aws, desired.key, parents)
    assert not delta_of(kind, desired, live)
    assert live.handle == created.handle

    client = aws.client("logs")
    client.put_query_definition(
        queryDefinitionId=live.handle,
        name="PACS Error Analysis",
        queryString="fields @message | limit 5",
        logGroupNames=[GROUP, "/aws/ecs/keycloak"],
    )
    live = read_one(kind, aws, desired.key, parents)
    delta = delta_of(kind, desired, live)
    assert delta.paths() == ["query"]

    kind.update(aws, desired, live, delta)
    live = read_one(kind, aws, desired.key, parents)
    assert not delta_of(kind, desired, live)
    stored = client.describe_query_definitions()["queryDefinitions"]
    assert len(stored) == 1
    assert stored[0]["logGroupNames"] == [GROUP, "/aws/ecs/keycloak"]  # update sent every log group

    kind.delete(aws, live)
    assert kind.read(aws, [desired.key], ReadScope(aws.stack, parents)) == {}


def test_query_definition_log_group_drift(aws: AwsContext) -> None:
    kind = QueryDefinitions()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERROR_QUERY, parent=parent)
    created = kind.create(aws, desired)
    aws.client("logs").put_query_definition(
        queryDefinitionId=created.handle,
        name=ERROR_QUERY["name"],
        queryString=ERROR_QUERY["query"],
        logGroupNames=[GROUP],
    )
    live = read_one(kind, aws, desired.key, parents)
    assert delta_of(kind, desired, live).paths() == ["extra_log_groups"]


def test_query_definitions_list_undeclared_children_and_skip_other_groups(aws: AwsContext) -> None:
    kind = QueryDefinitions()
    _, parents = parent_and_scope(aws)
    client = aws.client("logs")
    client.put_query_definition(name="by hand", queryString="fields @message", logGroupNames=[GROUP])
    client.put_query_definition(name="elsewhere", queryString="fields @message", logGroupNames=["/x", GROUP])
    client.put_query_definition(name="no groups", queryString="fields @message")

    found = kind.read(aws, [], ReadScope(aws.stack, parents))

    assert set(found) == {(GROUP, "by hand")}


def test_duplicate_query_definitions_get_keys_of_their_own(aws: AwsContext) -> None:
    kind = QueryDefinitions()
    parent, parents = parent_and_scope(aws)
    desired = desired_of(kind, ERROR_QUERY, parent=parent)
    client = aws.client("logs")
    ids = [
        client.put_query_definition(
            name=ERROR_QUERY["name"], queryString=f"fields @message | limit {n}", logGroupNames=[GROUP]
        )["queryDefinitionId"]
        for n in (1, 2, 3)
    ]

    found = kind.read(aws, [desired.key], ReadScope(aws.stack, parents))

    assert len(found) == 3
    assert found[desired.key].handle in ids
    duplicates = [live for key, live in found.items() if key != desired.key]
    assert {live.key for live in duplicates} == {
        (GROUP, f"{ERROR_QUERY['name']}#{live.handle}") for live in duplicates
    }
    assert all(live.notes and "duplicate" in live.notes[0] for live in duplicates)

    for live in duplicates:  # what the engine does with undeclared children
        kind.delete(aws, live)
    assert set(kind.read(aws, [desired.key], ReadScope(aws.stack, parents))) == {desired.key}


def test_duplicates_under_an_unowned_log_group_are_left_alone(aws: AwsContext) -> None:
    kind = QueryDefinitions()
    client = aws.client("logs")
    for n in (1, 2):
        client.put_query_definition(
            name="q", queryString=f"fields @message | limit {n}", logGroupNames=["/x"]
        )
    found = kind.read(aws, [("/x", "q")], ReadScope(aws.stack, {}))
    assert list(found) == [("/x", "q")]


def test_query_definitions_follow_next_token(aws: AwsContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs_kinds, "QUERY_DEFINITIONS_PAGE_SIZE", 2)
    kind = QueryDefinitions()
    _, parents = parent_and_scope(aws)
    client = aws.client("logs")
    for n in range(5):
        client.put_query_definition(name=f"q{n}", queryString="fields @message", logGroupNames=[GROUP])

    found = kind.read(aws, [], ReadScope(aws.stack, parents))

    assert len(found) == 5
    assert aws.stats.calls["logs.DescribeQueryDefinitions"] == 3


# Model validation --------------------------------------------------------------------------------


def validation_message(model: type[SpecModel], data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return str(caught.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": GROUP, "retention_days": 8}, "use one of 1, 3, 5, 7, 14, 30"),
        ({"name": GROUP, "retention_days": 8}, '3653 or "never"'),
        ({"name": GROUP, "retention_days": "forever"}, "is not a retention"),
        ({"name": GROUP, "retention_days": True}, "is not a retention"),
        ({"name": "bad name!"}, "contains ' ' '!'"),
        ({"name": ""}, "at least 1 character"),
        ({"name": "x" * 513}, "at most 512 characters"),
        ({"name": GROUP, "kms_key_id": "alias/logs"}, "must be a KMS key ARN"),
        ({"name": GROUP, "tags": {}}, "Extra inputs are not permitted"),
    ],
)
def test_log_group_validation(data: dict[str, Any], expected: str) -> None:
    assert expected in validation_message(LogGroupSpec, data)


@pytest.mark.parametrize(
    "data",
    [
        {"name": GROUP, "retention_days": 3653},
        {"name": GROUP, "retention_days": "never"},
        {"name": "${var.group}", "kms_key_id": "${lookups.key.arn}"},
        {"name": GROUP, "kms_key_id": "none"},
        {"name": GROUP, "kms_key_id": KMS_KEY},
    ],
)
def test_log_group_valid_specs(data: dict[str, Any]) -> None:
    LogGroupSpec.model_validate(data)


METRIC = {"name": "Errors", "namespace": "PACS/Application"}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('[ts, level="ERROR, ...]', "the quote at position 12 is never closed"),
        ("{ $.level = 1 ", "'{' at position 1 is never closed"),
        ("[a, b)", "')' at position 6 does not close '[' at position 1"),
        ("ERROR ]", "']' at position 7 has no matching '['"),
        ("{ $.a = 1 } extra", "unexpected text at position 13 after the '}'"),
        ("{ }", "has no condition"),
        ("{ $.a = 1 & $.b = 2 }", "'&' at position 11: combine conditions with '&&'"),
        ("{ $.a = 1 && }", "has no condition on one side"),
        ("{ level = 1 }", "JSON condition 'level = 1' must start with a selector"),
        ("{ $.level }", "JSON condition '$.level' needs a comparison"),
        ("[a,, b]", "field 2 of the space-delimited pattern is empty"),
        ("[a, b c, ...]", "field 2 ('b c') must be a name"),
        ("[ ]", "names no fields"),
        ("ERROR (timeout)", "unquoted '(' at position 7"),
        ("%abc", "regular expression opened by '%' at position 1 is never closed"),
        ("x" * 1025, "is 1025 characters long; the limit is 1024"),
    ],
)
def test_filter_pattern_errors(pattern: str, expected: str) -> None:
    message = validation_message(MetricFilterSpec, {"name": "f", "pattern": pattern, "metric": METRIC})
    assert expected in message


@pytest.mark.parametrize(
    "pattern",
    [
        "",
        "ERROR",
        '?ERROR ?WARN -"health check"',
        '"[ERROR]" "{braces} (parens)"',
        "%[Ee]rror{1,3}%",
        '{ $.level = "ERROR" }',
        '{ ($.status >= 500) || ($.latency > 1000 && $.path != "/health") }',
        "{ $.user IS NULL }",
        "{ $.user NOT EXISTS }",
        "{ $.msg = %time(out|d)% }",
        '[timestamp, request_id, level="ERROR", ...]',
        '[timestamp, request_id, level="INFO", message="Request completed", duration=*]',
        "[ip, user, status_code != 2*, bytes >= 1000]",
        '[w1 = "ERROR" || w1 = "WARN", ...]',
        "${var.pattern}",
    ],
)
def test_filter_pattern_accepts_valid_syntax(pattern: str) -> None:
    MetricFilterSpec.model_validate({"name": "f", "pattern": pattern, "metric": METRIC})


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"name": "a:b"}, "a metric filter name must not contain ':'"),
        ({"name": "a*b"}, "must not contain '*'"),
        ({"metric": {**METRIC, "namespace": "AWS/Logs"}}, 'starting with "AWS/" are reserved'),
        ({"metric": {**METRIC, "namespace": ":PACS"}}, "a metric namespace must not contain ':'"),
        ({"metric": {**METRIC, "name": "a$b"}}, "a metric name must not contain '$'"),
        ({"metric": {**METRIC, "value": "one"}}, "'one' is neither a number"),
        ({"metric": {**METRIC, "unit": "Hours"}}, "Input should be 'Seconds'"),
        (
            {"metric": {**METRIC, "dimensions": {"a": "$a", "b": "$b", "c": "$c", "d": "$d"}}},
            "has 4 dimensions; a metric filter allows at most 3",
        ),
        ({"metric": {**METRIC, "dimensions": {":a": "$a"}}}, "dimension name ':a'"),
        ({"metric": {"name": "Errors"}}, "namespace\n  Field required"),
    ],
)
def test_metric_filter_validation(data: dict[str, Any], expected: str) -> None:
    spec = {"name": "f", "pattern": "", "metric": METRIC, **data}
    assert expected in validation_message(MetricFilterSpec, spec)


@pytest.mark.parametrize("value", ["1", "0.5", "-2", "$.latency", "$duration", "$.detail.size"])
def test_metric_value_accepts_numbers_and_fields(value: str) -> None:
    model = MetricFilterSpec.model_validate(
        {"name": "f", "pattern": "", "metric": {**METRIC, "value": value}}
    )
    assert model.metric.value == value


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"query": "  \n"}, "must not be blank"),
        ({"query": "x" * 10001}, "at most 10000 characters"),
        ({"name": "x" * 256}, "at most 255 characters"),
        ({"extra_log_groups": ["bad group"]}, "contains ' '"),
        ({"extra_log_groups": [""]}, "must be 1-512 characters long"),
    ],
)
def test_query_definition_validation(data: dict[str, Any], expected: str) -> None:
    spec = {"name": "q", "query": "fields @message", **data}
    assert expected in validation_message(QueryDefinitionSpec, spec)


def test_query_canonical_ignores_trailing_newlines_and_group_order() -> None:
    kind = QueryDefinitions()
    a = kind.canonical({"name": "q", "query": "fields @message\n\n", "extra_log_groups": ["/b", "/a", "/a"]})
    b = kind.canonical({"name": "q", "query": "fields @message", "extra_log_groups": ["/a", "/b"]})
    assert a == b
