"""The emulator's patch of moto's response options: what one request includes in its answer (ECS
DescribeServices' `include=["TAGS"]`) is its own, whatever another request answered meanwhile asks."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from moto.core.responses import ActionResult

from pacs_reconcile.aws import AwsContext

CLUSTER = "pacs-cluster"
WAIT_S = 5.0


def test_a_describe_without_tags_answered_meanwhile_leaves_anothers_tags_in(
    aws: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto kept the option on the response class: the `ecs_service` lookup's DescribeServices
    (no tags) answered while the `ecs_services` kind's (tags) was being answered took the tags out
    of the latter, and the plan refused the stack's own service as not owned."""
    ecs = aws.client("ecs")
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(
        family="app", containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}]
    )
    ecs.create_service(
        cluster=CLUSTER,
        serviceName="svc",
        taskDefinition="app:1",
        desiredCount=1,
        tags=[{"key": "pacs-reconcile:stack", "value": "pacs-test"}],
    )
    with_tags_waiting = threading.Event()
    without_tags_answered = threading.Event()
    answer = ActionResult.execute_result

    def execute_result(self: ActionResult, context: Any) -> Any:
        if "TAGS" in context.response._get_param("include", []) and not with_tags_waiting.is_set():
            with_tags_waiting.set()
            without_tags_answered.wait(WAIT_S)  # answered after the other request
        return answer(self, context)

    monkeypatch.setattr(ActionResult, "execute_result", execute_result)
    described: dict[str, Any] = {}

    def describe_with_tags() -> None:
        described.update(ecs.describe_services(cluster=CLUSTER, services=["svc"], include=["TAGS"]))

    first = threading.Thread(target=describe_with_tags)
    first.start()
    assert with_tags_waiting.wait(WAIT_S)
    without = ecs.describe_services(cluster=CLUSTER, services=["svc"])
    without_tags_answered.set()
    first.join(WAIT_S)
    assert "tags" not in without["services"][0] or not without["services"][0]["tags"]
    assert described["services"][0]["tags"] == [{"key": "pacs-reconcile:stack", "value": "pacs-test"}]
