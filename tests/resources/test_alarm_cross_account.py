"""Cross-account metric items (MetricDataQuery.AccountId) on the emulator: expressible, converged,
a change shows at `metrics`, one made by hand is seen and restored, and export writes it back."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.emulator.demo import alarm_put_arguments
from pacs_reconcile.export import Selection, export
from pacs_reconcile.resources.cloudwatch import AlarmSpec

from .test_alarms import ALARMS, band_alarm, desired, math_alarm, paths, read_one

PRODUCTION_ACCOUNT = "210987654321"


def cross_account(config: dict[str, Any], account: str = PRODUCTION_ACCOUNT) -> dict[str, Any]:
    out = copy.deepcopy(config)
    for item in out["metrics"]:
        if "metric" in item:
            item["account_id"] = account
    return out


@pytest.mark.parametrize("config", [math_alarm(), band_alarm()], ids=["metric-math", "anomaly-band"])
def test_cross_account_items_converge(aws: AwsContext, config: dict[str, Any]) -> None:
    want = desired(cross_account(config))
    ALARMS.create(aws, want)
    live = read_one(aws, want.key)
    assert paths(want, live) == []
    assert {q["account_id"] for q in live.state["metrics"] if q["metric"]} == {PRODUCTION_ACCOUNT}
    sent = aws.client("cloudwatch").describe_alarms(AlarmNames=[want.key])["MetricAlarms"][0]["Metrics"]
    assert {q.get("AccountId") for q in sent if "MetricStat" in q} == {PRODUCTION_ACCOUNT}


def test_a_changed_account_shows_and_converges(aws: AwsContext) -> None:
    ALARMS.create(aws, desired(cross_account(math_alarm())))
    moved = desired(cross_account(math_alarm(), "111122223333"))
    live = read_one(aws, moved.key)
    delta = diff_states(moved.state, live.state)
    assert delta.paths() == ["metrics"]
    ALARMS.update(aws, moved, live, delta)
    assert paths(moved, read_one(aws, moved.key)) == []


def test_an_account_removed_by_hand_is_seen_and_restored(aws: AwsContext) -> None:
    want = desired(cross_account(math_alarm()))
    ALARMS.create(aws, want)
    cloudwatch = aws.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[want.key])["MetricAlarms"][0]
    metrics = [{k: v for k, v in q.items() if k != "AccountId"} for q in alarm["Metrics"]]
    cloudwatch.put_metric_alarm(
        **alarm_put_arguments(alarm, Metrics=metrics, DatapointsToAlarm=alarm["DatapointsToAlarm"])
    )
    live = read_one(aws, want.key)
    delta = diff_states(want.state, live.state)
    assert delta.paths() == ["metrics"]
    ALARMS.update(aws, want, live, delta)
    assert paths(want, read_one(aws, want.key)) == []


def test_export_writes_the_account_back(aws: AwsContext) -> None:
    want = desired(cross_account(math_alarm()))
    ALARMS.create(aws, want)
    result = export(aws, aws.stack, Selection(kinds=("alarms",), prefix=want.key))
    (entry,) = result.entries["alarms"]
    exported = ALARMS.canonical(AlarmSpec.model_validate(entry.config).model_dump(mode="json"))
    assert diff_states(want.state, exported).paths() == []
    assert [q.get("account_id") for q in entry.config["metrics"] if "metric" in q] == [PRODUCTION_ACCOUNT] * 2


def test_an_account_id_is_twelve_digits() -> None:
    with pytest.raises(ValidationError, match="account_id"):
        AlarmSpec.model_validate(cross_account(math_alarm(), "prod"))
