"""CloudWatch metric alarms: model rules, the moto round trip, batching and normalization traps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import compare_tags, diff_states
from pacs_reconcile.resources.base import Desired, Key, Live, ReadScope
from pacs_reconcile.resources.cloudwatch import AlarmSpec, put_metric_alarm_request
from pacs_reconcile.resources.registry import KINDS

STACK = "pacs-test"
REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:pacs-alerts"
OTHER_TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:pacs-oncall"
SCOPE = ReadScope(stack=STACK)

ALARMS = KINDS["alarms"]


def simple_alarm(name: str = "pacs-backend-error-rate", **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": name,
        "description": "PACS backend errors",
        "metric": {
            "name": "PACSBackendErrors",
            "namespace": "PACS/Application",
            "statistic": "Sum",
            "period": 300,
        },
        "threshold": 10,
        "comparison": "GreaterThanThreshold",
        "evaluation_periods": 2,
        "treat_missing_data": "notBreaching",
        "alarm_actions": [TOPIC, OTHER_TOPIC],
        "ok_actions": [TOPIC],
    }
    config.update(overrides)
    return config


def math_alarm(name: str = "pacs-error-ratio") -> dict[str, Any]:
    return {
        "name": name,
        "metrics": [
            {
                "id": "errors",
                "metric": {
                    "name": "HTTPCode_Target_5XX_Count",
                    "namespace": "AWS/ApplicationELB",
                    "dimensions": {"LoadBalancer": "app/pacs-alb/123"},
                    "stat": "Sum",
                    "period": 60,
                },
            },
            {
                "id": "requests",
                "metric": {
                    "name": "RequestCount",
                    "namespace": "AWS/ApplicationELB",
                    "dimensions": {"LoadBalancer": "app/pacs-alb/123"},
                    "stat": "Sum",
                    "period": 60,
                    "unit": "Count",
                },
            },
            {"id": "ratio", "expression": "100 * errors / requests", "label": "Error %", "return_data": True},
        ],
        "threshold": 5,
        "comparison": "GreaterThanOrEqualToThreshold",
        "evaluation_periods": 5,
        "datapoints_to_alarm": 3,
        "alarm_actions": [TOPIC],
    }


def band_alarm(name: str = "pacs-latency-band") -> dict[str, Any]:
    return {
        "name": name,
        "metrics": [
            {
                "id": "m1",
                "metric": {
                    "name": "TargetResponseTime",
                    "namespace": "AWS/ApplicationELB",
                    "stat": "p99",
                    "period": 300,
                },
                "return_data": True,  # AWS wants both the band and its metric to return data
            },
            {"id": "band", "expression": "ANOMALY_DETECTION_BAND(m1, 2)", "return_data": True},
        ],
        "threshold_metric_id": "band",
        "comparison": "LessThanLowerOrGreaterThanUpperThreshold",
        "evaluation_periods": 3,
        "alarm_actions": [TOPIC],
    }


def desired(config: dict[str, Any], tags: dict[str, str] | None = None) -> Desired:
    state = ALARMS.canonical(AlarmSpec.model_validate(config).model_dump(mode="json"))
    return Desired(
        address=f"alarms.{config['name']}",
        key=ALARMS.key(state, None),
        state=state,
        tags={OWNER_TAG: STACK, **(tags or {})},
    )


def read_one(aws: AwsContext, name: Key) -> Live:
    return ALARMS.read(aws, [name], SCOPE)[name]


def paths(want: Desired, live: Live) -> list[str]:
    return diff_states(want.state, live.state).paths()


def describe(aws: AwsContext, name: Key) -> dict[str, Any]:
    alarm: dict[str, Any] = aws.client("cloudwatch").describe_alarms(AlarmNames=[str(name)])["MetricAlarms"][
        0
    ]
    return alarm


def put_raw(aws: AwsContext, state: dict[str, Any], **changes: Any) -> None:
    """An out-of-band edit: PutMetricAlarm with the whole configuration, some of it changed."""
    aws.client("cloudwatch").put_metric_alarm(**{**put_metric_alarm_request(state), **changes})


# Round trips ----------------------------------------------------------------------------------


def test_create_then_read_has_no_differences(aws: AwsContext) -> None:
    want = desired(simple_alarm(), tags={"Name": "pacs-backend-error-rate"})
    created = ALARMS.create(aws, want)
    assert created.attrs == {
        "name": "pacs-backend-error-rate",
        "arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:pacs-backend-error-rate",
    }
    live = read_one(aws, "pacs-backend-error-rate")
    assert paths(want, live) == []
    assert live.tags == {OWNER_TAG: STACK, "Name": "pacs-backend-error-rate"}
    assert live.state["alarm_actions"] == sorted([TOPIC, OTHER_TOPIC])
    assert live.state["metric"]["dimensions"] == {}


@pytest.mark.parametrize(
    ("change", "expected_path"),
    [
        ({"Threshold": 25.0}, "threshold"),
        ({"AlarmActions": [TOPIC]}, "alarm_actions"),
        ({"TreatMissingData": "breaching"}, "treat_missing_data"),
        ({"EvaluationPeriods": 4}, "evaluation_periods"),
        ({"Statistic": "Maximum"}, "metric.statistic"),
    ],
)
def test_out_of_band_change_is_found_and_fixed(
    aws: AwsContext, change: dict[str, Any], expected_path: str
) -> None:
    want = desired(simple_alarm())
    ALARMS.create(aws, want)
    put_raw(aws, want.state, **change)

    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert delta.paths() == [expected_path]

    updated = ALARMS.update(aws, want, live, delta)
    assert paths(want, updated) == []
    assert paths(want, read_one(aws, want.key)) == []


def test_tags_added_and_removed_out_of_band_are_found_and_fixed(aws: AwsContext) -> None:
    want = desired(simple_alarm(), tags={"Name": "errors", "Team": "pacs"})
    live = ALARMS.create(aws, want)
    client = aws.client("cloudwatch")
    client.tag_resource(ResourceARN=live.attrs["arn"], Tags=[{"Key": "Intruder", "Value": "x"}])
    client.untag_resource(ResourceARN=live.attrs["arn"], TagKeys=["Team"])

    live = read_one(aws, want.key)
    changes = compare_tags(live.tags, want.tags)
    assert (changes.to_set, changes.to_unset) == ({"Team": "pacs"}, ["Intruder"])

    ALARMS.update_tags(aws, live, changes)
    assert read_one(aws, want.key).tags == want.tags


def test_delete_removes_the_alarm(aws: AwsContext) -> None:
    want = desired(simple_alarm())
    live = ALARMS.create(aws, want)
    ALARMS.delete(aws, live)
    assert ALARMS.read(aws, [want.key], SCOPE) == {}


@pytest.mark.parametrize("config", [math_alarm(), band_alarm()], ids=["metric-math", "anomaly-band"])
def test_metric_math_alarm_round_trip(aws: AwsContext, config: dict[str, Any]) -> None:
    want = desired(config)
    ALARMS.create(aws, want)
    live = read_one(aws, want.key)
    assert paths(want, live) == []
    assert live.state["metric"] is None

    relabelled = [{**q, "label": "changed"} if q["expression"] else q for q in want.state["metrics"]]
    put_raw(aws, {**want.state, "metrics": relabelled})
    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert delta.paths() == ["metrics"]

    ALARMS.update(aws, want, live, delta)
    assert paths(want, read_one(aws, want.key)) == []


def test_switching_from_one_metric_to_metric_math(aws: AwsContext) -> None:
    ALARMS.create(aws, desired(simple_alarm(name="pacs-switch")))
    want = desired(math_alarm(name="pacs-switch"))
    live = read_one(aws, "pacs-switch")
    delta = diff_states(want.state, live.state)
    assert delta.paths()[0] == "metrics"  # metric: None is "not set", so only metrics shows

    ALARMS.update(aws, want, live, delta)
    after = describe(aws, "pacs-switch")
    assert "MetricName" not in after
    assert paths(want, read_one(aws, "pacs-switch")) == []


# Reads: ownership, absence, batching, pagination ----------------------------------------------


def test_read_returns_owned_undeclared_alarms_and_requested_unowned_ones(aws: AwsContext) -> None:
    ALARMS.create(aws, desired(simple_alarm(name="declared")))
    ALARMS.create(aws, desired(simple_alarm(name="owned-undeclared")))
    other_stack = desired(simple_alarm(name="other-stack"))
    ALARMS.create(aws, Desired(other_stack.address, other_stack.key, other_stack.state, {OWNER_TAG: "other"}))
    put_raw(aws, desired(simple_alarm(name="hand-made")).state, Tags=[{"Key": "Owner", "Value": "ops"}])

    found = ALARMS.read(aws, ["declared", "hand-made", "missing"], SCOPE)

    assert set(found) == {"declared", "owned-undeclared", "hand-made"}
    assert found["hand-made"].tags == {"Owner": "ops"}  # read with the alarm's own ListTagsForResource
    assert found["owned-undeclared"].tags == {OWNER_TAG: STACK}


def test_more_than_100_names_are_read_in_batches_of_100(aws: AwsContext) -> None:
    client = aws.client("cloudwatch")
    names = [f"pacs-batch-{i:03d}" for i in range(150)]
    state = desired(simple_alarm()).state
    for name in names:
        put_raw(aws, {**state, "name": name}, Tags=[{"Key": OWNER_TAG, "Value": STACK}])
    batches: list[list[str]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        batches.append(list(params["AlarmNames"]))

    client.meta.events.register("provide-client-params.cloudwatch.DescribeAlarms", record)
    try:
        found = ALARMS.read(aws, names, SCOPE)
    finally:
        client.meta.events.unregister("provide-client-params.cloudwatch.DescribeAlarms", record)

    assert sorted(map(str, found)) == names
    assert sorted(len(batch) for batch in batches) == [50, 100]  # batches run concurrently
    assert aws.stats.calls["cloudwatch.ListTagsForResource"] == 0  # every tag came from the sweep


def _alarm_item(name: str, threshold: float) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": "CPUUtilization",
        "Namespace": "AWS/RDS",
        "Statistic": "Average",
        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "pacs-postgresql"}],
        "Period": 300,
        "EvaluationPeriods": 2,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanThreshold",
    }


@pytest.fixture
def stubbed(aws: AwsContext) -> Iterator[tuple[Stubber, Stubber]]:
    with (
        Stubber(aws.client("cloudwatch")) as cloudwatch,
        Stubber(aws.client("resourcegroupstaggingapi")) as tagging,
    ):
        yield cloudwatch, tagging
        cloudwatch.assert_no_pending_responses()
        tagging.assert_no_pending_responses()


def test_describe_alarms_pages_are_all_read(aws: AwsContext, stubbed: tuple[Stubber, Stubber]) -> None:
    cloudwatch, tagging = stubbed
    owner = [{"Key": OWNER_TAG, "Value": STACK}]
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"
    sweep = {"TagFilters": [{"Key": OWNER_TAG, "Values": [STACK]}], "ResourcesPerPage": 100}
    tagging.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": arn + "a1", "Tags": owner}], "PaginationToken": "t1"},
        sweep,
    )
    tagging.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": arn + "a3", "Tags": owner}], "PaginationToken": ""},
        {**sweep, "PaginationToken": "t1"},
    )
    # The declared alarms (a1 owned, a2 not) in one read of both types while the sweep runs, its
    # two pages both read (an alarm of the other type under a declared name is refused by the
    # plan); then the owned alarm no entry declares (a3), as both types too (shared with composite
    # alarms).
    both_types = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"], "MaxRecords": 100}
    declared = {"AlarmNames": ["a1", "a2"], **both_types}
    cloudwatch.add_response(
        "describe_alarms", {"MetricAlarms": [_alarm_item("a1", 80)], "NextToken": "n1"}, declared
    )
    cloudwatch.add_response(
        "describe_alarms", {"MetricAlarms": [_alarm_item("a2", 70)]}, {**declared, "NextToken": "n1"}
    )
    cloudwatch.add_response(
        "describe_alarms", {"MetricAlarms": [_alarm_item("a3", 60)]}, {"AlarmNames": ["a3"], **both_types}
    )
    cloudwatch.add_response(
        "list_tags_for_resource", {"Tags": [{"Key": "Owner", "Value": "ops"}]}, {"ResourceARN": arn + "a2"}
    )

    found = ALARMS.read(aws, ["a1", "a2"], SCOPE)

    assert sorted(map(str, found)) == ["a1", "a2", "a3"]
    assert [found[n].state["threshold"] for n in ("a1", "a2", "a3")] == [80.0, 70.0, 60.0]
    assert found["a2"].tags == {"Owner": "ops"}
    assert found["a3"].state["metric"]["dimensions"] == {"DBInstanceIdentifier": "pacs-postgresql"}


# Normalization traps (AWS-NOTES item 4) --------------------------------------------------------


def test_absent_treat_missing_data_reads_as_missing(aws: AwsContext) -> None:
    config = simple_alarm()
    del config["treat_missing_data"]
    want = desired(config)
    request = put_metric_alarm_request(want.state)
    del request["TreatMissingData"]
    aws.client("cloudwatch").put_metric_alarm(**request)
    assert "TreatMissingData" not in describe(aws, want.key)

    live = read_one(aws, want.key)
    assert live.state["treat_missing_data"] == "missing"
    assert paths(want, live) == []


def test_alarm_without_dimensions_reads_as_empty_mapping(aws: AwsContext) -> None:
    want = desired(simple_alarm())
    request = put_metric_alarm_request(want.state)
    del request["Dimensions"]
    aws.client("cloudwatch").put_metric_alarm(**request)
    assert describe(aws, want.key)["Dimensions"] == []

    live = read_one(aws, want.key)
    assert live.state["metric"]["dimensions"] == {}
    assert paths(want, live) == []


def test_update_never_touches_tags(aws: AwsContext) -> None:
    want = desired(simple_alarm(), tags={"Name": "errors"})
    ALARMS.create(aws, want)
    put_raw(aws, want.state, Threshold=99.0)
    live = read_one(aws, want.key)
    aws.client("cloudwatch").tag_resource(
        ResourceARN=live.attrs["arn"], Tags=[{"Key": "Extra", "Value": "1"}]
    )
    sent: list[dict[str, Any]] = []
    client = aws.client("cloudwatch")

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    client.meta.events.register("provide-client-params.cloudwatch.PutMetricAlarm", record)
    try:
        ALARMS.update(aws, want, read_one(aws, want.key), diff_states(want.state, live.state))
    finally:
        client.meta.events.unregister("provide-client-params.cloudwatch.PutMetricAlarm", record)

    assert len(sent) == 1 and "Tags" not in sent[0]
    assert read_one(aws, want.key).tags == {OWNER_TAG: STACK, "Name": "errors", "Extra": "1"}


def test_update_keeps_what_the_spec_leaves_unset(aws: AwsContext) -> None:
    config = simple_alarm()
    del config["description"]
    want = desired(config)
    ALARMS.create(aws, want)
    put_raw(aws, want.state, AlarmDescription="set by hand", DatapointsToAlarm=1, Threshold=1.0)

    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert delta.paths() == ["threshold"]  # unset description and datapoints are not managed
    ALARMS.update(aws, want, live, delta)

    after = describe(aws, want.key)
    assert (after["AlarmDescription"], after["DatapointsToAlarm"], after["Threshold"]) == (
        "set by hand",
        1,
        10.0,
    )


def test_canonical_orders_actions_and_metrics() -> None:
    state = desired(math_alarm()).state
    shuffled = {
        **state,
        "alarm_actions": [OTHER_TOPIC, TOPIC, TOPIC],
        "metrics": list(reversed(state["metrics"])),
    }
    assert ALARMS.canonical(shuffled)["alarm_actions"] == [TOPIC, OTHER_TOPIC]
    assert ALARMS.canonical(shuffled) == ALARMS.canonical({**state, "alarm_actions": [TOPIC, OTHER_TOPIC]})


# Model validation -------------------------------------------------------------------------------


def errors(config: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        AlarmSpec.model_validate(config)
    return [(tuple(e["loc"]), e["msg"].removeprefix("Value error, ")) for e in caught.value.errors()]


def with_metric(**changes: Any) -> dict[str, Any]:
    config = simple_alarm()
    config["metric"] = {**config["metric"], **changes}
    return config


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            simple_alarm(datapoints_to_alarm=3),
            [(("datapoints_to_alarm",), "must be between 1 and evaluation_periods (2), got 3")],
        ),
        (
            simple_alarm(datapoints_to_alarm=0),
            [(("datapoints_to_alarm",), "must be between 1 and evaluation_periods (2), got 0")],
        ),
        (
            simple_alarm(comparison="GreaterThan"),
            [
                (
                    ("comparison",),
                    "Input should be 'GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', "
                    "'LessThanThreshold', "
                    "'LessThanOrEqualToThreshold', 'LessThanLowerOrGreaterThanUpperThreshold', "
                    "'LessThanLowerThreshold' or 'GreaterThanUpperThreshold'",
                )
            ],
        ),
        (
            simple_alarm(comparison="LessThanLowerThreshold"),
            [
                (
                    ("comparison",),
                    "LessThanLowerThreshold compares with an anomaly detection band: "
                    "it needs threshold_metric_id",
                )
            ],
        ),
        (
            with_metric(statistic="Avg"),
            [
                (
                    ("metric", "statistic"),
                    "Input should be 'SampleCount', 'Average', 'Sum', 'Minimum' or 'Maximum'",
                )
            ],
        ),
        (
            with_metric(statistic="p99"),
            [(("metric", "statistic"), "p99 is an extended statistic: write it as extended_statistic: p99")],
        ),
        (
            with_metric(statistic=None, extended_statistic="p101"),
            [
                (
                    ("metric", "extended_statistic"),
                    "'p101' is not an extended statistic; use a percentile like p99 or p99.9, "
                    "tm90, wm90, tc90, "
                    "ts90, IQM, TM(10%:90%) or PR(100:2000)",
                )
            ],
        ),
        (
            with_metric(extended_statistic="p99"),
            [(("metric",), "set exactly one of statistic and extended_statistic")],
        ),
        (
            with_metric(period=45),
            [(("metric", "period"), "must be 10, 20, 30 or a multiple of 60 seconds")],
        ),
        (
            {**simple_alarm(), "metrics": math_alarm()["metrics"]},
            [
                (
                    ("metrics",),
                    "metric and metrics are mutually exclusive: "
                    "metric for one metric, metrics for metric math",
                )
            ],
        ),
        (
            {k: v for k, v in simple_alarm().items() if k != "metric"},
            [((), "set metric (one metric) or metrics (metric math)")],
        ),
        (
            {k: v for k, v in simple_alarm().items() if k != "threshold"},
            [((), "set threshold (or threshold_metric_id for an anomaly detection alarm)")],
        ),
        (
            simple_alarm(evaluation_periods=300),
            [
                (
                    ("evaluation_periods",),
                    "period 300 s x evaluation_periods 300 = 90000 s; "
                    "at most 86400 s (one day for periods under an hour)",
                )
            ],
        ),
        (
            with_metric(period=3600) | {"evaluation_periods": 169},
            [
                (
                    ("evaluation_periods",),
                    "period 3600 s x evaluation_periods 169 = 608400 s; at most 604800 s (seven days)",
                )
            ],
        ),
        (
            simple_alarm(alarm_actions=["arn:aws:s3:::bucket"]),
            [
                (
                    ("alarm_actions", 0),
                    "'arn:aws:s3:::bucket' is not an alarm action ARN "
                    "(an SNS topic, Auto Scaling policy, EC2 action, "
                    "Lambda function, SSM OpsItem or incident plan)",
                )
            ],
        ),
        (
            simple_alarm(ok_actions=[TOPIC] * 6),
            [(("ok_actions",), "List should have at most 5 items after validation, not 6")],
        ),
        (
            simple_alarm(surprise=1),
            [(("surprise",), "Extra inputs are not permitted")],
        ),
    ],
    ids=[
        "datapoints-over-evaluation-periods",
        "datapoints-zero",
        "bad-comparison",
        "band-comparison-without-band",
        "bad-statistic",
        "percentile-as-statistic",
        "bad-extended-statistic",
        "both-statistics",
        "bad-period",
        "metric-and-metrics",
        "neither-metric-nor-metrics",
        "no-threshold",
        "over-one-day",
        "over-seven-days",
        "bad-action-arn",
        "too-many-actions",
        "unknown-key",
    ],
)
def test_alarm_validation_messages(
    config: dict[str, Any], expected: list[tuple[tuple[Any, ...], str]]
) -> None:
    assert errors(config) == expected


def test_metric_math_validation_messages() -> None:
    config = math_alarm()
    config["metrics"] = [
        {**config["metrics"][0], "id": "Errors"},
        {**config["metrics"][1], "expression": "m1"},
        config["metrics"][2],
    ]
    assert errors(config) == [
        (("metrics", 0, "id"), "must start with a lowercase letter, then letters, digits and underscores"),
        (("metrics", 1), "set exactly one of expression and metric"),
    ]
    config = math_alarm()
    config["metrics"] = [{**q, "id": "m"} for q in config["metrics"]]
    assert errors(config) == [(("metrics",), "duplicate id 'm'")]
    config = math_alarm()
    config["metrics"] = [{**q, "return_data": True} for q in config["metrics"]]
    assert errors(config) == [(("metrics",), "exactly one item must have return_data: true (found 3)")]
    config = band_alarm()
    config["threshold_metric_id"] = "nope"
    assert errors(config) == [(("threshold_metric_id",), "no item in metrics has id 'nope'")]
    config = band_alarm()
    config["metrics"][0]["metric"]["stat"] = "Mean"
    assert errors(config)[0][0] == ("metrics", 0, "metric", "stat")


def test_anomaly_detection_alarms_return_data_from_the_band_and_its_metric() -> None:
    # PutMetricAlarm refuses a band alarm unless exactly two items return data, the band one of them
    # (hashicorp/terraform-provider-aws#42504; cdklabs/cdk-monitoring-constructs#426).
    AlarmSpec.model_validate(band_alarm())
    config = band_alarm()
    config["metrics"][0]["return_data"] = False
    assert errors(config) == [
        (
            ("threshold_metric_id",),
            "an anomaly detection alarm returns data from two items: set return_data: true on the "
            "band 'band' and on the metric it is computed from (now: band)",
        )
    ]
    config = band_alarm()
    config["metrics"][1]["return_data"] = False
    assert errors(config)[0][0] == ("threshold_metric_id",)
    config = math_alarm()
    config["metrics"][0]["return_data"] = True
    assert errors(config) == [
        (
            (),
            "exactly one item of metrics must have return_data: true (found 2); "
            "two only for an anomaly detection alarm (threshold_metric_id)",
        )
    ]


@pytest.mark.parametrize(
    "stat",
    [
        "p99",
        "p99.9",
        "p0",
        "p100",
        "tm90",
        "wm98",
        "tc90",
        "ts90",
        "IQM",
        "TM(10%:90%)",
        "TM(150:1000)",
        "TS(80%:)",
        "WM(:95%)",
        "PR(:300)",
        "PR(100:2000)",
    ],
)
def test_extended_statistics_accepted(stat: str) -> None:
    assert AlarmSpec.model_validate(with_metric(statistic=None, extended_statistic=stat)).metric is not None


@pytest.mark.parametrize(
    "stat", ["p", "p100.5", "P99", "tm", "TM()", "TM(:)", "PR(10%:20%)", "iqm", "TM(10%:190%)"]
)
def test_bad_extended_statistics_rejected(stat: str) -> None:
    assert errors(with_metric(statistic=None, extended_statistic=stat))[0][0] == (
        "metric",
        "extended_statistic",
    )


def test_unresolved_references_pass_validation() -> None:
    config = simple_alarm(alarm_actions=["${sns_topics.alerts.arn}"])
    config["metric"]["dimensions"] = {"DBInstanceIdentifier": "${lookups.rds.id}"}
    spec = AlarmSpec.model_validate(config)
    assert spec.alarm_actions == ["${sns_topics.alerts.arn}"]


def test_dump_has_defaults_the_live_side_mirrors() -> None:
    dump = AlarmSpec.model_validate(
        {k: v for k, v in simple_alarm().items() if k not in ("treat_missing_data", "ok_actions")}
    ).model_dump(mode="json")
    assert dump["treat_missing_data"] == "missing"
    assert dump["ok_actions"] == [] and dump["insufficient_data_actions"] == []
    assert dump["actions_enabled"] is True and dump["metric"]["dimensions"] == {}
    assert dump["threshold"] == 10.0 and dump["metrics"] is None
