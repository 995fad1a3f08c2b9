"""Where moto is more lenient than AWS in a way that matters when a call is retried, make it
behave like AWS for this suite (in this process, and in a crash test's server process).

- Lambda AddPermission with a statement id the policy already has: AWS answers
  ResourceConflictException ("The statement id (X) provided already exists"); moto appends a
  second statement with the same id. A retried AddPermission whose first response was lost must
  see AWS's answer, or the suite would count a duplicate AWS can never hold.
"""

from __future__ import annotations

import json
from typing import Any

_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
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

    def add_statement(self: Any, raw: str, qualifier: str | None = None) -> Any:
        sid = json.loads(raw).get("Sid") or json.loads(raw).get("StatementId")
        if sid and any(s.get("Sid") == sid for s in self.statements):
            raise StatementIdTaken(sid)
        return original(self, raw, qualifier)

    Policy.add_statement = add_statement
    _installed = True
