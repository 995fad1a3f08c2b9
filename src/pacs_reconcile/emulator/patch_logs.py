"""CloudWatch Logs gaps in moto 5.2.5, filled so moto behaves like AWS for this tool.

- PutQueryDefinition, DescribeQueryDefinitions, DeleteQueryDefinition (saved Logs Insights
  queries) are missing. PutQueryDefinition honours its idempotency token as AWS does: `clientToken`
  is "used as an idempotency token, to avoid returning an exception if the service receives the
  same request twice because of a network error" (CloudWatch Logs API reference,
  https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutQueryDefinition.html).
  botocore fills it in once per call, the same for every retry of it: a retry whose first attempt
  AWS carried out answers with that attempt's definition instead of making a second one.
- AssociateKmsKey and DisassociateKmsKey are missing.
- TestMetricFilter is missing. The emulator answers it with pacs-reconcile's own offline filter
  engine (monitoring/filter_pattern.py): a STAND-IN, not AWS's behaviour. `plan --remote-check`
  against the emulator therefore compares the engine with itself: it shows that the call is made and
  its answer read, never that the engine agrees with CloudWatch Logs (tests of the check itself use
  botocore Stubber responses).
- CreateLogGroup ignores logGroupClass and DescribeLogGroups returns none; AWS stores the class
  given at creation (STANDARD when omitted; it cannot change afterwards) and returns it
  (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html,
  API_LogGroup.html). A DELIVERY group's retention is AWS's: DescribeLogGroups reports it as 2
  days and PutRetentionPolicy/DeleteRetentionPolicy on one are refused (aws/aws-cdk#38703, checked
  against the service; go-to-k/cdk-real-drift#1727; CreateLogGroup: "Log events in log groups in
  the Delivery class are kept in CloudWatch Logs for only one day").
- PutMetricFilter appends a second filter with the same name instead of replacing it, and accepts
  a log group that does not exist; DeleteLogGroup leaves the group's metric filters and tags
  behind.

moto routes a request to the LogsResponse method named after the action in snake_case, the same
way in-process (mock_aws) and in server mode (ThreadedMotoServer), so adding methods to
LogsResponse and LogsBackend covers both. State lives in each (account, region) backend's own
attributes, which moto's reset wipes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.logs.models import LogsBackend
from moto.logs.responses import LogsResponse
from moto.utilities.paginator import paginate

_PATCHED_MARK = "_pacs_reconcile_patched"
_QUERY_DEFINITIONS = "pacs_query_definitions"
_QUERY_DEFINITION_TOKENS = "pacs_query_definition_tokens"
_PAGINATION = {
    "describe_query_definitions": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": 1000,
        "unique_attribute": "queryDefinitionId",
    }
}
_MAX_QUERY_RESULTS = 1000


def install() -> None:
    """Add the missing operations and fixes to moto's logs service (idempotent)."""
    if getattr(LogsBackend, _PATCHED_MARK, False):
        return
    _install_backend(LogsBackend)
    _install_responses(LogsResponse)
    setattr(LogsBackend, _PATCHED_MARK, True)


# Backend -------------------------------------------------------------------------------------


def _install_backend(backend_class: Any) -> None:
    backend_class.put_query_definition = put_query_definition
    backend_class.describe_query_definitions = describe_query_definitions
    backend_class.delete_query_definition = delete_query_definition
    backend_class.associate_kms_key = associate_kms_key
    backend_class.disassociate_kms_key = disassociate_kms_key
    backend_class.test_metric_filter = test_metric_filter
    backend_class.put_metric_filter = _replacing_put_metric_filter(backend_class.put_metric_filter)
    backend_class.delete_log_group = _cascading_delete_log_group(backend_class.delete_log_group)


def _query_definitions(backend: Any) -> dict[str, dict[str, Any]]:
    # Kept in the backend instance's __dict__: moto's reset replaces that dict, clearing it.
    definitions: dict[str, dict[str, Any]] = backend.__dict__.setdefault(_QUERY_DEFINITIONS, {})
    return definitions


def put_query_definition(
    self: Any,
    name: str,
    query_string: str,
    log_group_names: list[str] | None = None,
    query_definition_id: str | None = None,
    query_language: str | None = None,
    client_token: str | None = None,
) -> str:
    """Create a definition, or replace every field of the one with `query_definition_id`; a
    request whose `client_token` was seen before is answered with that request's definition."""
    tokens: dict[str, str] = self.__dict__.setdefault(_QUERY_DEFINITION_TOKENS, {})
    if client_token and client_token in tokens:
        return tokens[client_token]
    definitions = _query_definitions(self)
    if query_definition_id is not None and query_definition_id not in definitions:
        raise ResourceNotFoundException(f"Query definition {query_definition_id} does not exist.")
    definition_id = query_definition_id or str(uuid.uuid4())
    definitions[definition_id] = {
        "queryLanguage": query_language or "CWLI",
        "queryDefinitionId": definition_id,
        "name": name,
        "queryString": query_string,
        "lastModified": int(time.time() * 1000),
        "logGroupNames": list(log_group_names or []),
    }
    if client_token:
        tokens[client_token] = definition_id
    return definition_id


@paginate(pagination_model=_PAGINATION)
def describe_query_definitions(
    self: Any, name_prefix: str | None = None, query_language: str | None = None
) -> list[dict[str, Any]]:
    return [
        dict(definition)
        for definition in _query_definitions(self).values()
        if definition["name"].startswith(name_prefix or "")
        and (query_language is None or definition["queryLanguage"] == query_language)
    ]


def delete_query_definition(self: Any, query_definition_id: str) -> None:
    if _query_definitions(self).pop(query_definition_id, None) is None:
        raise ResourceNotFoundException(f"Query definition {query_definition_id} does not exist.")


def _find_group(backend: Any, name: str | None, identifier: str | None) -> Any:
    if identifier:  # an ARN: arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME
        name = identifier.split(":log-group:", 1)[-1].removesuffix(":*")
    group = backend.groups.get(name or "")
    if group is None:
        raise ResourceNotFoundException()
    return group


def associate_kms_key(self: Any, name: str | None, identifier: str | None, kms_key_id: str) -> None:
    _find_group(self, name, identifier).kms_key_id = kms_key_id


def disassociate_kms_key(self: Any, name: str | None, identifier: str | None) -> None:
    _find_group(self, name, identifier).kms_key_id = None


def test_metric_filter(self: Any, filter_pattern: str, log_event_messages: list[str]) -> list[dict[str, Any]]:
    """The emulator's STAND-IN for TestMetricFilter: the offline engine's answer, not AWS's."""
    from ..monitoring.filter_pattern import LogEvent, PatternError, compile_pattern

    if not 1 <= len(log_event_messages) <= 50:
        raise InvalidParameterException(
            constraint="Member must have length between 1 and 50",
            parameter="logEventMessages",
            value=len(log_event_messages),
        )
    try:
        pattern = compile_pattern(filter_pattern)
    except PatternError as exc:
        raise InvalidParameterException(msg=f"Invalid metric filter pattern: {exc}") from None
    matches = []
    for number, message in enumerate(log_event_messages, start=1):
        verdict = pattern.evaluate(LogEvent(message))
        if verdict.matched:
            extracted = {f"${name}": value for name, value in verdict.fields.items()}
            matches.append({"eventNumber": number, "eventMessage": message, "extractedValues": extracted})
    return matches


def _replacing_put_metric_filter(original: Callable[..., None]) -> Callable[..., None]:
    def put_metric_filter(
        self: Any,
        filter_name: str,
        filter_pattern: str,
        log_group_name: str,
        metric_transformations: Any,
    ) -> None:
        if log_group_name not in self.groups:
            raise ResourceNotFoundException()
        for existing in self.filters.metric_filters:
            if existing["filterName"] == filter_name and existing["logGroupName"] == log_group_name:
                existing["filterPattern"] = filter_pattern
                existing["metricTransformations"] = metric_transformations
                return
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    return put_metric_filter


def _cascading_delete_log_group(original: Callable[..., None]) -> Callable[..., None]:
    def delete_log_group(self: Any, log_group_name: str) -> None:
        group = self.groups.get(log_group_name)
        original(self, log_group_name)
        # AWS deletes a log group's metric filters and tags with it.
        self.filters.metric_filters = [
            f for f in self.filters.metric_filters if f["logGroupName"] != log_group_name
        ]
        if group is not None:
            self.tagger.delete_all_tags_for_resource(group.arn)

    return delete_log_group


# Responses (JSON protocol: params from the body, JSON string out) -----------------------------


def _install_responses(response_class: Any) -> None:
    response_class.put_query_definition = _respond_put_query_definition
    response_class.describe_query_definitions = _respond_describe_query_definitions
    response_class.delete_query_definition = _respond_delete_query_definition
    response_class.associate_kms_key = _respond_associate_kms_key
    response_class.disassociate_kms_key = _respond_disassociate_kms_key
    response_class.test_metric_filter = _respond_test_metric_filter
    response_class.create_log_group = _keeping_log_group_class(response_class.create_log_group)
    from moto.logs.models import LogGroup

    LogGroup.to_describe_dict = _describing_log_group_class(LogGroup.to_describe_dict)  # type: ignore[method-assign]
    from moto.logs.models import LogsBackend

    for method in ("put_retention_policy", "delete_retention_policy"):
        setattr(LogsBackend, method, _refused_on_delivery(getattr(LogsBackend, method)))


DEFAULT_LOG_GROUP_CLASS = "STANDARD"


def _keeping_log_group_class(original: Callable[..., str]) -> Callable[..., str]:
    def create_log_group(self: Any) -> str:
        result = original(self)
        group = self.logs_backend.groups[self._get_param("logGroupName")]
        group.log_group_class = self._get_param("logGroupClass") or DEFAULT_LOG_GROUP_CLASS
        return result

    return create_log_group


DELIVERY_RETENTION_DAYS = 2


def _describing_log_group_class(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def to_describe_dict(self: Any) -> dict[str, Any]:
        log_class = getattr(self, "log_group_class", DEFAULT_LOG_GROUP_CLASS)
        described = {**original(self), "logGroupClass": log_class}
        if log_class == "DELIVERY":
            described["retentionInDays"] = DELIVERY_RETENTION_DAYS
        return described

    return to_describe_dict


def _refused_on_delivery(original: Callable[..., None]) -> Callable[..., None]:
    def retention_policy(self: Any, log_group_name: str, *args: Any) -> None:
        from moto.logs.exceptions import InvalidParameterException

        group = self.groups.get(log_group_name)
        if getattr(group, "log_group_class", None) == "DELIVERY":
            raise InvalidParameterException("This operation is not supported for Delivery log class")
        original(self, log_group_name, *args)

    return retention_policy


def _respond_put_query_definition(self: Any) -> str:
    definition_id = self.logs_backend.put_query_definition(
        name=self._get_param("name"),
        query_string=self._get_param("queryString"),
        log_group_names=self._get_param("logGroupNames"),
        query_definition_id=self._get_param("queryDefinitionId"),
        query_language=self._get_param("queryLanguage"),
        client_token=self._get_param("clientToken"),
    )
    return json.dumps({"queryDefinitionId": definition_id})


def _respond_describe_query_definitions(self: Any) -> str:
    max_results = self._get_param("maxResults")
    if max_results is not None and not 1 <= max_results <= _MAX_QUERY_RESULTS:
        raise InvalidParameterException(
            constraint=f"Member must have value between 1 and {_MAX_QUERY_RESULTS}",
            parameter="maxResults",
            value=max_results,
        )
    definitions, next_token = self.logs_backend.describe_query_definitions(
        name_prefix=self._get_param("queryDefinitionNamePrefix"),
        query_language=self._get_param("queryLanguage"),
        max_results=max_results,
        next_token=self._get_param("nextToken"),
    )
    body: dict[str, Any] = {"queryDefinitions": definitions}
    if next_token:
        body["nextToken"] = next_token
    return json.dumps(body)


def _respond_delete_query_definition(self: Any) -> str:
    self.logs_backend.delete_query_definition(self._get_param("queryDefinitionId"))
    return json.dumps({"success": True})


def _respond_test_metric_filter(self: Any) -> str:
    matches = self.logs_backend.test_metric_filter(
        self._get_param("filterPattern"), self._get_param("logEventMessages") or []
    )
    return json.dumps({"matches": matches})


def _respond_associate_kms_key(self: Any) -> str:
    self.logs_backend.associate_kms_key(
        self._get_param("logGroupName"), self._get_param("resourceIdentifier"), self._get_param("kmsKeyId")
    )
    return "{}"


def _respond_disassociate_kms_key(self: Any) -> str:
    self.logs_backend.disassociate_kms_key(
        self._get_param("logGroupName"), self._get_param("resourceIdentifier")
    )
    return "{}"
