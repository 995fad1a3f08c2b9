"""Reads cost the fewest AWS calls the APIs allow: counted per operation for N resources.

moto ignores several page limits (DescribeAlarms, DescribeMetricFilters, logGroupIdentifiers), so
the batch sizes are asserted on the requests sent, and multi-page paths are driven with botocore's
Stubber. The benchmark (benchmarks/run.py) measures the same reads end to end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.resources import common
from pacs_reconcile.resources.base import Live, ReadScope
from pacs_reconcile.resources.logs import metric_filters_of
from pacs_reconcile.resources.registry import KINDS, LOOKUPS

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
OWNER = {OWNER_TAG: "pacs-test"}


# Helpers ---------------------------------------------------------------------------------------


class Calls:
    """AWS calls made by `aws` since this object was made, by "service.Operation"."""

    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self.before = Counter(aws.stats.calls)

    def __getitem__(self, operation: str) -> int:
        return self.aws.stats.calls[operation] - self.before[operation]

    def total(self) -> int:
        return sum((Counter(self.aws.stats.calls) - self.before).values())


@pytest.fixture
def requests_of(aws: AwsContext) -> Iterator[Callable[[str, str], list[dict[str, Any]]]]:
    """requests_of(service, Operation): a list that receives the parameters of every such call
    made from then on."""
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    hooks: list[tuple[Any, str, Callable[..., None]]] = []

    def requests(service: str, operation: str) -> list[dict[str, Any]]:
        key = (service, operation)
        if key not in seen:
            seen[key] = []
            client = aws.client(service)
            event = f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}.{operation}"

            def record(params: dict[str, Any], **_: Any) -> None:
                seen[key].append(dict(params))

            client.meta.events.register(event, record)
            hooks.append((client, event, record))
        return seen[key]

    yield requests
    for client, event, record in hooks:
        client.meta.events.unregister(event, record)


def scope(aws: AwsContext, parents: dict[Any, Live] | None = None) -> ReadScope:
    return ReadScope(aws.stack, parents or {})


def put_alarm(aws: AwsContext, name: str, tags: dict[str, str] | None = None) -> None:
    aws.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="Errors",
        Namespace="PACS/Application",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": k, "Value": v} for k, v in (tags if tags is not None else OWNER).items()],
    )


def alarm_arn(name: str) -> str:
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


def group_parent(name: str) -> Live:
    return Live(key=name, state={"name": name}, attrs={"name": name}, tags=dict(OWNER))


def metric_filter(group: str, name: str) -> dict[str, Any]:
    transformation = {"metricName": name, "metricNamespace": "PACS/Test", "metricValue": "1"}
    return {
        "filterName": name,
        "logGroupName": group,
        "filterPattern": "",
        "metricTransformations": [transformation],
    }


@pytest.fixture
def one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Calls in a fixed order, as a Stubber's queue of responses needs."""
    monkeypatch.setattr(common, "READ_WORKERS", 1)
    monkeypatch.setattr(common, "BATCH_WORKERS", 1)


# The owner-tag sweep ---------------------------------------------------------------------------


def test_one_sweep_in_pages_of_100_serves_every_kind(aws: AwsContext) -> None:
    arns = [alarm_arn(f"swept-{i:03d}") for i in range(250)]
    mapping = [{"ResourceARN": arn, "Tags": [{"Key": OWNER_TAG, "Value": aws.stack}]} for arn in arns]
    request = {"TagFilters": [{"Key": OWNER_TAG, "Values": [aws.stack]}], "ResourcesPerPage": 100}
    calls = Calls(aws)
    with Stubber(aws.client("resourcegroupstaggingapi")) as tagging:
        tagging.add_response(
            "get_resources", {"ResourceTagMappingList": mapping[:100], "PaginationToken": "p2"}, request
        )
        tagging.add_response(
            "get_resources",
            {"ResourceTagMappingList": mapping[100:200], "PaginationToken": "p3"},
            {**request, "PaginationToken": "p2"},
        )
        tagging.add_response(
            "get_resources", {"ResourceTagMappingList": mapping[200:]}, {**request, "PaginationToken": "p3"}
        )
        for kind in ("alarms", "log_groups", "sns_topics", "dashboards"):
            KINDS[kind].read(aws, [], scope(aws))
        tagging.assert_no_pending_responses()
    assert calls["resourcegroupstaggingapi.GetResources"] == 3  # for all four kinds together
    assert common.owned_of(aws, aws.stack, "cloudwatch", "alarm:").keys() == set(arns)


def test_the_sweep_is_made_again_only_after_a_change(aws: AwsContext) -> None:
    put_alarm(aws, "kept")
    calls = Calls(aws)
    KINDS["alarms"].read(aws, ["kept"], scope(aws))
    KINDS["log_groups"].read(aws, [], scope(aws))
    assert calls["resourcegroupstaggingapi.GetResources"] == 1

    aws.client("cloudwatch").tag_resource(
        ResourceARN=alarm_arn("kept"), Tags=[{"Key": "Team", "Value": "pacs"}]
    )
    found = KINDS["alarms"].read(aws, ["kept"], scope(aws))

    assert calls["resourcegroupstaggingapi.GetResources"] == 2
    assert found["kept"].tags == {**OWNER, "Team": "pacs"}


def _owned_everything(aws: AwsContext) -> None:
    """An owned resource of several swept services and a few alarms, made with boto3."""
    for i in range(3):
        put_alarm(aws, f"apart-{i}")
    aws.client("logs").create_log_group(logGroupName="/pacs/apart", tags=OWNER)
    aws.client("sns").create_topic(Name="pacs-apart", Tags=[{"Key": OWNER_TAG, "Value": aws.stack}])
    aws.client("sqs").create_queue(QueueName="pacs-apart", tags=OWNER)
    aws.client("ssm").put_parameter(
        Name="/pacs/apart", Value="v", Type="String", Tags=[{"Key": OWNER_TAG, "Value": aws.stack}]
    )


def test_alarms_swept_apart_are_read_beside_the_rest_and_every_kind_finds_the_same(
    aws: AwsContext, requests_of: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    _owned_everything(aws)
    prefix = {"cloudwatch": "alarm:"}  # the one cloudwatch type swept (dashboards are not listed)

    def every_service() -> dict[str, dict[str, dict[str, str]]]:
        return {s: common.owned_of(aws, aws.stack, s, prefix.get(s, "")) for s in common.SWEPT_SERVICES}

    whole = every_service()
    assert all(whole[s] for s in ("cloudwatch", "logs", "sns", "sqs", "ssm"))
    aws.forget_all()
    sweeps = requests_of("resourcegroupstaggingapi", "GetResources")

    common.sweep_apart(aws, aws.stack, {"cloudwatch:alarm"})
    owned = common.owned_resources(aws, aws.stack)
    apart = every_service()

    assert apart == whole
    assert owned == {arn: tags for found in whole.values() for arn, tags in found.items()}
    filters = sorted(tuple(request.get("ResourceTypeFilters", ())) for request in sweeps)
    rest = tuple(sorted(common.SWEPT_SERVICES - {"cloudwatch"}))
    assert filters == [("cloudwatch:alarm",), rest]  # one sweep each, the alarms' and the rest's


def test_a_service_the_sweep_does_not_name_is_refused_split_or_not(aws: AwsContext) -> None:
    with pytest.raises(ValueError, match="SWEPT_SERVICES"):
        common.owned_of(aws, aws.stack, "rds", "db:")
    common.sweep_apart(aws, aws.stack, {"cloudwatch:alarm"})
    with pytest.raises(ValueError, match="cloudwatch:alarm alone"):
        common.owned_of(aws, aws.stack, "cloudwatch", "insight-rule/")


def test_a_spec_declaring_more_alarms_than_a_page_sweeps_them_apart(tmp_path: Path) -> None:
    from pacs_reconcile.engine.plan import types_swept_apart
    from pacs_reconcile.spec.loader import load_spec

    def spec_of(alarms: int) -> Path:
        folder = tmp_path / str(alarms)
        folder.mkdir()
        entries = {
            f"a{i}": {
                "name": f"pacs-a{i}",
                "metric": {"namespace": "PACS", "name": "Errors", "statistic": "Sum", "period": 60},
                "comparison": "GreaterThanThreshold",
                "threshold": 1,
                "evaluation_periods": 1,
            }
            for i in range(alarms)
        }
        (folder / "monitoring.yaml").write_text(
            yaml.safe_dump({"version": 1, "stack": "pacs-test", "region": REGION, "alarms": entries})
        )
        return folder / "monitoring.yaml"

    assert types_swept_apart(load_spec(spec_of(100))) == set()
    assert types_swept_apart(load_spec(spec_of(101))) == {"cloudwatch:alarm"}
    every_swept_type = {kind.meta.swept_type for kind in KINDS.values()} - {None}
    assert every_swept_type == {"cloudwatch:alarm"}  # metric and composite alarms


# Alarms ----------------------------------------------------------------------------------------


def test_alarms_are_read_100_names_a_call_with_their_tags_from_the_sweep(
    aws: AwsContext, requests_of: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    names = [f"pacs-alarm-{i:03d}" for i in range(250)]
    for name in names:
        put_alarm(aws, name)
    sent = requests_of("cloudwatch", "DescribeAlarms")
    calls = Calls(aws)

    found = KINDS["alarms"].read(aws, names, scope(aws))

    assert sorted(map(str, found)) == names
    assert calls["cloudwatch.DescribeAlarms"] == 3
    assert calls["cloudwatch.ListTagsForResource"] == 0
    assert sorted(len(r["AlarmNames"]) for r in sent) == [50, 100, 100]
    assert {r["MaxRecords"] for r in sent} == {100}, "a whole batch fits one page"


def test_alarms_owned_but_no_longer_declared_cost_one_more_batch(aws: AwsContext) -> None:
    for i in range(30):
        put_alarm(aws, f"declared-{i:02d}")
        put_alarm(aws, f"removed-{i:02d}")
    put_alarm(aws, "foreign", tags={"Team": "dba"})
    calls = Calls(aws)

    found = KINDS["alarms"].read(aws, [f"declared-{i:02d}" for i in range(30)] + ["foreign"], scope(aws))

    assert len(found) == 61
    assert calls["cloudwatch.DescribeAlarms"] == 2
    assert calls["cloudwatch.ListTagsForResource"] == 1  # only the alarm outside the sweep
    assert found["foreign"].tags == {"Team": "dba"}


# Log groups and metric filters -----------------------------------------------------------------


def test_log_groups_are_read_50_names_a_call(
    aws: AwsContext, requests_of: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    names = [f"/pacs/service-{i:03d}" for i in range(120)]
    for name in names:
        aws.client("logs").create_log_group(logGroupName=name, tags=OWNER)
    sent = requests_of("logs", "DescribeLogGroups")
    calls = Calls(aws)

    found = KINDS["log_groups"].read(aws, names, scope(aws))

    assert set(found) == set(names)
    # moto ignores logGroupIdentifiers and pages through every group for each batch: count batches.
    batches = {tuple(r["logGroupIdentifiers"]) for r in sent}
    assert sorted(len(batch) for batch in batches) == [20, 50, 50]
    assert calls["logs.ListTagsForResource"] == 0


def test_filters_of_many_log_groups_come_from_one_account_wide_listing(
    aws: AwsContext, requests_of: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    logs = aws.client("logs")
    groups = [f"/pacs/service-{i:02d}" for i in range(40)]
    for group in groups:
        logs.create_log_group(logGroupName=group, tags=OWNER)
        logs.put_metric_filter(**metric_filter(group, f"{group[-2:]}-errors"))
    logs.create_log_group(logGroupName="/not/ours")
    logs.put_metric_filter(**metric_filter("/not/ours", "theirs"))
    sent = requests_of("logs", "DescribeMetricFilters")
    calls = Calls(aws)

    found = KINDS["metric_filters"].read(aws, [], scope(aws, {g: group_parent(g) for g in groups}))

    assert set(found) == {(g, f"{g[-2:]}-errors") for g in groups}
    assert calls["logs.DescribeMetricFilters"] == 1  # moto answers in one page; AWS in 50s
    assert sent == [{"limit": 50}]


def test_filters_of_a_single_log_group_are_read_by_name(
    aws: AwsContext, requests_of: Callable[[str, str], list[dict[str, Any]]]
) -> None:
    aws.client("logs").create_log_group(logGroupName="/pacs/only")
    sent = requests_of("logs", "DescribeMetricFilters")
    KINDS["metric_filters"].read(aws, [("/pacs/only", "errors")], scope(aws))
    assert sent == [{"logGroupName": "/pacs/only", "limit": 50}]


def test_account_wide_filter_listing_follows_its_pages(aws: AwsContext) -> None:
    groups = ["/a", "/b", "/c"]
    with Stubber(aws.client("logs")) as logs:
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/a", "f1"), metric_filter("/x", "other")], "nextToken": "t2"},
            {"limit": 50},
        )
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/b", "f2")], "nextToken": "t3"},
            {"limit": 50, "nextToken": "t2"},
        )
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/c", "f3")]},
            {"limit": 50, "nextToken": "t3"},
        )
        found = metric_filters_of(aws, groups)
        logs.assert_no_pending_responses()
    assert {group: [f["filterName"] for f in filters] for group, filters in found.items()} == {
        "/a": ["f1"],
        "/b": ["f2"],
        "/c": ["f3"],
    }


def test_a_long_account_wide_listing_gives_way_to_per_group_reads(
    aws: AwsContext, one_at_a_time: None
) -> None:
    # Two log groups: per-group reads cost 2 calls, so the listing stops after 2 pages.
    with Stubber(aws.client("logs")) as logs:
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/x", "x")], "nextToken": "t2"},
            {"limit": 50},
        )
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/a", "f1")], "nextToken": "t3"},
            {"limit": 50, "nextToken": "t2"},
        )
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/a", "f1")]},
            {"logGroupName": "/a", "limit": 50},
        )
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/b", "f2")]},
            {"logGroupName": "/b", "limit": 50},
        )
        found = metric_filters_of(aws, ["/a", "/b"])
        logs.assert_no_pending_responses()
    assert {group: [f["filterName"] for f in filters] for group, filters in found.items()} == {
        "/a": ["f1"],
        "/b": ["f2"],
    }


def test_a_listing_read_ahead_is_taken_up_by_the_read_where_it_stopped(
    aws: AwsContext, one_at_a_time: None
) -> None:
    """The plan starts the account's filters before the log groups are read (read_ahead), as far
    as the declared filters' two log groups allow: 2 pages. The read, under three owned log groups,
    goes on from there to the third page: each page read once, as the read alone would."""
    pages = [
        ({"metricFilters": [metric_filter("/a", "f1")], "nextToken": "t2"}, {"limit": 50}),
        ({"metricFilters": [metric_filter("/b", "f2")], "nextToken": "t3"}, {"limit": 50, "nextToken": "t2"}),
        ({"metricFilters": [metric_filter("/c", "f3")]}, {"limit": 50, "nextToken": "t3"}),
    ]
    kind = KINDS["metric_filters"]
    declared = [("/a", "f1"), ("/b", "f2")]
    with Stubber(aws.client("logs")) as logs:
        for response, request in pages:
            logs.add_response("describe_metric_filters", response, request)
        kind.read_ahead(aws, declared, aws.stack)
        assert len(logs._queue) == 1, "ahead: the pages the declared filters' log groups allow"
        found = kind.read(aws, declared, scope(aws, {g: group_parent(g) for g in ("/a", "/b", "/c")}))
        logs.assert_no_pending_responses()
    assert set(found) == {("/a", "f1"), ("/b", "f2"), ("/c", "f3")}


def test_a_failed_page_of_a_shared_listing_fails_every_reader(aws: AwsContext) -> None:
    """A listing that failed half way is never taken for a whole one by a later reader."""
    with Stubber(aws.client("logs")) as logs:
        logs.add_response(
            "describe_metric_filters",
            {"metricFilters": [metric_filter("/a", "f1")], "nextToken": "t2"},
            {"limit": 50},
        )
        logs.add_client_error("describe_metric_filters", "InvalidParameterException", http_status_code=400)
        listing = common.AccountListing(
            aws.client("logs"), "describe_metric_filters", "metricFilters", limit=50
        )
        for _ in range(2):
            with pytest.raises(ClientError, match="InvalidParameterException"):
                listing.within(5)
        logs.assert_no_pending_responses()


def test_a_denied_account_wide_listing_falls_back_to_per_group_reads(
    aws: AwsContext, one_at_a_time: None
) -> None:
    with Stubber(aws.client("logs")) as logs:
        logs.add_client_error("describe_metric_filters", "AccessDeniedException", http_status_code=400)
        logs.add_response(
            "describe_metric_filters", {"metricFilters": []}, {"logGroupName": "/a", "limit": 50}
        )
        logs.add_client_error("describe_metric_filters", "AccessDeniedException", http_status_code=400)
        with pytest.raises(ClientError, match="AccessDenied"):
            metric_filters_of(aws, ["/a", "/b"])  # denied per group too: an error, never "no filters"
        logs.assert_no_pending_responses()


# Dashboards and topics -------------------------------------------------------------------------


def test_dashboards_cost_one_tag_read_each_and_one_body_read_per_returned_dashboard(aws: AwsContext) -> None:
    cloudwatch = aws.client("cloudwatch")
    body = '{"widgets": []}'
    tags = [{"Key": OWNER_TAG, "Value": aws.stack}]
    for i in range(5):
        cloudwatch.put_dashboard(DashboardName=f"declared-{i}", DashboardBody=body, Tags=tags)
    cloudwatch.put_dashboard(DashboardName="owned-undeclared", DashboardBody=body, Tags=tags)
    for i in range(3):
        cloudwatch.put_dashboard(DashboardName=f"someone-elses-{i}", DashboardBody=body)
    calls = Calls(aws)

    found = KINDS["dashboards"].read(aws, [f"declared-{i}" for i in range(5)] + ["missing"], scope(aws))

    assert sorted(map(str, found)) == [*(f"declared-{i}" for i in range(5)), "owned-undeclared"]
    assert calls["cloudwatch.ListDashboards"] == 1
    assert calls["cloudwatch.ListTagsForResource"] == 9  # the tagging API does not cover dashboards
    assert calls["cloudwatch.GetDashboard"] == 6
    assert calls["ssm.GetParameters"] == 1  # the stack's ownership index: there is none, so a full scan
    assert calls.total() == 17


def test_topics_are_read_one_call_each_with_tags_from_the_sweep(aws: AwsContext) -> None:
    sns = aws.client("sns")
    names = [f"pacs-topic-{i}" for i in range(4)]
    for name in names:
        sns.create_topic(Name=name, Tags=[{"Key": OWNER_TAG, "Value": aws.stack}])
    aws.account_id  # noqa: B018 (looked up before counting: the read needs it once per run)
    calls = Calls(aws)

    found = KINDS["sns_topics"].read(aws, names, scope(aws))

    assert sorted(map(str, found)) == names
    assert calls["sns.GetTopicAttributes"] == 4
    assert calls["sns.ListTagsForResource"] == 0
    assert calls["resourcegroupstaggingapi.GetResources"] == 1
    assert calls.total() == 5


# Lookups ---------------------------------------------------------------------------------------


def test_scaling_policies_of_one_service_are_listed_once(aws: AwsContext) -> None:
    resource_id = "service/pacs-cluster/pacs-backend"
    policies = [
        {
            "PolicyARN": f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:scalingPolicy:x:resource/ecs/{resource_id}:"
            f"policyName/{name}",
            "PolicyName": name,
            "ServiceNamespace": "ecs",
            "ResourceId": resource_id,
            "ScalableDimension": "ecs:service:DesiredCount",
            "PolicyType": "StepScaling",
            "CreationTime": "2024-01-01T00:00:00Z",
        }
        for name in ("scale-out-cpu", "scale-out-memory")
    ]
    lookup = LOOKUPS["scaling_policy"]
    with Stubber(aws.client("application-autoscaling")) as stub:
        stub.add_response(
            "describe_scaling_policies",
            {"ScalingPolicies": policies},
            {"ServiceNamespace": "ecs", "ResourceId": resource_id},
        )
        cpu = lookup.resolve(aws, {"resource_id": resource_id, "name": "scale-out-cpu"})
        memory = lookup.resolve(aws, {"resource_id": resource_id, "name": "scale-out-memory"})
        stub.assert_no_pending_responses()
    assert (cpu["name"], memory["name"]) == ("scale-out-cpu", "scale-out-memory")


def test_an_account_listing_stops_past_its_pages_and_when_denied() -> None:

    from botocore.exceptions import ClientError

    from pacs_reconcile.resources.common import AccountListing

    class Pages:
        def __init__(self, pages: list[dict[str, Any]] | ClientError) -> None:
            self.pages = pages

        def get_paginator(self, operation: str) -> Any:
            return self

        def paginate(self, **params: Any) -> Any:
            if isinstance(self.pages, ClientError):
                raise self.pages
            return iter(self.pages)

    three = [{"items": [1], "nextToken": "a"}, {"items": [2], "nextToken": "b"}, {"items": [3]}]
    assert AccountListing(Pages(three), "op", "items").within(3) == [1, 2, 3]
    assert AccountListing(Pages(three), "op", "items").within(2) is None  # a third page was coming
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "op")
    assert AccountListing(Pages(denied), "op", "items").within(5) is None
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "op")
    with pytest.raises(ClientError):
        AccountListing(Pages(throttled), "op", "items").within(5)
