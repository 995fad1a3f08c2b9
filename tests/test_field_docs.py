"""Field descriptions come from the docstrings under the fields, read only when the JSON schema or
the docs are built (spec/field_docs.py), and they are what pydantic's own reading would give."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pacs_reconcile.resources.registry import KINDS, LOOKUPS, load_all
from pacs_reconcile.spec.field_docs import document, nested_first
from pacs_reconcile.spec.model import EnvironmentSettings, Lifecycle


def _every_model() -> list[type[BaseModel]]:
    load_all()
    roots = [r.meta.model for r in KINDS.values()] + [r.meta.model for r in LOOKUPS.values()]
    return nested_first([*roots, Lifecycle, EnvironmentSettings])


def test_no_spec_model_reads_its_docstrings_when_it_is_made() -> None:
    """Reading them parses the source of every model, on every command's start-up."""
    reading = [m.__qualname__ for m in _every_model() if m.model_config.get("use_attribute_docstrings")]
    assert len(_every_model()) > 50
    assert reading == []


class _ReadByPydantic(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    class Inner(BaseModel):
        model_config = ConfigDict(use_attribute_docstrings=True)

        depth: int = 1
        """How deep.

        Second paragraph, indented as docstrings are."""

    first: str
    """The first field."""
    second: int = Field(default=2, description="An explicit description wins.")
    """Not this one."""
    undocumented: bool = False
    inner: Inner | None = None
    """A nested model."""
    inners: list[Inner] = []
    """Several of them."""


class _Base(BaseModel):
    inherited: str = ""
    """Documented where it is declared."""


class _ReadByUs(_Base):
    class Inner(BaseModel):
        depth: int = 1
        """How deep.

        Second paragraph, indented as docstrings are."""

    first: str
    """The first field."""
    second: int = Field(default=2, description="An explicit description wins.")
    """Not this one."""
    undocumented: bool = False
    inner: Inner | None = None
    """A nested model."""
    inners: list[Inner] = []
    """Several of them."""


def _named(schema: dict[str, Any], model: type[BaseModel]) -> str:
    return json.dumps(schema).replace(model.__name__, "Model")


def test_document_describes_fields_as_pydantic_would_and_the_json_schema_carries_it() -> None:
    assert _ReadByUs.model_fields["first"].description is None
    document(_ReadByUs)
    assert _ReadByUs.model_fields["first"].description == "The first field."
    assert _ReadByUs.model_fields["second"].description == "An explicit description wins."
    assert _ReadByUs.model_fields["undocumented"].description is None
    assert _ReadByUs.model_fields["inherited"].description == "Documented where it is declared."
    assert _ReadByUs.Inner.model_fields["depth"].description == (
        "How deep.\n\nSecond paragraph, indented as docstrings are."
    )
    ours = _ReadByUs.model_json_schema()
    assert ours["properties"].pop("inherited")["description"] == "Documented where it is declared."
    assert _named(ours, _ReadByUs) == _named(_ReadByPydantic.model_json_schema(), _ReadByPydantic)
    assert ours["$defs"]["Inner"]["properties"]["depth"]["description"].startswith("How deep.")
