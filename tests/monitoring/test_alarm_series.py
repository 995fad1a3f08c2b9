"""The series an anomaly detection alarm compares with its band."""

from __future__ import annotations

from typing import Any

import pytest

from pacs_reconcile.monitoring.alarm_eval import SimulationError
from pacs_reconcile.monitoring.alarm_series import evaluated_series


def band_alarm(metric_returns: bool) -> dict[str, Any]:
    return {
        "threshold_metric_id": "ad1",
        "metrics": [
            {"id": "ad1", "expression": "ANOMALY_DETECTION_BAND(m1, 2)", "return_data": True},
            {"id": "m1", "metric": {"stat": "Sum"}, "return_data": metric_returns},
        ],
    }


def test_the_metric_is_compared_when_both_the_band_and_the_metric_return_data() -> None:
    # AWS requires both to return data (hashicorp/terraform-provider-aws#42504): the band listed
    # first must not be taken for the compared series.
    assert evaluated_series(band_alarm(metric_returns=True), by_id={"m1": [5.0, 15.0]}) == [5.0, 15.0]


def test_a_band_alone_returning_data_is_refused() -> None:
    with pytest.raises(SimulationError, match="return the metric instead"):
        evaluated_series(band_alarm(metric_returns=False), by_id={"m1": [5.0]})
