"""Validation of the CLI's JSON documents against the published schemas (schema/output/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parent.parent / "schema" / "output"


def _registry() -> Registry:
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in SCHEMAS.glob("*.schema.json")
    ]
    return Registry().with_resources(resources)


REGISTRY = _registry()


def check(document: dict[str, Any], schema: str) -> None:
    """`document` is valid against schema/output/<schema>.schema.json (every error listed)."""
    contents = json.loads((SCHEMAS / f"{schema}.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(contents, registry=REGISTRY)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, errors
