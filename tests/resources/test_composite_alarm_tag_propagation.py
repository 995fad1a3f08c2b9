"""A composite alarm's tag propagation (PutCompositeAlarm ActionConfiguration.AlarmTagsPropagation,
CloudWatch API reference: the composite alarm takes it as metric alarms do) on the emulator:
converges, a change shows at `tag_propagation`, one removed by hand is seen and restored, one the
spec leaves unset is kept by an update, export writes it back, and its domain is checked."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.base import ReadScope
from pacs_reconcile.resources.composite_alarms import CompositeAlarmSpec

from .spec_cycle import repaired_by_hand_change
from .test_composite_alarms import COMPOSITE, NAME, _put, desired

PROPAGATION = {"enabled": True, "include": ["Team", "Environment"]}


def read(aws: AwsContext) -> Any:
    return COMPOSITE.read(aws, [NAME], ReadScope(aws.stack))[NAME]


def test_tag_propagation_converges_and_a_change_shows_at_its_path(aws: AwsContext) -> None:
    want = desired(aws, tag_propagation=PROPAGATION)
    COMPOSITE.create(aws, want)
    (alarm,) = aws.client("cloudwatch").describe_alarms(AlarmNames=[NAME], AlarmTypes=["CompositeAlarm"])[
        "CompositeAlarms"
    ]
    assert alarm["ActionConfiguration"] == {
        "AlarmTagsPropagation": {"Enabled": True, "IncludedTagKeys": ["Environment", "Team"]}
    }
    assert diff_states(want.state, read(aws).state).paths() == []
    other = desired(aws, tag_propagation={"enabled": True, "exclude": ["Secret"]})
    delta = diff_states(other.state, read(aws).state)
    assert {p.split(".")[0] for p in delta.paths()} == {"tag_propagation"}
    COMPOSITE.update(aws, other, read(aws), delta)
    assert diff_states(other.state, read(aws).state).paths() == []


def test_tag_propagation_removed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    want = desired(aws, tag_propagation=PROPAGATION)
    repaired_by_hand_change(COMPOSITE, aws, want, lambda aws: _put(aws), "tag_propagation")


def test_unset_is_not_managed_and_kept_by_an_update(aws: AwsContext) -> None:
    COMPOSITE.create(aws, desired(aws, tag_propagation=PROPAGATION))
    want = desired(aws, actions_enabled=False)
    live = read(aws)
    assert diff_states(want.state, live.state).paths() == ["actions_enabled"]
    COMPOSITE.update(aws, want, live, diff_states(want.state, live.state))
    assert read(aws).state["tag_propagation"] == {
        "enabled": True,
        "include": ["Environment", "Team"],
        "exclude": None,
    }


def test_export_writes_tag_propagation_back(aws: AwsContext) -> None:
    COMPOSITE.create(aws, desired(aws, tag_propagation=PROPAGATION))
    result = export(aws, aws.stack, Selection(kinds=("composite_alarms",), prefix=NAME))
    (entry,) = result.entries["composite_alarms"]
    assert entry.config["tag_propagation"] == {"enabled": True, "include": ["Environment", "Team"]}
    assert CompositeAlarmSpec.model_validate(entry.config).tag_propagation is not None


def test_include_and_exclude_are_exclusive() -> None:
    both = {"enabled": True, "include": ["A"], "exclude": ["B"]}
    with pytest.raises(ValidationError, match="at most one of include and exclude"):
        CompositeAlarmSpec.model_validate({"name": NAME, "alarm_rule": "TRUE", "tag_propagation": both})
