"""What making boto3 clients costs a run: the process's shared botocore model loader, what it parses
and what it spares a run (aws_models.py), and the botocore internals it relies on, pinned.
Structural checks only; the CPU they save is measured in BENCHMARKS.md."""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterator
from typing import Any

import botocore
import botocore.loaders
import pytest
from botocore.exceptions import DataNotFoundError, UnknownServiceError

from pacs_reconcile import aws_models
from pacs_reconcile.aws import AwsContext, AwsSettings
from pacs_reconcile.aws_models import ModelFiles, SharedLoader, kept_operations, kept_to_operations
from pacs_reconcile.aws_operations import OPERATIONS


def _loader(ctx: AwsContext) -> Any:
    return ctx._session.get_component("data_loader")


def test_service_models_are_parsed_into_plain_dicts_equal_to_botocores_own() -> None:
    """botocore parses its JSON models into OrderedDicts, 1.8x the CPU of plain dicts for the
    models a plan loads; the content, order included, is the same."""
    ctx = AwsContext(AwsSettings(region="ap-northeast-2"))
    ours = _loader(ctx).load_service_model("logs", "service-2")
    theirs = botocore.loaders.create_loader().load_service_model("logs", "service-2")
    assert type(ours) is dict
    assert type(ours["shapes"]) is dict and type(ours["shapes"]["LogGroup"]["members"]) is dict
    assert ours == kept_to_operations(json.loads(json.dumps(theirs)), OPERATIONS["logs"])
    assert list(ours["shapes"]["LogGroup"]["members"]) == list(theirs["shapes"]["LogGroup"]["members"])


def test_every_context_of_the_process_shares_one_loader() -> None:
    first = AwsContext(AwsSettings(region="ap-northeast-2"))
    second = AwsContext(AwsSettings(region="eu-west-1"))
    assert _loader(first) is _loader(second)
    assert len(_loader(first).search_paths) == len(set(_loader(first).search_paths))


PLAN_SERVICES = ("logs", "cloudwatch", "ec2", "iam", "sns", "rds", "s3")


@pytest.fixture
def fresh_loader(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The next context makes the process's shared loader anew (nothing of it cached yet)."""
    monkeypatch.setattr(aws_models, "_shared", {})
    yield


@pytest.fixture
def surveys(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every survey of the services on disk (botocore's list_available_services), by model kind."""
    made: list[str] = []
    survey = botocore.loaders.Loader.list_available_services

    def counted(self: Any, type_name: str) -> Any:
        made.append(type_name)
        return survey(self, type_name)

    monkeypatch.setattr(botocore.loaders.Loader, "list_available_services", counted)
    return made


def test_making_clients_never_surveys_every_service_on_disk(fresh_loader: None, surveys: list[str]) -> None:
    """botocore's loader listed ~450 service folders per model kind (~10 ms each, and again in
    each thread making a client before its cache was filled: 14 surveys in a plan)."""
    ctx = AwsContext(AwsSettings(region="ap-northeast-2", endpoint_url="http://127.0.0.1:9"))
    for service in PLAN_SERVICES:
        ctx.client(service)
    ctx.client("logs").get_paginator("describe_log_groups")
    assert surveys == []


@pytest.mark.parametrize(
    ("service", "type_name", "api_version"),
    [
        ("rds", "service-2", None),  # has an sdk-extras file merged in
        ("s3", "endpoint-rule-set-1", None),
        ("logs", "paginators-1", "2014-03-28"),  # as a client asks for its paginators
        ("ec2", "waiters-2", None),
    ],
)
def test_models_are_botocores_own(service: str, type_name: str, api_version: str | None) -> None:
    """botocore's own, an API model kept to the tool's operations (tests/test_aws_operations.py)."""
    ours = SharedLoader(file_loader=ModelFiles()).load_service_model(service, type_name, api_version)
    theirs = botocore.loaders.Loader().load_service_model(service, type_name, api_version)
    kept = kept_operations(service) if type_name == "service-2" else None
    assert ours == (theirs if kept is None else kept_to_operations(json.loads(json.dumps(theirs)), kept))


def test_an_api_version_without_the_model_fails_as_in_botocore() -> None:
    with pytest.raises(DataNotFoundError) as ours:
        SharedLoader(file_loader=ModelFiles()).load_service_model("logs", "service-2", "1999-01-01")
    with pytest.raises(DataNotFoundError) as theirs:
        botocore.loaders.Loader().load_service_model("logs", "service-2", "1999-01-01")
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    ("service", "type_name"),
    [
        ("no-such-service", "service-2"),
        ("pinpoint", "paginators-1"),  # a service without paginators
        ("../botocore/data/logs", "service-2"),  # not a service name: botocore's own way
    ],
)
def test_an_unknown_service_fails_as_in_botocore(service: str, type_name: str) -> None:
    with pytest.raises(UnknownServiceError) as ours:
        SharedLoader(file_loader=ModelFiles()).load_service_model(service, type_name)
    with pytest.raises(UnknownServiceError) as theirs:
        botocore.loaders.Loader().load_service_model(service, type_name)
    assert str(ours.value) == str(theirs.value)
    assert "logs" in str(ours.value)  # the known services are named


BOTOCORE_PINNED = {
    # What SharedLoader.load_service_model repeats or relies on (botocore/loaders.py): if one of
    # these changes, check the copy in aws_models against botocore's new code, then update its hash.
    "Loader.load_service_model": "da82cb2bd0e465bd",
    "Loader.list_available_services": "28a49e0005a58c29",
    "Loader.list_api_versions": "7706d39c98365046",
    "Loader.determine_latest_version": "8160c536b85aecd4",
    "Loader._find_extras": "49c6f70134fb09bf",
    "Loader._potential_locations": "237ce6c7d0ef0817",
}


def _source_hash(qualname: str) -> str:
    owner, name = qualname.split(".")
    function = getattr(getattr(botocore.loaders, owner), name)
    cached = inspect.getclosurevars(function).nonlocals.get("func")  # under botocore's instance_cache
    source = inspect.getsource(cached if cached is not None else function)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize("qualname", sorted(BOTOCORE_PINNED))
def test_the_botocore_code_the_loader_repeats_is_unchanged(qualname: str) -> None:
    assert _source_hash(qualname) == BOTOCORE_PINNED[qualname], (
        f"botocore {botocore.__version__} changed botocore.loaders.{qualname}: "
        "check pacs_reconcile/aws_models.py against it"
    )
