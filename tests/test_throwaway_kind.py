"""A kind is one self-describing unit: a kind defined here alone, registered for the test, is
picked up by the permissions policy, export, the JSON schema, the reference docs, the spec loader
and the out-of-band matrix with no other edit anywhere (what docs/adding-a-kind.md promises)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from pacs_reconcile import OWNER_TAG, docs_gen, export, permissions, schema
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta
from pacs_reconcile.resources.base import Desired, Key, Live, ReadScope, Reconciler, SpecModel
from pacs_reconcile.resources.common import names_with_prefix
from pacs_reconcile.resources.kind import KindActions, KindMeta, TagApi
from pacs_reconcile.resources.registry import KINDS, load_all, register
from pacs_reconcile.spec.loader import load_spec

KIND = "throwaway_widgets"
EXISTING = {"w-blue": 3, "w-red": 1, "other": 2}
"""What "AWS" holds for this kind: name -> size (no AWS call is made)."""


class WidgetSpec(SpecModel):
    """A widget of the throwaway kind."""

    name: str
    """The widget's name."""
    size: int = 1
    """How large the widget is."""


def _list_widgets(ctx: AwsContext, prefix: str) -> list[str]:
    return names_with_prefix(list(EXISTING), prefix)


class Widgets(Reconciler):
    meta = KindMeta(
        kind=KIND,
        model=WidgetSpec,
        title="Throwaway widget",
        attributes=("name", "arn"),
        force_new=frozenset({"name"}),
        lister=_list_widgets,
        tag_api=TagApi("widgets", "tag_widget", "untag_widget", "WidgetArn", resource_attribute="arn"),
        actions=KindActions(
            read=frozenset({"widgets:DescribeWidgets"}),
            write=frozenset({"widgets:CreateWidget", "widgets:TagWidget", "widgets:UntagWidget"}),
            delete=frozenset({"widgets:DeleteWidget"}),
            listing=frozenset({"widgets:ListWidgets"}),
            passes_role_to="widgets.amazonaws.com",
        ),
    )

    def read(self, ctx: AwsContext, keys: Sequence[Key], scope: ReadScope) -> dict[Key, Live]:
        return {key: self._live(str(key)) for key in keys if key in EXISTING}

    def create(self, ctx: AwsContext, desired: Desired) -> Live:
        raise AssertionError("not called")

    def update(self, ctx: AwsContext, desired: Desired, live: Live, delta: Delta) -> Live:
        raise AssertionError("not called")

    def delete(self, ctx: AwsContext, live: Live) -> None:
        raise AssertionError("not called")

    @staticmethod
    def _live(name: str) -> Live:
        arn = f"arn:aws:widgets:ap-northeast-2:123456789012:widget/{name}"
        return Live(name, {"name": name, "size": EXISTING[name]}, {"name": name, "arn": arn}, {"Team": "x"})


@pytest.fixture
def throwaway() -> Iterator[Reconciler]:
    load_all()
    register(Widgets)
    try:
        yield KINDS[KIND]
    finally:
        del KINDS[KIND]
    assert KIND not in KINDS


@pytest.mark.usefixtures("throwaway")
def test_permissions_take_its_actions_from_its_module() -> None:
    assert permissions.kind_actions()[KIND] == Widgets.meta.actions
    declared = permissions.needs({KIND}, [], KINDS)
    assert {"widgets:DescribeWidgets"} <= declared.read
    assert {"widgets:CreateWidget", "widgets:TagWidget", "widgets:DeleteWidget"} <= declared.change
    assert "widgets.amazonaws.com" in declared.pass_role_to
    undeclared = permissions.needs(set(), [], KINDS)  # still read (to find owned ones) and pruned
    assert "widgets:DescribeWidgets" in undeclared.read and "widgets:DeleteWidget" in undeclared.change
    assert "widgets:CreateWidget" not in undeclared.change
    assert "widgets.amazonaws.com" not in undeclared.pass_role_to


@pytest.mark.usefixtures("throwaway")
def test_export_lists_reads_and_writes_it(aws: AwsContext) -> None:
    assert export.listers()[KIND] is _list_widgets
    assert export.check_selection(export.Selection(kinds=(KIND,), prefix="w-")) == [KIND]
    result = export.export(aws, "pacs-test", export.Selection(kinds=(KIND,), prefix="w-"))
    entries = {entry.name: entry for entry in result.entries[KIND]}
    assert set(entries) == {"w_blue", "w_red"}
    assert entries["w_blue"].config == {"name": "w-blue", "size": 3}
    assert entries["w_red"].config == {"name": "w-red"}  # the model's default is left out
    assert entries["w_blue"].adopt  # no owner tag: adopted
    text = export.render(result, "pacs-reconcile export")
    assert f"{KIND}:\n" in text and "name: w-blue" in text
    assert export.check(text, result, None) == []  # the loader accepts its section


@pytest.mark.usefixtures("throwaway")
def test_the_schema_has_its_section() -> None:
    root = schema.spec_schema()
    assert KIND in root["properties"]
    rendered = schema.render(root)
    assert "The widget's name." in rendered and "How large the widget is." in rendered
    assert KIND in schema.included_schema()["properties"]


@pytest.mark.usefixtures("throwaway")
def test_the_reference_docs_have_its_page(tmp_path: Path) -> None:
    pages = docs_gen.generate(tmp_path)
    page = pages[f"{KIND}.md"]
    assert "Throwaway widget" in page and "How large the widget is." in page
    assert f"docs/examples/{KIND}.yaml" in page  # no example yet: the page says what to write
    (tmp_path / f"{KIND}.yaml").write_text(f"{KIND}:\n  blue:\n    name: w-blue\n    size: 3\n")
    assert "size: 3" in docs_gen.generate(tmp_path)[f"{KIND}.md"]
    assert f"{KIND}.md" in pages[docs_gen.INDEX]


@pytest.mark.usefixtures("throwaway")
def test_the_loader_accepts_and_checks_its_section(tmp_path: Path) -> None:
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(
        "version: 1\nstack: s\nregion: ap-northeast-2\n"
        f"{KIND}:\n  blue:\n    name: w-blue\n    size: 3\n    tags: {{Team: x}}\n"
    )
    loaded = load_spec(spec, environ={})
    node = loaded.resources[f"{KIND}.blue"]
    assert node.kind == KIND and node.config["size"] == 3
    assert OWNER_TAG not in node.config


@pytest.mark.usefixtures("throwaway")
def test_the_out_of_band_matrix_names_it() -> None:
    from e2e.test_out_of_band import CASES, Mutation, kind_of, missing_cases

    assert kind_of(f"{KIND}.blue") == KIND
    (gap,) = missing_cases({KIND, "log_groups"}, CASES)
    assert gap.startswith(f"{KIND}: add an out-of-band case")
    case: tuple[Mutation, str, str] = (lambda server: None, f"{KIND}.blue", "size")
    assert missing_cases({KIND}, {**CASES, "widget resized": case}) == []


def test_unregistered_again() -> None:
    load_all()
    assert KIND not in KINDS
    assert KIND not in permissions.kind_actions() and KIND not in export.listers()
