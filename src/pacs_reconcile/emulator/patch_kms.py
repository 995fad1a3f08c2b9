"""KMS key rotation periods, which moto 5.2.5 accepts and forgets.

EnableKeyRotation takes RotationPeriodInDays ("If no value is specified, the default value is 365
days"; it may also change the period of a key already rotating), and GetKeyRotationStatus answers
it with KeyId (KMS API reference). moto ignores the parameter and answers KeyRotationEnabled
alone. After install(), the period is kept on the key and returned while rotation is on. Works
in-process and in server mode.

A key pending deletion: "While a KMS key is pending deletion, its key rotation status is false and
KMS does not rotate the key material. If you cancel the deletion, the original key rotation status
returns" (GetKeyRotationStatus, KMS API reference). moto answers the key's own status; after
install() it answers false until the deletion is cancelled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

_PATCHED_MARK = "_pacs_reconcile_patched"
DEFAULT_ROTATION_PERIOD = 365


def install() -> None:
    """Apply the patch once (idempotent)."""
    from moto.kms.responses import KmsResponse

    if getattr(KmsResponse, _PATCHED_MARK, False):
        return
    KmsResponse.enable_key_rotation = _keeping_the_period(KmsResponse.enable_key_rotation)  # type: ignore[method-assign,assignment]
    KmsResponse.get_key_rotation_status = _with_the_period(KmsResponse.get_key_rotation_status)  # type: ignore[method-assign,assignment]
    setattr(KmsResponse, _PATCHED_MARK, True)


def _key(response: Any) -> Any:
    backend = response.kms_backend
    return backend.keys[backend.get_key_id(response._get_param("KeyId"))]


def _keeping_the_period(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def enable_key_rotation(self: Any) -> str:
        result = original(self)
        _key(self).rotation_period_in_days = int(
            self._get_param("RotationPeriodInDays") or DEFAULT_ROTATION_PERIOD
        )
        return result

    return enable_key_rotation


def _with_the_period(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def get_key_rotation_status(self: Any) -> str:
        answer = json.loads(original(self))
        key = _key(self)
        answer["KeyId"] = key.id
        if key.key_state == "PendingDeletion":
            answer["KeyRotationEnabled"] = False
        if answer.get("KeyRotationEnabled"):
            answer["RotationPeriodInDays"] = getattr(key, "rotation_period_in_days", DEFAULT_ROTATION_PERIOD)
        return json.dumps(answer)

    return get_key_rotation_status
