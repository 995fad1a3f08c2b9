"""How much work the planner does per declared entry, counted (not timed): the CPU it saves is
measured in BENCHMARKS.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from pacs_reconcile.diff import UNKNOWN
from pacs_reconcile.engine import plan
from pacs_reconcile.engine.values import Values
from pacs_reconcile.spec.loader import load_spec

SPEC = """\
version: 1
stack: plan-work
region: ap-northeast-2
sns_topics:
  alerts:
    name: plan-work-alerts
alarms:
  errors:
    name: plan-work-errors
    metric: {name: Errors, namespace: PACS/Application, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanOrEqualToThreshold
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
"""


class _ReadResults:
    """What the planner asks of the run's context once the reads are done: the results the kinds'
    reads shared (ctx.memo; here none were read, so each is made empty). No AWS client."""

    def __init__(self) -> None:
        self._memo: dict[str, Any] = {}

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        return self._memo.setdefault(key, compute())


def test_each_declared_entry_is_resolved_once(tmp_path: Path) -> None:
    """Resolving an entry's references walks its whole config; the planner did it twice per entry
    (to decide its change, then to record what dependents may reference)."""
    (tmp_path / "monitoring.yaml").write_text(SPEC)
    spec = load_spec(tmp_path / "monitoring.yaml")
    with mock.patch.object(Values, "desired", autospec=True, side_effect=Values.desired) as desired:
        planner = plan._Planner(spec, _ReadResults(), plan.PlanOptions(), set(spec.resources), {}, {})  # type: ignore[arg-type]
        changes = planner.changes()
    resolved = Counter(call.args[1].address for call in desired.call_args_list)
    assert {c.address: c.action for c in changes} == {
        "sns_topics.alerts": plan.Action.CREATE,
        "alarms.errors": plan.Action.CREATE,
    }
    assert resolved == {"sns_topics.alerts": 1, "alarms.errors": 1}
    # what dependents may reference is still recorded: the topic's name from the spec, its ARN
    # known after apply
    assert planner.values.resources["sns_topics.alerts"]["name"] == "plan-work-alerts"
    assert planner.values.resources["sns_topics.alerts"]["arn"] is UNKNOWN
