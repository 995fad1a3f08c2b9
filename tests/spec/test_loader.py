"""Spec loading: variables and their precedence, sensitivity, templates, for_each/when, includes, tags."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.errors import SpecError
from pacs_reconcile.spec.loader import load_spec
from pacs_reconcile.spec.model import Spec

HEADER = "version: 1\nstack: pacs-test\nregion: ap-northeast-2\n"


def make_spec(tmp_path: Path, root: str, files: Mapping[str, str] | None = None) -> Path:
    """Write monitoring.yaml (HEADER + root) and other files under tmp_path/stack; return its path."""
    folder = tmp_path / "stack"
    folder.mkdir(exist_ok=True)
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    spec = folder / "monitoring.yaml"
    spec.write_text(HEADER + textwrap.dedent(root), encoding="utf-8")
    return spec


def user_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    """The tags minus the tool's bookkeeping ones (e.g. a spec fingerprint), except the owner tag."""
    assert tags is not None
    return {k: v for k, v in tags.items() if k == OWNER_TAG or not k.startswith("pacs-reconcile:")}


def load(
    path: Path,
    *,
    env: str | None = None,
    cli: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Spec:
    return load_spec(path, environment=env, cli_vars=cli or {}, environ=environ or {})


def problems(
    path: Path,
    *,
    env: str | None = None,
    cli: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Each problem as one line: the diagnostic, then its help line (a did-you-mean) after `; `."""
    with pytest.raises(SpecError) as caught:
        load(path, env=env, cli=cli, environ=environ)
    return [f"{d}; {d.help}" if d.help else str(d) for d in caught.value.diagnostics]


# Variables -----------------------------------------------------------------------------------

PRECEDENCE = """\
variables:
  days: {type: int, default: 30, from_env: PACS_DAYS}
environments:
  prod: {variables: {days: 90}}
log_groups:
  app: {name: /pacs/app, retention_days: "${var.days}"}
"""


@pytest.mark.parametrize(
    ("env", "environ", "cli", "expected"),
    [
        (None, {}, {}, 30),  # the default
        ("prod", {}, {}, 90),  # the overlay beats the default
        ("prod", {"PACS_DAYS": "14"}, {}, 14),  # from_env beats the overlay
        ("prod", {"PACS_DAYS": "14"}, {"days": "7"}, 7),  # --var beats everything
        (None, {}, {"days": "7"}, 7),
        (None, {"PACS_DAYS": "14"}, {}, 14),
    ],
)
def test_variable_precedence(
    tmp_path: Path, env: str | None, environ: dict[str, str], cli: dict[str, str], expected: int
) -> None:
    spec = load(make_spec(tmp_path, PRECEDENCE), env=env, environ=environ, cli=cli)
    assert spec.variables["days"].value == expected
    assert spec.resources["log_groups.app"].config["retention_days"] == expected


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        ("int", "42", 42),
        ("float", "3", 3.0),
        ("float", "2.5", 2.5),
        ("bool", "true", True),
        ("bool", "false", False),
        ("list", "[a, b, 3]", ["a", "b", 3]),
        ("map", "{a: 1}", {"a": 1}),
        ("str", "007", "007"),  # text stays text, never read as a number
        ("str", "true", "true"),
    ],
)
def test_cli_values_take_the_declared_type(
    tmp_path: Path, declared: str, text: str, expected: object
) -> None:
    path = make_spec(tmp_path, f"variables:\n  x: {{type: {declared}}}\n")
    value = load(path, cli={"x": text}).variables["x"].value
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("declared", "text", "message"),
    [
        ("int", "forty", "--var: x: must be of type int, got str"),
        ("int", "true", "--var: x: must be of type int, got a boolean"),
        ("bool", "maybe", "--var: x: must be of type bool, got str"),
        ("list", "a", "--var: x: must be of type list, got str"),
    ],
)
def test_cli_values_of_the_wrong_type_are_refused(
    tmp_path: Path, declared: str, text: str, message: str
) -> None:
    path = make_spec(tmp_path, f"variables:\n  x: {{type: {declared}}}\n")
    assert problems(path, cli={"x": text}) == [message]


def test_unknown_cli_variable_and_environment(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "variables:\n  environment: {default: dev}\nenvironments:\n  prod: {}\n")
    assert problems(path, cli={"enviroment": "prod"}, env="staging") == [
        "--env: staging: no such environment (known: prod)",
        "--var: enviroment: no such variable; did you mean 'environment'?",
    ]


def test_allowed_values_apply_to_every_source(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "variables:\n  tier: {default: dev, allowed: [dev, prod], from_env: TIER}\n")
    assert load(path, cli={"tier": "prod"}).variables["tier"].value == "prod"
    assert problems(path, cli={"tier": "qa"}) == ["--var: tier: must be one of dev or prod; got 'qa'"]
    assert problems(path, environ={"TIER": "qa"}) == [
        "monitoring.yaml:5:9: variables.tier: from the environment variable TIER: "
        "must be one of dev or prod; got 'qa'"
    ]


def test_every_overlay_is_checked_even_without_env(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          days: {type: int, default: 30}
          tier: {default: dev, allowed: [dev, prod]}
        environments:
          prod: {variables: {days: ninety, tier: production}}
          dev: {variables: days}
        """,
    )
    expected = [
        "monitoring.yaml:8:28: environments.prod.variables.days: must be of type int, got str",
        "monitoring.yaml:8:42: environments.prod.variables.tier: "
        "must be one of dev or prod; got 'production'",
        "monitoring.yaml:9:20: environments.dev.variables: must be a mapping of variable names to values",
    ]
    assert problems(path) == expected
    assert problems(path, env="prod") == expected  # reported once, not again as the selected overlay
    assert problems(path, env="dev") == expected  # no crash on the malformed overlay


def test_missing_variable_names_both_ways_to_set_it(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "variables:\n  email: {from_env: PACS_EMAIL}\n")
    assert problems(path) == [
        "monitoring.yaml:5:3: variables.email: has no value: set it with --var email=... "
        "or the environment variable PACS_EMAIL"
    ]
    assert load(path, environ={"PACS_EMAIL": "a@example.com"}).variables["email"].value == "a@example.com"


def test_a_broken_declaration_is_reported_once_not_at_every_use(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          tier: {default: qa, allowed: [dev, prod]}
        defaults:
          tags: {Tier: "${var.tier}"}
        log_groups:
          app: {name: "/pacs/${var.tier}"}
        """,
    )
    assert problems(path) == [
        "monitoring.yaml:5:19: variables.tier.default: must be one of dev or prod; got 'qa'"
    ]


# Sensitive values ------------------------------------------------------------------------------

SECRET = "https://hooks.example.com/services/T000/B000/very-secret"

SENSITIVE = """\
variables:
  hook: {sensitive: true, from_env: HOOK_URL, default: ""}
  token: {sensitive: true, default: tok-123456}
  plain: {default: visible}
defaults:
  tags: {Token: "${var.token}", Plain: "${var.plain}"}
sns_topics:
  alerts:
    name: pacs-alerts
    display_name: "${var.plain}"
    tags: {Hook: "x-${var.hook}"}
    subscriptions:
      hook: {protocol: https, endpoint: "${var.hook}"}
alarms:
  errors:
    name: pacs-errors
    description: "see ${var.hook}"
    metric: {name: Errors, namespace: PACS/Application, statistic: Sum, period: 300}
    comparison: GreaterThanThreshold
    threshold: 1
    evaluation_periods: 1
    alarm_actions: ["${sns_topics.alerts.arn}", "arn:aws:sns:ap-northeast-2:123456789012:${var.token}"]
"""


def test_sensitive_variables_are_recorded_in_paths_and_secrets(tmp_path: Path) -> None:
    spec = load(make_spec(tmp_path, SENSITIVE), environ={"HOOK_URL": SECRET})

    assert sorted(spec.secrets) == sorted([SECRET, "tok-123456"])
    assert spec.variables["hook"].sensitive and not spec.variables["plain"].sensitive

    topic = spec.resources["sns_topics.alerts"]
    assert topic.sensitive_paths == {"tags.Hook", "tags.Token"}  # paths as the plan's tag diffs name them
    subscription = spec.resources["sns_topics.alerts.subscriptions.hook"]
    assert subscription.config["endpoint"] == SECRET
    assert "endpoint" in subscription.sensitive_paths
    alarm = spec.resources["alarms.errors"]
    # A list is compared whole, so a secret in one item makes the whole list sensitive.
    assert alarm.sensitive_paths == {"description", "alarm_actions", "tags.Token"}


def test_a_sensitive_default_tag_overridden_by_the_resource_is_not_sensitive_there(tmp_path: Path) -> None:
    root = SENSITIVE.replace('tags: {Hook: "x-${var.hook}"}', "tags: {Token: public}")
    spec = load(make_spec(tmp_path, root), environ={"HOOK_URL": SECRET})
    assert user_tags(spec.resources["sns_topics.alerts"].tags) == {
        "Token": "public",
        "Plain": "visible",
        OWNER_TAG: "pacs-test",
    }
    assert spec.resources["sns_topics.alerts"].sensitive_paths == set()


def test_a_bad_sensitive_value_is_never_quoted(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "variables:\n  port: {type: int, sensitive: true, from_env: PORT}\n")
    secret = "hunter2-secret"
    found = problems(path, environ={"PORT": secret}) + problems(path, cli={"port": secret})
    assert found == [
        "monitoring.yaml:5:9: variables.port: invalid value from the environment variable PORT "
        "(not shown: the variable is sensitive)",
        "--var: port: invalid value (not shown: the variable is sensitive)",
    ]
    assert not any("hunter2" in line for line in found)


def test_a_validator_quoting_a_sensitive_value_is_masked(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          hook: {sensitive: true, from_env: HOOK}
        log_groups:
          by_hook:
            for_each: ["${var.hook}"]
            name: /pacs/app
          app:
            name: /pacs/app
            retention_days: "${var.hook}"
        """,
    )
    found = problems(path, environ={"HOOK": SECRET})
    assert len(found) == 2
    # A sensitive value cannot become an address (the for_each key): refused without quoting it.
    assert "log_groups.by_hook.for_each: must not take a sensitive value" in found[0]
    # The retention validator quotes its input: masked in the message.
    assert found[1].count("(sensitive value)") == 1
    assert not any(SECRET in line or "very-secret" in line for line in found)


# Templates -----------------------------------------------------------------------------------


def test_whole_value_keeps_the_type_and_embedded_becomes_text(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          days: {type: int, default: 30}
        log_groups:
          app:
            name: "/pacs/app-${var.days}"
            retention_days: ${var.days}
        """,
    )
    spec = load(path)
    config = spec.resources["log_groups.app"].config
    assert config["retention_days"] == 30
    assert config["name"] == "/pacs/app-30"


def test_a_list_cannot_be_embedded_in_text(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        "variables:\n  team: {type: list, default: [a, b]}\n"
        'log_groups:\n  app: {name: "/pacs/${var.team}"}\n',
    )
    assert problems(path) == [
        "monitoring.yaml:7:15: log_groups.app.name: ${var.team} is a list and cannot be embedded in text"
    ]


def test_escaped_template_is_text_not_a_reference(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          who: {default: ops}
        sns_topics:
          alerts:
            name: pacs-alerts
            display_name: "$${not.a.reference} for ${var.who}"
        """,
    )
    node = load(path).resources["sns_topics.alerts"]
    # Kept escaped until apply renders it (expressions.render(..., unescape=True) gives "${").
    assert node.config["display_name"] == "$${not.a.reference} for ops"
    assert node.references == []
    assert node.depends_on == set()


def test_resource_references_stay_as_text_and_order_the_work(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        sns_topics:
          alerts: {name: pacs-alerts}
        alarms:
          errors:
            name: pacs-errors
            metric: {name: Errors, namespace: PACS/Application, statistic: Sum, period: 300}
            comparison: GreaterThanThreshold
            threshold: 1
            evaluation_periods: 1
            alarm_actions: ["${sns_topics.alerts.arn}"]
            depends_on: [sns_topics.alerts]
        """,
    )
    alarm = load(path).resources["alarms.errors"]
    assert alarm.config["alarm_actions"] == ["${sns_topics.alerts.arn}"]
    assert alarm.depends_on == {"sns_topics.alerts"}
    assert [(r.text, r.field, str(r.location)) for r in alarm.references] == [
        ("@sns_topics.alerts", "alarms.errors.depends_on[0]", "monitoring.yaml:14:18"),
        ("sns_topics.alerts.arn", "alarms.errors.alarm_actions[0]", "monitoring.yaml:13:21"),
    ]


# when and for_each ----------------------------------------------------------------------------

WHEN = """\
variables:
  environment: {default: dev}
  replicas: {type: int, default: 3}
log_groups:
  prod_only:
    when: ${var.environment == "prod"}
    name: /pacs/prod-only
  not_prod:
    when: ${var.environment != 'prod'}
    name: /pacs/not-prod
  three:
    when: ${var.replicas == 3}
    name: /pacs/three
  literal_false:
    when: false
    name: /pacs/never
"""


@pytest.mark.parametrize(
    ("environment", "present"),
    [
        ("dev", ["log_groups.not_prod", "log_groups.three"]),
        ("prod", ["log_groups.prod_only", "log_groups.three"]),
    ],
)
def test_when_with_comparisons(tmp_path: Path, environment: str, present: list[str]) -> None:
    spec = load(make_spec(tmp_path, WHEN), cli={"environment": environment})
    assert sorted(spec.resources) == present


def test_when_on_an_empty_variable_leaves_the_resource_out(tmp_path: Path) -> None:
    root = """\
    variables:
      hook: {default: ""}
    sns_topics:
      alerts:
        name: pacs-alerts
        subscriptions:
          slack: {when: "${var.hook}", protocol: https, endpoint: "${var.hook}"}
    """
    path = make_spec(tmp_path, root)
    assert "sns_topics.alerts.subscriptions.slack" not in load(path).resources
    spec = load(path, cli={"hook": "https://hooks.example.com/x"})
    assert (
        spec.resources["sns_topics.alerts.subscriptions.slack"].config["endpoint"]
        == "https://hooks.example.com/x"
    )


def test_for_each_over_a_list(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          services: {default: [backend, keycloak]}
        log_groups:
          app:
            for_each: ${var.services}
            name: /aws/ecs/${each.value}
            tags: {Service: "${each.key}"}
            metric_filters:
              errors:
                name: app-errors
                pattern: ERROR
                metric: {name: Errors, namespace: PACS/Application}
        """,
    )
    spec = load(path)
    groups = {a: n for a, n in spec.resources.items() if n.kind == "log_groups"}
    assert list(groups) == ['log_groups.app["backend"]', 'log_groups.app["keycloak"]']
    backend = groups['log_groups.app["backend"]']
    assert backend.config["name"] == "/aws/ecs/backend"
    assert backend.name == 'app["backend"]'
    assert backend.tags is not None and backend.tags["Service"] == "backend"
    child = spec.resources['log_groups.app["keycloak"].metric_filters.errors']
    assert child.parent == 'log_groups.app["keycloak"]'
    assert child.config["name"] == "app-errors"
    assert 'log_groups.app["backend"].metric_filters.errors' in spec.resources  # one per instance
    assert child.depends_on == {'log_groups.app["keycloak"]'}


def test_for_each_over_a_map_gives_each_key_and_each_value(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        log_groups:
          app:
            for_each: {api: 30, worker: 90}
            name: /pacs/${each.key}
            retention_days: ${each.value}
        alarms:
          errors:
            name: pacs-errors
            metric: {name: Errors, namespace: PACS/Application, statistic: Sum, period: 300}
            comparison: GreaterThanThreshold
            threshold: 1
            evaluation_periods: 1
            depends_on: ['log_groups.app["worker"]', "log_groups.app['api']"]
        """,
    )
    spec = load(path)
    assert spec.resources['log_groups.app["api"]'].config == {
        "name": "/pacs/api",
        "retention_days": 30,
        "kms_key_id": None,
        "log_group_class": None,
    }
    assert spec.resources['log_groups.app["worker"]'].config["retention_days"] == 90
    assert spec.resources["alarms.errors"].depends_on == {'log_groups.app["api"]', 'log_groups.app["worker"]'}


def test_for_each_combined_with_when_on_each(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        log_groups:
          app:
            for_each: {api: true, worker: false}
            when: ${each.value}
            name: /pacs/${each.key}
        """,
    )
    assert list(load(path).resources) == ['log_groups.app["api"]']


# Includes ------------------------------------------------------------------------------------


def group(name: str) -> str:
    return f"log_groups:\n  {name.replace('-', '_')}: {{name: /pacs/{name}}}\n"


def test_includes_are_read_in_pattern_order_then_name_order_and_once(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        "include: [specs/zeta.yaml, specs/*.yaml, '*.yaml', specs/zeta.yaml]\n",
        {f"specs/{name}.yaml": group(name) for name in ("zeta", "alpha", "mid")},
    )
    spec = load(path)
    # zeta first (named first), then the glob in sorted order without zeta again; the root file
    # matched by '*.yaml' and zeta named twice are read once.
    assert spec.files == ["monitoring.yaml", "specs/zeta.yaml", "specs/alpha.yaml", "specs/mid.yaml"]
    assert list(spec.resources) == ["log_groups.zeta", "log_groups.alpha", "log_groups.mid"]
    assert spec.resources["log_groups.alpha"].location.file == "specs/alpha.yaml"


def test_the_same_address_in_two_files_is_an_error(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        "include: [specs/*.yaml]\n",
        {f"specs/{x}.yaml": f"log_groups:\n  app: {{name: /{x}}}\n" for x in ("a", "b")},
    )
    assert problems(path) == ["specs/b.yaml:2:3: log_groups.app: declared twice (first at specs/a.yaml:2:3)"]


def test_the_same_aws_name_in_two_files_is_an_error(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        "include: [specs/*.yaml]\n",
        {
            "specs/a.yaml": "log_groups:\n  one: {name: /same}\n",
            "specs/b.yaml": "log_groups:\n  two: {name: /same}\n",
        },
    )
    assert problems(path) == [
        "specs/b.yaml:2:3: log_groups.two: CloudWatch Logs log group '/same' is declared twice "
        "(also log_groups.one at specs/a.yaml:2:3)"
    ]


def test_the_same_lookup_in_two_files_is_an_error(tmp_path: Path) -> None:
    lookup = "lookups:\n  rds: {kind: rds_instance, identifier: db}\n"
    path = make_spec(tmp_path, "include: [specs/*.yaml]\n" + lookup, {"specs/a.yaml": lookup})
    assert problems(path) == ["specs/a.yaml:2:3: lookups.rds: declared twice (first at monitoring.yaml:6:3)"]


@pytest.mark.parametrize("pattern", ["../outside/*.yaml", "specs/../../outside/x.yaml", "/etc/*.yaml"])
def test_includes_cannot_name_a_path_outside_the_folder(tmp_path: Path, pattern: str) -> None:
    path = make_spec(tmp_path, f"include: ['{pattern}']\n")
    assert problems(path) == [
        "monitoring.yaml:4:11: include[0]: must stay inside the spec's folder (no absolute path, no '..')"
    ]


def test_an_included_symlink_cannot_escape_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(group("outside"), encoding="utf-8")
    path = make_spec(tmp_path, "include: [specs/*.yaml]\n", {"specs/inside.yaml": group("inside")})
    os.symlink(outside / "secret.yaml", path.parent / "specs" / "secret.yaml")
    assert problems(path) == [
        "monitoring.yaml:4:11: include[0]: secret.yaml resolves outside the spec's folder"
    ]


def test_a_symlinked_folder_cannot_escape_either(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.yaml").write_text(group("a"), encoding="utf-8")
    path = make_spec(tmp_path, "include: [specs/*.yaml]\n")
    os.symlink(outside, path.parent / "specs", target_is_directory=True)
    assert problems(path) == ["monitoring.yaml:4:11: include[0]: a.yaml resolves outside the spec's folder"]


def test_a_symlink_inside_the_folder_is_read_once(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "include: [specs/*.yaml]\n", {"specs/a.yaml": group("a")})
    os.symlink(path.parent / "specs" / "a.yaml", path.parent / "specs" / "b.yaml")
    spec = load(path)
    assert spec.files == ["monitoring.yaml", "specs/a.yaml"]
    assert list(spec.resources) == ["log_groups.a"]


def test_an_included_file_may_not_set_root_keys(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "include: [specs/*.yaml]\n", {"specs/a.yaml": "stack: other\n" + group("a")})
    assert problems(path) == [
        "specs/a.yaml:1:1: stack: only the root file (monitoring.yaml) may set `stack`; "
        "included files hold resources and lookups"
    ]


# Tags ----------------------------------------------------------------------------------------


def test_default_tags_merge_with_resource_tags_and_the_owner_tag(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          environment: {default: dev}
        defaults:
          tags: {Environment: "${var.environment}", Project: pacs, Replicas: 3, Enabled: true}
        log_groups:
          app:
            name: /pacs/app
            tags: {Project: pacs-imaging, Name: app-logs}
            metric_filters:
              errors:
                name: errors
                pattern: ERROR
                metric: {name: Errors, namespace: PACS/Application}
        """,
    )
    spec = load(path, cli={"environment": "prod"})
    assert user_tags(spec.resources["log_groups.app"].tags) == {
        "Environment": "prod",
        "Project": "pacs-imaging",  # the resource's own tag wins
        "Replicas": "3",  # tag values are text
        "Enabled": "true",
        "Name": "app-logs",
        OWNER_TAG: "pacs-test",  # the stack name, always
    }
    # Untaggable children get no tags at all (their parent carries the ownership).
    assert spec.resources["log_groups.app.metric_filters.errors"].tags is None


def test_tags_on_an_untaggable_kind_are_refused(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        log_groups:
          app:
            name: /pacs/app
            metric_filters:
              errors: {name: e, pattern: ERROR, metric: {name: E, namespace: P/A}, tags: {A: b}}
        """,
    )
    assert problems(path) == [
        "monitoring.yaml:8:76: log_groups.app.metric_filters.errors.tags: "
        "CloudWatch Logs metric filters cannot be tagged"
    ]


# Cascades are reported once ---------------------------------------------------------------------


def test_an_unknown_variable_is_not_also_a_validation_or_reference_error(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        log_groups:
          app:
            name: /pacs/${var.nme}
            retention_days: ${var.days}
        sns_topics:
          alerts: {name: pacs-alerts, display_name: "${var.title}"}
        """,
    )
    assert problems(path) == [
        "monitoring.yaml:6:11: log_groups.app.name: unknown variable 'nme'",
        "monitoring.yaml:7:21: log_groups.app.retention_days: unknown variable 'days'",
        "monitoring.yaml:9:45: sns_topics.alerts.display_name: unknown variable 'title'",
    ]


def test_nested_unknown_key_suggests_from_the_nested_model(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        alarms:
          errors:
            name: pacs-errors
            metrics:
              - id: errors
                metric: {name: E, namespace: P/A, stats: Sum, period: 60}
                return_data: true
            comparison: GreaterThanThreshold
            threshold: 1
            evaluation_periods: 1
        """,
    )
    found = problems(path)
    assert found == [
        "monitoring.yaml:9:9: alarms.errors.metrics[0].metric.stat: required",
        "monitoring.yaml:9:43: alarms.errors.metrics[0].metric.stats: unknown key; did you mean 'stat'?",
    ]


def test_a_reference_to_an_invalid_resource_is_not_also_missing(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        sns_topics:
          bad: {name: "not a topic name"}
          fanned: {for_each: "oops", name: x}
          none: {for_each: [], name: "n-${each.key}"}
        log_groups:
          app:
            name: /pacs/app
            depends_on: [sns_topics.bad, 'sns_topics.fanned["a"]', 'sns_topics.none["a"]']
        """,
    )
    assert problems(path) == [
        "monitoring.yaml:5:15: sns_topics.bad.name: must be 1-256 letters, digits, '-' or '_' "
        "(a FIFO topic ends with '.fifo')",
        "monitoring.yaml:6:22: sns_topics.fanned.for_each: must be a list or a mapping, not text",
        # An empty for_each is valid and has no instances: referring to one is a real error.
        'monitoring.yaml:11:60: log_groups.app.depends_on[2]: no resource sns_topics.none["a"]',
    ]
