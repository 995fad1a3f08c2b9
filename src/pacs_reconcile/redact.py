"""Masking of secrets in everything the tool prints or writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MASK = "(sensitive value)"


class Redactor:
    """Replaces every known secret value with a mask; longest first so overlaps cannot leak."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        merged = {*self.secrets, *(s for s in secrets if s and len(s) >= 4)}
        self.secrets = sorted(merged, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def is_sensitive_path(path: str, sensitive_paths: Iterable[str]) -> bool:
    for prefix in sensitive_paths:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return True
    return False
