"""What making boto3 clients costs a run: the process's shared botocore model loader and what it
parses (aws.py). Structural checks only; the CPU they save is measured in BENCHMARKS.md."""

from __future__ import annotations

from typing import Any

import botocore.loaders

from pacs_reconcile.aws import AwsContext, AwsSettings


def _loader(ctx: AwsContext) -> Any:
    return ctx._session._session.get_component("data_loader")


def test_service_models_are_parsed_into_plain_dicts_equal_to_botocores_own() -> None:
    """botocore parses its JSON models into OrderedDicts, 1.8x the CPU of plain dicts for the
    models a plan loads; the content, order included, is the same."""
    ctx = AwsContext(AwsSettings(region="ap-northeast-2"))
    ours = _loader(ctx).load_service_model("logs", "service-2")
    theirs = botocore.loaders.create_loader().load_service_model("logs", "service-2")
    assert type(ours) is dict
    assert type(ours["shapes"]) is dict and type(ours["shapes"]["LogGroup"]["members"]) is dict
    assert ours == theirs
    assert list(ours["shapes"]["LogGroup"]["members"]) == list(theirs["shapes"]["LogGroup"]["members"])


def test_every_context_of_the_process_shares_one_loader() -> None:
    first = AwsContext(AwsSettings(region="ap-northeast-2"))
    second = AwsContext(AwsSettings(region="eu-west-1"))
    assert _loader(first) is _loader(second)
