"""Typed variables: declarations, environment overlays, --var and from_env values."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..hints import plain_list, suggestion
from .model import Variable
from .yamlsrc import YamlProblem, read_text

TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "map": (dict,),
}
DECLARATION_KEYS = {"type", "default", "sensitive", "from_env", "description", "allowed", "required_in"}
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Declaration:
    name: str
    type: str
    default: Any
    has_default: bool
    sensitive: bool
    from_env: str | None
    allowed: list[Any] | None
    required_in: tuple[str, ...] = ()


class VariableProblem(ValueError):
    def __init__(self, field: str, message: str, help: str = "") -> None:
        self.field = field
        self.help = help
        super().__init__(message)


def parse_declaration(name: str, raw: Any) -> Declaration:
    if not NAME.match(name):
        raise VariableProblem("", "variable names are letters, digits and '_', not starting with a digit")
    if not isinstance(raw, dict):
        raw = {"default": raw}
    unknown = set(raw) - DECLARATION_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise VariableProblem(
            first,
            f"unknown key; expected one of {plain_list(sorted(DECLARATION_KEYS))}",
            suggestion(first, DECLARATION_KEYS),
        )
    has_default = "default" in raw
    default = raw.get("default")
    var_type = raw.get("type") or _infer_type(default)
    if not isinstance(var_type, str) or var_type not in TYPES:
        raise VariableProblem(
            "type",
            f"unknown type {var_type!r}; expected one of {plain_list(TYPES)}",
            suggestion(str(var_type), TYPES),
        )
    sensitive = raw.get("sensitive", False)
    if not isinstance(sensitive, bool):
        raise VariableProblem("sensitive", "must be true or false")
    from_env = raw.get("from_env")
    if from_env is not None and (not isinstance(from_env, str) or not NAME.match(from_env)):
        raise VariableProblem("from_env", "must be an environment variable name")
    allowed = raw.get("allowed")
    if allowed is not None and not isinstance(allowed, list):
        raise VariableProblem("allowed", "must be a list of values")
    required_in = raw.get("required_in") or []
    if not isinstance(required_in, list) or not all(isinstance(e, str) for e in required_in):
        raise VariableProblem("required_in", "must be a list of environment names, e.g. [prod, staging]")
    decl = Declaration(name, var_type, default, has_default, sensitive, from_env, allowed, tuple(required_in))
    if has_default and default is not None:
        check_value(decl, default, "default")
    return decl


def _infer_type(default: Any) -> str:
    for name, types in TYPES.items():
        if (
            default is not None
            and type(default) in types
            and not (name == "int" and isinstance(default, bool))
        ):
            return name
    return "str"


def check_value(decl: Declaration, value: Any, field: str) -> Any:
    expected = TYPES[decl.type]
    if isinstance(value, bool) and decl.type in ("int", "float"):
        raise VariableProblem(field, f"must be of type {decl.type}, got a boolean")
    if not isinstance(value, expected):
        raise VariableProblem(field, f"must be of type {decl.type}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise VariableProblem(field, "must be a finite number")
    if decl.allowed is not None and value not in decl.allowed:
        raise VariableProblem(
            field,
            f"must be one of {plain_list(decl.allowed)}" + ("" if decl.sensitive else f"; got {value!r}"),
            suggestion(value, map(str, decl.allowed))
            if isinstance(value, str) and not decl.sensitive
            else "",
        )
    return value


def parse_cli_value(decl: Declaration, text: str) -> Any:
    """Turn a --var or environment string into the declared type, with the guards of a spec
    file: integers are plain decimal digits (YAML 1.1 would read `0x1e`, `010` and `1:30` as 30, 8
    and 90), numbers are finite, and `!!` tags are refused."""
    if decl.type == "str":
        return check_value(decl, text, "")  # still one of `allowed`, when declared
    try:
        value = read_text(text)
    except YamlProblem as exc:
        raise VariableProblem("", f"cannot read the value as {decl.type}: {exc.diagnostic.message}") from None
    if decl.type == "float" and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return check_value(decl, value, "")


def resolve_values(
    declarations: Mapping[str, Declaration],
    overlay: Mapping[str, Any],
    cli_vars: Mapping[str, str],
    environ: Mapping[str, str],
) -> tuple[dict[str, Variable], list[tuple[str, str, str]]]:
    """Values by precedence: --var, then from_env, then the environment overlay, then the default.

    Returns the variables and a list of problems as (variable, source, message).
    """
    values: dict[str, Variable] = {}
    problems: list[tuple[str, str, str]] = []
    for name, decl in declarations.items():
        from_env = decl.from_env is not None and decl.from_env in environ
        source = "--var" if name in cli_vars else "from_env" if from_env else "overlay"
        try:
            if name in cli_vars:
                value = parse_cli_value(decl, cli_vars[name])
            elif decl.from_env is not None and from_env:
                value = parse_cli_value(decl, environ[decl.from_env])
            elif name in overlay:
                value = check_value(decl, overlay[name], "")
            elif decl.has_default:
                value = decl.default
                source = "default"
            else:
                hint = f" or the environment variable {decl.from_env}" if decl.from_env else ""
                problems.append((name, "missing", f"has no value: set it with --var {name}=...{hint}"))
                continue
        except VariableProblem as exc:
            origin = {
                "--var": "",
                "from_env": f"from the environment variable {decl.from_env}",
                "overlay": "in the environment overlay",
            }[source]
            if decl.sensitive:  # the message may quote the value: never show a secret
                message = f"invalid value {origin}".strip() + " (not shown: the variable is sensitive)"
            else:
                message = f"{origin}: {exc}" if origin else str(exc)
            problems.append((name, source, message))
            continue
        values[name] = Variable(
            name, value, decl.sensitive, source == "default", decl.required_in, decl.from_env
        )
    return values, problems
