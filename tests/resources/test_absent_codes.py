"""gone_is_fine and unless_gone: the one "delete, already gone is fine" and the one "read, gone is
absent" of every kind."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile.resources.common import gone_is_fine, unless_gone


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


def _failing(code: str) -> dict[str, str]:
    raise _error(code)


def test_a_read_answered_with_a_code_it_names_is_absent() -> None:
    assert unless_gone(lambda: _failing("NotFound"), "NoSuchEntity", "NotFound") is None
    assert unless_gone(lambda: {"Name": "x"}, "NotFound") == {"Name": "x"}


@pytest.mark.parametrize("code", ["AccessDenied", "Throttling", "InternalError"])
def test_a_read_that_failed_otherwise_is_never_absent(code: str) -> None:
    with pytest.raises(ClientError) as raised:
        unless_gone(lambda: _failing(code), "NotFound")
    assert raised.value.response["Error"]["Code"] == code
