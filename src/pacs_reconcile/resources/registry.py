"""Kinds register themselves here by name; the engine and the spec loader walk this registry."""

from __future__ import annotations

from typing import TypeVar

from .base import Lookup, Reconciler

KINDS: dict[str, Reconciler] = {}
LOOKUPS: dict[str, Lookup] = {}

R = TypeVar("R", bound=type[Reconciler])
L = TypeVar("L", bound=type[Lookup])


def register(cls: R) -> R:
    kind = cls.meta.kind
    if kind in KINDS:
        raise RuntimeError(f"kind {kind!r} registered twice")
    KINDS[kind] = cls()
    return cls


def register_lookup(cls: L) -> L:
    LOOKUPS[cls.meta.kind] = cls()
    return cls


def top_level_kinds() -> list[str]:
    return [k for k, r in KINDS.items() if r.meta.parent is None]


def child_kinds(parent: str) -> list[str]:
    return [k for k, r in KINDS.items() if r.meta.parent == parent]


_NOT_KINDS = {"base", "kind", "registry", "common"}


def load_all() -> None:
    """Import every module of this package so each registers its kinds (idempotent)."""
    import importlib
    import pkgutil

    from .. import resources

    for module in sorted(m.name for m in pkgutil.iter_modules(resources.__path__)):
        if module not in _NOT_KINDS and not module.startswith("_"):
            importlib.import_module(f"{resources.__name__}.{module}")
