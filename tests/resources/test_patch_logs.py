"""The moto CloudWatch Logs patches: query definitions, KMS association, metric filter replace,
in-process and through a real moto server."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.emulator import patch_logs

GROUP = "/aws/ecs/pacs-backend"
TRANSFORM = [{"metricName": "Errors", "metricNamespace": "PACS/Application", "metricValue": "1"}]


@pytest.fixture
def logs(aws: AwsContext) -> Any:
    client = aws.client("logs")
    client.create_log_group(logGroupName=GROUP)
    return client


def all_definitions(client: Any, **params: Any) -> list[dict[str, Any]]:
    return list(client.describe_query_definitions(**params)["queryDefinitions"])


# Query definitions -----------------------------------------------------------------------------


def test_put_describe_update_delete_query_definition(logs: Any) -> None:
    created = logs.put_query_definition(
        name="errors", queryString="fields @message", logGroupNames=[GROUP, "/other"]
    )
    definition_id = created["queryDefinitionId"]

    [stored] = all_definitions(logs)
    assert stored["queryDefinitionId"] == definition_id
    assert stored["name"] == "errors"
    assert stored["queryString"] == "fields @message"
    assert stored["logGroupNames"] == [GROUP, "/other"]
    assert isinstance(stored["lastModified"], int)

    # An update replaces every field: omitted logGroupNames become empty, as in AWS.
    updated = logs.put_query_definition(
        queryDefinitionId=definition_id, name="errors v2", queryString="fields @timestamp"
    )
    assert updated["queryDefinitionId"] == definition_id
    [stored] = all_definitions(logs)
    assert (stored["name"], stored["queryString"], stored["logGroupNames"]) == (
        "errors v2",
        "fields @timestamp",
        [],
    )

    assert logs.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    assert all_definitions(logs) == []


def test_a_query_definition_may_name_no_log_group(logs: Any) -> None:
    """PutQueryDefinition requires only name and queryString: logGroupNames may be left out, and the
    query picks its log groups when run (CloudWatch Logs API reference, API_PutQueryDefinition)."""
    created = logs.put_query_definition(name="anywhere", queryString="fields @message")
    [stored] = all_definitions(logs)
    assert stored["queryDefinitionId"] == created["queryDefinitionId"]
    assert not stored.get("logGroupNames")  # AWS: the list "appears" only when there is one


def test_unknown_query_definition_ids_are_not_found(logs: Any) -> None:
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_query_definition(queryDefinitionId="nope")
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_query_definition(queryDefinitionId="nope", name="q", queryString="fields @message")
    assert all_definitions(logs) == []


def test_a_repeated_client_token_answers_with_the_first_definition(logs: Any) -> None:
    """PutQueryDefinition's clientToken is an idempotency token "to avoid returning an exception if
    the service receives the same request twice because of a network error" (CloudWatch Logs API
    reference, API_PutQueryDefinition): a retried call (botocore keeps the token across retries)
    makes no second definition; another call (a new token) does, names not being unique."""
    token = "lost-response-retry-0000000000000000000"
    first = logs.put_query_definition(name="errors", queryString="fields @message", clientToken=token)
    again = logs.put_query_definition(name="errors", queryString="fields @message", clientToken=token)
    assert again["queryDefinitionId"] == first["queryDefinitionId"]
    assert len(all_definitions(logs)) == 1
    logs.put_query_definition(name="errors", queryString="fields @message")
    assert len(all_definitions(logs)) == 2


def test_describe_query_definitions_filters_by_name_prefix(logs: Any) -> None:
    for name in ("PACS/errors", "PACS/latency", "DICOM/throughput"):
        logs.put_query_definition(name=name, queryString="fields @message")
    names = [d["name"] for d in all_definitions(logs, queryDefinitionNamePrefix="PACS/")]
    assert sorted(names) == ["PACS/errors", "PACS/latency"]


def test_describe_query_definitions_pages_with_max_results(logs: Any) -> None:
    ids = {logs.put_query_definition(name=f"q{n}", queryString="x")["queryDefinitionId"] for n in range(3)}
    pages: list[list[str]] = []
    request: dict[str, Any] = {"maxResults": 1}
    while True:
        page = logs.describe_query_definitions(**request)
        pages.append([d["queryDefinitionId"] for d in page["queryDefinitions"]])
        if "nextToken" not in page:
            break
        request["nextToken"] = page["nextToken"]
    assert len(pages) == 3
    assert all(len(page) == 1 for page in pages)
    assert {i for page in pages for i in page} == ids


def test_describe_query_definitions_rejects_an_out_of_range_max_results(logs: Any) -> None:
    # botocore validates the lower bound itself; the server must check the upper one.
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.describe_query_definitions(maxResults=1001)


def test_query_definitions_are_per_region(aws: AwsContext, logs: Any) -> None:
    logs.put_query_definition(name="seoul only", queryString="fields @message")
    other = boto3.client("logs", region_name="us-east-1")
    assert all_definitions(other) == []
    assert len(all_definitions(logs)) == 1


def test_query_definitions_are_cleared_by_moto_reset() -> None:
    with mock_aws():
        client = boto3.client("logs", region_name="ap-northeast-2")
        client.put_query_definition(name="q", queryString="fields @message")
        assert len(all_definitions(client)) == 1
    with mock_aws():
        client = boto3.client("logs", region_name="ap-northeast-2")
        assert all_definitions(client) == []


# Metric filters, log groups, KMS ---------------------------------------------------------------


def test_put_metric_filter_replaces_a_same_name_filter(logs: Any) -> None:
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="ERROR", metricTransformations=TRANSFORM
    )
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="FATAL", metricTransformations=TRANSFORM
    )
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="warnings", filterPattern="WARN", metricTransformations=TRANSFORM
    )
    filters = logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    assert sorted((f["filterName"], f["filterPattern"]) for f in filters) == [
        ("errors", "FATAL"),
        ("warnings", "WARN"),
    ]


def test_same_filter_name_on_another_group_is_a_different_filter(logs: Any) -> None:
    logs.create_log_group(logGroupName="/other")
    for group in (GROUP, "/other"):
        logs.put_metric_filter(
            logGroupName=group, filterName="errors", filterPattern=group, metricTransformations=TRANSFORM
        )
    assert len(logs.describe_metric_filters()["metricFilters"]) == 2


def test_put_metric_filter_needs_an_existing_log_group(logs: Any) -> None:
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.put_metric_filter(
            logGroupName="/missing", filterName="f", filterPattern="", metricTransformations=TRANSFORM
        )


def test_delete_log_group_takes_its_filters_and_tags(logs: Any) -> None:
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="ERROR", metricTransformations=TRANSFORM
    )
    arn = logs.describe_log_groups()["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags={"Team": "pacs"})
    logs.delete_log_group(logGroupName=GROUP)
    logs.create_log_group(logGroupName=GROUP)
    assert logs.describe_metric_filters(logGroupName=GROUP)["metricFilters"] == []
    assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_associate_and_disassociate_kms_key(logs: Any) -> None:
    key = "arn:aws:kms:ap-northeast-2:123456789012:key/abcd"
    logs.associate_kms_key(logGroupName=GROUP, kmsKeyId=key)
    assert logs.describe_log_groups()["logGroups"][0]["kmsKeyId"] == key
    logs.disassociate_kms_key(logGroupName=GROUP)
    assert "kmsKeyId" not in logs.describe_log_groups()["logGroups"][0]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.associate_kms_key(logGroupName="/missing", kmsKeyId=key)


def test_install_is_idempotent(logs: Any) -> None:
    patch_logs.install()
    patch_logs.install()
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="A", metricTransformations=TRANSFORM
    )
    logs.put_metric_filter(
        logGroupName=GROUP, filterName="errors", filterPattern="B", metricTransformations=TRANSFORM
    )
    assert [f["filterPattern"] for f in logs.describe_metric_filters()["metricFilters"]] == ["B"]


# Server mode -----------------------------------------------------------------------------------


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        yield endpoint
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        server.stop()


def test_patches_work_through_a_moto_server(moto_server: str) -> None:
    client: Any = boto3.client(
        "logs",
        region_name="ap-northeast-2",
        endpoint_url=moto_server,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    client.create_log_group(logGroupName=GROUP)
    definition_id = client.put_query_definition(
        name="errors", queryString="fields @message", logGroupNames=[GROUP]
    )["queryDefinitionId"]
    client.put_query_definition(
        queryDefinitionId=definition_id, name="errors", queryString="fields @timestamp", logGroupNames=[GROUP]
    )
    client.put_query_definition(name="other", queryString="fields @message")

    first = client.describe_query_definitions(maxResults=1)
    second = client.describe_query_definitions(maxResults=1, nextToken=first["nextToken"])
    assert "nextToken" not in second
    by_name = {d["name"]: d for d in first["queryDefinitions"] + second["queryDefinitions"]}
    assert by_name["errors"]["queryString"] == "fields @timestamp"

    assert client.delete_query_definition(queryDefinitionId=definition_id)["success"] is True
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_query_definition(queryDefinitionId=definition_id)

    for pattern in ("ERROR", "FATAL"):
        client.put_metric_filter(
            logGroupName=GROUP, filterName="errors", filterPattern=pattern, metricTransformations=TRANSFORM
        )
    filters = client.describe_metric_filters(logGroupName=GROUP)["metricFilters"]
    assert [f["filterPattern"] for f in filters] == ["FATAL"]

    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))
    assert client.describe_query_definitions()["queryDefinitions"] == []
