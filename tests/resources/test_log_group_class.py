"""log_group_class on the emulator: created with the class, converged, a class set by hand is seen,
export writes it, and the class is never changed in place (AWS cannot: a replacement)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import Desired, ReadScope
from pacs_reconcile.resources.logs import LogGroups, LogGroupSpec
from pacs_reconcile.resources.registry import KINDS

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
