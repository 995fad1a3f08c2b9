"""Field descriptions from attribute docstrings, read when the JSON schema or the docs are built.

Every spec model documents each field with the string written under it (PEP 257's attribute
docstrings). pydantic can read them as each model class is made (`use_attribute_docstrings`), but
that finds and parses the source of every model on every command's start-up (0.12-0.23 s of CPU
for some 90 models), while only the JSON schema and the reference pages show them. `document`
gives the fields the descriptions pydantic would have given them, and rebuilds the models'
pydantic schemas so that their JSON schema carries them too.
"""

from __future__ import annotations

import ast
import inspect
import sys
from collections.abc import Iterable
from typing import Any, get_args

from pydantic import BaseModel

_documented: set[type[BaseModel]] = set()
"""Models whose fields carry their descriptions, with every model they nest."""


def document(*models: type[BaseModel]) -> None:
    """Describe the fields of `models` and of every model they nest (idempotent)."""
    sources = _Sources()
    for model in nested_first(models):
        if model in _documented:
            continue
        _describe_fields(model, sources)
        # Its pydantic schema embeds each field's description (and the schemas of the models it
        # nests, rebuilt before it) when it is built.
        model.model_rebuild(force=True)
        _documented.add(model)


def nested_first(models: Iterable[type[BaseModel]]) -> list[type[BaseModel]]:
    """`models` and every model they nest, each after the models it nests."""
    order: list[type[BaseModel]] = []
    visiting: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel]) -> None:
        if model in visiting:
            return
        visiting.add(model)
        for info in model.model_fields.values():
            for nested in _models_in(info.annotation):
                visit(nested)
        order.append(model)

    for model in models:
        visit(model)
    return order


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The models a field's type names: itself, or inside list[...], X | None, Annotated[...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _describe_fields(model: type[BaseModel], sources: _Sources) -> None:
    """As pydantic does when the class is made: a field without a description takes the docstring
    written under it in the class that annotates it (the model itself, or the base it inherits the
    field from)."""
    for name, info in model.model_fields.items():
        if info.description is not None:
            continue
        owner = next((c for c in model.__mro__ if name in inspect.get_annotations(c)), None)
        if owner is not None:
            info.description = sources.attribute_docstrings(owner).get(name)


class _Sources:
    """The class statements of the modules read so far, each module parsed once."""

    def __init__(self) -> None:
        self._classes: dict[str, dict[str, ast.ClassDef]] = {}
        self._docs: dict[type, dict[str, str]] = {}

    def attribute_docstrings(self, cls: type) -> dict[str, str]:
        """Attribute name -> the string literal written right under its annotated assignment in
        the body of `cls` (cleaned as docstrings are), as pydantic's `use_attribute_docstrings`
        reads it."""
        if cls not in self._docs:
            statement = self._module_classes(cls.__module__).get(cls.__qualname__)
            self._docs[cls] = _docstrings_in(statement) if statement is not None else {}
        return self._docs[cls]

    def _module_classes(self, module: str) -> dict[str, ast.ClassDef]:
        if module not in self._classes:
            try:
                source = inspect.getsource(sys.modules[module])
            except (KeyError, OSError, TypeError):  # no source (e.g. a module made at run time)
                source = ""
            self._classes[module] = _classes_by_qualname(ast.parse(source))
        return self._classes[module]


def _classes_by_qualname(tree: ast.Module) -> dict[str, ast.ClassDef]:
    """Every class statement of a module by its `__qualname__` (the first, if one is written twice)."""
    found: dict[str, ast.ClassDef] = {}

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                found.setdefault(prefix + child.name, child)
                walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                walk(child, f"{prefix}{child.name}.<locals>.")
            elif isinstance(child, ast.stmt):  # if, try, with: their statements share the prefix
                walk(child, prefix)

    walk(tree, "")
    return found


def _docstrings_in(statement: ast.ClassDef) -> dict[str, str]:
    docs: dict[str, str] = {}
    previous: ast.stmt | None = None
    for current in statement.body:
        if (
            isinstance(previous, ast.AnnAssign)
            and isinstance(previous.target, ast.Name)
            and isinstance(current, ast.Expr)
            and isinstance(current.value, ast.Constant)
            and isinstance(current.value.value, str)
        ):
            docs[previous.target.id] = inspect.cleandoc(current.value.value)
        previous = current
    return docs
