"""Every taggable kind declares its tag API (`KindMeta.tag_api`), and the one generic
`Reconciler.update_tags` makes exactly the calls that API describes. Each declaration is checked
against botocore's model of the service (operations, parameter names, list or map shapes), so a
typo fails here, not on the first tag change against AWS."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from pacs_reconcile.diff import TagChanges
from pacs_reconcile.resources.base import Live
from pacs_reconcile.resources.kind import TagApi
from pacs_reconcile.resources.registry import KINDS, load_all

load_all()
TAGGED = sorted(kind for kind, reconciler in KINDS.items() if reconciler.meta.tag_api is not None)


def test_a_kind_is_taggable_exactly_when_it_declares_its_tag_api() -> None:
    wrong = {
        kind: reconciler.meta.taggable
        for kind, reconciler in KINDS.items()
        if reconciler.meta.taggable != (reconciler.meta.tag_api is not None)
    }
    assert wrong == {}, "taggable kinds need KindMeta.tag_api (and untaggable ones none)"


def _input(service: str, operation: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    names = {xform_name(name): name for name in model.operation_names}
    assert operation in names, f"{service} has no operation {operation}"
    return model.operation_model(names[operation]).input_shape


@pytest.mark.parametrize("kind", TAGGED)
def test_the_tag_api_matches_the_service_model(kind: str) -> None:
    api = KINDS[kind].meta.tag_api
    assert api is not None
    tag, untag = _input(api.service, api.tag_operation), _input(api.service, api.untag_operation)
    for shape in (tag, untag):
        resource = shape.members[api.resource_param]
        assert resource.type_name == ("list" if api.resource_in_list else "string"), (kind, resource)
        assert set(api.fixed_params) <= set(shape.members), kind
    tags = tag.members[api.tags_param]
    if api.tags_shape == "map":
        assert tags.type_name == "map", kind
    else:
        assert tags.type_name == "list" and set(api.tag_fields) <= set(tags.member.members), kind
    keys = untag.members[api.keys_param]
    assert keys.type_name == "list", kind
    if api.keys_shape == "tags":
        assert api.tag_fields[0] in keys.member.members, kind
    else:
        assert keys.member.type_name == "string", kind


class _Client:
    def __init__(self, calls: list[tuple[str, dict[str, Any]]]) -> None:
        self.calls = calls

    def __getattr__(self, operation: str) -> Any:
        return lambda **params: self.calls.append((operation, params))


class _Context:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.services: list[str] = []

    def client(self, service: str) -> _Client:
        self.services.append(service)
        return _Client(self.calls)


def _tagged(kind: str, live: Live) -> _Context:
    ctx = _Context()
    changes = TagChanges({"b": "2", "a": "1"}, ["old"])
    KINDS[kind].update_tags(ctx, live, changes)  # type: ignore[arg-type]
    return ctx


def test_ec2_shapes_tags_as_lists_by_resource_id() -> None:
    ctx = _tagged("security_groups", Live("web", {}, {}, {}, handle="sg-0123456789abcdef0"))
    assert ctx.services == ["ec2"]
    assert ctx.calls == [
        (
            "create_tags",
            {
                "Resources": ["sg-0123456789abcdef0"],
                "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
            },
        ),
        ("delete_tags", {"Resources": ["sg-0123456789abcdef0"], "Tags": [{"Key": "old"}]}),
    ]


def test_a_map_api_by_arn_attribute() -> None:
    arn = "arn:aws:logs:ap-northeast-2:123456789012:log-group:/app"
    ctx = _tagged("log_groups", Live("/app", {}, {"name": "/app", "arn": arn}, {}, handle="unused"))
    assert ctx.calls == [
        ("tag_resource", {"resourceArn": arn, "tags": {"a": "1", "b": "2"}}),
        ("untag_resource", {"resourceArn": arn, "tagKeys": ["old"]}),
    ]


def test_fixed_parameters_ride_on_every_call() -> None:
    ctx = _tagged("ssm_parameters", Live("/p", {}, {}, {}, handle="/p"))
    assert [params["ResourceType"] for _, params in ctx.calls] == ["Parameter", "Parameter"]
    assert ctx.calls[0][1]["Tags"] == [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_no_changes_no_call() -> None:
    ctx = _Context()
    KINDS["sns_topics"].update_tags(ctx, Live("t", {}, {}, {}, handle="arn"), TagChanges({}, []))  # type: ignore[arg-type]
    assert ctx.calls == []


def test_an_untaggable_kind_refuses() -> None:
    assert KINDS["metric_filters"].meta.tag_api is None
    with pytest.raises(NotImplementedError, match="metric_filters is not taggable"):
        KINDS["metric_filters"].update_tags(_Context(), Live("x", {}, {}), TagChanges({"a": "1"}, []))  # type: ignore[arg-type]


def test_tag_api_defaults_are_the_common_aws_shape() -> None:
    api = TagApi("sns", "tag_resource", "untag_resource", "ResourceArn")
    live = Live("t", {}, {}, {}, handle="arn:t")
    assert api.target(live) == {"ResourceArn": "arn:t"}
    assert api.tags({"k": "v"}) == {"Tags": [{"Key": "k", "Value": "v"}]}
    assert api.keys(["k"]) == {"TagKeys": ["k"]}
