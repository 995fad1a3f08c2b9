"""CloudWatch: metric alarms and dashboards.

Alarms: DescribeAlarms reads up to 100 names a call; their tags, and the owned alarms nobody asked
for, come from the run's one Resource Groups Tagging API sweep (read at the same time as the
declared alarms). PutMetricAlarm replaces the whole configuration and ignores Tags on update, so
updates send everything and tags go through TagResource/UntagResource.

Dashboards are global (ARN without a region) and the tagging API does not list them (only
CloudWatch's own ListTagsForResource reads their tags). The stack's ownership index
(`dashboard_index`, one SSM parameter) names the dashboards it owns: the read asks the declared
dashboards and the index's entries for their tags, and for their bodies unless the version record
(`dashboard_versions`, read in the same GetParameters) shows a declared one unchanged since this
stack saw it (one ListDashboards, 1,000 a page): 1 + (those dashboards) + 1 + (bodies changed)
calls, whatever else the account holds. Without a trustworthy index (missing, disagreeing with the tags,
or `plan --full-scan`) it lists every dashboard and asks each one for its tags: 1 + (dashboards in
the account) + (dashboards read). Bodies compare as parsed JSON.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import Delta, TagChanges, canonical_json, sorted_unique, tags_from_list, tags_to_list
from ..errors import AwsError, ReconcileError
from ..hints import InvalidValue, nearest_numbers
from ..monitoring.examples import AlarmExample
from . import dashboard_index, dashboard_versions
from ._fields import StandardUnit
from ._namesakes import NamesakeLooks, namesake_looks
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    batched,
    both,
    claim_after_lost_create,
    concurrently,
    error_code,
    gone_is_fine,
    memo_until_write,
    names_with_prefix,
    owned_of,
    read_pages,
    set_parameters,
    unless_gone,
)
from .dashboard_body import validate_dashboard_body
from .kind import KindActions, KindMeta, TagApi
from .registry import register

DESCRIBE_ALARMS_BATCH = 100
"""AlarmNames accepts at most 100 names per DescribeAlarms call, and MaxRecords at most 100 (asked
for explicitly: a smaller default page would split every batch in two)."""

# Spec vocabulary ------------------------------------------------------------------------------

Statistic = Literal["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
STATISTICS: tuple[str, ...] = get_args(Statistic)
Comparison = Literal[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
]
BAND_COMPARISONS = frozenset(
    {"LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"}
)
"""Comparisons against an anomaly detection band (threshold_metric_id), not a static threshold."""
TreatMissingData = Literal["missing", "notBreaching", "breaching", "ignore"]

_NUMBER = r"-?\d+(?:\.\d+)?"
_PERCENT = r"\d+(?:\.\d{1,10})?%"
_BOUND = rf"(?:{_PERCENT}|{_NUMBER})"
_SHORTHAND_STAT = re.compile(r"^(?:p|tm|wm|tc|ts)(\d+(?:\.\d{1,10})?)$")
_RANGE_STAT = re.compile(rf"^(?:TM|WM|TC|TS)\(({_BOUND})?:({_BOUND})?\)$")
_RANK_STAT = re.compile(rf"^PR\(({_NUMBER})?:({_NUMBER})?\)$")
EXTENDED_STAT_HINT = (
    "a percentile like p99 or p99.9, tm90, wm90, tc90, ts90, IQM, TM(10%:90%) or PR(100:2000)"
)

_ACTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:(?:sns|autoscaling|automate|swf|lambda|ssm|ssm-incidents|aiops)"
    r":[a-z0-9-]*:(?:\d{12}|ec2)?:\S+$"
)
_QUERY_ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
ACTION_FIELDS = ("alarm_actions", "ok_actions", "insufficient_data_actions")


def is_extended_statistic(value: str) -> bool:
    """p99, tm90, IQM, TM(10%:90%), PR(:300)... as CloudWatch's statistics definitions spell them."""
    shorthand = _SHORTHAND_STAT.match(value)
    if shorthand:
        return 0 <= float(shorthand.group(1)) <= 100
    ranged = _RANGE_STAT.match(value) or _RANK_STAT.match(value)
    if ranged:
        bounds = [b for b in ranged.groups() if b is not None]
        return bool(bounds) and all(float(b.rstrip("%")) <= 100 for b in bounds if b.endswith("%"))
    return value == "IQM"


def _check_extended_statistic(value: str) -> str:
    if not is_extended_statistic(value):
        raise ValueError(f"{value!r} is not an extended statistic; use {EXTENDED_STAT_HINT}")
    return value


def _check_any_statistic(value: str) -> str:
    if value not in STATISTICS and not is_extended_statistic(value):
        raise ValueError(f"{value!r} is not a statistic; use {', '.join(STATISTICS)} or {EXTENDED_STAT_HINT}")
    return value


def _check_period(value: int) -> int:
    if value in (10, 20, 30) or (value > 0 and value % 60 == 0):
        return value
    below = max(60, value - value % 60) if value > 30 else 10
    candidates = sorted({10, 20, 30, below, below + 60})
    raise InvalidValue("must be 10, 20, 30 or a multiple of 60 seconds", nearest_numbers(value, candidates))


def _check_dimensions(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 30:
        raise ValueError("at most 30 dimensions")
    for name, dim_value in value.items():
        if not 1 <= len(name) <= 255:
            raise ValueError(f"dimension name {name[:40]!r} must be 1 to 255 characters")
        if not 1 <= len(dim_value) <= 1024:
            raise ValueError(f"the value of dimension {name!r} must be 1 to 1024 characters")
    return value


def _check_action_arn(value: str) -> str:
    if is_unresolved(value) or _ACTION_ARN.match(value):
        return value
    raise ValueError(
        f"{value!r} is not an alarm action ARN (an SNS topic, Auto Scaling policy, EC2 action, "
        "Lambda function, SSM OpsItem or incident plan)"
    )


def _check_query_id(value: str) -> str:
    if not _QUERY_ID.match(value):
        raise ValueError("must start with a lowercase letter, then letters, digits and underscores")
    return value


Period = Annotated[int, AfterValidator(_check_period)]
Dimensions = Annotated[dict[str, str], AfterValidator(_check_dimensions)]
ActionArn = Annotated[str, AfterValidator(_check_action_arn)]
Namespace = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^:].*$")]
MetricName = Annotated[str, Field(min_length=1, max_length=255)]


# Alarm spec -----------------------------------------------------------------------------------


class AlarmMetric(SpecModel):
    """The one metric a single-metric alarm watches."""

    name: MetricName
    """Metric name, e.g. `CPUUtilization`."""
    namespace: Namespace
    """Metric namespace, e.g. `AWS/RDS` or `PACS/Application`."""
    statistic: Statistic | None = None
    """SampleCount, Average, Sum, Minimum or Maximum. Exactly one of statistic and extended_statistic."""
    extended_statistic: Annotated[str, AfterValidator(_check_extended_statistic)] | None = None
    """A percentile or trimmed statistic: p99, p99.9, tm90, wm90, tc90, ts90, IQM, TM(10%:90%), PR(:300)..."""
    period: Period
    """Seconds per datapoint: 10, 20, 30 (high resolution) or a multiple of 60."""
    dimensions: Dimensions = Field(default_factory=dict)
    """Dimension name to value (at most 30); `{}` for a metric without dimensions."""
    unit: StandardUnit | None = None
    """Only datapoints with this unit are evaluated; unset leaves the unit as it is."""

    @field_validator("statistic", mode="before")
    @classmethod
    def _percentile_is_extended(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in STATISTICS and is_extended_statistic(value):
            raise ValueError(f"{value} is an extended statistic: write it as extended_statistic: {value}")
        return value

    @model_validator(mode="after")
    def _one_statistic(self) -> AlarmMetric:
        if (self.statistic is None) == (self.extended_statistic is None):
            raise ValueError("set exactly one of statistic and extended_statistic")
        return self


class QueryMetric(SpecModel):
    """A metric fetched for a metric math alarm (MetricStat)."""

    name: MetricName
    """Metric name."""
    namespace: Namespace
    """Metric namespace."""
    dimensions: Dimensions = Field(default_factory=dict)
    """Dimension name to value (at most 30)."""
    stat: Annotated[str, AfterValidator(_check_any_statistic)]
    """Statistic: SampleCount, Average, Sum, Minimum, Maximum or an extended one such as p99."""
    period: Period
    """Seconds per datapoint: 10, 20, 30 or a multiple of 60."""
    unit: StandardUnit | None = None
    """Only datapoints with this unit are used."""


class MetricQuery(SpecModel):
    """One item of a metric math alarm: a metric or an expression over other items."""

    id: Annotated[str, Field(max_length=255), AfterValidator(_check_query_id)]
    """Short name other expressions use, e.g. `errors` (starts with a lowercase letter)."""
    expression: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    """Metric math, e.g. `100 * errors / requests` or `ANOMALY_DETECTION_BAND(m1, 2)`."""
    metric: QueryMetric | None = None
    """The metric this item fetches. Exactly one of expression and metric."""
    label: str | None = None
    """Human-readable name of this item's result."""
    return_data: bool = False
    """True on the one item the alarm evaluates; an anomaly detection alarm sets it on two items,
    the band and the metric it is computed from (AWS refuses anything else)."""
    period: Period | None = None
    """Seconds per datapoint of an expression item (metric items set it in metric.period)."""
    account_id: Annotated[str, Field(pattern=r"^\d{12}$")] | None = None
    """The account whose metric this item fetches (cross-account alarms from a monitoring account);
    unset: this account."""

    @model_validator(mode="after")
    def _expression_or_metric(self) -> MetricQuery:
        if (self.expression is None) == (self.metric is None):
            raise ValueError("set exactly one of expression and metric")
        return self


TagKey = Annotated[str, Field(min_length=1, max_length=128)]
TagKeys = Annotated[list[TagKey], Field(min_length=1, max_length=50)]
_TIMEZONE = re.compile(r"^[A-Za-z0-9_+:/-]{1,50}$")


class EvaluationWindow(SpecModel):
    """Which range of data each evaluation looks at (PutMetricAlarm EvaluationWindow)."""

    type: Literal["sliding", "wall_clock"]
    """`sliding` (AWS's default: the range advances with every evaluation) or `wall_clock` (the
    range aligns to clock boundaries matching the period: the top of the hour, midnight...)."""
    timezone: Annotated[str, Field(min_length=1, max_length=50, pattern=_TIMEZONE.pattern)] | None = None
    """wall_clock only: an IANA name (`Asia/Seoul`), a UTC offset (`+05:30`) or `UTC+05:30`,
    aligned to 5 minutes. Unset: UTC."""

    @model_validator(mode="after")
    def _timezone_for_wall_clock(self) -> EvaluationWindow:
        if self.timezone is not None and self.type != "wall_clock":
            raise ValueError("timezone applies only to a wall_clock window")
        return self


class WarmUp(SpecModel):
    """A quiet period after each create or update (PutMetricAlarm WarmUpConfiguration): the alarm
    stays INSUFFICIENT_DATA and runs no action."""

    minutes: Annotated[int, Field(ge=1, le=2880)]
    """Length of the warm-up, 1 to 2880 minutes."""
    wait_full_period: bool = False
    """True: evaluate only once the whole warm-up has passed; false (AWS's default): as soon as
    there is data enough to fill the evaluation window."""


class TagPropagation(SpecModel):
    """Whether the alarm's tags go into its notifications and state-change events
    (PutMetricAlarm ActionConfiguration.AlarmTagsPropagation)."""

    enabled: bool
    """True to include the alarm's tags."""
    include: TagKeys | None = None
    """Only these tag keys (1 to 50). At most one of include and exclude."""
    exclude: TagKeys | None = None
    """Every tag but these keys (1 to 50)."""

    @model_validator(mode="after")
    def _include_or_exclude(self) -> TagPropagation:
        if self.include is not None and self.exclude is not None:
            raise ValueError("set at most one of include and exclude")
        return self


class PromQLCriteria(SpecModel):
    """A PromQL alarm's evaluation (PutMetricAlarm EvaluationCriteria.PromQLCriteria): each entry
    of the query's vector result is a contributor with a state of its own."""

    query: Annotated[str, Field(min_length=1, max_length=10000)]
    """The PromQL query; it must return a vector (an instant query with a condition), e.g.
    `avg by (instance) (rate(http_errors_total[5m])) > 5`."""
    pending_period: Annotated[int, Field(ge=0, le=86400)] | None = None
    """Seconds a contributor must breach without a break before it goes to ALARM (0-86400)."""
    recovery_period: Annotated[int, Field(ge=0, le=86400)] | None = None
    """Seconds a contributor must not breach before it returns to OK (0-86400)."""


PROMQL_EXCLUDES = (
    "metric",
    "metrics",
    "threshold",
    "threshold_metric_id",
    "comparison",
    "evaluation_periods",
    "datapoints_to_alarm",
    "evaluation_window",
)
"""What a PromQL alarm cannot say: "If you use the EvaluationCriteria parameter, you cannot include
the Namespace, MetricName, Dimensions, Period, Unit, Statistic, ExtendedStatistic, Metrics,
Threshold, ComparisonOperator, ThresholdMetricId, EvaluationPeriods, or DatapointsToAlarm
parameters", and EvaluationWindow applies to "any type of metric alarm except alarms that are based
on a PromQL query" (PutMetricAlarm, CloudWatch API reference)."""


def _check_evaluation_interval(value: int) -> int:
    # PutMetricAlarm EvaluationInterval: "Valid values are 10, 20, 30, and any multiple of 60", 10-3600.
    if value in (10, 20, 30) or (60 <= value <= 3600 and value % 60 == 0):
        return value
    raise ValueError("must be 10, 20, 30 or a multiple of 60 up to 3600 seconds")


class AlarmSpec(SpecModel):
    """A CloudWatch metric alarm on one metric, on metric math, or on a PromQL query."""

    # comparison and evaluation_periods are required unless the alarm evaluates PromQL.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"not": {"required": ["promql"]}},
            "then": {"required": ["comparison", "evaluation_periods"]},
        }
    )

    name: Annotated[str, Field(min_length=1, max_length=255)]
    """Alarm name, unique in the region."""
    description: Annotated[str, Field(max_length=1024)] | None = None
    """Free text shown with the alarm; unset leaves the current description, "" clears it."""
    metric: AlarmMetric | None = None
    """The metric watched (single-metric alarm). Exactly one of metric and metrics."""
    metrics: list[MetricQuery] | None = None
    """Metric math items (metric math or anomaly detection alarm); exactly one has return_data
    (two for an anomaly detection alarm: the band and its metric)."""
    threshold: float | None = None
    """Static threshold the value is compared against."""
    threshold_metric_id: str | None = None
    """Instead of threshold: the id of the ANOMALY_DETECTION_BAND item in metrics."""
    comparison: Comparison | None = None
    """How the value is compared; the three band comparisons need threshold_metric_id. Required,
    except on a PromQL alarm (which refuses it)."""
    evaluation_periods: Annotated[int, Field(ge=1)] | None = None
    """Number of most recent periods evaluated (the N of "M out of N"). Required, except on a
    PromQL alarm (which refuses it)."""
    datapoints_to_alarm: int | None = None
    """Breaching datapoints needed to alarm (the M), 1 to evaluation_periods; unset means all."""
    treat_missing_data: TreatMissingData = "missing"
    """What missing datapoints count as: missing, notBreaching, breaching or ignore."""
    evaluate_low_sample_count_percentile: Literal["evaluate", "ignore"] | None = None
    """Percentile alarms only: evaluate or ignore periods with too few samples."""
    actions_enabled: bool = True
    """Whether the actions run on state changes."""
    alarm_actions: Annotated[list[ActionArn], Field(max_length=5)] = Field(default_factory=list)
    """ARNs notified on entering ALARM (SNS topics, scaling policies...), at most 5."""
    ok_actions: Annotated[list[ActionArn], Field(max_length=5)] = Field(default_factory=list)
    """ARNs notified on entering OK, at most 5."""
    insufficient_data_actions: Annotated[list[ActionArn], Field(max_length=5)] = Field(default_factory=list)
    """ARNs notified on entering INSUFFICIENT_DATA, at most 5."""
    evaluation_window: EvaluationWindow | None = None
    """Sliding (AWS's default) or wall-clock evaluation range. Unset: not managed."""
    warm_up: WarmUp | None = None
    """A warm-up period after each create or update. Unset: not managed."""
    tag_propagation: TagPropagation | None = None
    """The alarm's tags in its notifications and events. Unset: not managed."""
    promql: PromQLCriteria | None = None
    """Instead of metric or metrics: a PromQL alarm (on metrics CloudWatch ingests over OTLP or
    Prometheus remote write). It takes no threshold, comparison, evaluation_periods,
    datapoints_to_alarm or evaluation_window, and needs evaluation_interval."""
    evaluation_interval: Annotated[int, AfterValidator(_check_evaluation_interval)] | None = None
    """PromQL alarms only (and required there): seconds between evaluations, 10, 20, 30 or a
    multiple of 60 up to 3600."""
    tests: list[AlarmExample] = Field(default_factory=list, exclude=True)
    """Offline examples: datapoint series and the state the alarm must be in after each period.
    Checked by `validate` and `test`; never sent to AWS."""

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if _CONTROL_CHARS.search(value):
            raise ValueError("must not contain control characters")
        return value

    @field_validator("metrics")
    @classmethod
    def _check_metrics(
        cls, value: list[MetricQuery] | None, info: ValidationInfo
    ) -> list[MetricQuery] | None:
        if value is None:
            return value
        if info.data.get("metric") is not None:
            raise ValueError(
                "metric and metrics are mutually exclusive: metric for one metric, metrics for metric math"
            )
        if not value:
            raise ValueError("needs at least one item")
        ids = [query.id for query in value]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate id {duplicates[0]!r}")
        returning = sum(query.return_data for query in value)
        if returning not in (1, 2):  # two: an anomaly detection alarm, checked with threshold_metric_id
            raise ValueError(f"exactly one item must have return_data: true (found {returning})")
        return value

    @field_validator("threshold_metric_id")
    @classmethod
    def _check_band_reference(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("threshold") is not None:
            raise ValueError("threshold and threshold_metric_id are mutually exclusive")
        if "metrics" not in info.data:
            return value  # metrics itself is invalid and reported
        metrics = info.data["metrics"] or []
        if not metrics:
            raise ValueError("needs metrics: it names the ANOMALY_DETECTION_BAND item in metrics")
        if value not in {query.id for query in metrics}:
            raise ValueError(f"no item in metrics has id {value!r}")
        # PutMetricAlarm: "Exactly two elements of the metrics list should return data" for a band
        # alarm (hashicorp/terraform-provider-aws#42504, cdklabs/cdk-monitoring-constructs#426).
        returning = [query.id for query in metrics if query.return_data]
        if len(returning) != 2 or value not in returning:
            now = ", ".join(returning) or "none"
            raise ValueError(
                f"an anomaly detection alarm returns data from two items: set return_data: true on the "
                f"band {value!r} and on the metric it is computed from (now: {now})"
            )
        return value

    @field_validator("comparison")
    @classmethod
    def _comparison_matches_threshold(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or "threshold_metric_id" not in info.data:
            return value
        uses_band = info.data["threshold_metric_id"] is not None
        if value in BAND_COMPARISONS and not uses_band:
            raise ValueError(f"{value} compares with an anomaly detection band: it needs threshold_metric_id")
        if value not in BAND_COMPARISONS and uses_band:
            raise ValueError(
                f"{value} compares with a static threshold; with threshold_metric_id use "
                + ", ".join(sorted(BAND_COMPARISONS))
            )
        return value

    @field_validator("evaluation_periods")
    @classmethod
    def _total_evaluation_time(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        for period in _periods(info.data.get("metric"), info.data.get("metrics")):
            short = period < 3600
            limit, span = (86400, "one day for periods under an hour") if short else (604800, "seven days")
            if period * value > limit:
                raise ValueError(
                    f"period {period} s x evaluation_periods {value} = {period * value} s; "
                    f"at most {limit} s ({span})"
                )
        return value

    @field_validator("datapoints_to_alarm")
    @classmethod
    def _within_evaluation_periods(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None:
            return value
        periods = info.data.get("evaluation_periods")
        if periods is None:
            if value < 1:
                raise ValueError("must be between 1 and evaluation_periods")
        elif not 1 <= value <= periods:
            raise ValueError(f"must be between 1 and evaluation_periods ({periods}), got {value}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> AlarmSpec:
        if self.promql is not None:
            return self._promql_complete()
        if self.evaluation_interval is not None:
            raise ValueError("evaluation_interval applies only to a PromQL alarm (promql)")
        if self.metric is None and self.metrics is None:
            raise ValueError("set metric (one metric) or metrics (metric math)")
        unset = [f for f in ("comparison", "evaluation_periods") if getattr(self, f) is None]
        if unset:
            raise ValueError(f"set {' and '.join(unset)}")
        if self.threshold is None and self.threshold_metric_id is None:
            raise ValueError("set threshold (or threshold_metric_id for an anomaly detection alarm)")
        returning = sum(query.return_data for query in self.metrics or ())
        if self.threshold_metric_id is None and returning > 1:
            raise ValueError(
                f"exactly one item of metrics must have return_data: true (found {returning}); "
                "two only for an anomaly detection alarm (threshold_metric_id)"
            )
        if self.threshold_metric_id is not None and any(":autoscaling:" in arn for arn in self.alarm_actions):
            raise ValueError(
                "an anomaly detection alarm (threshold_metric_id) cannot have Auto Scaling actions"
            )
        return self

    def _promql_complete(self) -> AlarmSpec:
        conflicting = [f for f in PROMQL_EXCLUDES if getattr(self, f) is not None]
        if conflicting:
            raise ValueError(f"a PromQL alarm (promql) takes no {', '.join(conflicting)}")
        if self.evaluation_interval is None:
            raise ValueError("a PromQL alarm (promql) needs evaluation_interval")
        if self.tests:
            raise ValueError("tests simulate metric alarms; a PromQL alarm's state cannot be simulated")
        return self


def _periods(metric: AlarmMetric | None, metrics: list[MetricQuery] | None) -> Iterator[int]:
    if metric is not None:
        yield metric.period
    for query in metrics or ():
        if query.metric is not None:
            yield query.metric.period
        if query.period is not None:
            yield query.period


# Shared read helpers --------------------------------------------------------------------------


def _list_tags(ctx: AwsContext, arn: str) -> dict[str, str]:
    return tags_from_list(ctx.client("cloudwatch").list_tags_for_resource(ResourceARN=arn).get("Tags"))


def _not_taken_over(
    looks: NamesakeLooks[dict[str, str]], what: str, name: str, tags: Mapping[str, str]
) -> None:
    """PutDashboard creates or replaces, and ignores Tags when it replaces: before a create, one of
    the name someone else made since the plan would be silently taken over (a repeat of our own
    after a lost response is harmless). Refused unless it is this apply's. The look is shared with
    the creates of the kind waiting at the same moment (`_namesakes`). Alarms: the same, across
    both alarm types (AlarmKind.refuse_namesake)."""
    found = looks.look(name)
    if found is not None:
        claim_after_lost_create(what, found, tags)


def _tags_of_existing(ctx: AwsContext, arns: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """{name: tags} of the named alarms or dashboards (name -> ARN) that still exist."""
    found = concurrently(
        lambda arn: unless_gone(lambda: _list_tags(ctx, arn), "ResourceNotFoundException"),
        list(arns.values()),
    )
    return {name: tags for name, tags in zip(arns, found, strict=True) if tags is not None}


TAGS = TagApi("cloudwatch", "tag_resource", "untag_resource", "ResourceARN", resource_attribute="arn")
"""Alarms and dashboards are tagged by ARN."""


# Alarms ---------------------------------------------------------------------------------------


def _dimensions_state(dimensions: list[dict[str, str]] | None) -> dict[str, str]:
    return {d["Name"]: d["Value"] for d in dimensions or ()}


def _dimensions_request(dimensions: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Name": name, "Value": value} for name, value in sorted(dimensions.items())]


def _alarm_metric_state(alarm: Mapping[str, Any]) -> dict[str, Any] | None:
    if not alarm.get("MetricName"):
        return None
    return {
        "name": alarm["MetricName"],
        "namespace": alarm.get("Namespace"),
        "statistic": alarm.get("Statistic"),
        "extended_statistic": alarm.get("ExtendedStatistic"),
        "period": alarm.get("Period"),
        "dimensions": _dimensions_state(alarm.get("Dimensions")),
        "unit": alarm.get("Unit"),
    }


def _query_state(query: Mapping[str, Any]) -> dict[str, Any]:
    stat = query.get("MetricStat")
    metric = None
    if stat:
        metric = {
            "name": stat["Metric"]["MetricName"],
            "namespace": stat["Metric"]["Namespace"],
            "dimensions": _dimensions_state(stat["Metric"].get("Dimensions")),
            "stat": stat["Stat"],
            "period": stat["Period"],
            "unit": stat.get("Unit"),
        }
    return {
        "id": query["Id"],
        "expression": query.get("Expression"),
        "metric": metric,
        "label": query.get("Label"),
        "return_data": query.get("ReturnData", True),  # AWS's default when omitted
        "period": query.get("Period"),
        "account_id": query.get("AccountId"),
    }


def alarm_state(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """DescribeAlarms' MetricAlarm onto the spec's shape (an allow-list of fields)."""
    criteria = (alarm.get("EvaluationCriteria") or {}).get("PromQLCriteria")
    if criteria:  # a PromQL alarm: whatever else AWS reports, it can say none of these
        return {
            **_metric_alarm_state(alarm),
            **dict.fromkeys(PROMQL_EXCLUDES),
            "promql": {
                "query": criteria["Query"],
                "pending_period": criteria.get("PendingPeriod"),
                "recovery_period": criteria.get("RecoveryPeriod"),
            },
            "evaluation_interval": alarm.get("EvaluationInterval"),
        }
    return {**_metric_alarm_state(alarm), "promql": None, "evaluation_interval": None}


def _metric_alarm_state(alarm: Mapping[str, Any]) -> dict[str, Any]:
    threshold = alarm.get("Threshold")
    return {
        "name": alarm["AlarmName"],
        "description": alarm.get("AlarmDescription") or "",
        "metric": _alarm_metric_state(alarm),
        "metrics": [_query_state(q) for q in alarm["Metrics"]] if alarm.get("Metrics") else None,
        "threshold": None if threshold is None or alarm.get("ThresholdMetricId") else float(threshold),
        "threshold_metric_id": alarm.get("ThresholdMetricId") or None,
        "comparison": alarm.get("ComparisonOperator"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm"),
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "evaluate_low_sample_count_percentile": alarm.get("EvaluateLowSampleCountPercentile") or None,
        "actions_enabled": alarm.get("ActionsEnabled", True),
        "alarm_actions": list(alarm.get("AlarmActions", [])),
        "ok_actions": list(alarm.get("OKActions", [])),
        "insufficient_data_actions": list(alarm.get("InsufficientDataActions", [])),
        "evaluation_window": _window_state(alarm.get("EvaluationWindow")),
        "warm_up": _warm_up_state(alarm.get("WarmUpConfiguration")),
        "tag_propagation": tag_propagation_state(alarm.get("ActionConfiguration")),
    }


DEFAULT_WINDOW = {"type": "sliding", "timezone": None}


def _window_state(window: Mapping[str, Any] | None) -> dict[str, Any]:
    """EvaluationWindow, absent when never set: "If you omit this parameter, the alarm uses a
    sliding window" (PutMetricAlarm, CloudWatch API reference)."""
    wall_clock = (window or {}).get("WallClockWindow")
    if wall_clock is None:
        return dict(DEFAULT_WINDOW)
    return {"type": "wall_clock", "timezone": wall_clock.get("Timezone")}


def _warm_up_state(warm_up: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not warm_up:
        return None
    return {
        "minutes": warm_up["WarmUpPeriodDurationInMinutes"],
        # "The default is false" (WarmUpConfiguration, CloudWatch API reference).
        "wait_full_period": bool(warm_up.get("OnlyStartEvaluatingAfterWarmUpPeriodEnds", False)),
    }


def tag_propagation_state(configuration: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A metric or composite alarm's ActionConfiguration onto the spec's `tag_propagation`."""
    propagation = (configuration or {}).get("AlarmTagsPropagation")
    if not propagation:
        return None
    return {
        "enabled": bool(propagation["Enabled"]),
        "include": propagation.get("IncludedTagKeys"),
        "exclude": propagation.get("ExcludedTagKeys"),
    }


def _metric_request(metric: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {
        "MetricName": metric["name"],
        "Namespace": metric["namespace"],
        "Period": metric["period"],
        "Dimensions": _dimensions_request(metric.get("dimensions") or {}),
    }
    if metric.get("extended_statistic") is not None:
        request["ExtendedStatistic"] = metric["extended_statistic"]
    else:
        request["Statistic"] = metric["statistic"]
    if metric.get("unit") is not None:
        request["Unit"] = metric["unit"]
    return request


def _query_request(query: Mapping[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"Id": query["id"], "ReturnData": bool(query["return_data"])}
    if query.get("expression") is not None:
        request["Expression"] = query["expression"]
    metric = query.get("metric")
    if metric is not None:
        stat: dict[str, Any] = {
            "Metric": {
                "Namespace": metric["namespace"],
                "MetricName": metric["name"],
                "Dimensions": _dimensions_request(metric.get("dimensions") or {}),
            },
            "Period": metric["period"],
            "Stat": metric["stat"],
        }
        if metric.get("unit") is not None:
            stat["Unit"] = metric["unit"]
        request["MetricStat"] = stat
    if query.get("label") is not None:
        request["Label"] = query["label"]
    if query.get("period") is not None:
        request["Period"] = query["period"]
    if query.get("account_id") is not None:
        request["AccountId"] = query["account_id"]
    return request


_OPTIONAL_REQUEST_FIELDS = {
    "description": "AlarmDescription",
    "datapoints_to_alarm": "DatapointsToAlarm",
    "evaluate_low_sample_count_percentile": "EvaluateLowSampleCountPercentile",
    "threshold": "Threshold",
    "threshold_metric_id": "ThresholdMetricId",
    "comparison": "ComparisonOperator",
    "evaluation_periods": "EvaluationPeriods",
    "evaluation_interval": "EvaluationInterval",
}


def put_metric_alarm_request(state: Mapping[str, Any]) -> dict[str, Any]:
    """The complete PutMetricAlarm configuration (it replaces everything not sent)."""
    request: dict[str, Any] = {
        "AlarmName": state["name"],
        "TreatMissingData": state["treat_missing_data"],
        "ActionsEnabled": state["actions_enabled"],
        "AlarmActions": list(state["alarm_actions"]),
        "OKActions": list(state["ok_actions"]),
        "InsufficientDataActions": list(state["insufficient_data_actions"]),
    }
    request.update(set_parameters(state, _OPTIONAL_REQUEST_FIELDS))
    if state.get("metric") is not None:
        request.update(_metric_request(state["metric"]))
    elif state.get("metrics") is not None:
        request["Metrics"] = [_query_request(query) for query in state["metrics"]]
    else:
        request["EvaluationCriteria"] = {"PromQLCriteria": _promql_request(state["promql"])}
    request.update(_newer_settings_request(state))
    return request


def _promql_request(promql: Mapping[str, Any]) -> dict[str, Any]:
    criteria: dict[str, Any] = {"Query": promql["query"]}
    if promql.get("pending_period") is not None:
        criteria["PendingPeriod"] = promql["pending_period"]
    if promql.get("recovery_period") is not None:
        criteria["RecoveryPeriod"] = promql["recovery_period"]
    return criteria


def _newer_settings_request(state: Mapping[str, Any]) -> dict[str, Any]:
    """EvaluationWindow, WarmUpConfiguration and ActionConfiguration, where set."""
    request: dict[str, Any] = {}
    window = state.get("evaluation_window")
    if window is not None:
        if window["type"] == "wall_clock":
            clock = {"Timezone": window["timezone"]} if window.get("timezone") else {}
            request["EvaluationWindow"] = {"WallClockWindow": clock}
        else:
            request["EvaluationWindow"] = {"SlidingWindow": {}}
    warm_up = state.get("warm_up")
    if warm_up is not None:
        request["WarmUpConfiguration"] = {
            "WarmUpPeriodDurationInMinutes": warm_up["minutes"],
            "OnlyStartEvaluatingAfterWarmUpPeriodEnds": bool(warm_up.get("wait_full_period")),
        }
    return {**request, **tag_propagation_request(state.get("tag_propagation"))}


def tag_propagation_request(propagation: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ActionConfiguration parameter of PutMetricAlarm and PutCompositeAlarm ({} when unset)."""
    if propagation is None:
        return {}
    tags: dict[str, Any] = {"Enabled": bool(propagation["enabled"])}
    if propagation.get("include"):
        tags["IncludedTagKeys"] = list(propagation["include"])
    if propagation.get("exclude"):
        tags["ExcludedTagKeys"] = list(propagation["exclude"])
    return {"ActionConfiguration": {"AlarmTagsPropagation": tags}}


def canonical_tag_propagation(state: dict[str, Any]) -> dict[str, Any]:
    """`state` with its tag propagation's tag keys as a sorted set."""
    propagation = state.get("tag_propagation")
    if not isinstance(propagation, dict):
        return state
    keys = {
        k: sorted_unique(v)
        for k, v in propagation.items()
        if k in ("include", "exclude") and isinstance(v, list)
    }
    return {**state, "tag_propagation": {**propagation, **keys}}


UNMANAGED_WHEN_UNSET = (
    "description",
    "datapoints_to_alarm",
    "evaluate_low_sample_count_percentile",
    "evaluation_window",
    "warm_up",
    "tag_propagation",
)
"""Optional settings a spec may leave out; PutMetricAlarm would clear them, so updates resend live's."""


def keep_unmanaged(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any]:
    """Desired state with what the spec leaves unset taken from live (None means "not managed")."""
    merged = dict(desired)
    refused = PROMQL_EXCLUDES if desired.get("promql") is not None else ()  # never sent with PromQL
    for field in UNMANAGED_WHEN_UNSET:
        if field not in refused and merged.get(field) is None:
            merged[field] = live.get(field)
    if merged.get("evaluation_window") == DEFAULT_WINDOW and desired.get("evaluation_window") is None:
        merged["evaluation_window"] = None  # omitted means sliding: an update sends nothing new
    metric, live_metric = merged.get("metric"), live.get("metric")
    if metric is not None and metric.get("unit") is None and live_metric:
        merged["metric"] = {**metric, "unit": live_metric.get("unit")}
    return merged


def _alarm_name_from_arn(arn: str) -> str:
    # arn:PARTITION:cloudwatch:REGION:ACCOUNT:alarm:NAME (the name may itself hold colons)
    return arn.split(":", 6)[6]


def owned_alarms(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
    """{name: tags} of the alarms carrying this stack's owner tag, from the run's one tag sweep."""
    owned = owned_of(ctx, stack, "cloudwatch", "alarm:")
    return {_alarm_name_from_arn(arn): tags for arn, tags in owned.items()}


METRIC_ALARM, COMPOSITE_ALARM = "MetricAlarm", "CompositeAlarm"
"""DescribeAlarms' AlarmTypes; each type's alarms come back under its plural (MetricAlarms, ...)."""
ALARM_NAMES = "alarm names"
"""The namespace metric and composite alarms share (KindMeta.identity_namespace): "This name must be
unique within the Region", AlarmName of both PutMetricAlarm and PutCompositeAlarm, whose alarms
have one ARN form, arn:aws:cloudwatch:Region:account-id:alarm:alarm-name."""
SWEPT_ALARMS = "cloudwatch:alarm"
"""Metric and composite alarms in the tagging API's ResourceTypeFilters: "the same [string] as that
embedded in a resource's Amazon Resource Name" (GetResources), and both have the ARN
arn:aws:cloudwatch:Region:account-id:alarm:alarm-name."""


def describe_alarms(ctx: AwsContext, names: Sequence[str], *types: str) -> list[dict[str, Any]]:
    """The named alarms of these types that exist: 100 names a call, a few calls at once."""
    return batched(lambda batch: _describe_batch(ctx, batch, types), names, DESCRIBE_ALARMS_BATCH)


def _describe_batch(ctx: AwsContext, names: Sequence[str], types: Sequence[str]) -> list[dict[str, Any]]:
    pages = (
        ctx.client("cloudwatch")
        .get_paginator("describe_alarms")
        .paginate(AlarmNames=list(names), AlarmTypes=list(types), MaxRecords=DESCRIBE_ALARMS_BATCH)
    )
    return [
        {**alarm, "_type": kind} for page in pages for kind in types for alarm in page.get(f"{kind}s", [])
    ]


def alarm_descriptions(ctx: AwsContext, stack: str, declared: Sequence[str]) -> list[dict[str, Any]]:
    """Every alarm of the `declared` names that exists and every alarm this stack owns, metric and
    composite alike, each described once (DescribeAlarms, 100 names a call) and shared by both
    kinds until the run writes: the sweep's ARNs do not say which type an alarm is, and describing
    them per type would describe each owned alarm twice. The declared names are described while
    the owner-tag sweep runs (they do not depend on it), then the owned names no entry declares
    (usually none): the sweep's length, not the sweep's and then the describes'."""
    names = sorted(set(declared))
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()

    def describe() -> list[dict[str, Any]]:
        owned, found = both(
            lambda: owned_alarms(ctx, stack),
            lambda: describe_alarms(ctx, names, METRIC_ALARM, COMPOSITE_ALARM),
        )
        named = set(names)
        undeclared = [name for name in owned if name not in named]
        return [*found, *describe_alarms(ctx, undeclared, METRIC_ALARM, COMPOSITE_ALARM)]

    return memo_until_write(ctx, f"cloudwatch:alarms:{stack}:{digest}", describe)


def read_alarms(
    ctx: AwsContext, keys: Sequence[Key], scope: ReadScope, alarm_type: str
) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(alarm, tags) of the declared alarms of one type that exist and of every owned one, from the
    description both alarm kinds share (`alarm_descriptions` of the names either kind declares:
    the scope's namesakes are the other kind's). Owned alarms carry the sweep's tags, the others
    (unowned, or tagged too recently for the sweep) their own tag read. Of the other kind's names
    only the owned are this kind's concern. Every name is described as both types (AlarmTypes takes
    both): alarms of the other type found are recorded for the plan (other_type_namesakes), since a
    create would replace them."""
    mine = {str(k) for k in keys}
    shared = alarm_descriptions(ctx, scope.stack, [*mine, *map(str, scope.namesakes)])
    owned = owned_alarms(ctx, scope.stack)
    described = [a for a in shared if a["AlarmName"] in mine or a["AlarmName"] in owned]
    _other_type_namesakes(ctx)[alarm_type] = {
        a["AlarmName"]: OtherTypeNamesake(a["_type"], a["AlarmName"] in owned)
        for a in described
        if a["_type"] != alarm_type
    }
    alarms = [a for a in described if a["_type"] == alarm_type]
    untagged = [a["AlarmArn"] for a in alarms if a["AlarmName"] not in owned]
    tags = dict(zip(untagged, concurrently(lambda arn: _list_tags(ctx, arn), untagged), strict=True))
    return [(alarm, owned.get(alarm["AlarmName"]) or tags.get(alarm["AlarmArn"]) or {}) for alarm in alarms]


@dataclass(frozen=True)
class AlarmNamesake:
    """An alarm of the name a create is about to put: its type (metric or composite) and its tags."""

    alarm_type: str
    tags: dict[str, str]


ALARM_TYPE_WORDS = {METRIC_ALARM: "metric", COMPOSITE_ALARM: "composite"}


@dataclass(frozen=True)
class OtherTypeNamesake:
    """An alarm the read of one alarm kind found of the other type: its type, and whether it is
    this stack's (its tags are read only for alarms of the reading kind's own type)."""

    alarm_type: str
    owned: bool


def _other_type_namesakes(ctx: AwsContext) -> dict[str, dict[str, OtherTypeNamesake]]:
    """Per alarm type, what the run's latest read of that kind found of the other type, by name."""
    return ctx.memo("cloudwatch:other-type-namesakes", dict)


def _alarm_namesakes(ctx: AwsContext, names: Sequence[str]) -> dict[str, AlarmNamesake]:
    """The alarms of these names that exist: DescribeAlarms, 100 names a call, then the tags of
    those found (usually none). Metric and composite alike, from one call ("If you omit [AlarmTypes],
    only metric alarms are returned", DescribeAlarms): an alarm's name is its identity across both
    types (see AlarmKind.refuse_namesake)."""
    found = describe_alarms(ctx, names, METRIC_ALARM, COMPOSITE_ALARM)
    tags = _tags_of_existing(ctx, {alarm["AlarmName"]: alarm["AlarmArn"] for alarm in found})
    return {
        alarm["AlarmName"]: AlarmNamesake(alarm["_type"], tags[alarm["AlarmName"]])
        for alarm in found
        if alarm["AlarmName"] in tags  # (one deleted since the describe is gone: no namesake)
    }


def _alarm_looks(ctx: AwsContext) -> NamesakeLooks[AlarmNamesake]:
    """One look for the creates of both alarm kinds: they share one namespace of names."""
    return namesake_looks(ctx, "alarms", lambda names: _alarm_namesakes(ctx, names), DESCRIBE_ALARMS_BATCH)


def _list_alarms(ctx: AwsContext, prefix: str) -> list[str]:
    params = {"AlarmNamePrefix": prefix} if prefix else {}
    alarms = read_pages(
        ctx.client("cloudwatch"), "describe_alarms", "MetricAlarms", AlarmTypes=["MetricAlarm"], **params
    )
    return names_with_prefix([a["AlarmName"] for a in alarms], prefix)


def alarm_kind_actions(put_operation: str) -> KindActions:
    """The IAM actions of an alarm kind whose whole configuration one Put call writes."""
    return KindActions(
        read=frozenset({"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"}),
        write=frozenset(
            {
                f"cloudwatch:{put_operation}",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
            }
        ),
        delete=frozenset({"cloudwatch:DeleteAlarms"}),
    )


def with_action_sets(state: dict[str, Any]) -> dict[str, Any]:
    """An alarm's action lists in canonical order: they are sets."""
    out = dict(state)
    for field in ACTION_FIELDS:
        if out.get(field) is not None:
            out[field] = sorted_unique(out[field])
    return out


class AlarmKind(Reconciler):
    """What metric and composite alarms share: the read (the owned ones of both types described
    once, see read_alarms), the read back after a Put, the deletion and the tags."""

    alarm_type: ClassVar[str]
    """DescribeAlarms' AlarmTypes value of this kind."""

    @abstractmethod
    def state_of(self, alarm: Mapping[str, Any]) -> dict[str, Any]:
        """DescribeAlarms' description onto the spec's shape (an allow-list of fields)."""

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        found = read_alarms(ctx, keys, scope, self.alarm_type)
        return {alarm["AlarmName"]: self._live(alarm, tags) for alarm, tags in found}

    def delete(self, ctx: AwsContext, live: Live) -> None:
        ctx.client("cloudwatch").delete_alarms(AlarmNames=[live.attrs["name"]])

    def _live(self, alarm: Mapping[str, Any], tags: dict[str, str] | None) -> Live:
        name, arn = alarm["AlarmName"], alarm["AlarmArn"]
        state = self.canonical(self.state_of(alarm))
        return Live(
            key=name, state=state, attrs={"name": name, "arn": arn}, tags=dict(tags or {}), handle=arn
        )

    def refuse_namesake(self, ctx: AwsContext, name: str, tags: Mapping[str, str]) -> None:
        """Before a create: PutMetricAlarm and PutCompositeAlarm create or replace ("When you update
        an existing alarm, [...] the update completely overwrites the previous configuration of the
        alarm", both in the CloudWatch API reference, e.g.
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html)
        and ignore Tags when they replace, so an alarm
        of the name someone else made since the plan would be silently taken over. Refused unless
        it is this apply's own first attempt (a lost response). An alarm's name is unique across
        both types ("This name must be unique within the Region", AlarmName of both operations; one
        ARN form for both, arn:aws:cloudwatch:Region:account-id:alarm:alarm-name, TagResource; and a
        composite rule names alarms without their type): a namesake of the other type is never
        this create's own attempt, whoever made it (the plan refuses one that existed when it
        read: `refusal`; this one came since). The look is shared by the creates of both kinds
        waiting at the same moment (`_namesakes`)."""
        found = _alarm_looks(ctx).look(name)
        if found is None:
            return
        what = f"{self.meta.title} {name}"
        if found.alarm_type != self.alarm_type:
            theirs = ALARM_TYPE_WORDS.get(found.alarm_type, found.alarm_type)
            owner = found.tags.get(OWNER_TAG)
            whose = f"stack {owner!r}" if owner else "no stack"
            raise ReconcileError(
                f"{what}: a {theirs} alarm of that name exists ({whose})"
                " and is not this create's: alarm names are unique across metric and composite alarms,"
                " and this create would replace it; rename one of them, then plan again"
            )
        claim_after_lost_create(what, found.tags, tags)

    def before_creates(self, ctx: AwsContext, keys: Sequence[Key]) -> None:
        """The looks before the creates (refuse_namesake) read the next names ahead, 100 a
        DescribeAlarms (`_namesakes`)."""
        _alarm_looks(ctx).expect(str(key) for key in keys)

    def refusal(self, ctx: AwsContext, desired: Mapping[str, Any], live: Live | None, stack: str) -> str:
        """A create whose name an alarm of the other type holds: the Put would replace it (see
        refuse_namesake). Seen by this kind's read, which describes its names as both types."""
        name = desired.get("name")
        found = _other_type_namesakes(ctx).get(self.alarm_type, {}).get(str(name))
        if live is not None or found is None:
            return ""
        theirs = ALARM_TYPE_WORDS.get(found.alarm_type, found.alarm_type)
        return (
            f"{self.meta.title} {name!r}: a {theirs} alarm of that name exists"
            + (", this stack's" if found.owned else "")
            + ": alarm names are unique across metric and composite alarms (within a Region), so"
            " creating this one would replace it; rename one of them"
            + (
                ", or remove the other from the spec and apply before declaring this one (a plan"
                " deletes only after its creates)"
                if found.owned
                else ""
            )
        )

    def _written(self, ctx: AwsContext, state: Mapping[str, Any], tags: dict[str, str]) -> Live:
        """What a create's Put just wrote, not read back: PutMetricAlarm and PutCompositeAlarm take
        the whole configuration, so once one answered the alarm is this state with these tags (a
        read per create was a third of a first apply's calls)."""
        name = str(state["name"])
        arn = f"arn:{ctx.partition}:cloudwatch:{ctx.region}:{ctx.account_id}:alarm:{name}"
        attrs = {"name": name, "arn": arn}
        return Live(key=name, state=self.canonical(dict(state)), attrs=attrs, tags=tags, handle=arn)


@register
class Alarms(AlarmKind):
    meta = KindMeta(
        kind="alarms",
        model=AlarmSpec,
        title="CloudWatch metric alarm",
        attributes=("name", "arn"),
        lister=_list_alarms,
        tag_api=TAGS,
        actions=alarm_kind_actions("PutMetricAlarm"),
        identity_namespace=ALARM_NAMES,
        swept_type=SWEPT_ALARMS,
    )

    alarm_type = METRIC_ALARM

    def state_of(self, alarm: Mapping[str, Any]) -> dict[str, Any]:
        return alarm_state(alarm)

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = with_action_sets(state)
        if isinstance(out.get("threshold"), int | float) and not isinstance(out["threshold"], bool):
            out["threshold"] = float(out["threshold"])
        if isinstance(out.get("metrics"), list):
            out["metrics"] = sorted(out["metrics"], key=lambda query: str(query.get("id")))
        return canonical_tag_propagation(out)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        request = put_metric_alarm_request(desired.state)
        name = request["AlarmName"]
        self.refuse_namesake(ctx, name, desired.tags)
        ctx.client("cloudwatch").put_metric_alarm(**request, Tags=tags_to_list(desired.tags))
        return self._written(ctx, desired.state, dict(desired.tags))

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # One call converges every path in delta: PutMetricAlarm takes the whole configuration.
        state = keep_unmanaged(desired.state, live.state)
        ctx.client("cloudwatch").put_metric_alarm(**put_metric_alarm_request(state))
        return replace(live, state=self.canonical(state))  # what was written, not read back


# Dashboards -----------------------------------------------------------------------------------


class DashboardSpec(SpecModel):
    """A CloudWatch dashboard (global: one per account, whatever the region)."""

    name: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_-]+$")]
    """Dashboard name: letters, digits, - and _ (at most 255)."""
    body: Annotated[dict[str, Any], AfterValidator(validate_dashboard_body)]
    """The dashboard body as YAML (sent as JSON): `widgets` (required, up to 500; each with type
    metric|text|log|alarm|explorer|custom|chart, x 0-23, y, width 1-24, height 1-1000, x + width
    <= 24, and properties) and optionally start, end, periodOverride (auto|inherit) and
    variables. Metric widgets need properties.metrics ([namespace, name, dimension, value, ...,
    {options}] rows; "." repeats the value above) and region; text widgets need markdown."""


DASHBOARD_NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException")
DASHBOARD_PAGE = 1000
"""ListDashboards answers up to 1,000 dashboards a page (CloudWatch API reference)."""


def _dashboard_arn(ctx: AwsContext, name: str) -> str:
    return f"arn:{ctx.partition}:cloudwatch::{ctx.account_id}:dashboard/{name}"


@dataclass(frozen=True)
class _UnreadBody:
    """A dashboard read without its body (its version is the recorded one): the digest of the body
    that version holds, for `Dashboards.complete`."""

    arn: str
    digest: str


@dataclass(frozen=True)
class _Listing:
    """What one ListDashboards listed: every dashboard's ARN, the versions of those that have one,
    and whether it is the account's whole list (no prefix, every page read)."""

    arns: dict[str, str]
    versions: dict[str, dashboard_versions.Listed]
    whole: bool


def _list_versions(ctx: AwsContext, names: Sequence[str], max_pages: int | None = None) -> _Listing:
    """The dashboards ListDashboards lists under the longest name prefix `names` share, 1,000 a
    page (CloudWatch API reference, ListDashboards). A plan stops after `max_pages`, the most body
    reads the listing can spare (in an account of many other dashboards under the same prefix): the
    names not listed by then are read in full."""
    wanted = set(names)
    prefix = _common_prefix(wanted)
    paginator = ctx.client("cloudwatch").get_paginator("list_dashboards")
    arns: dict[str, str] = {}
    versions: dict[str, dashboard_versions.Listed] = {}
    whole = not prefix
    pages = paginator.paginate(**({"DashboardNamePrefix": prefix} if prefix else {}))
    for count, page in enumerate(pages, start=1):
        for entry in page.get("DashboardEntries", []):
            name = str(entry["DashboardName"])
            arns[name] = str(entry.get("DashboardArn") or _dashboard_arn(ctx, name))
            listed = dashboard_versions.listed(entry)
            if listed is not None:
                versions[name] = listed
        if wanted <= versions.keys() or (max_pages is not None and count >= max_pages):
            whole = whole and not page.get("NextToken")
            break
    return _Listing(arns, versions, whole)


def _common_prefix(names: set[str]) -> str:
    """The longest prefix every name shares (the first and last in sorted order bound it)."""
    first, last = min(names), max(names)
    shared = 0
    while shared < len(first) and first[shared] == last[shared]:
        shared += 1
    return first[:shared]


def _list_dashboards(ctx: AwsContext, prefix: str) -> list[str]:
    params = {"DashboardNamePrefix": prefix} if prefix else {}
    entries = read_pages(ctx.client("cloudwatch"), "list_dashboards", "DashboardEntries", **params)
    return names_with_prefix([d["DashboardName"] for d in entries], prefix)


def _dashboard_namesakes(ctx: AwsContext, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """{name: tags} of the dashboards of these names that exist: one listing per first character of
    the names, under the prefix the names starting with it share (ListDashboards, up to 1,000 a
    page: CloudWatch API reference; there is no describe by names; never the whole account's),
    then the tags of those found (usually none)."""
    prefixes = _shared_prefixes(names)
    listed = {name for found in concurrently(lambda p: _list_dashboards(ctx, p), prefixes) for name in found}
    return _tags_of_existing(ctx, {name: _dashboard_arn(ctx, name) for name in names if name in listed})


def _shared_prefixes(names: Sequence[str]) -> list[str]:
    """For the names of each first character, the longest prefix they share: "Bench-1", "Bench-2"
    and "PACS-Main" give "Bench-" and "PACS-Main" (a read of names without a common prefix was one
    listing per name)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name[:1], []).append(name)
    return [os.path.commonprefix(group) for group in groups.values()]  # noqa: RUF071 (names, not paths)


def _dashboard_looks(ctx: AwsContext) -> NamesakeLooks[dict[str, str]]:
    return namesake_looks(ctx, "dashboards", lambda names: _dashboard_namesakes(ctx, names), DASHBOARD_PAGE)


@register
class Dashboards(Reconciler):
    meta = KindMeta(
        kind="dashboards",
        model=DashboardSpec,
        title="CloudWatch dashboard",
        attributes=("name", "arn"),
        lister=_list_dashboards,
        tag_api=TAGS,
        # The stack's ownership index (dashboard_index) is an SSM parameter read by every plan.
        # Apply writes it (PutParameter, DeleteParameter when it outgrows 4 KB) under
        # /pacs-reconcile/<stack>/, the path the apply lock's statement already grants: no ssm
        # write on every parameter for a spec that declares none.
        actions=KindActions(
            read=frozenset(
                {
                    "cloudwatch:ListDashboards",
                    "cloudwatch:GetDashboard",
                    "cloudwatch:ListTagsForResource",
                    "ssm:GetParameters",
                }
            ),
            write=frozenset(
                {
                    "cloudwatch:PutDashboard",
                    "cloudwatch:ListDashboards",  # the look for a namesake before a create
                    "cloudwatch:GetDashboard",
                    "cloudwatch:TagResource",
                    "cloudwatch:UntagResource",
                }
            ),
            delete=frozenset({"cloudwatch:DeleteDashboards"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        # Bodies compare as parsed JSON: key order and whitespace never make a difference.
        out = dict(state)
        if out.get("body") is not None:
            out["body"] = canonical_json(out["body"])
        return out

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = list(dict.fromkeys(map(str, keys)))
        stored = dashboard_index.read_index(ctx, scope.stack)  # the indexes: one GetParameters
        book = dashboard_versions.new_book(ctx, scope.stack, dashboard_versions.read(ctx, scope.stack))
        found, listing = None, None
        if stored is not None and not scope.full_scan:
            found, listing = self._read_indexed(ctx, declared, stored, scope, book)
        if found is None:
            arns = listing.arns if listing is not None and listing.whole else self._list(ctx)
            found = self._read_scanning(ctx, declared, scope.stack, arns)
        owned = {str(name) for name, live in found.items() if (live.tags or {}).get(OWNER_TAG) == scope.stack}
        dashboard_index.books(ctx, scope.stack)[scope.stack] = dashboard_index.IndexBook(stored, owned)
        return found

    def _read_indexed(
        self,
        ctx: AwsContext,
        declared: Sequence[str],
        stored: frozenset[str],
        scope: ReadScope,
        book: dashboard_versions.VersionBook,
    ) -> tuple[dict[Key, Live] | None, _Listing | None]:
        """The declared dashboards and the index's entries, each with its tags, and its body unless
        its version is the recorded one (dashboard_versions: the plan completes it); None when the
        index disagrees with the tags (an entry gone or not this stack's, or a declared dashboard of
        this stack missing from it): then only a full scan can tell what the stack owns (it takes
        the account's dashboards from the listing, when that listed them all).

        The tags and one ListDashboards (the versions; only when the caller completes) are read at
        once, then the bodies: 1 + (dashboards) + (pages) + (bodies changed since recorded) calls,
        whatever else the account holds."""
        names = list(dict.fromkeys([*declared, *sorted(stored)]))
        arns = {name: _dashboard_arn(ctx, name) for name in names}
        listed_names = declared if scope.completes else []
        tags, listing = self._tags_and_listing(ctx, arns, listed_names, book.stored)
        for name in names:
            ours = tags.get(name, {}).get(OWNER_TAG) == scope.stack
            if (name in stored) != ours:
                return None, listing
        listed = listing.versions if listing is not None else {}
        recorded = book.stored or {}
        unchanged = {  # the record is a hint for the body only: ownership is the tags' to say
            name: recorded[name]
            for name in listed_names
            if name in recorded
            and name in listed
            and listed[name].matches(recorded[name])
            and tags.get(name, {}).get(OWNER_TAG) == scope.stack
        }
        for name in set(listed_names) & listed.keys() - unchanged.keys():
            book.note(name, None)  # changed since recorded (or never recorded)
        reading = [name for name in names if name not in unchanged and name in tags]
        read = concurrently(lambda name: self._get_or_none(ctx, name), reading)
        bodies = dict(zip(reading, read, strict=True))
        out: dict[Key, Live] = {}
        for name, body in bodies.items():
            if body is None:
                continue
            out[name] = self._live(name, body, tags[name])
            if name in listed and tags[name].get(OWNER_TAG) == scope.stack:
                book.note(name, self._version_read(listed[name], body))
        for name, version in unchanged.items():
            arn = listed[name].arn or arns[name]
            state = {"name": name, "body": None}  # filled in by complete()
            attrs = {"name": name, "arn": arn}
            out[name] = Live(name, state, attrs, tags=tags[name], handle=_UnreadBody(arn, version.digest))
        return out, listing

    def _tags_and_listing(
        self,
        ctx: AwsContext,
        arns: Mapping[str, str],
        listed_names: Sequence[str],
        recorded: Mapping[str, dashboard_versions.Version] | None,
    ) -> tuple[dict[str, dict[str, str]], _Listing | None]:
        """The tags of every dashboard in `arns` (those that exist) and, at the same time, the
        listed versions of `listed_names` (none listed when there are none, or when a record exists
        and names none of them: the listing could then spare no body read)."""
        wanted = bool(listed_names) and (recorded is None or any(n in recorded for n in listed_names))
        budget = max(1, sum(1 for n in listed_names if n in (recorded or {})))
        reads: list[Callable[[], Any]] = [
            *(functools.partial(self._tags_or_none, ctx, arn) for arn in arns.values()),
            *([functools.partial(_list_versions, ctx, listed_names, budget)] if wanted else []),
        ]
        results = concurrently(lambda read: read(), reads)
        found_tags = zip(arns, results[: len(arns)], strict=True)
        tags = {name: found for name, found in found_tags if found is not None}
        return tags, (results[-1] if wanted else None)

    @staticmethod
    def _version_read(
        listing: dashboard_versions.Listed, response: Mapping[str, Any]
    ) -> dashboard_versions.Version | None:
        digest = dashboard_versions.body_digest(json.loads(response["DashboardBody"]))
        read_at = dashboard_versions.answered_at(response)
        return dashboard_versions.read_after_listing(listing, digest, read_at)

    def complete(self, ctx: AwsContext, live: Live, desired: Mapping[str, Any] | None) -> Live | None:
        unread = live.handle if isinstance(live.handle, _UnreadBody) else None
        if unread is None:
            return live
        body = (desired or {}).get("body")
        if body is not None and dashboard_versions.body_digest(body) == unread.digest:
            # The version listed is the one recorded, whose body has the desired body's digest.
            state = self.canonical({"name": live.key, "body": body})
            return Live(live.key, state, dict(live.attrs), tags=live.tags, handle=unread.arn)
        found = self._get_or_none(ctx, str(live.key))
        return None if found is None else self._live(str(live.key), found, dict(live.tags or {}))

    def _read_scanning(
        self, ctx: AwsContext, declared: Sequence[str], stack: str, arns: Mapping[str, str]
    ) -> dict[Key, Live]:
        """Every dashboard of the account (`arns`, from ListDashboards) asked for its tags, the
        declared ones' bodies read alongside; then the bodies of owned undeclared ones."""
        present = [name for name in declared if name in arns]
        tags_by_name, bodies = self._tags_and_bodies(ctx, arns, present)
        undeclared = [
            name for name, tags in tags_by_name.items() if name not in bodies and tags.get(OWNER_TAG) == stack
        ]
        more = concurrently(lambda name: self._get_or_none(ctx, name), undeclared)
        bodies.update(zip(undeclared, more, strict=True))
        return {
            name: self._live(name, dashboard, tags_by_name[name])
            for name, dashboard in bodies.items()
            if dashboard is not None and name in tags_by_name
        }

    def _tags_and_bodies(
        self, ctx: AwsContext, arns: Mapping[str, str], names: Sequence[str]
    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, Any] | None]]:
        """The tags of every dashboard in `arns` (those that exist) and the bodies of `names`, read
        in one concurrent pass (neither waits for the other)."""
        reads: list[tuple[Callable[[AwsContext, str], Any], str]] = [
            *((self._tags_or_none, arn) for arn in arns.values()),
            *((self._get_or_none, name) for name in names),
        ]
        results = concurrently(lambda read: read[0](ctx, read[1]), reads)
        tag_results, bodies = results[: len(arns)], dict(zip(names, results[len(arns) :], strict=True))
        tags = {name: found for name, found in zip(arns, tag_results, strict=True) if found is not None}
        return tags, bodies

    def records_to_repair(self, ctx: AwsContext, stack: str) -> str:
        book = self._book(ctx, stack)
        versions = dashboard_versions.current_book(ctx, stack)
        reasons = [
            book.stale() if book is not None else "",
            versions.missing() if versions is not None else "",
        ]
        return "; ".join(reason for reason in reasons if reason)

    def before_creates(self, ctx: AwsContext, keys: Sequence[Key]) -> None:
        """The looks before the creates (`_not_taken_over`) read the next names ahead (`_namesakes`)."""
        _dashboard_looks(ctx).expect(str(key) for key in keys)

    def before_writes(self, ctx: AwsContext, stack: str, keys: Sequence[Key]) -> None:
        book = self._book(ctx, stack) or self._read_book(ctx, stack)
        book.store(ctx, stack, book.owned | set(map(str, keys)))  # ahead of the creates: a superset

    def after_writes(self, ctx: AwsContext, stack: str) -> None:
        book = self._book(ctx, stack)
        if book is not None and (book.stored is not None or book.owned):
            book.store(ctx, stack, book.owned)
        versions = dashboard_versions.current_book(ctx, stack)
        if book is not None and versions is not None:
            self._list_written(ctx, versions, book.owned)
            versions.store(ctx, stack, book.owned)

    def _list_written(
        self, ctx: AwsContext, versions: dashboard_versions.VersionBook, owned: set[str]
    ) -> None:
        """PutDashboard answers no LastModified: one ListDashboards after the writes gives the
        versions of the dashboards written (dashboard_versions.listed_after_write)."""
        written = {name: seen for name, seen in versions.written.items() if name in owned}
        listed = _list_versions(ctx, sorted(written)).versions if written else {}
        for name, (digest, answered_at) in written.items():
            found = listed.get(name)
            certain = dashboard_versions.listed_after_write(found, digest, answered_at) if found else None
            versions.note(name, certain)

    def _book(self, ctx: AwsContext, stack: str) -> dashboard_index.IndexBook | None:
        return dashboard_index.books(ctx, stack).get(stack)

    def _read_book(self, ctx: AwsContext, stack: str) -> dashboard_index.IndexBook:
        self.read(ctx, [], ReadScope(stack))
        book = self._book(ctx, stack)
        assert book is not None  # read() records it
        return book

    def _note(self, ctx: AwsContext, stack: str | None, name: str, owned: bool) -> None:
        """Keep the run's book of a stack's dashboards current (creates, deletions, tag changes)."""
        book = self._book(ctx, stack) if stack else None
        if book is not None:
            (book.add if owned else book.discard)(name)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        name = desired.state["name"]
        _not_taken_over(_dashboard_looks(ctx), f"dashboard {name}", name, desired.tags)
        # PutDashboard takes Tags when it creates a dashboard (and ignores them on updates).
        written = self._put(ctx, name, desired.state["body"], Tags=tags_to_list(desired.tags))
        self._wrote(ctx, desired.tags.get(OWNER_TAG), name, desired.state["body"], written)
        self._note(ctx, desired.tags.get(OWNER_TAG), name, owned=True)
        # What was just written, not read back (PutDashboard answered without validation messages).
        arn = _dashboard_arn(ctx, name)
        state = self.canonical({"name": name, "body": desired.state["body"]})
        return Live(
            key=name, state=state, attrs={"name": name, "arn": arn}, tags=dict(desired.tags), handle=arn
        )

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        name = desired.state["name"]
        written = self._put(ctx, name, desired.state["body"])  # replaces the whole body
        self._wrote(ctx, (live.tags or {}).get(OWNER_TAG), name, desired.state["body"], written)
        return self._reread(ctx, name, live.tags)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        with gone_is_fine(*DASHBOARD_NOT_FOUND):
            ctx.client("cloudwatch").delete_dashboards(DashboardNames=[live.attrs["name"]])
        self._note(ctx, (live.tags or {}).get(OWNER_TAG), live.attrs["name"], owned=False)

    def update_tags(self, ctx: AwsContext, live: Live, changes: TagChanges) -> None:
        # Kept as an override: the ownership index follows a change of the owner tag.
        super().update_tags(ctx, live, changes)
        name, owner = live.attrs["name"], (live.tags or {}).get(OWNER_TAG)
        if OWNER_TAG in changes.to_unset or OWNER_TAG in changes.to_set:
            self._note(ctx, owner, name, owned=False)  # released, or taken by another stack
        if OWNER_TAG in changes.to_set:
            self._note(ctx, changes.to_set[OWNER_TAG], name, owned=True)  # adopted

    # helpers ----------------------------------------------------------------------------------
    def _list(self, ctx: AwsContext) -> dict[str, str]:
        paginator = ctx.client("cloudwatch").get_paginator("list_dashboards")
        return {
            entry["DashboardName"]: entry["DashboardArn"]
            for page in paginator.paginate()
            for entry in page.get("DashboardEntries", [])
        }

    def _tags_or_none(self, ctx: AwsContext, arn: str) -> dict[str, str] | None:
        client = ctx.client("cloudwatch")
        try:
            return _list_tags(ctx, arn)
        except client.exceptions.ResourceNotFoundException:
            return None  # deleted since it was listed

    def _get_or_none(self, ctx: AwsContext, name: str) -> dict[str, Any] | None:
        client = ctx.client("cloudwatch")
        try:
            return dict(client.get_dashboard(DashboardName=name))
        except client.exceptions.ClientError as exc:
            # DashboardNotFoundError and ResourceNotFound share the code: botocore may raise either.
            if error_code(exc) in DASHBOARD_NOT_FOUND:
                return None  # deleted since it was listed
            raise

    def _put(self, ctx: AwsContext, name: str, body: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        response = ctx.client("cloudwatch").put_dashboard(
            DashboardName=name, DashboardBody=json.dumps(body, separators=(",", ":")), **extra
        )
        messages = response.get("DashboardValidationMessages") or []
        if messages:
            # Warnings still save the dashboard, but something in it will not render: fail loudly.
            details = "; ".join(f"{m.get('DataPath', '')}: {m.get('Message', '')}" for m in messages)
            raise AwsError("PutDashboard", f"dashboard {name}", f"the body has problems: {details}")
        return dict(response)

    def _wrote(
        self, ctx: AwsContext, stack: str | None, name: str, body: Any, response: Mapping[str, Any]
    ) -> None:
        """Note a PutDashboard of the stack's for its version record (listed after the writes)."""
        versions = dashboard_versions.current_book(ctx, stack) if stack else None
        if versions is not None:
            answered = dashboard_versions.answered_at(response)
            versions.wrote(name, dashboard_versions.body_digest(body), answered)

    def _live(self, name: str, dashboard: Mapping[str, Any], tags: dict[str, str]) -> Live:
        arn = dashboard.get("DashboardArn") or ""
        state = {"name": name, "body": json.loads(dashboard["DashboardBody"])}
        attrs = {"name": name, "arn": arn}
        return Live(key=name, state=self.canonical(state), attrs=attrs, tags=tags, handle=arn)

    def _reread(self, ctx: AwsContext, name: str, tags: dict[str, str] | None) -> Live:
        dashboard = self._get_or_none(ctx, name)
        if dashboard is None:
            problem = "the dashboard just written cannot be read back"
            raise AwsError("GetDashboard", f"dashboard {name}", problem)
        if not dashboard.get("DashboardArn"):
            dashboard["DashboardArn"] = _dashboard_arn(ctx, name)
        return self._live(name, dashboard, dict(tags or {}))
