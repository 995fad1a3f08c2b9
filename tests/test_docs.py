"""The reference docs: generated pages in sync with the models, every kind documented with a working
example, and no dead link between the pages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pydantic import BaseModel

from pacs_reconcile import docs_gen
from pacs_reconcile.resources.registry import KINDS, LOOKUPS, load_all
from pacs_reconcile.schema import Definitions
from pacs_reconcile.spec.field_docs import document
from pacs_reconcile.spec.loader import load_spec
from pacs_reconcile.spec.wording import inner_model

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
REFERENCE = DOCS / "reference"
EXAMPLES = DOCS / "examples"
REGENERATE = "pacs-reconcile docs   (run from the repository's root)"
EXAMPLES_ROOT = """\
version: 1
stack: docs-examples
region: ap-northeast-2
include: [examples/*.yaml]
variables:
  alert_email: {default: pacs-oncall@example.com}
  slack_webhook_url: {default: "", sensitive: true}
  grafana_admin_password: {default: not-a-real-password, sensitive: true}
"""
"""The root the examples are loaded under: the variables they use are declared here."""


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return docs_gen.generate(EXAMPLES)


def test_committed_reference_pages_are_in_sync_with_the_models(pages: dict[str, str]) -> None:
    committed = {path.name for path in REFERENCE.glob("*.md")}
    assert committed == set(pages), f"docs/reference/ has stale or missing pages; regenerate: {REGENERATE}"
    for name, text in pages.items():
        assert (REFERENCE / name).read_text(encoding="utf-8") == text, (
            f"docs/reference/{name} differs from the models; regenerate with: {REGENERATE}"
        )


def test_every_kind_has_a_page_with_an_example_and_every_lookup_a_section(pages: dict[str, str]) -> None:
    load_all()
    for kind in KINDS:
        assert (EXAMPLES / f"{kind}.yaml").is_file(), f"write docs/examples/{kind}.yaml"
        page = pages[f"{kind}.md"]
        assert "```yaml" in page and "No example yet" not in page
    for kind in LOOKUPS:
        section = pages["lookups.md"].split(f"## `{kind}`", 1)[1].split("\n## ", 1)[0]
        assert f"kind: {kind}" in section, f"add a {kind} lookup to docs/examples/lookups.yaml"


def test_every_example_loads_with_the_real_loader(tmp_path: Path) -> None:
    """All examples together form one valid spec: types, value domains and references all check."""
    (tmp_path / "monitoring.yaml").write_text(EXAMPLES_ROOT, encoding="utf-8")
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    code = tmp_path / "functions" / "metrics_collector"
    code.mkdir(parents=True)
    (code / "index.py").write_text("def handler(event, context):\n    return None\n", encoding="utf-8")
    spec = load_spec(tmp_path / "monitoring.yaml")
    for path in EXAMPLES.glob("*.yaml"):
        kind = path.stem
        if kind in KINDS:
            declared = {node.kind for node in spec.resources.values()}
            assert kind in declared, f"{path.name} declares no {kind}"
    assert {node.kind for node in spec.lookups.values()} == set(LOOKUPS)


def test_every_field_of_every_model_has_a_description() -> None:
    load_all()
    document(*(r.meta.model for r in KINDS.values()), *(r.meta.model for r in LOOKUPS.values()))
    missing: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            if not (info.description or "").strip():
                missing.append(prefix + name)
            nested = inner_model(info.annotation)
            if nested is not None:
                walk(nested, f"{prefix}{name}.")

    for kind, reconciler in KINDS.items():
        walk(reconciler.meta.model, f"{kind}.")
    for kind, lookup in LOOKUPS.items():
        walk(lookup.meta.model, f"lookups.{kind}.")
    assert missing == [], "write a docstring under each of these fields"


def test_a_kind_page_states_the_facts_of_its_meta(pages: dict[str, str]) -> None:
    page = pages["subscriptions.md"]
    assert "inside an entry of [`sns_topics`](sns_topics.md)" in page
    assert "| Taggable | no: owned through its parent |" in page
    assert "| Always masked | `endpoint` |" in page
    assert "| `protocol` | one of `email`, `email-json`" in page
    assert re.search(r"\| `endpoint` \| text \| \*\*required\*\* \| yes \|", page)
    log_groups = pages["log_groups.md"]
    assert "| Stateful | yes" in log_groups
    assert "[`metric_filters`](metric_filters.md)" in log_groups
    assert "`${log_groups.NAME.arn}`" in log_groups
    alarms = pages["alarms.md"]
    assert "| `metrics[].metric.stat` |" in alarms  # nested models are flattened
    choices = "one of `missing`, `notBreaching`, `breaching`, `ignore`"
    assert f'| `treat_missing_data` | {choices} | `"missing"` |' in alarms


def test_type_text_reads_like_the_documentation_of_a_field() -> None:
    defs = Definitions().defs
    reference = {"$ref": "#/definitions/reference"}
    assert docs_gen.type_text({"anyOf": [{"type": "integer"}, reference]}, defs) == "integer"
    assert (
        docs_gen.type_text({"anyOf": [{"enum": [1, 3]}, {"const": "never"}, {"type": "null"}]}, defs)
        == "one of `1`, `3` or `never`"
    )
    assert (
        docs_gen.type_text({"type": "array", "items": {"type": "string"}, "maxItems": 5}, defs)
        == "list of text (at most 5 items)"
    )
    assert (
        docs_gen.type_text({"type": "object", "additionalProperties": {"type": "string"}}, defs)
        == "mapping of text to text"
    )
    assert (
        docs_gen.type_text({"type": "string", "minLength": 1, "maxLength": 64}, defs)
        == "text (1-64 characters)"
    )


def test_docs_command_removes_pages_of_kinds_that_no_longer_exist(tmp_path: Path) -> None:
    stale = tmp_path / "retired_kind.md"
    stale.write_text(docs_gen.MARKER + "\n", encoding="utf-8")
    hand_written = tmp_path / "notes.md"
    hand_written.write_text("mine\n", encoding="utf-8")
    docs_gen.write(tmp_path, {"alarms.md": "x\n"})
    assert not stale.exists() and hand_written.exists() and (tmp_path / "alarms.md").read_text() == "x\n"


_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_links_between_pages_resolve() -> None:
    pages = [*DOCS.glob("*.md"), *REFERENCE.glob("*.md"), REPO / "README.md"]
    dead: list[str] = []
    for page in pages:
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target or target.startswith("mailto:"):
                continue
            if not (page.parent / target).exists():
                dead.append(f"{page.relative_to(REPO)} -> {target}")
    assert dead == []


@pytest.mark.parametrize(
    "page", ["tutorial.md", "migrating-from-terraform.md", "spec-language.md", "adding-a-kind.md"]
)
def test_hand_written_pages_exist(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert text.startswith("# ") and len(text) > 2000
