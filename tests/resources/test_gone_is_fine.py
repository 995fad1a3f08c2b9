"""gone_is_fine: the one "delete, and already gone is fine" of every kind."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile.resources.common import gone_is_fine


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "..."}}, "DeleteThing")


def test_a_code_it_names_means_already_gone_and_is_swallowed() -> None:
    done = []
    with gone_is_fine("NoSuchEntity", "NotFound"):
        done.append("asked")
        raise _error("NotFound")
    assert done == ["asked"]


@pytest.mark.parametrize("code", ["AccessDenied", "Throttling", "DependencyViolation"])
def test_any_other_error_propagates(code: str) -> None:
    with pytest.raises(ClientError) as raised, gone_is_fine("NoSuchEntity"):
        raise _error(code)
    assert raised.value.response["Error"]["Code"] == code


def test_an_error_that_is_no_aws_answer_propagates() -> None:
    with pytest.raises(KeyError), gone_is_fine("NoSuchEntity"):
        raise KeyError("x")
