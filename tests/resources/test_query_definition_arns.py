"""Logs Insights query definitions that name log groups by ARN (PutQueryDefinition takes names or
ARNs: hashicorp/terraform-provider-aws#37986 and #43183): a definition naming only ARNs, its own log
group's first, is still found under that log group, converges, shows a change at its path, is seen
when rewritten by hand and round-trips through export; another account's log group of the same name
is never taken for this one."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.logs import QueryDefinitions, QueryDefinitionSpec

from .test_logs import ERROR_QUERY, GROUP, delta_of, desired_of, parent_and_scope, read_one

KIND = QueryDefinitions()
REGION = "ap-northeast-2"
SOURCE_ACCOUNT = "210987654321"
SOURCE_GROUP = f"arn:aws:logs:{REGION}:{SOURCE_ACCOUNT}:log-group:/aws/ecs/pacs-backend"
OWN_ARN = f"arn:aws:logs:{REGION}:123456789012:log-group:{GROUP}"
ONLY_ARNS = {**ERROR_QUERY, "extra_log_groups": [SOURCE_GROUP], "log_group_by_arn": True}


def stored(aws: AwsContext) -> list[dict[str, Any]]:
    return list(aws.client("logs").describe_query_definitions()["queryDefinitions"])


def test_a_definition_naming_only_arns_converges_under_its_log_group(aws: AwsContext) -> None:
    parent, parents = parent_and_scope(aws)
    want = desired_of(KIND, ONLY_ARNS, parent=parent)
    KIND.create(aws, want)
    (definition,) = stored(aws)
    assert definition["logGroupNames"] == [OWN_ARN, SOURCE_GROUP]
    live = read_one(KIND, aws, want.key, parents)
    assert delta_of(KIND, want, live).paths() == []


def test_names_and_arns_show_at_their_path_and_converge(aws: AwsContext) -> None:
    parent, parents = parent_and_scope(aws)
    KIND.create(aws, desired_of(KIND, ERROR_QUERY, parent=parent))
    want = desired_of(KIND, ONLY_ARNS, parent=parent)
    live = read_one(KIND, aws, want.key, parents)
    delta = delta_of(KIND, want, live)
    assert delta.paths() == ["extra_log_groups", "log_group_by_arn"]
    KIND.update(aws, want, live, delta)
    assert delta_of(KIND, want, read_one(KIND, aws, want.key, parents)).paths() == []
    assert len(stored(aws)) == 1  # updated in place, not a second definition


def test_a_definition_rewritten_by_hand_with_names_is_seen_and_restored(aws: AwsContext) -> None:
    parent, parents = parent_and_scope(aws)
    want = desired_of(KIND, ONLY_ARNS, parent=parent)
    created = KIND.create(aws, want)
    aws.client("logs").put_query_definition(
        queryDefinitionId=created.handle,
        name=ONLY_ARNS["name"],
        queryString=ONLY_ARNS["query"],
        logGroupNames=[GROUP, SOURCE_GROUP],
    )
    live = read_one(KIND, aws, want.key, parents)
    delta = delta_of(KIND, want, live)
    assert delta.paths() == ["log_group_by_arn"]
    KIND.update(aws, want, live, delta)
    assert stored(aws)[0]["logGroupNames"] == [OWN_ARN, SOURCE_GROUP]


def test_another_accounts_log_group_first_is_not_this_one(aws: AwsContext) -> None:
    _, parents = parent_and_scope(aws)
    aws.client("logs").put_query_definition(
        name="source account's", queryString="fields @message", logGroupNames=[SOURCE_GROUP]
    )
    assert KIND.read(aws, [], ReadScope(aws.stack, parents)) == {}


def test_export_writes_the_arns_back(aws: AwsContext) -> None:
    parent, _ = parent_and_scope(aws)
    want = desired_of(KIND, ONLY_ARNS, parent=parent)
    KIND.create(aws, want)
    result = export(aws, aws.stack, Selection(kinds=("log_groups",), prefix=GROUP))
    (entry,) = result.entries["log_groups"]
    (definition,) = entry.children["query_definitions"]
    assert definition.config["log_group_by_arn"] is True
    assert definition.config["extra_log_groups"] == [SOURCE_GROUP]
    exported = KIND.canonical(QueryDefinitionSpec.model_validate(definition.config).model_dump(mode="json"))
    assert {k: exported[k] for k in ("extra_log_groups", "log_group_by_arn")} == {
        k: want.state[k] for k in ("extra_log_groups", "log_group_by_arn")
    }


@pytest.mark.parametrize(
    ("group", "message"),
    [
        (SOURCE_GROUP + ":*", "leave out the trailing ':\\*'"),
        (f"arn:aws:logs:{REGION}:prod:log-group:/x", "is not a log group ARN"),
        (f"arn:aws:sns:{REGION}:{SOURCE_ACCOUNT}:topic", "is not a log group ARN"),
    ],
)
def test_log_group_arns_are_checked(group: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        QueryDefinitionSpec.model_validate({**ERROR_QUERY, "extra_log_groups": [group]})
