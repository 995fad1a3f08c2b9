"""CloudWatch Logs kinds: log groups, with their metric filters and saved Logs Insights queries.

`log_groups` is a top-level, taggable, stateful kind. `metric_filters` and `query_definitions`
are untaggable children declared under a log group; ownership comes from the parent.

Query definitions are not unique by name in AWS. A definition belongs to the log group named
FIRST in its `logGroupNames`. When several definitions share one (log group, name) key, the most
recently modified one is kept under that key and every other one is returned under the key
(log group, "NAME#ID"): the engine sees those as undeclared children and deletes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ..aws import AwsContext
from ..diff import Delta, sorted_unique
from ..hints import InvalidValue, nearest_numbers
from ..monitoring.examples import ChainExample, FilterExample
from ..monitoring.filter_pattern import compile_pattern
from . import saved_query_index
from ._fields import StandardUnit
from .base import Desired, Key, Live, ReadScope, Reconciler, SpecModel, is_unresolved
from .common import (
    AccountListing,
    batched,
    both,
    claim_after_lost_create,
    concurrently,
    memo_until_write,
    names_with_prefix,
    owned_of,
    read_pages,
)
from .kind import KindActions, KindMeta, TagApi
from .registry import register

# Shared limits and vocabularies ---------------------------------------------------------------

# fmt: off
RetentionDays = Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                        2192, 2557, 2922, 3288, 3653]
# fmt: on
RETENTION_DAYS: tuple[int, ...] = get_args(RetentionDays)
NEVER_EXPIRE = "never"
LogGroupClass = Literal["STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS"]
DEFAULT_LOG_GROUP_CLASS = "STANDARD"
DELIVERY_CLASS = "DELIVERY"
"""A Delivery log group's retention is AWS's: fixed (DescribeLogGroups reports 2 days) and never
set ("Log events in log groups in the Delivery class are kept in CloudWatch Logs for only one
day", CreateLogGroup, CloudWatch Logs API reference); a retention policy on one is refused
(aws/aws-cdk#38703, verified against the service; go-to-k/cdk-real-drift#1727 records the 2 days;
hashicorp/terraform-provider-aws#42658)."""
"""CreateLogGroup: "If you omit this parameter, the default of STANDARD is used." """
NO_KMS_KEY = "none"
DESCRIBE_LOG_GROUPS_BATCH = 50
"""The API's maximum number of logGroupIdentifiers per DescribeLogGroups call."""
QUERY_DEFINITIONS_PAGE_SIZE = 1000
"""The API's maximum maxResults for DescribeQueryDefinitions."""
METRIC_FILTERS_PAGE_SIZE = 50
"""The API's maximum limit for DescribeMetricFilters."""
MAX_DIMENSIONS = 3
MAX_FILTER_PATTERN = 1024


_LOG_GROUP_NAME_CHAR = re.compile(r"[.\-_/#A-Za-z0-9]")
_KMS_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+")
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_METRIC_VALUE_FIELD = re.compile(r"\$(\.\S+|[A-Za-z_][A-Za-z0-9_]*)")


# Validators (plain ValueErrors: the loader adds file, line and field) ---------------------------


def check_log_group_name(value: str) -> str:
    if is_unresolved(value):
        return value
    bad = sorted({ch for ch in value if not _LOG_GROUP_NAME_CHAR.fullmatch(ch)})
    if bad:
        shown = " ".join(repr(ch) for ch in bad)
        raise ValueError(f"contains {shown}; log group names allow only letters, digits and . - _ / #")
    return value


def check_forbidden_chars(value: str, forbidden: str, what: str) -> str:
    if is_unresolved(value):
        return value
    bad = [ch for ch in forbidden if ch in value]
    if bad:
        raise ValueError(f"{what} must not contain {' or '.join(repr(ch) for ch in bad)}")
    return value


def check_kms_key_arn(value: str | None) -> str | None:
    if value is None or value == NO_KMS_KEY or is_unresolved(value):
        return value
    if not _KMS_KEY_ARN.fullmatch(value):
        raise ValueError(
            "must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID; CloudWatch Logs takes "
            f'no alias or bare key id), or "{NO_KMS_KEY}" for no customer managed key'
        )
    return value


def check_metric_namespace(value: str) -> str:
    if is_unresolved(value):
        return value
    check_forbidden_chars(value, ":*$", "a metric namespace")
    if not value.isascii():
        raise ValueError("a metric namespace must be ASCII")
    if value.startswith("AWS/"):
        raise ValueError('namespaces starting with "AWS/" are reserved for AWS services')
    return value


def check_metric_value(value: str) -> str:
    if is_unresolved(value):
        return value
    if _METRIC_VALUE_FIELD.fullmatch(value):
        return value
    try:
        float(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is neither a number (e.g. 1) nor a field of the pattern "
            "($.field for JSON patterns, $name for space-delimited ones)"
        ) from None
    return value


# Filter pattern syntax --------------------------------------------------------------------------

_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_LOGICAL = re.compile(r"&&|\|\|")
_SINGLE_LOGICAL = re.compile(r"(?<![&|])[&|](?![&|])")
_JSON_CONDITION = re.compile(r"\$\S*\s*(!=|<=|>=|=|<|>|\bIS\b|\bNOT\s+EXISTS\b)", re.IGNORECASE)
_DELIMITED_CONDITION = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*\S.*", re.DOTALL)


def check_filter_pattern(pattern: str) -> str:
    """Catch the mistakes CloudWatch Logs would reject: unbalanced brackets or quotes, malformed
    JSON conditions and space-delimited fields. Positions in messages are 1-based."""
    if is_unresolved(pattern):
        return pattern
    if len(pattern) > MAX_FILTER_PATTERN:
        raise ValueError(f"is {len(pattern)} characters long; the limit is {MAX_FILTER_PATTERN}")
    masked = _mask_literals(pattern)
    _check_brackets(masked)
    start = len(masked) - len(masked.lstrip())
    body = masked.strip()
    if not body:
        return pattern  # an empty pattern matches every event
    if body[0] == "{":
        _check_json_pattern(pattern, masked, start)
    elif body[0] == "[":
        _check_delimited_pattern(pattern, masked, start)
    else:
        _check_term_pattern(masked)
    compile_pattern(pattern)  # what the offline checker cannot evaluate is refused, not guessed
    return pattern


def _mask_literals(pattern: str) -> str:
    """The pattern with quoted strings and %regex% bodies blanked out (same length), so their
    brackets and operators are not mistaken for syntax."""
    out: list[str] = []
    closing: str | None = None
    opened_at = 0
    escaped = False
    for index, ch in enumerate(pattern):
        if closing is None:
            if ch in '"%':
                closing, opened_at = ch, index
            out.append(ch)
            continue
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == closing:
            closing = None
            out.append(ch)
            continue
        out.append("_")
    if closing == '"':
        raise ValueError(f"the quote at position {opened_at + 1} is never closed")
    if closing == "%":
        raise ValueError(f"the regular expression opened by '%' at position {opened_at + 1} is never closed")
    return "".join(out)


def _check_brackets(masked: str) -> None:
    stack: list[tuple[str, int]] = []
    for index, ch in enumerate(masked):
        if ch in _OPENERS:
            stack.append((ch, index))
        elif ch in _CLOSERS:
            if not stack:
                raise ValueError(f"{ch!r} at position {index + 1} has no matching {_CLOSERS[ch]!r}")
            opener, at = stack.pop()
            if _OPENERS[opener] != ch:
                raise ValueError(
                    f"{ch!r} at position {index + 1} does not close {opener!r} at position {at + 1}"
                )
    if stack:
        opener, at = stack[-1]
        raise ValueError(f"{opener!r} at position {at + 1} is never closed")


def _matching_close(masked: str, start: int) -> int:
    depth = 0
    for index in range(start, len(masked)):
        if masked[index] in _OPENERS:
            depth += 1
        elif masked[index] in _CLOSERS:
            depth -= 1
            if depth == 0:
                return index
    raise AssertionError("brackets were checked before")  # pragma: no cover


def _enclosed_body(masked: str, start: int, form: str) -> tuple[int, int]:
    """Span of the text inside the bracket at `start`, which must enclose the whole pattern."""
    end = _matching_close(masked, start)
    trailing = masked[end + 1 :].strip()
    if trailing:
        at = masked.index(trailing[0], end + 1)
        raise ValueError(
            f"unexpected text at position {at + 1} after the {masked[end]!r} that ends the {form} pattern"
        )
    return start + 1, end


def _check_json_pattern(pattern: str, masked: str, start: int) -> None:
    begin, end = _enclosed_body(masked, start, "JSON")
    inner = masked[begin:end]
    if not inner.strip():
        raise ValueError('the JSON pattern { } has no condition; use "" to match every event')
    single = _SINGLE_LOGICAL.search(inner)
    if single:
        op = single.group()
        at = begin + single.start() + 1
        raise ValueError(f"{op!r} at position {at}: combine conditions with {op * 2!r}")
    for offset, condition in _split_logical(inner):
        text = condition.strip().strip("()").strip()
        original = pattern[begin + offset : begin + offset + len(condition)].strip()
        if not text:
            at = begin + offset + 1
            raise ValueError(f"an '&&' or '||' near position {at} has no condition on one side")
        if not text.startswith("$"):
            raise ValueError(f"JSON condition {original!r} must start with a selector such as $.level")
        if not _JSON_CONDITION.match(text):
            raise ValueError(
                f"JSON condition {original!r} needs a comparison "
                '(=, !=, <, >, <=, >=, IS NULL, NOT EXISTS), e.g. $.level = "ERROR"'
            )


def _check_delimited_pattern(pattern: str, masked: str, start: int) -> None:
    begin, end = _enclosed_body(masked, start, "space-delimited")
    inner = masked[begin:end]
    if not inner.strip():
        raise ValueError("the space-delimited pattern [ ] names no fields")
    offset = 0
    for number, field in enumerate(inner.split(","), start=1):
        original = pattern[begin + offset : begin + offset + len(field)].strip()
        offset += len(field) + 1
        _check_delimited_field(number, field, original)


def _check_delimited_field(number: int, field: str, original: str) -> None:
    text = field.strip()
    if not text:
        raise ValueError(f"field {number} of the space-delimited pattern is empty")
    if text == "..." or _FIELD_NAME.fullmatch(text):
        return
    for _, condition in _split_logical(text):
        if not _DELIMITED_CONDITION.fullmatch(condition.strip().strip("()")):
            raise ValueError(
                f"field {number} ({original!r}) must be a name, '...', or a condition such as "
                'level = "ERROR" or status >= 500'
            )


def _check_term_pattern(masked: str) -> None:
    for index, ch in enumerate(masked):
        if ch in _OPENERS or ch in _CLOSERS:
            raise ValueError(
                f"unquoted {ch!r} at position {index + 1}: JSON patterns start with '{{', "
                "space-delimited ones with '['; put other punctuation inside double quotes"
            )


def _split_logical(text: str) -> Iterator[tuple[int, str]]:
    """(offset, part) for each operand of && and || in `text`."""
    offset = 0
    for match in _LOGICAL.finditer(text):
        yield offset, text[offset : match.start()]
        offset = match.end()
    yield offset, text[offset:]


# Spec models ----------------------------------------------------------------------------------


class LogGroupSpec(SpecModel):
    """A CloudWatch Logs log group."""

    name: Annotated[str, AfterValidator(check_log_group_name)] = Field(min_length=1, max_length=512)
    """Log group name, e.g. /aws/ecs/pacs-backend. Changing it replaces the log group."""
    retention_days: RetentionDays | Literal["never"] | None = None
    """Days to keep log events: one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545,
    731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or "never" (no expiry). Unset: not managed."""
    kms_key_id: Annotated[str | None, AfterValidator(check_kms_key_arn)] = Field(default=None, max_length=256)
    """ARN of the KMS key that encrypts the log data, or "none" for no customer managed key.
    Unset: not managed."""
    log_group_class: LogGroupClass | None = None
    """STANDARD (every feature), INFREQUENT_ACCESS or ESSENTIALS (fewer features, lower cost) or
    DELIVERY (only for delivering logs to S3 or Firehose; its retention is AWS's, so no
    retention_days). AWS cannot change it: a change replaces the log group. Unset: not managed (a
    new group is STANDARD)."""
    tests: list[ChainExample] = Field(default_factory=list, exclude=True)
    """Offline examples: log lines over time through this group's metric filters must bring the named
    alarms to the expected state. Checked by `validate` and `test`; never sent to AWS."""

    @field_validator("log_group_class")
    @classmethod
    def _delivery_keeps_its_own_retention(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value == DELIVERY_CLASS and info.data.get("retention_days") is not None:
            raise ValueError(
                "AWS fixes a DELIVERY log group's retention and refuses a retention policy on one: "
                "leave retention_days unset"
            )
        return value

    @field_validator("retention_days", mode="before")
    @classmethod
    def _known_retention(cls, value: Any) -> Any:
        if value is None or value == NEVER_EXPIRE:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value in RETENTION_DAYS:
            return value
        allowed = ", ".join(str(days) for days in RETENTION_DAYS)
        hint = nearest_numbers(value, RETENTION_DAYS) if isinstance(value, int | float) else ""
        raise InvalidValue(
            f'{value!r} is not a retention CloudWatch Logs accepts; use one of {allowed} or "never"', hint
        )


class MetricSpec(SpecModel):
    """The CloudWatch metric a metric filter publishes to."""

    name: Annotated[
        str, AfterValidator(lambda value: check_forbidden_chars(value, ":*$", "a metric name"))
    ] = Field(min_length=1, max_length=255)
    """Metric name (no ':', '*' or '$')."""
    namespace: Annotated[str, AfterValidator(check_metric_namespace)] = Field(min_length=1, max_length=255)
    """Custom metric namespace, e.g. PACS/Application ("AWS/..." is reserved)."""
    value: Annotated[str, AfterValidator(check_metric_value)] = Field(
        default="1", min_length=1, max_length=100
    )
    """What each matching event adds: a number, or a field of the pattern ($.latency, $duration)."""
    default_value: float | None = None
    """Value emitted when logs arrive but none match. Unset: not managed."""
    unit: StandardUnit | None = None
    """CloudWatch unit of the metric. Unset: not managed."""
    dimensions: dict[str, str] | None = None
    """Up to 3 dimensions, name -> field of the pattern (e.g. {Service: $.service}). Unset: not
    managed; {} removes them."""

    @field_validator("dimensions")
    @classmethod
    def _valid_dimensions(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        if len(value) > MAX_DIMENSIONS:
            raise ValueError(f"has {len(value)} dimensions; a metric filter allows at most {MAX_DIMENSIONS}")
        for name, field in value.items():
            if not name.strip() or not name.isascii() or name.startswith(":") or len(name) > 255:
                raise ValueError(
                    f"dimension name {name!r} must be 1-255 ASCII characters, not starting with ':'"
                )
            if not field or len(field) > 255:
                raise ValueError(f"dimension {name!r} needs a value of 1-255 characters")
        return value


class MetricFilterSpec(SpecModel):
    """A metric filter: turns matching log events of its log group into a CloudWatch metric."""

    name: Annotated[
        str, AfterValidator(lambda value: check_forbidden_chars(value, ":*", "a metric filter name"))
    ] = Field(min_length=1, max_length=512)
    """Filter name, unique within the log group (no ':' or '*')."""
    pattern: Annotated[str, AfterValidator(check_filter_pattern)]
    """Filter pattern: "" matches every event; terms (ERROR "disk full"), a JSON pattern
    ({ $.level = "ERROR" && $.latency > 500 }) or a space-delimited one ([ts, id, level="ERROR", ...])."""
    metric: MetricSpec
    """The metric to publish."""
    tests: list[FilterExample] = Field(default_factory=list, exclude=True)
    """Offline examples: log lines the pattern must match (with the metric value they produce) and
    lines it must not. Checked by `validate` and `test`; never sent to AWS."""


class QueryTextSpec(SpecModel):
    """What every saved Logs Insights query has: its name and its text (PutQueryDefinition)."""

    name: str = Field(min_length=1, max_length=255)
    """Query name as shown in the Logs Insights console; folders use '/' (e.g. PACS/Errors)."""
    query: str = Field(min_length=1, max_length=10000)
    """The Logs Insights query text. Trailing whitespace and newlines are ignored."""

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class QueryDefinitionSpec(QueryTextSpec):
    """A saved CloudWatch Logs Insights query over its log group (and optionally others)."""

    extra_log_groups: list[str] = Field(default_factory=list)
    """Other log groups the query also reads, by name, or by ARN
    (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME`, no `:*`) for another account's log group, as a
    monitoring account names its source accounts' groups. Its own log group always comes first."""
    log_group_by_arn: bool = False
    """Name its own log group by ARN rather than by name: with extra log groups given by ARN, a
    definition that names only log-group ARNs (PutQueryDefinition takes either form)."""

    @field_validator("extra_log_groups")
    @classmethod
    def _valid_log_groups(cls, value: list[str]) -> list[str]:
        for name in value:
            if name.startswith("arn:"):
                check_log_group_arn(name)
                continue
            if not 1 <= len(name) <= 512:
                raise ValueError(f"log group name {name!r} must be 1-512 characters long")
            check_log_group_name(name)
        return value


_LOG_GROUP_ARN = re.compile(r"arn:aws[a-z-]*:logs:[a-z0-9-]+:\d{12}:log-group:[.\-_/#A-Za-z0-9]{1,512}")


def check_log_group_arn(arn: str) -> str:
    """A log group ARN as PutQueryDefinition and StartQuery take it: "arn:aws:logs:region:account-id:
    log-group:log_group_name. Don't include an * at the end" (StartQuery, CloudWatch Logs API
    reference); definitions naming log groups by ARN: hashicorp/terraform-provider-aws#43183."""
    if is_unresolved(arn):
        return arn
    if arn.endswith(":*"):
        raise ValueError(f"{arn!r}: leave out the trailing ':*' of a log group ARN")
    if not _LOG_GROUP_ARN.fullmatch(arn):
        raise ValueError(f"{arn!r} is not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME)")
    return arn


# AWS reads shared by the kinds --------------------------------------------------------------------


def _log_group_name_from_arn(arn: str) -> str | None:
    """The log group name in a log group ARN (with or without the trailing ':*'), else None."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[2] != "logs" or not parts[5].startswith("log-group:"):
        return None
    return parts[5].removeprefix("log-group:").removesuffix(":*")


def owned_log_groups(ctx: AwsContext, stack: str) -> dict[str, dict[str, str]]:
    """{name: tags} of every log group carrying this stack's owner tag, from the run's one tag sweep."""
    owned: dict[str, dict[str, str]] = {}
    for arn, tags in owned_of(ctx, stack, "logs", "log-group:").items():
        name = _log_group_name_from_arn(arn)
        if name is not None:
            owned[name] = tags
    return owned


def describe_log_groups(ctx: AwsContext, names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """{name: DescribeLogGroups entry} for the named log groups that exist: 50 names a call, a few
    calls at once."""
    batches = batched(
        lambda batch: _describe_log_group_batch(ctx, batch), sorted(set(names)), DESCRIBE_LOG_GROUPS_BATCH
    )
    return {group["logGroupName"]: group for group in batches}


def _describe_log_group_batch(ctx: AwsContext, names: Sequence[str]) -> list[dict[str, Any]]:
    wanted = set(names)
    pages = ctx.client("logs").get_paginator("describe_log_groups").paginate(logGroupIdentifiers=list(names))
    # moto ignores logGroupIdentifiers and lists every group: keep only the asked ones.
    return [group for page in pages for group in page.get("logGroups", []) if group["logGroupName"] in wanted]


def metric_filters_of(ctx: AwsContext, log_groups: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """{log group: its metric filters} for the given log groups (absent ones have none).

    DescribeMetricFilters reads one log group, or (without logGroupName) every filter of the
    account, 50 a page. For several log groups the account-wide listing is used while it costs
    fewer calls than one per group; past that many pages (an account full of other filters) it
    stops and reads group by group, so the read never costs more than twice the per-group reads.
    A policy that allows the per-group form only (AccessDenied on the listing) gets that form.
    """
    wanted = set(log_groups)
    listed = _filters_of_account(ctx).within(len(wanted)) if len(wanted) > 1 else None
    if listed is None:
        per_group = concurrently(lambda group: _filters_of_group(ctx, group), log_groups)
        return dict(zip(log_groups, per_group, strict=True))
    by_group: dict[str, list[dict[str, Any]]] = {group: [] for group in log_groups}
    for metric_filter in listed:
        if metric_filter.get("logGroupName") in wanted:
            by_group[metric_filter["logGroupName"]].append(metric_filter)
    return by_group


def _filters_of_account(ctx: AwsContext) -> AccountListing:
    """Every metric filter of the account, a page at a time as reads allow (metric_filters_of),
    shared by the run until it writes: the plan starts it before the log groups are read
    (MetricFilters.read_ahead)."""
    return memo_until_write(
        ctx,
        "logs:metric-filters",
        lambda: AccountListing(
            ctx.client("logs"), "describe_metric_filters", "metricFilters", limit=METRIC_FILTERS_PAGE_SIZE
        ),
    )


def _filters_of_group(ctx: AwsContext, log_group: str) -> list[dict[str, Any]]:
    logs = ctx.client("logs")
    pages = logs.get_paginator("describe_metric_filters").paginate(
        logGroupName=log_group, limit=METRIC_FILTERS_PAGE_SIZE
    )
    try:
        return [f for page in pages for f in page.get("metricFilters", [])]
    except logs.exceptions.ResourceNotFoundException:
        return []  # the log group does not exist, so neither do its filters


def _log_group_arn(group: Mapping[str, Any]) -> str:
    """The ARN without ':*' (the form TagResource and references need)."""
    return str(group.get("logGroupArn") or str(group["arn"]).removesuffix(":*"))


def _child_key(key: Key) -> tuple[str, str]:
    if not (isinstance(key, tuple) and len(key) == 2):
        raise TypeError(f"expected a (log group, name) key, got {key!r}")
    return str(key[0]), str(key[1])


def _parents_to_read(keys: Sequence[Key], scope: ReadScope) -> list[str]:
    return sorted({str(k) for k in scope.parents} | {_child_key(k)[0] for k in keys})


# log_groups -----------------------------------------------------------------------------------


def _list_log_groups(ctx: AwsContext, prefix: str) -> list[str]:
    params = {"logGroupNamePrefix": prefix} if prefix else {}
    groups = read_pages(ctx.client("logs"), "describe_log_groups", "logGroups", **params)
    return names_with_prefix([g["logGroupName"] for g in groups], prefix)


@register
class LogGroups(Reconciler):
    meta = KindMeta(
        kind="log_groups",
        model=LogGroupSpec,
        title="CloudWatch Logs log group",
        attributes=("name", "arn"),
        # CreateLogGroup: "The value of logGroupClass can't be changed after a log group is created."
        force_new=frozenset({"name", "log_group_class"}),
        taggable=True,
        stateful=True,
        lister=_list_log_groups,
        tag_api=TagApi(
            "logs",
            "tag_resource",
            "untag_resource",
            "resourceArn",
            resource_attribute="arn",
            tags_param="tags",
            tags_shape="map",
            keys_param="tagKeys",
        ),
        actions=KindActions(
            read=frozenset({"logs:DescribeLogGroups", "logs:ListTagsForResource"}),
            write=frozenset(
                {
                    "logs:CreateLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:DeleteRetentionPolicy",
                    "logs:AssociateKmsKey",
                    "logs:DisassociateKmsKey",
                    "logs:TagResource",
                    "logs:UntagResource",
                }
            ),
            delete=frozenset({"logs:DeleteLogGroup"}),
        ),
    )

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        declared = {str(k) for k in keys}
        # The owner-tag sweep and the declared groups are read at the same time; then the owned
        # groups no longer declared (usually none).
        owned, groups = both(
            lambda: owned_log_groups(ctx, scope.stack), lambda: describe_log_groups(ctx, declared)
        )
        groups.update(describe_log_groups(ctx, [name for name in owned if name not in declared]))
        arns = {name: _log_group_arn(group) for name, group in groups.items()}
        # Groups outside the sweep (unowned, or tagged too recently for it): their own tag read.
        untagged = [name for name in groups if name not in owned]
        read_tags = concurrently(lambda name: self._tags(ctx, arns[name]), untagged)
        tags = {**dict(zip(untagged, read_tags, strict=True)), **owned}
        out: dict[Key, Live] = {}
        for name, group in groups.items():
            retention, kms_key = group.get("retentionInDays"), group.get("kmsKeyId")
            log_class = group.get("logGroupClass", DEFAULT_LOG_GROUP_CLASS)
            live = self._live(name, arns[name], retention, kms_key, tags[name])
            if log_class == DELIVERY_CLASS:  # AWS's fixed retention, not a setting
                live.state["retention_days"] = None
            live.state["log_group_class"] = log_class
            out[name] = live
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        logs = ctx.client("logs")
        name = desired.state["name"]
        retention = desired.state.get("retention_days")
        kms_key = desired.state.get("kms_key_id")
        request: dict[str, Any] = {"logGroupName": name}
        if desired.tags:  # the API refuses an empty tag map
            request["tags"] = dict(desired.tags)
        if kms_key not in (None, NO_KMS_KEY):
            request["kmsKeyId"] = kms_key
        log_class = desired.state.get("log_group_class") or DEFAULT_LOG_GROUP_CLASS
        if log_class != DEFAULT_LOG_GROUP_CLASS:
            request["logGroupClass"] = log_class
        try:
            logs.create_log_group(**request)
        except logs.exceptions.ResourceAlreadyExistsException:  # our own first attempt, response lost?
            found = logs.list_tags_for_resource(resourceArn=_new_log_group_arn(ctx, name)).get("tags")
            claim_after_lost_create(f"log group {name}", found, desired.tags)
        if isinstance(retention, int):
            logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
        arn = _new_log_group_arn(ctx, name)
        retention_days = retention if isinstance(retention, int) else None
        kms = kms_key if kms_key != NO_KMS_KEY else None
        live = self._live(name, arn, retention_days, kms, dict(desired.tags))
        if log_class == DELIVERY_CLASS:
            live.state["retention_days"] = None
        live.state["log_group_class"] = log_class
        return live

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        logs = ctx.client("logs")
        name = live.state["name"]
        state = dict(live.state)
        if delta.different_at("retention_days"):
            retention = desired.state["retention_days"]
            if retention == NEVER_EXPIRE:
                logs.delete_retention_policy(logGroupName=name)
            else:
                logs.put_retention_policy(logGroupName=name, retentionInDays=retention)
            state["retention_days"] = retention
        if delta.different_at("kms_key_id"):
            kms_key = desired.state["kms_key_id"]
            if kms_key == NO_KMS_KEY:
                logs.disassociate_kms_key(logGroupName=name)
            else:
                logs.associate_kms_key(logGroupName=name, kmsKeyId=kms_key)
            state["kms_key_id"] = kms_key
        return replace(live, state=state)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        logs = ctx.client("logs")
        with suppress(logs.exceptions.ResourceNotFoundException):  # already gone: fine
            logs.delete_log_group(logGroupName=live.state["name"])

    @staticmethod
    def _tags(ctx: AwsContext, arn: str) -> dict[str, str]:
        return dict(ctx.client("logs").list_tags_for_resource(resourceArn=arn).get("tags", {}))

    @staticmethod
    def _live(name: str, arn: str, retention: int | None, kms_key: str | None, tags: dict[str, str]) -> Live:
        state = {
            "name": name,
            "retention_days": retention if retention else NEVER_EXPIRE,
            "kms_key_id": kms_key or NO_KMS_KEY,
        }
        return Live(key=name, state=state, attrs={"name": name, "arn": arn}, tags=tags, handle=arn)


# metric_filters -------------------------------------------------------------------------------


@register
class MetricFilters(Reconciler):
    meta = KindMeta(
        kind="metric_filters",
        model=MetricFilterSpec,
        title="CloudWatch Logs metric filter",
        attributes=("name", "metric_name", "metric_namespace"),
        attribute_paths={"metric_name": "metric.name", "metric_namespace": "metric.namespace"},
        taggable=False,
        parent="log_groups",
        actions=KindActions(
            read=frozenset({"logs:DescribeMetricFilters"}),
            write=frozenset({"logs:PutMetricFilter", "logs:DeleteMetricFilter"}),
            delete=frozenset({"logs:DeleteMetricFilter"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("pattern"), str):
            out["pattern"] = out["pattern"].strip()
        metric = out.get("metric")
        if isinstance(metric, Mapping) and isinstance(metric.get("default_value"), int | float):
            out["metric"] = {**metric, "default_value": float(metric["default_value"])}
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        # The account's filters as far as the declared ones' log groups allow: the read lists on
        # (as far as the owned log groups allow too) from where this stopped.
        groups = {_child_key(k)[0] for k in keys}
        if len(groups) > 1:
            _filters_of_account(ctx).within(len(groups))

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        out: dict[Key, Live] = {}
        for log_group, filters in metric_filters_of(ctx, _parents_to_read(keys, scope)).items():
            for raw in filters:
                live = self._live(log_group, raw)
                out[live.key] = live
        return out

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        return self._put(ctx, desired, desired.state["metric"])

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        # PutMetricFilter replaces the whole filter: keep the live value of unmanaged (None) fields.
        live_metric = live.state["metric"]
        metric = {k: (live_metric.get(k) if v is None else v) for k, v in desired.state["metric"].items()}
        return self._put(ctx, desired, metric)

    def delete(self, ctx: AwsContext, live: Live) -> None:
        log_group, name = _child_key(live.key)
        logs = ctx.client("logs")
        with suppress(logs.exceptions.ResourceNotFoundException):  # already gone, or its log group
            logs.delete_metric_filter(logGroupName=log_group, filterName=name)

    def _put(self, ctx: AwsContext, desired: Desired, metric: Mapping[str, Any]) -> Live:
        log_group, name = _child_key(desired.key)
        raw = {
            "filterName": name,
            "filterPattern": desired.state["pattern"].strip(),
            "metricTransformations": [_to_transformation(metric)],
        }
        ctx.client("logs").put_metric_filter(logGroupName=log_group, **raw)
        return self._live(log_group, raw)

    def _live(self, log_group: str, raw: Mapping[str, Any]) -> Live:
        metric = _from_transformation(raw["metricTransformations"][0])
        state = {"name": raw["filterName"], "pattern": raw.get("filterPattern", ""), "metric": metric}
        attrs = {
            "name": raw["filterName"],
            "metric_name": metric["name"],
            "metric_namespace": metric["namespace"],
        }
        return Live(key=(log_group, raw["filterName"]), state=self.canonical(state), attrs=attrs)


def _to_transformation(metric: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "metricName": metric["name"],
        "metricNamespace": metric["namespace"],
        "metricValue": metric["value"],
    }
    if metric.get("default_value") is not None:
        out["defaultValue"] = float(metric["default_value"])
    if metric.get("unit") is not None:
        out["unit"] = metric["unit"]
    if metric.get("dimensions"):
        out["dimensions"] = dict(metric["dimensions"])
    return out


def _from_transformation(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": raw["metricName"],
        "namespace": raw["metricNamespace"],
        "value": raw["metricValue"],
        "default_value": raw.get("defaultValue"),
        "unit": raw.get("unit"),
        "dimensions": dict(raw.get("dimensions") or {}),
    }


# query_definitions ----------------------------------------------------------------------------


def describe_query_definitions(ctx: AwsContext, name_prefix: str = "") -> Iterator[dict[str, Any]]:
    """Every saved query of the account and region (the query_definitions and saved_queries kinds),
    or those whose name starts with `name_prefix`."""
    # botocore has no paginator for DescribeQueryDefinitions: follow nextToken by hand.
    logs = ctx.client("logs")
    request: dict[str, Any] = {"maxResults": QUERY_DEFINITIONS_PAGE_SIZE}
    if name_prefix:
        request["queryDefinitionNamePrefix"] = name_prefix
    while True:
        page = logs.describe_query_definitions(**request)
        yield from page.get("queryDefinitions", [])
        token = page.get("nextToken")
        if not token:
            return
        request["nextToken"] = token


def account_query_definitions(ctx: AwsContext) -> list[dict[str, Any]]:
    """Every saved query of the account and region, listed once per run for both kinds that read
    them (query_definitions under the stack's log groups, saved_queries by its index), and again
    after the run writes."""
    return memo_until_write(ctx, "logs:query-definitions", lambda: list(describe_query_definitions(ctx)))


def newest_first(definition: Mapping[str, Any]) -> tuple[int, str]:
    return -int(definition.get("lastModified", 0)), str(definition["queryDefinitionId"])


@register
class QueryDefinitions(Reconciler):
    meta = KindMeta(
        kind="query_definitions",
        model=QueryDefinitionSpec,
        title="CloudWatch Logs Insights saved query",
        attributes=("name", "id"),
        taggable=False,
        parent="log_groups",
        actions=KindActions(
            # ssm:GetParameters: the saved queries' ownership index, read before pruning
            read=frozenset({"logs:DescribeQueryDefinitions", "ssm:GetParameters"}),
            write=frozenset({"logs:PutQueryDefinition", "logs:DeleteQueryDefinition"}),
            delete=frozenset({"logs:DeleteQueryDefinition"}),
        ),
    )

    def canonical(self, state: dict[str, Any]) -> dict[str, Any]:
        out = dict(state)
        if isinstance(out.get("query"), str):
            out["query"] = out["query"].rstrip()
        if isinstance(out.get("extra_log_groups"), list):
            out["extra_log_groups"] = sorted_unique(out["extra_log_groups"])
        return out

    def read_ahead(self, ctx: AwsContext, keys: Sequence[Key], stack: str) -> None:
        account_query_definitions(ctx)  # the read lists them whatever its parents

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        requested = {_child_key(k) for k in keys}
        parents = set(_parents_to_read(keys, scope))
        by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for definition in account_query_definitions(ctx):
            log_groups = definition.get("logGroupNames") or []
            owner = _local_log_group(ctx, log_groups[0]) if log_groups else None
            if owner in parents:
                by_key.setdefault((str(owner), definition["name"]), []).append(definition)
        out: dict[Key, Live] = {}
        for key, definitions in by_key.items():
            if key not in requested and key[0] not in scope.parents:
                continue  # undeclared, under a log group this stack does not own
            keep, *duplicates = sorted(definitions, key=newest_first)
            out[key] = self._live(key, keep)
            if key[0] in scope.parents:  # duplicates are only pruned inside owned log groups
                for duplicate in duplicates:
                    out.update(self._duplicate(key, keep, duplicate))
        return _without_saved_queries(ctx, scope.stack, out, requested)

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        return self._put(ctx, desired, None)

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        return self._put(ctx, desired, str(live.handle))

    def delete(self, ctx: AwsContext, live: Live) -> None:
        logs = ctx.client("logs")
        with suppress(logs.exceptions.ResourceNotFoundException):  # already gone: fine
            logs.delete_query_definition(queryDefinitionId=str(live.handle))

    def _put(self, ctx: AwsContext, desired: Desired, definition_id: str | None) -> Live:
        log_group, name = _child_key(desired.key)
        # PutQueryDefinition replaces everything: always send the name, text and every log group.
        own = _new_log_group_arn(ctx, log_group) if desired.state.get("log_group_by_arn") else log_group
        request: dict[str, Any] = {
            "name": name,
            "queryString": desired.state["query"].rstrip(),
            "logGroupNames": [own, *sorted_unique(desired.state.get("extra_log_groups"))],
        }
        if definition_id is not None:
            request["queryDefinitionId"] = definition_id
        response = ctx.client("logs").put_query_definition(**request)
        definition = {**request, "queryDefinitionId": response["queryDefinitionId"]}
        return self._live((log_group, name), definition)

    def _live(self, key: tuple[str, str], definition: Mapping[str, Any], notes: tuple[str, ...] = ()) -> Live:
        log_groups = list(definition.get("logGroupNames") or [])
        state = {
            "name": definition["name"],
            "query": definition["queryString"],
            "extra_log_groups": log_groups[1:],
            "log_group_by_arn": bool(log_groups) and log_groups[0].startswith("arn:"),
        }
        definition_id = definition["queryDefinitionId"]
        attrs = {"name": definition["name"], "id": definition_id}
        return Live(key=key, state=self.canonical(state), attrs=attrs, handle=definition_id, notes=notes)

    def _duplicate(
        self, key: tuple[str, str], keep: Mapping[str, Any], duplicate: Mapping[str, Any]
    ) -> dict[Key, Live]:
        """A same-name definition under a key of its own, so the engine prunes it."""
        duplicate_id = duplicate["queryDefinitionId"]
        note = (
            f"duplicate of query definition {key[1]!r} (kept: {keep['queryDefinitionId']}); "
            "only one definition per name is kept"
        )
        dup_key = (key[0], f"{key[1]}#{duplicate_id}")
        return {dup_key: self._live(dup_key, duplicate, (note,))}


def _without_saved_queries(
    ctx: AwsContext, stack: str, found: dict[Key, Live], requested: set[tuple[str, str]]
) -> dict[Key, Live]:
    """`found` less the undeclared definitions the saved queries' index proves the stack's: one of
    those that someone made name a log group of the stack stays a saved query (that kind shows and
    clears the log groups), never pruned as the log group's child. The index is read only when
    something would be pruned."""
    if all(key in requested for key in found):
        return found
    recorded = saved_query_index.recorded_ids(ctx, stack)
    return {k: v for k, v in found.items() if k in requested or str(v.handle) not in recorded}


def _local_log_group(ctx: AwsContext, named: str) -> str | None:
    """The log group of this account and region a definition's first entry names, by name or by
    ARN; None for another account's or region's log group."""
    if not named.startswith("arn:"):
        return named
    parts = named.split(":", 5)
    name = _log_group_name_from_arn(named)
    if name is None or parts[3] != ctx.region or parts[4] != ctx.account_id:
        return None
    return name


def _new_log_group_arn(ctx: AwsContext, name: str) -> str:
    """The ARN tagging calls take (without the `:*` DescribeLogGroups adds)."""
    return f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}:log-group:{name}"
