"""The alarm settings CloudWatch added lately (PutMetricAlarm EvaluationWindow, WarmUpConfiguration,
ActionConfiguration.AlarmTagsPropagation) on the emulator: expressible, converged, a change shows at
its path, one made by hand is seen and restored, export writes it back, and AWS's defaults (an
omitted window is a sliding one; OnlyStartEvaluatingAfterWarmUpPeriodEnds false) are no difference."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.emulator.demo import alarm_put_arguments
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.cloudwatch import AlarmSpec

from .test_alarms import ALARMS, band_alarm, describe, desired, math_alarm, paths, read_one, simple_alarm

SETTINGS: dict[str, dict[str, Any]] = {
    "evaluation_window": {"type": "wall_clock", "timezone": "Asia/Seoul"},
    "warm_up": {"minutes": 15, "wait_full_period": True},
    "tag_propagation": {"enabled": True, "include": ["Team", "Environment"]},
}


@pytest.mark.parametrize("shape", ["single", "math", "band"])
def test_every_setting_converges_on_every_alarm_shape(aws: AwsContext, shape: str) -> None:
    config = {"single": simple_alarm(), "math": math_alarm(), "band": band_alarm()}[shape]
    want = desired({**config, **SETTINGS})
    ALARMS.create(aws, want)
    assert paths(want, read_one(aws, want.key)) == []
    sent = describe(aws, want.key)
    assert sent["EvaluationWindow"] == {"WallClockWindow": {"Timezone": "Asia/Seoul"}}
    assert sent["WarmUpConfiguration"] == {
        "WarmUpPeriodDurationInMinutes": 15,
        "OnlyStartEvaluatingAfterWarmUpPeriodEnds": True,
    }
    assert sent["ActionConfiguration"]["AlarmTagsPropagation"]["IncludedTagKeys"] == ["Environment", "Team"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("evaluation_window", {"type": "sliding"}),
        ("warm_up", {"minutes": 15}),
        ("tag_propagation", {"enabled": False}),
    ],
)
def test_aws_defaults_are_no_difference(aws: AwsContext, field: str, value: dict[str, Any]) -> None:
    """An alarm made without these settings reads as a sliding window; a warm-up sent without
    wait_full_period reads as false."""
    want = desired(simple_alarm(**{field: value}))
    ALARMS.create(aws, want)
    assert paths(want, read_one(aws, want.key)) == []
    plain = desired(simple_alarm(name="pacs-plain"))
    ALARMS.create(aws, plain)
    assert read_one(aws, plain.key).state["evaluation_window"] == {"type": "sliding", "timezone": None}
    assert (
        paths(
            desired(simple_alarm(name="pacs-plain", evaluation_window={"type": "sliding"})),
            read_one(aws, plain.key),
        )
        == []
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("evaluation_window", {"type": "wall_clock", "timezone": "UTC+05:30"}),
        ("warm_up", {"minutes": 30, "wait_full_period": True}),
        ("tag_propagation", {"enabled": True, "exclude": ["Owner"]}),
    ],
)
def test_a_change_shows_at_its_path_and_converges(aws: AwsContext, field: str, value: dict[str, Any]) -> None:
    ALARMS.create(aws, desired({**simple_alarm(), **SETTINGS}))
    moved = desired({**simple_alarm(), **SETTINGS, field: value})
    live = read_one(aws, moved.key)
    delta = diff_states(moved.state, live.state)
    assert {p.split(".")[0] for p in delta.paths()} == {field}
    ALARMS.update(aws, moved, live, delta)
    assert paths(moved, read_one(aws, moved.key)) == []


def test_settings_removed_by_hand_are_seen_and_restored(aws: AwsContext) -> None:
    want = desired({**simple_alarm(), **SETTINGS})
    ALARMS.create(aws, want)
    # By hand: the alarm put again from what DescribeAlarms shows, without the newer settings.
    aws.client("cloudwatch").put_metric_alarm(**alarm_put_arguments(describe(aws, want.key)))
    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert sorted({p.split(".")[0] for p in delta.paths()}) == sorted(SETTINGS)
    ALARMS.update(aws, want, live, delta)
    assert paths(want, read_one(aws, want.key)) == []


def test_unset_settings_are_kept_when_another_field_changes(aws: AwsContext) -> None:
    """Not managed means not cleared: PutMetricAlarm replaces everything, so updates resend them."""
    ALARMS.create(aws, desired({**simple_alarm(), **SETTINGS}))
    unmanaged = desired(simple_alarm(threshold=20))
    live = read_one(aws, unmanaged.key)
    ALARMS.update(aws, unmanaged, live, diff_states(unmanaged.state, live.state))
    after = read_one(aws, unmanaged.key).state
    assert {field: after[field] for field in SETTINGS} == {field: live.state[field] for field in SETTINGS}
    assert after["threshold"] == 20.0


def test_export_writes_the_settings_back(aws: AwsContext) -> None:
    want = desired({**simple_alarm(), **SETTINGS})
    ALARMS.create(aws, want)
    result = export(aws, aws.stack, Selection(kinds=("alarms",), prefix=want.key))
    (entry,) = result.entries["alarms"]
    exported = ALARMS.canonical(AlarmSpec.model_validate(entry.config).model_dump(mode="json"))
    assert diff_states(want.state, exported).paths() == []
    assert entry.config["warm_up"] == {"minutes": 15, "wait_full_period": True}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"evaluation_window": {"type": "sliding", "timezone": "UTC"}}, "only to a wall_clock window"),
        ({"evaluation_window": {"type": "tumbling"}}, "sliding"),
        ({"warm_up": {"minutes": 0}}, "greater than or equal to 1"),
        ({"warm_up": {"minutes": 2881}}, "less than or equal to 2880"),
        (
            {"tag_propagation": {"enabled": True, "include": ["a"], "exclude": ["b"]}},
            "at most one of include",
        ),
        ({"tag_propagation": {"enabled": True, "include": []}}, "at least 1"),
        ({"tag_propagation": {"enabled": True, "include": ["x" * 129]}}, "at most 128"),
    ],
)
def test_domains(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AlarmSpec.model_validate({**simple_alarm(), **settings})


def test_an_update_of_an_alarm_on_the_default_window_sends_no_window(aws: AwsContext) -> None:
    """Omitted means sliding: an unrelated update does not start sending EvaluationWindow (a
    partition where the setting is not launched yet would refuse the parameter)."""
    ALARMS.create(aws, desired(simple_alarm()))
    changed = desired(simple_alarm(threshold=20))
    live = read_one(aws, changed.key)
    sent: list[dict[str, Any]] = []
    aws.client("cloudwatch").meta.events.register(
        "provide-client-params.monitoring.PutMetricAlarm", lambda params, **_: sent.append(dict(params))
    )
    ALARMS.update(aws, changed, live, diff_states(changed.state, live.state))
    assert [("EvaluationWindow" in request) for request in sent] == [False]
