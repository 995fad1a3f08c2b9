"""Teach moto 5.2.5's CloudWatch what real CloudWatch does with dashboard tags.

moto tags only alarms: TagResource/UntagResource on a dashboard ARN fail with
ResourceNotFoundException, PutDashboard drops its Tags, and deleted alarms and dashboards keep
their tags (a resource re-created under the same name would inherit them). After install():
- TagResource, UntagResource and ListTagsForResource accept the ARN of any existing alarm,
  dashboard or Contributor Insights rule, and refuse any other ARN, as AWS does;
- PutDashboard applies its Tags when it creates a dashboard and ignores them on an update;
- DeleteDashboards and DeleteAlarms drop the deleted resources' tags;
- PutMetricAlarm accepts every extended statistic CloudWatch defines, not only percentiles:
  moto refuses any ExtendedStatistic not starting with `p`, though AWS takes trimmed mean
  (tm90, TM(2%:98%)), IQM, winsorized mean (wm98), percentile rank (PR(:300)), trimmed count
  (tc90) and trimmed sum (TS(80%:)) as well
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html,
  and PutMetricAlarm's ExtendedStatistic: "p0.0 to p100, or any of the other statistics
  listed in CloudWatch statistics definitions"); one outside that grammar is still refused;
- PutMetricAlarm keeps each metric item's AccountId, which moto drops, and DescribeAlarms returns
  it (MetricDataQuery.AccountId: "which account contains the metric that the alarm is watching",
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataQuery.html).
- PutMetricAlarm keeps EvaluationWindow, WarmUpConfiguration and ActionConfiguration, which
  moto drops, and DescribeAlarms returns them as sent; each PutMetricAlarm replaces them, as it
  replaces the whole alarm (MetricAlarm in the CloudWatch API reference lists all three; "If you
  omit [EvaluationWindow], the alarm uses a sliding window", so an omitted one is left out).
- PutMetricAlarm keeps a PromQL alarm's EvaluationCriteria and EvaluationInterval, and refuses
  what CloudWatch refuses with them: any of Namespace, MetricName, Dimensions, Period, Unit,
  Statistic, ExtendedStatistic, Metrics, Threshold, ComparisonOperator, ThresholdMetricId,
  EvaluationPeriods, DatapointsToAlarm or EvaluationWindow beside EvaluationCriteria, and
  EvaluationInterval without it or missing from it (PutMetricAlarm, CloudWatch API reference).
- PutCompositeAlarm, which moto does not implement, stores a composite alarm (AlarmRule, actions,
  ActionsSuppressor with its wait and extension periods, ActionConfiguration, description, tags)
  beside the metric
  alarms, and DescribeAlarms returns it under CompositeAlarms; DescribeAlarms honours AlarmTypes
  ("If you omit this parameter, only metric alarms are returned", DescribeAlarms, CloudWatch API
  reference), where moto returns both kinds whatever is asked.
The patches replace methods on moto's backend and response classes, so they work in-process
(mock_aws) and in server mode alike, as long as install() runs in the process serving requests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_MARKER = "_pacs_reconcile_patched"


def install() -> None:
    """Apply the patches once (idempotent)."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    if getattr(CloudWatchBackend, _MARKER, False):
        return
    backend, response = CloudWatchBackend, CloudWatchResponse
    replacements = [
        (backend, "tag_resource", _tag_resource),
        (backend, "untag_resource", _untag_resource),
        (backend, "list_tags_for_resource", _list_tags_for_resource),
        (backend, "delete_dashboards", _dropping_dashboard_tags(backend.delete_dashboards)),
        (backend, "delete_alarms", _dropping_alarm_tags(backend.delete_alarms)),
        (response, "put_dashboard", _tagging_put_dashboard(response.put_dashboard)),
        (backend, "put_metric_alarm", _any_extended_statistic(backend.put_metric_alarm)),
        (
            response,
            "put_metric_alarm",
            _keeping_newer_settings(_keeping_account_ids(response.put_metric_alarm)),
        ),
        (response, "put_composite_alarm", _put_composite_alarm(response.put_metric_alarm)),
        (response, "describe_alarms", _describing_alarm_types(response.describe_alarms)),
    ]
    for cls, name, method in replacements:
        setattr(cls, name, method)
    setattr(CloudWatchBackend, _MARKER, True)


def _taggable_arns(backend: Any) -> set[str]:
    arns = {alarm.alarm_arn for alarm in backend.alarms.values()}
    arns |= {dashboard.arn for dashboard in backend.dashboards.values()}
    arns |= {rule.rule_arn for rule in backend.insight_rules.values()}
    return arns


def _require_existing(backend: Any, arn: str) -> None:
    from moto.cloudwatch.exceptions import ResourceNotFoundException

    if arn not in _taggable_arns(backend):
        raise ResourceNotFoundException


def _tag_resource(self: Any, arn: str, tags: dict[str, str]) -> None:
    _require_existing(self, arn)
    self.tagger.tag_resource(arn, self.tagger.convert_dict_to_tags_input(tags))


def _untag_resource(self: Any, arn: str, tag_keys: list[str]) -> None:
    _require_existing(self, arn)
    self.tagger.untag_resource_using_names(arn, tag_keys)


def _list_tags_for_resource(self: Any, arn: str) -> dict[str, str]:
    _require_existing(self, arn)
    return dict(self.tagger.get_tag_dict_for_resource(arn))


def _dropping_dashboard_tags(original: Callable[..., str | None]) -> Callable[..., str | None]:
    def delete_dashboards(self: Any, dashboards: list[str]) -> str | None:
        arns = {name: self.dashboards[name].arn for name in dashboards if name in self.dashboards}
        error = original(self, dashboards)
        if error is None:  # moto deletes all or nothing
            for arn in arns.values():
                self.tagger.delete_all_tags_for_resource(arn)
        return error

    return delete_dashboards


def _dropping_alarm_tags(original: Callable[..., None]) -> Callable[..., None]:
    def delete_alarms(self: Any, alarm_names: list[str]) -> None:
        arns = [self.alarms[name].alarm_arn for name in alarm_names if name in self.alarms]
        original(self, alarm_names)
        for arn in arns:
            self.tagger.delete_all_tags_for_resource(arn)

    return delete_alarms


def _tagging_put_dashboard(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_dashboard(self: Any) -> Any:
        name = self._get_param("DashboardName")
        backend = self.cloudwatch_backend
        created = backend.get_dashboard(name) is None
        result = original(self)  # validates the body and stores the dashboard
        tags = self._get_param("Tags", [])
        if created and tags:  # like AWS: Tags count only when the dashboard is created
            backend.tagger.tag_resource(backend.get_dashboard(name).arn, tags)
        return result

    return put_dashboard


def _any_extended_statistic(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.cloudwatch.exceptions import InvalidParameterValue

    from ..resources.cloudwatch import is_extended_statistic

    def put_metric_alarm(self: Any, *args: Any, **kwargs: Any) -> Any:
        wanted = kwargs.get("extended_statistic")
        if not wanted:
            return original(self, *args, **kwargs)
        if not is_extended_statistic(wanted):
            raise InvalidParameterValue(
                f"The value {wanted} for parameter ExtendedStatistic is not supported."
            )
        # moto's own check lets only percentiles through: store a percentile, then the real value.
        alarm = original(self, *args, **{**kwargs, "extended_statistic": "p50"})
        alarm.extended_statistic = wanted
        return alarm

    return put_metric_alarm


def _keeping_account_ids(original: Callable[..., Any]) -> Callable[..., Any]:
    def put_metric_alarm(self: Any) -> Any:
        result = original(self)
        alarm = self.cloudwatch_backend.alarms[self._get_param("AlarmName")]
        accounts = {item.get("Id"): item.get("AccountId") for item in self._get_param("Metrics", [])}
        for query in alarm.metric_data_queries:
            if accounts.get(query.id):
                query.account_id = accounts[query.id]  # serialized as AccountId by moto
        return result

    return put_metric_alarm


NEWER_ALARM_SETTINGS = {
    "EvaluationWindow": "evaluation_window",
    "WarmUpConfiguration": "warm_up_configuration",
    "ActionConfiguration": "action_configuration",
    "EvaluationCriteria": "evaluation_criteria",
    "EvaluationInterval": "evaluation_interval",
}
NOT_WITH_EVALUATION_CRITERIA = (
    "Namespace",
    "MetricName",
    "Dimensions",
    "Period",
    "Unit",
    "Statistic",
    "ExtendedStatistic",
    "Metrics",
    "Threshold",
    "ComparisonOperator",
    "ThresholdMetricId",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "EvaluationWindow",
)
"""PutMetricAlarm parameters moto ignores, and the alarm attribute moto serializes each from."""


def _keeping_newer_settings(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.cloudwatch.exceptions import InvalidParameterCombination

    def put_metric_alarm(self: Any) -> Any:
        if self._get_param("EvaluationCriteria"):
            given = [p for p in NOT_WITH_EVALUATION_CRITERIA if self._get_param(p) not in (None, [], "")]
            if given:
                raise InvalidParameterCombination(
                    f"EvaluationCriteria cannot be used with {', '.join(given)}"
                )
            if self._get_param("EvaluationInterval") is None:
                raise InvalidParameterCombination("EvaluationInterval is required with EvaluationCriteria")
        elif self._get_param("EvaluationInterval") is not None:
            raise InvalidParameterCombination("EvaluationInterval can be used only with EvaluationCriteria")
        result = original(self)
        alarm = self.cloudwatch_backend.alarms[self._get_param("AlarmName")]
        for parameter, attribute in NEWER_ALARM_SETTINGS.items():
            setattr(alarm, attribute, self._get_param(parameter) or None)  # replaced, like the rest
        return result

    return put_metric_alarm


COMPOSITE_SETTINGS = {
    "ActionsSuppressor": "actions_suppressor",
    "ActionsSuppressorWaitPeriod": "actions_suppressor_wait_period",
    "ActionsSuppressorExtensionPeriod": "actions_suppressor_extension_period",
    "ActionConfiguration": "action_configuration",
}
"""PutCompositeAlarm parameters moto's alarm lacks, and the attribute each is serialized from."""


def _put_composite_alarm(put_metric_alarm: Callable[..., Any]) -> Callable[..., Any]:
    """moto's PutMetricAlarm reads AlarmRule (an alarm with a rule is a composite one): reuse it,
    then keep what only composite alarms have."""

    def put_composite_alarm(self: Any) -> Any:
        result = put_metric_alarm(self)
        alarm = self.cloudwatch_backend.alarms[self._get_param("AlarmName")]
        for parameter, attribute in COMPOSITE_SETTINGS.items():
            setattr(alarm, attribute, self._get_param(parameter))  # replaced, like the rest
        return result

    return put_composite_alarm


def _describing_alarm_types(original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_alarms(self: Any) -> Any:
        result = original(self)
        wanted = set(self._get_param("AlarmTypes") or ["MetricAlarm"])
        for alarm_type in ("MetricAlarm", "CompositeAlarm"):
            if alarm_type not in wanted:
                result.result[f"{alarm_type}s"] = []
        return result

    return describe_alarms
