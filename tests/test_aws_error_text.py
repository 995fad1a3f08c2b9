"""How an AWS error response reads in a failed plan or apply: "Operation: Code: Message", and a
denial names the `permissions` command that prints the policy the run lacks."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from pacs_reconcile.engine.apply import describe_error
from pacs_reconcile.engine.plan import read_failed


def client_error(code: str, message: str = "", operation: str = "DescribeAlarms") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize("code", ["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"])
def test_a_denied_read_points_to_the_read_only_policy(code: str) -> None:
    error = read_failed("alarm x", client_error(code, "not allowed"))
    assert error is not None
    assert str(error).endswith(
        f"{code}: not allowed (`pacs-reconcile permissions --read-only` prints the policy plan needs)"
    )


@pytest.mark.parametrize("code", ["AccessDenied", "AuthorizationError"])
def test_a_denied_change_points_to_the_full_policy(code: str) -> None:
    assert describe_error(client_error(code, "no", "PutMetricAlarm")) == (
        f"PutMetricAlarm: {code}: no (`pacs-reconcile permissions` prints the policy this spec needs)"
    )


def test_other_errors_carry_no_hint() -> None:
    assert describe_error(client_error("ThrottlingException", "slow down")) == (
        "DescribeAlarms: ThrottlingException: slow down"
    )
    assert describe_error(client_error("InternalFailure")) == "DescribeAlarms: InternalFailure"
    read = read_failed("alarm x", client_error("ValidationError", "bad"))
    assert read is not None and "permissions" not in str(read)
