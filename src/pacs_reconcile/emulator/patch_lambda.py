"""Lambda gaps in moto 5.2.5, filled so moto behaves like AWS for this tool.

- DeadLetterConfig is ignored: CreateFunction and UpdateFunctionConfiguration accept it and
  GetFunction never returns it. AWS keeps it as the function's configuration and returns it in
  FunctionConfiguration (Lambda API reference: CreateFunction, UpdateFunctionConfiguration,
  FunctionConfiguration.DeadLetterConfig); an empty TargetArn removes it.
- An SNS message to a `lambda` subscription makes moto run the function in Docker (and log an
  error where there is none). AWS invokes the function asynchronously
  (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html): the publish never waits for it.
  The emulator cannot run the code; it keeps the events it would have delivered, per function,
  in the backend (`sns_events`), which moto's reset wipes.
- AddPermission with a statement id the function's policy already has appends a second statement
  with that id. AWS refuses it with ResourceConflictException (409), "The statement id (X)
  provided already exists. Please provide a new statement id, or remove the existing statement."
  (hashicorp/terraform-provider-aws#3312, cloud-custodian/cloud-custodian#9563): a retry after a
  lost response meets its own first attempt, and a policy never holds one id twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.awslambda.models import LambdaBackend, LambdaFunction

_PATCHED_MARK = "_pacs_reconcile_patched"
SNS_EVENTS = "pacs_sns_events"


def install() -> None:
    if getattr(LambdaFunction, _PATCHED_MARK, False):
        return
    original_init: Callable[..., None] = LambdaFunction.__init__
    original_configuration: Callable[..., dict[str, Any]] = LambdaFunction.get_configuration
    original_update: Callable[..., dict[str, Any]] = LambdaFunction.update_configuration

    def __init__(
        self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any
    ) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.pacs_dead_letter_target = (spec.get("DeadLetterConfig") or {}).get("TargetArn") or ""  # type: ignore[attr-defined]

    def get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
        config = original_configuration(self, on_create)
        target = getattr(self, "pacs_dead_letter_target", "")
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        return config

    def update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.pacs_dead_letter_target = (config_updates["DeadLetterConfig"] or {}).get("TargetArn") or ""  # type: ignore[attr-defined]
        return original_update(self, config_updates)

    def send_sns_message(
        self: LambdaBackend,
        function_name: str,
        message: str,
        subject: str | None = None,
        qualifier: str | None = None,
    ) -> None:
        delivered: dict[str, list[dict[str, Any]]] = self.__dict__.setdefault(SNS_EVENTS, {})
        delivered.setdefault(function_name, []).append({"Message": message, "Subject": subject})

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaBackend.send_sns_message = send_sns_message  # type: ignore[method-assign]
    _refuse_taken_statement_ids()
    setattr(LambdaFunction, _PATCHED_MARK, True)


def _refuse_taken_statement_ids() -> None:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.policy import Policy

    original = Policy.add_statement

    class StatementIdTaken(LambdaClientError):
        code = 409

        def __init__(self, sid: str) -> None:
            super().__init__(
                "ResourceConflictException",
                f"The statement id ({sid}) provided already exists. "
                "Please provide a new statement id, or remove the existing statement.",
            )

    def add_statement(self: Policy, raw: str, qualifier: str | None = None) -> Any:
        request = json.loads(raw)
        sid = request.get("Sid") or request.get("StatementId")
        if sid and any(s.get("Sid") == sid for s in self.statements):
            raise StatementIdTaken(sid)
        return original(self, raw, qualifier)

    Policy.add_statement = add_statement  # type: ignore[method-assign]
