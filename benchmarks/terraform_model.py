"""The calls Terraform's one-read-per-resource refresh would make for the same spec.

Terraform's AWS provider refreshes every resource and data source on its own. Per resource we
count the reads its `Read` function makes for the attributes this tool manages (AWS-NOTES.md:
1 to 3 per resource), plus one sts:GetCallerIdentity when the provider is configured.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

READS_PER_RESOURCE = {
    "alarms": 2,  # DescribeAlarms(AlarmNames=[name]) + ListTagsForResource
    "log_groups": 2,  # DescribeLogGroups(prefix) + ListTagsForResource
    "metric_filters": 1,  # DescribeMetricFilters(logGroupName, filterNamePrefix)
    "query_definitions": 1,  # DescribeQueryDefinitions(queryDefinitionNamePrefix)
    "dashboards": 2,  # GetDashboard + ListTagsForResource (the tags this tool manages)
    "sns_topics": 2,  # GetTopicAttributes + ListTagsForResource
    "subscriptions": 1,  # GetSubscriptionAttributes
}
READS_PER_LOOKUP = 1
"""A data source: one describe call (by id, name or tag filter)."""
PROVIDER_SETUP = 1
"""sts:GetCallerIdentity when the provider is configured."""
DEFAULT_READS = 2
"""Kinds not in the table (added after this file was written): a describe and a tag read."""


def terraform_calls(kinds: Iterable[str], lookups: int) -> int:
    counts = Counter(kinds)
    resources = sum(READS_PER_RESOURCE.get(kind, DEFAULT_READS) * n for kind, n in counts.items())
    return PROVIDER_SETUP + lookups * READS_PER_LOOKUP + resources
