"""docs/coverage.md in sync with the models: per kind the managed spec fields are exactly the model's,
every spec path a row names resolves in the model, every ignored field says why, and each shape
"checked against the service model" lists every field botocore's model gives it."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import botocore.session
import pytest
from pydantic import BaseModel

from pacs_reconcile.resources.registry import KINDS, load_all

DOC = Path(__file__).resolve().parents[1] / "docs" / "coverage.md"
STATUSES = {"managed", "ignored", "not yet supported"}
ROW = re.compile(r"^\| (?P<field>[^|]+?) \| (?P<status>[^|]+?) \| (?P<why>[^|]*?) ?\|$")
SPEC_PATH = re.compile(r"`([a-z_]+(?:(?:\.\*|\[\])?\.[a-z_]+)*)`")


def sections() -> dict[str, str]:
    parts = re.split(r"^## `([a-z0-9_]+)`$", DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def rows(text: str) -> list[dict[str, str]]:
    found = [ROW.match(line) for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return [m.groupdict() for m in found if m and m["field"] != "AWS API field"]


def model_fields(kind: str) -> list[str]:
    return [n for n, f in KINDS[kind].meta.model.model_fields.items() if not f.exclude]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if get_origin(annotation) in (list, dict, Union, types.UnionType) or get_args(annotation):
        return [m for arg in get_args(annotation) for m in _models_in(arg)]
    return []


def resolves(model: type[BaseModel], path: str) -> bool:
    """`containers.*.health_check` or `metrics[].id`: each name a field of the model reached so far."""
    names = [n for n in re.split(r"\.\*\.|\[\]\.|\.", path) if n]
    current = [model]
    for name in names:
        fields = [m.model_fields[name] for m in current if name in m.model_fields]
        if not fields:
            return False
        current = [m for f in fields for m in _models_in(f.annotation)]
    return True


def test_every_kind_has_a_section_and_no_other() -> None:
    load_all()
    assert sorted(sections()) == sorted(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_managed_spec_fields_are_the_models(kind: str) -> None:
    text = sections()[kind]
    line = next(line for line in text.splitlines() if line.startswith("Managed spec fields:"))
    assert re.findall(r"`([a-z_]+)`", line) == model_fields(kind), "regenerate the kind's line from its model"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_rows_name_real_spec_paths_and_say_why(kind: str) -> None:
    model = KINDS[kind].meta.model
    for row in rows(sections()[kind]):
        assert row["status"] in STATUSES, row
        if row["status"] == "ignored":
            assert row["why"].strip(), f"{kind}: say why {row['field']} is ignored"
        if row["status"] == "managed":
            named = SPEC_PATH.search(row["why"])  # the spec path comes first; AWS names may follow
            assert named, f"{kind}: name the spec field managing {row['field']}"
            assert named.group(1) == "tags" or resolves(model, named.group(1)), (kind, row)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_checked_shapes_list_every_field_of_the_service_model(kind: str) -> None:
    text = sections()[kind]
    checked = (
        re.findall(
            r"`([a-z0-9-]+):([A-Za-z]+)`",
            text.split("Checked against the service model:", 1)[-1].split("\n", 1)[0],
        )
        if "Checked against" in text
        else []
    )
    session = botocore.session.get_session()
    listed = [row["field"].strip("`") for row in rows(text)]
    for service, shape in checked:
        members = set(session.get_service_model(service).shape_for(shape).members)
        assert {f.split(".", 1)[1] for f in listed if f.startswith(shape + ".")} == members, shape


def test_the_resolver_refuses_a_path_the_model_lacks() -> None:
    model = KINDS["task_definitions"].meta.model
    assert resolves(model, "containers.*.health_check")
    assert resolves(model, "volumes.*.efs.authorization_config")
    assert not resolves(model, "containers.*.privileged")


def kinds_said_missing(text: str) -> list[str]:
    """Rows saying a kind is not yet supported ("custom event buses as a kind") while that kind is
    registered: named by its spec section in words ("event buses") or by its title ("EventBridge
    event bus")."""
    load_all()
    names = {kind.replace("_", " ") for kind in KINDS} | {KINDS[kind].meta.title.lower() for kind in KINDS}
    stale = []
    for row in rows(text):
        said = f"{row['field']} {row['why']}".lower()
        if row["status"] == "not yet supported" and "kind" in said and any(n in said for n in names):
            stale.append(row["field"])
    return stale


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_row_says_a_registered_kind_is_missing(kind: str) -> None:
    assert kinds_said_missing(sections()[kind]) == [], f"{kind}: the kind exists; say how it is managed"


def test_the_missing_kind_check_catches_a_stale_row() -> None:
    stale = "| custom event buses as a kind | not yet supported | the bus is named by `event_bus` |"
    assert kinds_said_missing(stale) == ["custom event buses as a kind"]
    assert kinds_said_missing("| partner event sources as a kind | not yet supported |  |") == []


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_aws_field_has_one_row(kind: str) -> None:
    listed = [row["field"] for row in rows(sections()[kind])]
    assert sorted({f for f in listed if listed.count(f) > 1}) == [], f"{kind}: a field listed twice"
