"""Seed moto once per test process and give every test that seeded state back in milliseconds.

Seeding the PACS stack's existing infrastructure (VPC, subnets, RDS, ALB, Auto Scaling, ECS, IAM
roles) takes about two seconds of API calls; a hundred end-to-end tests paid it each. moto keeps
its state in one `BackendDict` per service, in this process (a `ThreadedMotoServer` included), so
the seeded backends can be deep-copied once and copied back after each reset.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaStorage
from moto.core.base_backend import BackendDict
from moto.sqs.models import Queue
from moto.ssm.models import ParameterDict


def _copy_parameter_dict(self: ParameterDict, memo: dict[int, Any]) -> ParameterDict:
    """SSM's parameter store is a defaultdict whose constructor takes arguments: copy it by hand."""
    clone = ParameterDict(self.account_id, self.region_name)
    memo[id(self)] = clone
    clone.__dict__.update(copy.deepcopy(self.__dict__, memo))
    for name, versions in self.items():
        clone[name] = copy.deepcopy(versions, memo)
    return clone


def _copy_lambda_storage(self: LambdaStorage, memo: dict[int, Any]) -> LambdaStorage:
    """Lambda indexes its functions by ARN in a WeakValueDictionary, whose own deepcopy keeps the
    original functions as values: the copy's index must point at the copied functions."""
    clone = LambdaStorage.__new__(LambdaStorage)
    memo[id(self)] = clone
    state = {name: value for name, value in self.__dict__.items() if name != "_arns"}
    clone.__dict__.update(copy.deepcopy(state, memo))
    clone._arns = weakref.WeakValueDictionary(
        {arn: copy.deepcopy(function, memo) for arn, function in self._arns.items()}
    )
    return clone


def _copy_queue(self: Queue, memo: dict[int, Any]) -> Queue:
    """An SQS queue guards its messages with a threading.Condition, which cannot be copied: the
    copy gets a new one of its own."""
    clone = Queue.__new__(Queue)
    memo[id(self)] = clone
    state = {name: value for name, value in self.__dict__.items() if name != "_messages_lock"}
    clone.__dict__.update(copy.deepcopy(state, memo))
    clone._messages_lock = threading.Condition()
    return clone


ParameterDict.__deepcopy__ = _copy_parameter_dict  # type: ignore[attr-defined]
LambdaStorage.__deepcopy__ = _copy_lambda_storage  # type: ignore[attr-defined]
Queue.__deepcopy__ = _copy_queue  # type: ignore[attr-defined]


class SeededState:
    """moto's backends as they stood right after the first seeding in this process."""

    def __init__(self, seed: Callable[[], object]) -> None:
        self._seed = seed
        self._saved: list[tuple[BackendDict[Any], dict[str, Any]]] | None = None

    def restore(self) -> None:
        """Empty every moto backend, then put back the seeded ones (seeding on first use).

        The caller has reset moto already (a server's `/moto-api/reset`, or entering `mock_aws`);
        resetting again here makes the result the same either way.
        """
        BackendDict.reset()
        if self._saved is None:
            self._seed()
            self._saved = [
                (backends, {account: copy.deepcopy(regions) for account, regions in backends.items()})
                for backends in BackendDict._instances
            ]
            return
        for backends, accounts in self._saved:
            for account, regions in accounts.items():
                backends[account] = copy.deepcopy(regions)
            if backends not in BackendDict._instances:
                BackendDict._instances.append(backends)
