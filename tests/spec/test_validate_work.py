"""`validate` loads the base spec and every environment: the work they share is done once per
command (each file parsed once, an entry that resolves alike validated once), and nothing is kept
from one command to the next."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.errors import SpecError
from pacs_reconcile.resources.cloudwatch import AlarmSpec
from pacs_reconcile.spec import loader

ROOT = """\
version: 1
stack: work-test
region: ap-northeast-2
include: [specs/*.yaml]
variables:
  suffix: {default: ""}
environments:
  dev: {variables: {suffix: ""}}
  prod: {variables: {suffix: -prod}}
"""

ALARMS = """\
alarms:
  same_everywhere:
    name: same-everywhere
    metric: {name: Errors, namespace: Work, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: 1
  named_per_environment:
    name: per-environment${var.suffix}
    metric: {name: Errors, namespace: Work, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: 1
"""


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "alarms.yaml").write_text(ALARMS, encoding="utf-8")
    path = tmp_path / "monitoring.yaml"
    path.write_text(ROOT, encoding="utf-8")
    return path


def test_each_file_is_parsed_once_for_the_base_spec_and_every_environment(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: Counter[str] = Counter()
    original = loader.read_yaml

    def counting(path: Path, display: str) -> Any:
        parsed[path.name] += 1
        return original(path, display)

    monkeypatch.setattr(loader, "read_yaml", counting)
    _, environments = loader.load_every_environment(spec_file)
    assert environments == ["dev", "prod"]
    assert parsed == {"monitoring.yaml": 1, "alarms.yaml": 1}  # three loads, one parse each


def test_an_entry_that_resolves_alike_is_validated_once(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names: Counter[str] = Counter()
    original = loader.Validations._validate

    def counting(model: Any, config: Any) -> Any:
        if model is AlarmSpec:
            names[config["name"]] += 1
        return original(model, config)

    monkeypatch.setattr(loader.Validations, "_validate", staticmethod(counting))
    loader.load_every_environment(spec_file)
    # base, dev and prod: one configuration of the first alarm, two of the second
    assert names == {"same-everywhere": 1, "per-environment": 1, "per-environment-prod": 1}


def test_nothing_is_kept_from_one_load_to_the_next(spec_file: Path) -> None:
    loader.load_every_environment(spec_file)
    alarms = spec_file.parent / "specs" / "alarms.yaml"
    alarms.write_text(ALARMS.replace("evaluation_periods: 1", "evaluation_periods: 0", 1), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        loader.load_every_environment(spec_file)
    assert [d.field for d in raised.value.diagnostics] == ["alarms.same_everywhere.evaluation_periods"]


def test_an_invalid_entry_is_reported_from_the_shared_validation_with_its_location(spec_file: Path) -> None:
    alarms = spec_file.parent / "specs" / "alarms.yaml"
    alarms.write_text(ALARMS.replace("threshold: 1", "threshold: many"), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        loader.load_every_environment(spec_file)
    found = sorted((d.field, d.line, d.environment) for d in raised.value.diagnostics)
    assert found == [
        ("alarms.named_per_environment.threshold", 11, None),
        ("alarms.same_everywhere.threshold", 5, None),
    ]


def test_an_environment_resolving_exactly_as_the_base_spec_is_not_loaded_again(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: Counter[str | None] = Counter()
    original = loader._Loader._node

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        loaded[self.environment] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(loader._Loader, "_node", counting)
    _, environments = loader.load_every_environment(spec_file)
    assert environments == ["dev", "prod"]
    assert loaded == {None: 2, "prod": 2}  # dev sets suffix to its default: nothing differs


def test_a_problem_only_an_environment_has_is_still_reported(spec_file: Path) -> None:
    too_long = "x" * 300  # alarm names are at most 255 characters
    spec_file.write_text(ROOT.replace("suffix: -prod", f"suffix: {too_long}"), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        loader.load_every_environment(spec_file)
    found = {(d.field, d.environment) for d in raised.value.diagnostics}
    assert found == {("alarms.named_per_environment.name", "prod")}


REFERRING = """\
sns_topics:
  alerts:
    name: alerts${var.suffix}
alarms:
  notifying:
    name: notifying
    metric: {name: Errors, namespace: Work, statistic: Sum, period: 300}
    threshold: 1
    comparison: GreaterThanThreshold
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}"]
"""


def test_only_what_loading_substitutes_is_rendered(spec_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference left for plan (`${sns_topics.alerts.arn}`) is kept as written without rendering
    it; one to a variable is rendered, in each environment it differs in."""
    (spec_file.parent / "specs" / "topics.yaml").write_text(REFERRING, encoding="utf-8")
    rendered: Counter[str] = Counter()
    original = loader.render

    def counting(value: Any, resolve: Any, **options: Any) -> Any:
        rendered[value] += 1
        return original(value, resolve, **options)

    monkeypatch.setattr(loader, "render", counting)
    spec, _ = loader.load_every_environment(spec_file)
    assert spec.resources["alarms.notifying"].config["alarm_actions"] == ["${sns_topics.alerts.arn}"]
    assert [r.text for r in spec.resources["alarms.notifying"].references] == ["sns_topics.alerts.arn"]
    assert rendered == {"alerts${var.suffix}": 2, "per-environment${var.suffix}": 2}  # base and prod


def test_an_entry_in_which_nothing_is_substituted_is_taken_from_the_base_spec(
    spec_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """prod resolves otherwise than the base spec (its suffix), but `same_everywhere` holds nothing
    to substitute: prod takes the base spec's node for it instead of checking it again."""
    checked: Counter[tuple[str | None, str]] = Counter()
    original = loader._Loader._validate

    def counting(self: Any, source: Any, path: Any, field: str, model: Any, *args: Any) -> Any:
        if model is AlarmSpec:
            checked[(self.environment, field)] += 1
        return original(self, source, path, field, model, *args)

    monkeypatch.setattr(loader._Loader, "_validate", counting)
    loader.load_every_environment(spec_file)
    assert checked == {
        (None, "alarms.same_everywhere"): 1,
        (None, "alarms.named_per_environment"): 1,
        ("prod", "alarms.named_per_environment"): 1,
    }


def test_a_taken_entry_has_the_environments_stack_and_default_tags(spec_file: Path) -> None:
    spec_file.write_text(
        ROOT.replace("include:", "defaults: {tags: {Env: '${var.suffix}x'}}\ninclude:").replace(
            "prod: {variables: {suffix: -prod}}", "prod: {stack: work-prod, variables: {suffix: -prod}}"
        ),
        encoding="utf-8",
    )
    parsed: loader.ParsedFiles = {}  # one parse of each file: the entries are the same objects
    base = loader._Loader(spec_file, None, {}, {}, parsed)
    base.static = {}
    spec = base.load(fingerprinted=False)
    prod = loader._Loader(spec_file, "prod", {}, {}, parsed)
    prod.reusable = base.static
    prod.check(unless_resolving_as=None)
    assert prod.reused == {"alarms.same_everywhere"}
    taken, own = prod.resources["alarms.same_everywhere"], spec.resources["alarms.same_everywhere"]
    assert taken.tags == {"Env": "-prodx", OWNER_TAG: "work-prod"}
    assert own.tags == {"Env": "x", OWNER_TAG: "work-test"}
    assert taken.config == own.config and taken.config is not own.config
    assert taken.location == own.location


def test_a_taken_entry_is_still_checked_against_the_environments_other_entries(spec_file: Path) -> None:
    """Checks over the whole spec (here: one alarm name declared twice) see taken entries too."""
    alarms = spec_file.parent / "specs" / "alarms.yaml"
    alarms.write_text(ALARMS.replace("name: same-everywhere", "name: per-environment-prod"), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        loader.load_every_environment(spec_file)
    (problem,) = raised.value.diagnostics
    assert (problem.field, problem.environment) == ("alarms.named_per_environment", "prod")
    assert "declared twice" in problem.message


def _prod_checked_after_the_base(spec_file: Path) -> loader._Loader:
    """The prod environment checked after the base spec's load, reusing its static entries."""
    parsed: loader.ParsedFiles = {}
    base = loader._Loader(spec_file, None, {}, {}, parsed)
    base.static = {}
    base.load(fingerprinted=False)
    prod = loader._Loader(spec_file, "prod", {}, {}, parsed)
    prod.reusable = base.static
    prod.check(unless_resolving_as=None)
    return prod


def test_a_child_is_taken_only_with_its_parent(spec_file: Path) -> None:
    """A child's checks look at its parent's config: under a parent that prod resolves otherwise,
    a child holding nothing to substitute is checked again."""
    (spec_file.parent / "specs" / "logs.yaml").write_text(
        """\
log_groups:
  same:
    name: /work/same
    metric_filters:
      errors: {name: same-errors, pattern: ERROR, metric: {name: E1, namespace: Work, value: "1"}}
  per_environment:
    name: /work/app${var.suffix}
    metric_filters:
      errors: {name: app-errors, pattern: ERROR, metric: {name: E2, namespace: Work, value: "1"}}
""",
        encoding="utf-8",
    )
    prod = _prod_checked_after_the_base(spec_file)
    assert prod.reused == {
        "alarms.same_everywhere",
        "log_groups.same",
        "log_groups.same.metric_filters.errors",
    }
    assert "log_groups.per_environment.metric_filters.errors" in prod.resources


def test_an_entry_whose_list_field_is_a_whole_lookup_reference_is_checked_in_each_environment(
    spec_file: Path,
) -> None:
    """Whether `${lookups.L.ids}` may stand for a list is the environment's lookup's to say."""
    (spec_file.parent / "specs" / "service.yaml").write_text(
        """\
lookups:
  private: {kind: subnets, tags: {Tier: private}}
ecs_services:
  api:
    name: api
    cluster: work
    task_definition: "api:1"
    network:
      subnets: ${lookups.private.ids}
""",
        encoding="utf-8",
    )
    prod = _prod_checked_after_the_base(spec_file)
    assert prod.reused == {"alarms.same_everywhere"}
    assert "ecs_services.api" in prod.resources
