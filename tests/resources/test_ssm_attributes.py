"""SSM parameter data types and the one-way tier: an AMI parameter (aws:ec2:image) converges, shows a
change at its path and round-trips through export; Advanced -> Standard is a replacement (PutParameter
cannot downgrade a tier), Standard -> Advanced an update."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.registry import KINDS
from pacs_reconcile.resources.ssm import ParameterSpec

from .exported import exported_state
from .spec_cycle import actions, applied, converges, plan_of

PARAMETERS = KINDS["ssm_parameters"]
NAME = "/pacs/ami/orthanc"
AMI = "ami-0123456789abcdef0"


def desired(aws: AwsContext, **spec: Any) -> Desired:
    config = {"name": NAME, "value": AMI, **spec}
    state = PARAMETERS.canonical(ParameterSpec.model_validate(config).model_dump(mode="json"))
    return Desired("ssm_parameters.ami", NAME, state, {OWNER_TAG: aws.stack})


def read(aws: AwsContext) -> Live:
    return PARAMETERS.read(aws, [NAME], ReadScope(aws.stack))[NAME]


def test_an_ami_parameter_converges_and_round_trips(aws: AwsContext) -> None:
    want = desired(aws, data_type="aws:ec2:image")
    PARAMETERS.create(aws, want)
    assert diff_states(want.state, PARAMETERS.canonical(dict(read(aws).state))).paths() == []
    assert aws.stats.mutating() == {"ssm.PutParameter": 1}
    exported, _ = exported_state(aws, "ssm_parameters", NAME)
    assert exported["data_type"] == "aws:ec2:image"


def test_a_data_type_changed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    want = desired(aws, data_type="aws:ec2:image")
    PARAMETERS.create(aws, want)
    aws.client("ssm").put_parameter(Name=NAME, Value=AMI, Type="String", DataType="text", Overwrite=True)
    live = read(aws)
    delta = diff_states(want.state, PARAMETERS.canonical(dict(live.state)))
    assert delta.paths() == ["data_type"]
    assert PARAMETERS.replacing_paths(delta) == []
    PARAMETERS.update(aws, want, live, delta)
    assert diff_states(want.state, PARAMETERS.canonical(dict(read(aws).state))).paths() == []


@pytest.mark.parametrize(
    ("before", "after", "replaced"), [("Advanced", "Standard", ["tier"]), ("Standard", "Advanced", [])]
)
def test_only_a_tier_downgrade_is_a_replacement(
    aws: AwsContext, before: str, after: str, replaced: list[str]
) -> None:
    PARAMETERS.create(aws, desired(aws, tier=before))
    delta = diff_states(desired(aws, tier=after).state, PARAMETERS.canonical(dict(read(aws).state)))
    assert delta.paths() == ["tier"]
    assert PARAMETERS.replacing_paths(delta) == replaced


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"data_type": "aws:ec2:image", "value": "not-an-ami"}, "AMI id"),
        ({"data_type": "aws:ec2:image", "type": "SecureString"}, "only to type String"),
        ({"data_type": "aws:ssm:integration"}, "text"),
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        ParameterSpec.model_validate({"name": NAME, "value": AMI, **spec})


def intelligent(aws: AwsContext, value: str) -> Desired:
    """A parameter asking for Intelligent-Tiering, as apply hands it over (the spec entry kept)."""
    config = {"name": NAME, "value": value, "tier": "Intelligent-Tiering"}
    state = PARAMETERS.canonical(ParameterSpec.model_validate(config).model_dump(mode="json"))
    return Desired("ssm_parameters.ami", NAME, state, {OWNER_TAG: aws.stack}, config=config)


LARGE = "x" * 5000
"""Over the standard tier's 4 KB: Intelligent-Tiering picks Advanced."""


@pytest.mark.parametrize(("value", "chosen"), [(AMI, "Standard"), (LARGE, "Advanced")])
def test_intelligent_tiering_converges_on_the_tier_aws_chose(
    aws: AwsContext, value: str, chosen: str
) -> None:
    """AWS reports the tier Intelligent-Tiering chose (Standard, or Advanced for a value over 4 KB),
    never Intelligent-Tiering: that is no difference, and nothing is written again."""
    want = intelligent(aws, value)
    created = PARAMETERS.create(aws, want)
    live = read(aws)
    assert live.state["tier"] == created.state["tier"] == chosen
    assert diff_states(want.state, PARAMETERS.canonical(dict(live.state))).paths() == []
    request = aws.client("ssm").describe_parameters()["Parameters"][0]
    assert request["Tier"] == chosen
    exported, _ = exported_state(aws, "ssm_parameters", NAME)
    assert exported["tier"] == chosen  # what AWS reports; applying it changes nothing
    unsecret = {**exported, "value": None}  # export writes values as variables
    assert diff_states(unsecret, PARAMETERS.canonical(dict(live.state))).paths() == []


def test_intelligent_tiering_follows_a_value_that_grows_and_never_asks_for_a_downgrade(
    aws: AwsContext,
) -> None:
    PARAMETERS.create(aws, intelligent(aws, AMI))
    # Out of band: the value grown by hand (the parameter moved to Advanced to hold it).
    aws.client("ssm").put_parameter(Name=NAME, Value=LARGE, Type="String", Tier="Advanced", Overwrite=True)
    want = intelligent(aws, AMI)
    live = read(aws)
    delta = diff_states(want.state, PARAMETERS.canonical(dict(live.state)))
    assert delta.paths() == ["value"]  # no tier difference, so no replacement
    assert PARAMETERS.replacing_paths(delta) == []
    updated = PARAMETERS.update(aws, want, live, delta)
    assert read(aws).state["tier"] == updated.state["tier"] == "Advanced"  # AWS never downgrades
    assert diff_states(want.state, PARAMETERS.canonical(dict(read(aws).state))).paths() == []
    # A value that needs Advanced is sent with Intelligent-Tiering, and AWS upgrades the tier.
    PARAMETERS.delete(aws, read(aws))
    PARAMETERS.create(aws, intelligent(aws, AMI))
    bigger = intelligent(aws, LARGE)
    live = read(aws)
    updated = PARAMETERS.update(aws, bigger, live, diff_states(bigger.state, live.state))
    assert read(aws).state["tier"] == updated.state["tier"] == "Advanced"


def test_a_value_up_to_8_kb_fits_intelligent_tiering() -> None:
    assert ParameterSpec.model_validate({"name": NAME, "value": LARGE, "tier": "Intelligent-Tiering"})
    with pytest.raises(ValidationError, match="over the 8192-byte limit of tier Intelligent-Tiering"):
        ParameterSpec.model_validate({"name": NAME, "value": "x" * 8193, "tier": "Intelligent-Tiering"})
    with pytest.raises(ValidationError, match="over the 4096-byte limit of tier Standard"):
        ParameterSpec.model_validate({"name": NAME, "value": LARGE, "tier": "Standard"})


TIERED = """\
version: 1
stack: pacs-test
ssm_parameters:
  ami:
    name: /pacs/ami/orthanc
    value: ami-0123456789abcdef0
    tier: {tier}
"""


def test_the_plan_says_replace_for_a_downgrade_and_the_apply_makes_a_standard_parameter(
    tmp_path: Path, aws: AwsContext
) -> None:
    """PutParameter cannot move a parameter from Advanced to Standard: plan shows a replacement
    at `tier`, not an update, and the apply converges on a Standard parameter."""
    applied(tmp_path, aws, TIERED.format(tier="Advanced"))
    plan = plan_of(tmp_path, aws, TIERED.format(tier="Standard"))
    assert actions(plan) == {"ssm_parameters.ami": Action.REPLACE}
    converges(tmp_path, aws, TIERED.format(tier="Standard"))
    assert read(aws).state["tier"] == "Standard"
    upgrade = plan_of(tmp_path, aws, TIERED.format(tier="Advanced"))
    assert actions(upgrade) == {"ssm_parameters.ami": Action.UPDATE}, "an upgrade is in place"
