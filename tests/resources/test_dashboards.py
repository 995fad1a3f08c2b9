"""CloudWatch dashboards: body validation, the moto round trip, ownership and JSON comparison."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import compare_tags, diff_states
from pacs_reconcile.errors import AwsError
from pacs_reconcile.resources.base import Desired, Key, Live, ReadScope
from pacs_reconcile.resources.cloudwatch import DashboardSpec
from pacs_reconcile.resources.registry import KINDS

STACK = "pacs-test"
ACCOUNT = "123456789012"
SCOPE = ReadScope(stack=STACK)
DASHBOARDS = KINDS["dashboards"]


def body() -> dict[str, Any]:
    return {
        "start": "-PT6H",
        "periodOverride": "inherit",
        "widgets": [
            {
                "type": "text",
                "x": 0,
                "y": 0,
                "width": 24,
                "height": 2,
                "properties": {
                    "markdown": "# PACS\nManaged by pacs-reconcile: edit the spec, not the console."
                },
            },
            {
                "type": "metric",
                "x": 0,
                "y": 2,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": "RDS Metrics",
                    "view": "timeSeries",
                    "stacked": False,
                    "region": "ap-northeast-2",
                    "period": 300,
                    "metrics": [
                        ["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "pacs-postgresql"],
                        [".", "DatabaseConnections", ".", "."],
                        ["PACS/Application", "PACSBackendErrors", {"stat": "Sum", "label": "Errors"}],
                        [{"expression": "m1 * 2", "label": "Doubled"}],
                    ],
                },
            },
            {
                "type": "alarm",
                "x": 12,
                "y": 2,
                "width": 12,
                "height": 6,
                "properties": {"alarms": [f"arn:aws:cloudwatch:ap-northeast-2:{ACCOUNT}:alarm:rds-cpu"]},
            },
        ],
    }


def desired(name: str = "PACS-Main-Dashboard", tags: dict[str, str] | None = None, **changes: Any) -> Desired:
    config = {"name": name, "body": {**body(), **changes}}
    state = DASHBOARDS.canonical(DashboardSpec.model_validate(config).model_dump(mode="json"))
    return Desired(
        f"dashboards.{name}", DASHBOARDS.key(state, None), state, {OWNER_TAG: STACK, **(tags or {})}
    )


def read_one(aws: AwsContext, name: Key) -> Live:
    return DASHBOARDS.read(aws, [name], SCOPE)[name]


def put_raw(aws: AwsContext, name: Key, dashboard: dict[str, Any] | str) -> None:
    text = dashboard if isinstance(dashboard, str) else json.dumps(dashboard)
    aws.client("cloudwatch").put_dashboard(DashboardName=str(name), DashboardBody=text)


# Round trips ----------------------------------------------------------------------------------


def test_create_then_read_has_no_differences(aws: AwsContext) -> None:
    want = desired(tags={"Name": "PACS-Main-Dashboard"})
    created = DASHBOARDS.create(aws, want)
    assert created.attrs == {
        "name": "PACS-Main-Dashboard",
        "arn": f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/PACS-Main-Dashboard",
    }
    live = read_one(aws, "PACS-Main-Dashboard")
    assert diff_states(want.state, live.state).paths() == []
    assert live.tags == {OWNER_TAG: STACK, "Name": "PACS-Main-Dashboard"}  # sent with PutDashboard


def test_changed_widget_is_found_and_fixed(aws: AwsContext) -> None:
    want = desired()
    DASHBOARDS.create(aws, want)
    edited = body()
    edited["widgets"][1]["properties"]["title"] = "Edited in the console"
    put_raw(aws, want.key, edited)

    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert delta.paths() == ["body.widgets"]

    updated = DASHBOARDS.update(aws, want, live, delta)
    assert diff_states(want.state, updated.state).paths() == []
    assert diff_states(want.state, read_one(aws, want.key).state).paths() == []


def test_changed_top_level_setting_is_found(aws: AwsContext) -> None:
    want = desired()
    DASHBOARDS.create(aws, want)
    put_raw(aws, want.key, {**body(), "start": "-PT12H"})
    assert diff_states(want.state, read_one(aws, want.key).state).paths() == ["body.start"]


def test_tags_added_and_removed_out_of_band_are_found_and_fixed(aws: AwsContext) -> None:
    want = desired(tags={"Name": "main", "Team": "pacs"})
    live = DASHBOARDS.create(aws, want)
    client = aws.client("cloudwatch")
    client.tag_resource(ResourceARN=live.attrs["arn"], Tags=[{"Key": "Intruder", "Value": "x"}])
    client.untag_resource(ResourceARN=live.attrs["arn"], TagKeys=["Team"])

    live = read_one(aws, want.key)
    changes = compare_tags(live.tags, want.tags)
    assert (changes.to_set, changes.to_unset) == ({"Team": "pacs"}, ["Intruder"])

    DASHBOARDS.update_tags(aws, live, changes)
    assert read_one(aws, want.key).tags == want.tags


def test_update_leaves_tags_alone(aws: AwsContext) -> None:
    want = desired(tags={"Name": "main"})
    DASHBOARDS.create(aws, want)
    put_raw(aws, want.key, {"widgets": []})
    live = read_one(aws, want.key)
    DASHBOARDS.update(aws, want, live, diff_states(want.state, live.state))
    assert read_one(aws, want.key).tags == {OWNER_TAG: STACK, "Name": "main"}


def test_delete_removes_the_dashboard_and_tolerates_it_gone(aws: AwsContext) -> None:
    want = desired()
    live = DASHBOARDS.create(aws, want)
    DASHBOARDS.delete(aws, live)
    assert DASHBOARDS.read(aws, [want.key], SCOPE) == {}
    DASHBOARDS.delete(aws, live)  # already gone: nothing left to do


# Reads ----------------------------------------------------------------------------------------


def test_read_returns_owned_undeclared_dashboards_and_requested_unowned_ones(aws: AwsContext) -> None:
    DASHBOARDS.create(aws, desired(name="declared"))
    DASHBOARDS.create(aws, desired(name="owned-undeclared"))
    other = desired(name="other-stack")
    DASHBOARDS.create(aws, Desired(other.address, other.key, other.state, {OWNER_TAG: "other"}))
    put_raw(aws, "hand-made", body())
    put_raw(aws, "not-asked", body())

    bodies_read_before = aws.stats.calls["cloudwatch.GetDashboard"]

    found = DASHBOARDS.read(aws, ["declared", "hand-made", "missing"], SCOPE)

    assert set(found) == {"declared", "owned-undeclared", "hand-made"}
    assert found["hand-made"].tags == {}
    assert found["hand-made"].attrs["arn"] == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/hand-made"
    assert aws.stats.calls["cloudwatch.GetDashboard"] - bodies_read_before == 3  # only what is returned


def test_dashboard_deleted_between_list_and_tags_is_absent(aws: AwsContext) -> None:
    DASHBOARDS.create(aws, desired(name="kept"))
    client = aws.client("cloudwatch")

    def add_ghost(parsed: dict[str, Any], **_: Any) -> None:
        ghost_arn = f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/ghost"
        parsed["DashboardEntries"].append({"DashboardName": "ghost", "DashboardArn": ghost_arn})

    client.meta.events.register("after-call.cloudwatch.ListDashboards", add_ghost)
    try:
        found = DASHBOARDS.read(aws, ["kept", "ghost"], SCOPE)
    finally:
        client.meta.events.unregister("after-call.cloudwatch.ListDashboards", add_ghost)
    assert set(found) == {"kept"}


def test_key_order_and_whitespace_make_no_difference(aws: AwsContext) -> None:
    # AWS-NOTES item 3: bodies compare as parsed JSON.
    want = desired()
    DASHBOARDS.create(aws, want)
    reordered = json.dumps(dict(reversed(list(body().items()))), indent=7, sort_keys=True)
    put_raw(aws, want.key, reordered)
    assert aws.client("cloudwatch").get_dashboard(DashboardName=want.key)["DashboardBody"] == reordered

    live = read_one(aws, want.key)
    assert diff_states(want.state, live.state).paths() == []
    assert DASHBOARDS.canonical({"name": "x", "body": reordered}) == DASHBOARDS.canonical(
        {"name": "x", "body": body()}
    )


def test_validation_messages_from_put_dashboard_fail_the_write(aws: AwsContext) -> None:
    want = desired()
    with Stubber(aws.client("cloudwatch")) as stub:
        # none of the name yet (a create first looks: PutDashboard would take one over)
        stub.add_response("list_dashboards", {"DashboardEntries": []})
        stub.add_response(
            "put_dashboard",
            {
                "DashboardValidationMessages": [
                    {"DataPath": "/widgets/1/properties", "Message": "Should have region"}
                ]
            },
        )
        with pytest.raises(AwsError) as caught:
            DASHBOARDS.create(aws, want)
    assert str(caught.value) == (
        "PutDashboard on dashboard PACS-Main-Dashboard: the body has problems: "
        "/widgets/1/properties: Should have region"
    )


# Body validation ------------------------------------------------------------------------------


def errors(dashboard_body: Any) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        DashboardSpec.model_validate({"name": "d", "body": dashboard_body})
    return [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in caught.value.errors()]


def widget(**changes: Any) -> dict[str, Any]:
    base = body()["widgets"][1]
    return {**base, **changes}


def metric_widget(*rows: Any) -> dict[str, Any]:
    base = widget()
    return {**base, "properties": {**base["properties"], "metrics": list(rows)}}


@pytest.mark.parametrize(
    ("dashboard_body", "expected"),
    [
        (
            {"widgets": [widget(), widget(), widget(x=18, width=8)]},
            [(("body", "widgets", 2, "width"), "x (18) + width (8) is 26: the grid is 24 units wide")],
        ),
        (
            {"widgets": [widget(x=20, width=None)]},
            [(("body", "widgets", 0, "width"), "must be a whole number from 1 to 24")],
        ),
        (
            {"widgets": [{k: v for k, v in widget(x=20).items() if k != "width"}]},
            [(("body", "widgets", 0, "x"), "x (20) + width (6) is 26: the grid is 24 units wide")],
        ),
        (
            {"widgets": [widget(x=24, height=0)]},
            [
                (("body", "widgets", 0, "x"), "must be a whole number from 0 to 23"),
                (("body", "widgets", 0, "height"), "must be a whole number from 1 to 1000"),
            ],
        ),
        (
            {"widgets": [widget(type="graph")]},
            [
                (
                    ("body", "widgets", 0, "type"),
                    "unknown widget type 'graph'; "
                    "expected one of metric, text, log, alarm, explorer, custom, chart",
                )
            ],
        ),
        (
            {"widgets": [metric_widget(["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier"])]},
            [
                (
                    ("body", "widgets", 0, "properties", "metrics", 0),
                    "dimension names and values must come in pairs: "
                    "[namespace, metric name, dimension name, value, ..., {options}]",
                )
            ],
        ),
        (
            {"widgets": [metric_widget([".", "CPUUtilization"])]},
            [
                (
                    ("body", "widgets", 0, "properties", "metrics", 0),
                    "'.' and '...' repeat the metric above, and the first metric has none",
                )
            ],
        ),
        (
            {"widgets": [metric_widget(["AWS/RDS", "CPUUtilization"], ["AWS/RDS", 42, {"stat": "Sum"}])]},
            [
                (
                    ("body", "widgets", 0, "properties", "metrics", 1, 1),
                    "must be text (only the last item may be {options}): "
                    "[namespace, metric name, dimension name, value, ..., {options}]",
                )
            ],
        ),
        (
            {"widgets": [metric_widget("AWS/RDS"), metric_widget([{"label": "no expression"}])]},
            [
                (
                    ("body", "widgets", 0, "properties", "metrics", 0),
                    "each metric must be a list "
                    "[namespace, metric name, dimension name, value, ..., {options}]",
                ),
                (
                    ("body", "widgets", 1, "properties", "metrics", 0),
                    "a metric made of an options object alone must have an expression",
                ),
            ],
        ),
        (
            {"widgets": [metric_widget()]},
            [
                (
                    ("body", "widgets", 0, "properties", "metrics"),
                    "required: a list of metrics, each [namespace, name, dimension, value...]",
                )
            ],
        ),
        (
            {"widgets": [widget(properties={"metrics": [["AWS/RDS", "CPUUtilization"]], "period": 45})]},
            [
                (("body", "widgets", 0, "properties", "region"), "required: the region of the metrics"),
                (
                    ("body", "widgets", 0, "properties", "period"),
                    "must be a multiple of 60 seconds (or 1, 5, 10, 20, 30)",
                ),
            ],
        ),
        (
            {"widgets": [{"type": "text", "properties": {"markdown": 3}}, {"type": "log", "properties": {}}]},
            [
                (("body", "widgets", 0, "properties", "markdown"), "required: the text shown, in Markdown"),
                (
                    ("body", "widgets", 1, "properties", "query"),
                    "required: a Logs Insights query starting with SOURCE '...'",
                ),
                (("body", "widgets", 1, "properties", "region"), "required: the region of the log groups"),
            ],
        ),
        (
            {
                "widgets": [
                    {"type": "alarm", "properties": {"alarms": ["rds-cpu"]}},
                    {"type": "text", "title": "x"},
                ]
            },
            [
                (
                    ("body", "widgets", 0, "properties", "alarms", 0),
                    "must be an alarm ARN (arn:...:alarm:NAME)",
                ),
                (
                    ("body", "widgets", 1, "title"),
                    "unknown key; a widget has only type, x, y, width, height, properties",
                ),
                (("body", "widgets", 1, "properties"), "required: a mapping of the widget's properties"),
            ],
        ),
        (
            {"widget": [], "periodOverride": "always", "end": "-PT1H"},
            [
                (
                    ("body", "widget"),
                    "unknown key; a dashboard body has only widgets, start, end, periodOverride, variables",
                ),
                (("body", "widgets"), "required (a list of widgets, which may be empty)"),
                (("body", "end"), "needs start as well"),
                (("body", "periodOverride"), "must be auto or inherit"),
            ],
        ),
        (
            {"widgets": [], "variables": [{"type": "property", "inputType": "dropdown"}]},
            [
                (("body", "variables", 0, "property"), "required: the text the variable replaces"),
                (("body", "variables", 0, "inputType"), "must be input, select or radio"),
            ],
        ),
    ],
    ids=[
        "widget-overflow",
        "width-null",
        "overflow-with-default-width",
        "x-and-height-out-of-range",
        "unknown-widget-type",
        "odd-dimension-pair",
        "dot-in-first-row",
        "non-text-item",
        "row-not-a-list-and-options-only",
        "no-metrics",
        "metric-region-and-period",
        "text-and-log-properties",
        "alarm-arns-and-unknown-widget-key",
        "top-level-keys",
        "variables",
    ],
)
def test_body_validation_messages(dashboard_body: Any, expected: list[tuple[tuple[Any, ...], str]]) -> None:
    assert errors(dashboard_body) == expected


def test_valid_bodies_pass_unchanged() -> None:
    spec = DashboardSpec.model_validate({"name": "PACS-Main_1", "body": body()})
    assert spec.body == body()
    graph_of_alarm = {
        "type": "metric",
        "properties": {"region": "x", "annotations": {"alarms": ["arn:a:alarm:b"]}},
    }
    unresolved = metric_widget(
        ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", "${lookups.alb.arn_suffix}"]
    )
    repeat = metric_widget(["AWS/EC2", "CPUUtilization", "InstanceId", "i-1"], ["...", "i-2"])
    for widgets in ([], [graph_of_alarm], [unresolved], [repeat]):
        assert (
            DashboardSpec.model_validate({"name": "d", "body": {"widgets": widgets}}).body["widgets"]
            == widgets
        )


def test_dashboard_name_rules() -> None:
    with pytest.raises(ValidationError) as caught:
        DashboardSpec.model_validate({"name": "PACS Main", "body": {"widgets": []}})
    assert caught.value.errors()[0]["loc"] == ("name",)


def test_model_dump_keeps_the_body_as_written() -> None:
    dump = DashboardSpec.model_validate({"name": "d", "body": body()}).model_dump(mode="json")
    assert dump == {"name": "d", "body": body()}
