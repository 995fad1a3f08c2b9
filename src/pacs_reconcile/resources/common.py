"""Read helpers every kind shares: batching, bounded concurrency, the owner-tag sweep, error codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .. import OWNER_TAG
from ..aws import AwsContext
from ..diff import tags_from_list

T = TypeVar("T")
R = TypeVar("R")

READ_WORKERS = 8
"""Per-resource reads run at most this many at once (well under the published describe quotas)."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in batches of at most `size` (AWS's per-call limits, honoured even where moto's are not)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def concurrently(fn: Callable[[T], R], items: Sequence[T], workers: int = READ_WORKERS) -> list[R]:
    """fn over items, a few at a time on the shared clients; results in order, the first error propagates."""
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def arn_service(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[2] if len(parts) > 2 else ""


def arn_resource(arn: str) -> str:
    parts = arn.split(":", 5)
    return parts[5] if len(parts) > 5 else ""


def owned_resources(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
    """ARN -> tags of every resource the Resource Groups Tagging API lists with this stack's owner tag.

    One paginated sweep per run, shared by every kind (IAM roles, EventBridge rules and dashboards
    are not covered by the tagging API: their kinds read tags themselves).
    """

    def sweep() -> dict[str, dict[str, str]]:
        paginator = ctx.client("resourcegroupstaggingapi").get_paginator("get_resources")
        pages = paginator.paginate(TagFilters=[{"Key": OWNER_TAG, "Values": [stack]}], ResourcesPerPage=100)
        return {
            item["ResourceARN"]: tags_from_list(item.get("Tags"))
            for page in pages
            for item in page.get("ResourceTagMappingList", [])
        }

    return ctx.memo(f"owned-resources:{stack}", sweep)


def owned_of(ctx: AwsContext, stack: str, service: str, resource_prefix: str = "") -> dict[str, dict[str, str]]:
    """The owned resources of one service (and resource type, by the ARN's resource part prefix)."""
    return {
        arn: tags
        for arn, tags in owned_resources(ctx, stack).items()
        if arn_service(arn) == service and arn_resource(arn).startswith(resource_prefix)
    }


def read_pages(client: Any, operation: str, result_key: str, **params: Any) -> list[Any]:
    """Every item of a paginated list/describe call (botocore's paginator)."""
    paginator = client.get_paginator(operation)
    return [item for page in paginator.paginate(**params) for item in page.get(result_key, [])]
