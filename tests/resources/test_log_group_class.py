"""log_group_class on the emulator: created with the class, converged, a class set by hand is seen,
export writes it, and the class is never changed in place (AWS cannot: a replacement)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.logs import LogGroups, LogGroupSpec
from pacs_reconcile.resources.registry import KINDS

from .spec_cycle import actions, applied, plan_of

GROUPS: LogGroups = KINDS["log_groups"]  # type: ignore[assignment]
NAME = "/pacs/dicom-archive"


def desired(aws: AwsContext, **spec: object) -> Desired:
    state = GROUPS.canonical(LogGroupSpec.model_validate({"name": NAME, **spec}).model_dump(mode="json"))
    return Desired("log_groups.dicom", NAME, state, {OWNER_TAG: aws.stack})


@pytest.mark.parametrize("log_class", ["INFREQUENT_ACCESS", "DELIVERY", "STANDARD"])
def test_a_class_is_created_and_converges(aws: AwsContext, log_class: str) -> None:
    want = desired(aws, log_group_class=log_class)
    GROUPS.create(aws, want)
    described = aws.client("logs").describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]
    assert described["logGroupClass"] == log_class
    live = GROUPS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    assert diff_states(want.state, GROUPS.canonical(dict(live.state))).paths() == []
    assert aws.stats.mutating() == {"logs.CreateLogGroup": 1}


def test_a_class_set_by_hand_shows_at_its_path_and_forces_a_replacement(aws: AwsContext) -> None:
    aws.client("logs").create_log_group(logGroupName=NAME, logGroupClass="INFREQUENT_ACCESS")
    live = GROUPS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    delta = diff_states(desired(aws, log_group_class="STANDARD").state, GROUPS.canonical(dict(live.state)))
    assert delta.paths() == ["log_group_class"]
    assert any(delta.different_at(path) for path in GROUPS.meta.force_new)
    unmanaged = diff_states(desired(aws).state, GROUPS.canonical(dict(live.state)))
    assert unmanaged.paths() == [], "unset: the class is not managed"


def test_export_writes_the_class(aws: AwsContext) -> None:
    GROUPS.create(aws, desired(aws, log_group_class="INFREQUENT_ACCESS"))
    result = export(aws, aws.stack, Selection(kinds=("log_groups",), prefix=NAME))
    assert result.entries["log_groups"][0].config["log_group_class"] == "INFREQUENT_ACCESS"


def test_only_the_classes_aws_defines() -> None:
    with pytest.raises(ValidationError, match="INFREQUENT_ACCESS"):
        LogGroupSpec.model_validate({"name": NAME, "log_group_class": "COLD"})


def test_the_classes_are_the_apis() -> None:
    """STANDARD, INFREQUENT_ACCESS, DELIVERY and ESSENTIALS (CreateLogGroup logGroupClass, CloudWatch
    Logs API reference, as botocore's model lists them)."""
    from typing import get_args

    import botocore.session

    from pacs_reconcile.resources.logs import LogGroupClass

    model = botocore.session.get_session().get_service_model("logs")
    assert set(get_args(LogGroupClass)) == set(model.shape_for("LogGroupClass").enum)
    LogGroupSpec.model_validate({"name": NAME, "log_group_class": "ESSENTIALS"})


# A Delivery log group's retention is AWS's, fixed at two days and reported as retentionInDays 2; a
# retention policy is refused (aws/aws-cdk#38703, verified against the service; go-to-k/cdk-real-
# drift#1727; hashicorp/terraform-provider-aws#42658). CreateLogGroup: "Log events in log groups in
# the Delivery class are kept in CloudWatch Logs for only one day."


@pytest.mark.parametrize("retention", [30, "never"])
def test_a_delivery_group_takes_no_retention(retention: object) -> None:
    with pytest.raises(ValidationError, match="leave retention_days unset"):
        LogGroupSpec.model_validate(
            {"name": NAME, "log_group_class": "DELIVERY", "retention_days": retention}
        )


def test_the_emulator_fixes_a_delivery_groups_retention(aws: AwsContext) -> None:
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=NAME, logGroupClass="DELIVERY")
    assert logs.describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]["retentionInDays"] == 2
    with pytest.raises(logs.exceptions.InvalidParameterException, match="Delivery log class"):
        logs.put_retention_policy(logGroupName=NAME, retentionInDays=30)


def test_a_delivery_groups_fixed_retention_is_no_difference_and_not_exported(aws: AwsContext) -> None:
    want = desired(aws, log_group_class="DELIVERY")
    GROUPS.create(aws, want)
    live = GROUPS.read(aws, [NAME], ReadScope(aws.stack))[NAME]
    assert diff_states(want.state, GROUPS.canonical(dict(live.state))).paths() == []
    result = export(aws, aws.stack, Selection(kinds=("log_groups",), prefix=NAME))
    config = result.entries["log_groups"][0].config
    assert "retention_days" not in config, config
    LogGroupSpec.model_validate(config)


CLASSED = """\
version: 1
stack: pacs-test
log_groups:
  dicom:
    name: /pacs/dicom-archive
    log_group_class: {log_class}
"""


def test_the_plan_replaces_a_group_for_a_new_class_only_when_named(tmp_path: Path, aws: AwsContext) -> None:
    """The class cannot change in place and a log group holds data: plan refuses the replacement
    until the command names the group, then replaces it, and the new group has the new class."""
    applied(tmp_path, aws, CLASSED.format(log_class="INFREQUENT_ACCESS"))
    standard = CLASSED.format(log_class="STANDARD")
    assert actions(plan_of(tmp_path, aws, standard)) == {"log_groups.dicom": Action.REFUSED}
    named = plan_of(tmp_path, aws, standard, allow_destroy=("log_groups.dicom",))
    assert actions(named) == {"log_groups.dicom": Action.REPLACE}
    assert named.values is not None
    apply_plan(named, named.values, aws)
    described = aws.client("logs").describe_log_groups(logGroupNamePrefix=NAME)["logGroups"][0]
    assert described["logGroupClass"] == "STANDARD"
    assert actions(plan_of(tmp_path, aws, standard)) == {}
