"""Make moto 5.2.5 page its answers the way AWS does, so the benchmark counts the calls AWS would see.

moto ignores several of AWS's page limits (see /work/shared/AWS-NOTES.md): left alone it would
answer 3,000 alarms in one DescribeAlarms page, every metric filter of the account in one
DescribeMetricFilters page, and it lists every log group whatever `logGroupIdentifiers` asks for.
It also caps GetResources pages at 100 *tags* even when the caller only set ResourcesPerPage.
Each patch below enforces the documented limit instead (benchmark server process only):

- DescribeAlarms: MaxRecords 1-100, 50 when omitted; AlarmNames at most 100.
- DescribeMetricFilters: limit 1-50, 50 when omitted.
- DescribeLogGroups: `logGroupIdentifiers` (at most 50) selects those groups only.
- GetResources: pages hold ResourcesPerPage resources; TagsPerPage only counts when it is sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

ALARMS_DEFAULT_PAGE = 50
ALARMS_MAX_PAGE = 100
ALARM_NAMES_MAX = 100
METRIC_FILTERS_MAX_PAGE = 50
LOG_GROUP_IDENTIFIERS_MAX = 50
_UNLIMITED_TAGS = 10**9

_tagging_request = threading.local()


def install() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.logs.responses import LogsResponse
    from moto.resourcegroupstaggingapi.models import ResourceGroupsTaggingAPIBackend
    from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

    CloudWatchResponse.describe_alarms = _paged_alarms(CloudWatchResponse.describe_alarms)  # type: ignore[method-assign]
    LogsResponse.describe_metric_filters = _paged_metric_filters(LogsResponse.describe_metric_filters)  # type: ignore[method-assign]
    LogsResponse.describe_log_groups = _log_groups_by_identifier(LogsResponse.describe_log_groups)  # type: ignore[method-assign]
    ResourceGroupsTaggingAPIResponse.get_resources = _noting_tags_per_page(  # type: ignore[method-assign]
        ResourceGroupsTaggingAPIResponse.get_resources
    )
    ResourceGroupsTaggingAPIBackend.get_resources = _resources_per_page(  # type: ignore[method-assign]
        ResourceGroupsTaggingAPIBackend.get_resources
    )


def _validation_error(service: str, message: str) -> Exception:
    if service == "logs":
        from moto.logs.exceptions import InvalidParameterException

        return InvalidParameterException(msg=message)
    from moto.cloudwatch.exceptions import InvalidParameterValue

    return InvalidParameterValue(message)


def _page(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """One page of `items` starting at the offset `token` encodes, and the next page's token."""
    start = int(token) if token else 0
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


def _paged_alarms(original: Callable[..., Any]) -> Callable[..., Any]:
    def describe_alarms(self: Any) -> Any:
        from moto.core.responses import ActionResult

        size = int(self._get_param("MaxRecords") or ALARMS_DEFAULT_PAGE)
        if not 1 <= size <= ALARMS_MAX_PAGE:
            raise _validation_error("cloudwatch", f"MaxRecords must be 1-{ALARMS_MAX_PAGE}")
        if len(self._get_param("AlarmNames", []) or []) > ALARM_NAMES_MAX:
            raise _validation_error("cloudwatch", f"at most {ALARM_NAMES_MAX} AlarmNames")
        result = original(self).result
        alarms = [("MetricAlarms", a) for a in result["MetricAlarms"]]
        alarms += [("CompositeAlarms", a) for a in result["CompositeAlarms"]]
        page, token = _page(alarms, self._get_param("NextToken"), size)
        paged: dict[str, Any] = {"MetricAlarms": [], "CompositeAlarms": []}
        for kind, alarm in page:
            paged[kind].append(alarm)
        if token:
            paged["NextToken"] = token
        return ActionResult(paged)

    return describe_alarms


def _paged_metric_filters(original: Callable[..., str]) -> Callable[..., str]:
    def describe_metric_filters(self: Any) -> str:
        size = int(self._get_param("limit") or METRIC_FILTERS_MAX_PAGE)
        if not 1 <= size <= METRIC_FILTERS_MAX_PAGE:
            raise _validation_error("logs", f"limit must be 1-{METRIC_FILTERS_MAX_PAGE}")
        token = self._get_param("nextToken")
        answer = json.loads(original(self))
        page, next_token = _page(answer["metricFilters"], token, size)
        return json.dumps({"metricFilters": page, **({"nextToken": next_token} if next_token else {})})

    return describe_metric_filters


def _log_groups_by_identifier(original: Callable[..., str]) -> Callable[..., str]:
    def describe_log_groups(self: Any) -> str:
        identifiers = self._get_param("logGroupIdentifiers")
        if not identifiers:
            return original(self)
        if len(identifiers) > LOG_GROUP_IDENTIFIERS_MAX:
            raise _validation_error("logs", f"at most {LOG_GROUP_IDENTIFIERS_MAX} logGroupIdentifiers")
        groups = self.logs_backend.groups
        names = [i.split(":log-group:", 1)[-1].removesuffix(":*") for i in identifiers]
        found = [groups[n].to_describe_dict() for n in sorted(set(names)) if n in groups]
        return json.dumps({"logGroups": found})

    return describe_log_groups


def _noting_tags_per_page(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_resources(self: Any) -> Any:
        _tagging_request.tags_per_page_sent = self._get_param("TagsPerPage") is not None
        try:
            return original(self)
        finally:
            _tagging_request.tags_per_page_sent = False

    return get_resources


def _resources_per_page(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_resources(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_tagging_request, "tags_per_page_sent", False):
            kwargs["tags_per_page"] = _UNLIMITED_TAGS
        return original(self, *args, **kwargs)

    return get_resources
