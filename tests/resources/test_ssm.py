"""SSM parameters against moto: the cycle with a SecureString compared decrypted, PutParameter's
tags-or-overwrite rule, batched reads, and a secret that never shows in a message or repr."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.ssm import Parameters, ParameterSpec

PARAMETERS = Parameters()
NAME = "/pacs/grafana/admin-password"
SECRET = "Sup3r-S3cret-Gr4fana!"


def desired_of(aws: AwsContext, **spec: Any) -> Desired:
    state = ParameterSpec.model_validate(
        {"name": NAME, "value": SECRET, "type": "SecureString", **spec}
    ).model_dump(mode="json")
    return Desired("ssm_parameters.test", state["name"], state, {OWNER_TAG: aws.stack, "Name": "grafana"})


def delta_of(desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, live.state)


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return PARAMETERS.read(aws, list(names), ReadScope(aws.stack))


def ssm(aws: AwsContext) -> Any:
    return aws.client("ssm")


def recorded_requests(aws: AwsContext, operation: str) -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = []
    ssm(aws).meta.events.register(
        f"provide-client-params.ssm.{operation}", lambda params, **_: requests.append(dict(params))
    )
    return requests


def test_kind_is_registered_with_its_metadata() -> None:
    kind = KINDS["ssm_parameters"]
    assert isinstance(kind, Parameters) and kind.meta.taggable
    assert kind.meta.sensitive_fields == frozenset({"value"})
    assert set(kind.meta.attributes) == {"name", "arn", "value_sha256"}


def test_secure_string_create_read_drift_update_delete(aws: AwsContext) -> None:
    desired = desired_of(aws, description="Grafana admin password")
    created = PARAMETERS.create(aws, desired)
    assert created.attrs == {"name": NAME, "arn": f"arn:aws:ssm:ap-northeast-2:123456789012:parameter{NAME}"}
    assert aws.stats.mutating() == {"ssm.PutParameter": 1}, "tags go in the create call"

    live = read(aws, NAME)[NAME]
    assert delta_of(desired, live).paths() == []
    assert live.state["key_id"] == "alias/aws/ssm"
    assert live.tags == desired.tags

    # By hand: a new value, another description, a tag removed.
    ssm(aws).put_parameter(
        Name=NAME, Value="changed-by-hand", Type="SecureString", Overwrite=True, Description="edited"
    )
    ssm(aws).remove_tags_from_resource(ResourceType="Parameter", ResourceId=NAME, TagKeys=["Name"])
    drifted = read(aws, NAME)[NAME]
    delta = delta_of(desired, drifted)
    assert delta.paths() == ["value", "description"]
    tag_changes = compare_tags(drifted.tags, desired.tags)
    assert tag_changes.to_set == {"Name": "grafana"}

    puts = recorded_requests(aws, "PutParameter")
    PARAMETERS.update(aws, desired, drifted, delta)
    PARAMETERS.update_tags(aws, drifted, tag_changes)
    assert len(puts) == 1 and puts[0]["Overwrite"] is True
    assert "Tags" not in puts[0], "AWS refuses Tags together with Overwrite"

    fixed = read(aws, NAME)[NAME]
    assert delta_of(desired, fixed).paths() == []
    assert fixed.tags == desired.tags
    assert ssm(aws).get_parameter(Name=NAME, WithDecryption=True)["Parameter"]["Value"] == SECRET

    PARAMETERS.delete(aws, fixed)
    assert read(aws, NAME) == {}
    PARAMETERS.delete(aws, fixed)  # already gone: quiet


def test_an_unmanaged_key_is_kept_when_the_value_changes(aws: AwsContext) -> None:
    ssm(aws).put_parameter(Name=NAME, Value="old", Type="SecureString", KeyId="alias/pacs")
    desired = desired_of(aws)
    live = read(aws, NAME)[NAME]
    assert delta_of(desired, live).paths() == ["value"], "key_id unset: not compared"
    puts = recorded_requests(aws, "PutParameter")
    PARAMETERS.update(aws, desired, live, delta_of(desired, live))
    assert puts[0]["KeyId"] == "alias/pacs"


def test_read_finds_owned_parameters_by_arn_and_requested_ones_with_their_tags(aws: AwsContext) -> None:
    for name in ("plain", "/top", "/pacs/owned"):  # "parameter/top" in an ARN could be "top" or "/top"
        ssm(aws).put_parameter(
            Name=name, Value="v", Type="String", Tags=[{"Key": OWNER_TAG, "Value": aws.stack}]
        )
    ssm(aws).put_parameter(
        Name="/pacs/unowned", Value="v", Type="String", Tags=[{"Key": "Team", "Value": "pacs"}]
    )
    ssm(aws).put_parameter(
        Name="/pacs/other", Value="v", Type="String", Tags=[{"Key": OWNER_TAG, "Value": "other"}]
    )

    found = read(aws, "/pacs/unowned", "/pacs/absent")

    assert set(found) == {"plain", "/top", "/pacs/owned", "/pacs/unowned"}
    assert found["/pacs/unowned"].tags == {"Team": "pacs"}
    assert found["/top"].tags == {OWNER_TAG: aws.stack}


def test_reads_are_batched_by_ten_and_fifty(aws: AwsContext) -> None:
    names = [f"/pacs/p{i:02d}" for i in range(12)]
    for name in names:
        ssm(aws).put_parameter(Name=name, Value="v", Type="String", Description=f"about {name}")
    describes = recorded_requests(aws, "DescribeParameters")
    before = dict(aws.stats.calls)

    found = read(aws, *names)

    assert {n: live.state["description"] for n, live in found.items()} == {n: f"about {n}" for n in names}
    assert aws.stats.calls["ssm.GetParameters"] - before.get("ssm.GetParameters", 0) == 2
    # One filter of up to 50 names, 50 a page (moto pages by 10 whatever is asked: the paginator follows).
    assert describes[0]["MaxResults"] == 50
    assert describes[0]["ParameterFilters"][0]["Values"] == sorted(names)


def test_a_secret_never_shows_in_a_validation_error_or_a_repr() -> None:
    too_long = SECRET * 300
    with pytest.raises(ValidationError) as error:
        ParameterSpec.model_validate({"name": NAME, "value": too_long, "type": "SecureString"})
    assert "over the 4096-byte limit" in str(error.value)
    assert SECRET not in str(error.value)
    with pytest.raises(ValidationError) as error:
        ParameterSpec.model_validate({"name": NAME, "value": SECRET, "type": "Secret"})
    assert SECRET not in str(error.value)
    spec = ParameterSpec.model_validate({"name": NAME, "value": SECRET, "type": "SecureString"})
    assert SECRET not in repr(spec)
    assert SECRET not in repr(Live(NAME, spec.model_dump(), {}, {}, NAME))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"name": "pacs/grafana"}, "starts with '/'"),
        ({"name": "/aws/reserved"}, "reserved by AWS"),
        ({"name": "ssm-thing"}, "reserved by AWS"),
        ({"name": "/pacs//x"}, "no empty level"),
        ({"name": "/pacs/a b"}, "only letters, digits"),
        ({"type": "String", "key_id": "alias/x"}, "only to type SecureString"),
        ({"tier": "Advanced", "value": "x" * 8193}, "8192-byte limit of tier Advanced"),
        ({"tier": "Archive"}, "Intelligent-Tiering"),  # the three tiers PutParameter takes
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        ParameterSpec.model_validate({"name": NAME, "value": "v", "type": "SecureString", **spec})


def test_references_in_a_value_are_not_checked_before_they_resolve() -> None:
    spec = ParameterSpec.model_validate({"name": "/pacs/efs-id", "value": "${efs_file_systems.x.id}"})
    assert spec.value == "${efs_file_systems.x.id}"
