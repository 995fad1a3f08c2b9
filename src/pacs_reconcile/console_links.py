"""The AWS console page of a managed resource, for reports people click through.

The console's deep links are not an API: the forms below are the ones AWS's own documentation and
common public tooling use (e.g. the Amazon EKS User Guide links Parameter Store pages as
`systems-manager/parameters/%252F.../description`; CloudWatch Logs pages take the group name
URL-encoded twice with `$` for `%`). Where a page needs an id the plan did not read (a resource
that does not exist yet), the link goes to the service's list instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from .resources.registry import KINDS

GLOBAL_CONSOLE = "https://console.aws.amazon.com"


def _regional(region: str) -> str:
    return f"https://{region}.console.aws.amazon.com"


def _part(text: str) -> str:
    return quote(text, safe="")


def _logs_part(text: str) -> str:
    """CloudWatch Logs' fragment encoding: URL-encoded twice, `%` written as `$`."""
    return quote(quote(text, safe=""), safe="").replace("%", "$")


Link = Callable[[str, str, Mapping[str, Any]], str]
"""(region, name, attributes read from AWS) -> URL."""


def _cloudwatch(region: str, fragment: str) -> str:
    return f"{_regional(region)}/cloudwatch/home?region={region}#{fragment}"


def _with(attribute: str, found: Link, missing: Link) -> Link:
    """`found` when AWS told the attribute (an ARN, an id), else `missing` (a list page)."""

    def link(region: str, name: str, attrs: Mapping[str, Any]) -> str:
        value = attrs.get(attribute)
        if isinstance(value, str) and value:
            return found(region, value, attrs)
        return missing(region, name, attrs)

    return link


LINKS: dict[str, Link] = {
    "log_groups": lambda r, n, a: _cloudwatch(r, f"logsV2:log-groups/log-group/{_logs_part(n)}"),
    "alarms": lambda r, n, a: _cloudwatch(r, f"alarmsV2:alarm/{_part(n)}"),
    "dashboards": lambda r, n, a: _cloudwatch(r, f"dashboards/dashboard/{_part(n)}"),
    "sns_topics": _with(
        "arn",
        lambda r, arn, a: f"{_regional(r)}/sns/v3/home?region={r}#/topic/{arn}",
        lambda r, n, a: f"{_regional(r)}/sns/v3/home?region={r}#/topics",
    ),
    "subscriptions": _with(
        "arn",
        lambda r, arn, a: f"{_regional(r)}/sns/v3/home?region={r}#/subscription/{arn}",
        lambda r, n, a: f"{_regional(r)}/sns/v3/home?region={r}#/subscriptions",
    ),
    "iam_roles": lambda r, n, a: f"{GLOBAL_CONSOLE}/iam/home#/roles/details/{_part(n)}",
    "iam_policies": _with(
        "arn",
        lambda r, arn, a: f"{GLOBAL_CONSOLE}/iam/home#/policies/details/{_part(arn)}",
        lambda r, n, a: f"{GLOBAL_CONSOLE}/iam/home#/policies",
    ),
    "lambda_functions": lambda r, n, a: f"{_regional(r)}/lambda/home?region={r}#/functions/{_part(n)}",
    "event_rules": lambda r, n, a: (
        f"{_regional(r)}/events/home?region={r}#/eventbus/default/rules/{_part(n)}"
    ),
    "task_definitions": lambda r, n, a: f"{_regional(r)}/ecs/v2/task-definitions/{_part(n)}?region={r}",
    "efs_file_systems": _with(
        "id",
        lambda r, fs, a: f"{_regional(r)}/efs/home?region={r}#/file-systems/{_part(fs)}",
        lambda r, n, a: f"{_regional(r)}/efs/home?region={r}#/file-systems",
    ),
    "security_groups": _with(
        "id",
        lambda r, sg, a: f"{_regional(r)}/ec2/home?region={r}#SecurityGroup:groupId={_part(sg)}",
        lambda r, n, a: f"{_regional(r)}/ec2/home?region={r}#SecurityGroups:",
    ),
    "ssm_parameters": lambda r, n, a: (
        f"{_regional(r)}/systems-manager/parameters/{_part(_part(n))}/description?region={r}"
    ),
}


def console_url(kind: str, key: Any, attrs: Mapping[str, Any] | None, region: str) -> str | None:
    """The console page of a resource: its own, or its parent's for kinds the console shows inside
    their parent (metric filters in their log group, targets in their rule...)."""
    link = LINKS.get(kind)
    if link is not None and (kind == "subscriptions" or not isinstance(key, tuple)):
        return link(region, _name(key), attrs or {})
    parent = KINDS[kind].meta.parent if kind in KINDS else None
    if parent is not None and isinstance(key, tuple) and parent in LINKS:
        return LINKS[parent](region, _name(key[0]), {})
    return None


def _name(key: Any) -> str:
    return str(key[-1]) if isinstance(key, tuple) else str(key)
