"""What the package's source can ask AWS: an AST scan of the services it makes clients of
(`ctx.client("logs")`) and of every name it mentions (attributes, like .put_metric_alarm, and
string constants, like the paginator name "describe_alarms"). An operation is within reach of the
code when its Python name is among those names, for one of those services."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def _is_client_call(node: ast.AST) -> bool:
    """ctx.client("service")"""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "client"
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def services_and_names(paths: Iterable[Path]) -> tuple[set[str], set[str]]:
    """The services the files make clients of, and every name they mention."""
    services: set[str] = set()
    names: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if _is_client_call(node):
                services.add(node.args[0].value)  # type: ignore[attr-defined]
            if isinstance(node, ast.Attribute):
                names.add(node.attr)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    return services, names
