"""Environment overlays: stack, region, account guard, assumed role, and required variables."""

from __future__ import annotations

from pathlib import Path

from .test_loader import load, make_spec, problems

OVERLAYS = """
variables:
  secret: {default: placeholder, sensitive: true, from_env: SECRET, required_in: [prod]}
environments:
  prod:
    stack: pacs-prod
    region: eu-west-1
    account_id: "012345678901"
    assume_role: {role_arn: "arn:aws:iam::012345678901:role/deployer", external_id: ext-42}
  dev: {}
log_groups:
  app: {name: /app, retention_days: 7}
"""


def test_the_selected_overlay_sets_stack_region_account_and_role(tmp_path: Path) -> None:
    spec = load(make_spec(tmp_path, OVERLAYS), env="prod")
    assert (spec.stack, spec.region, spec.account_id) == ("pacs-prod", "eu-west-1", "012345678901")
    assert spec.assume_role is not None
    assert (spec.assume_role.role_arn, spec.assume_role.session_name, spec.assume_role.external_id) == (
        "arn:aws:iam::012345678901:role/deployer",
        "pacs-reconcile",
        "ext-42",
    )
    assert spec.resources["log_groups.app"].tags == {
        **(spec.resources["log_groups.app"].tags or {}),
        "pacs-reconcile:stack": "pacs-prod",
    }
    assert spec.environments == ["prod", "dev"]
    assert [v.name for v in spec.placeholders()] == ["secret"]
    assert load(make_spec(tmp_path, OVERLAYS), env="prod", environ={"SECRET": "s"}).placeholders() == []
    dev = load(make_spec(tmp_path, OVERLAYS), env="dev")
    assert (dev.stack, dev.region, dev.account_id, dev.assume_role, dev.placeholders()) == (
        "pacs-test",
        "ap-northeast-2",
        None,
        None,
        [],
    )


def test_overlay_problems_name_file_line_and_field(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        """
variables:
  secret: {default: x, sensitive: true, required_in: [prd]}
environments:
  prod:
    stack: "bad stack"
    region: europe
    account_id: 123456789012
    assume_role: {role_arn: "arn:aws:iam::1:user/me", session_name: "a b"}
    varaibles: {}
""",
    )
    found = problems(spec)
    assert found == [
        "monitoring.yaml:6:55: variables.secret.required_in[0]: no such environment; did you mean 'prod'?",
        "monitoring.yaml:9:12: environments.prod.stack: must be a stack name like the root's; "
        "got 'bad stack'",
        "monitoring.yaml:10:13: environments.prod.region: not an AWS region name: 'europe'",
        "monitoring.yaml:11:17: environments.prod.account_id: write the account id quoted, e.g. "
        "'012345678901': YAML reads bare digits as a number (and some with a leading 0 as octal)",
        "monitoring.yaml:12:29: environments.prod.assume_role.role_arn: must match the pattern "
        "^arn:aws[a-z-]*:iam::\\d{12}:role/[\\w+=,.@/-]+$; got 'arn:aws:iam::1:user/me'",
        "monitoring.yaml:12:69: environments.prod.assume_role.session_name: must match the pattern "
        "^[\\w+=,.@-]+$; got 'a b'",
        "monitoring.yaml:13:5: environments.prod.varaibles: unknown key; did you mean 'variables'?",
    ]


def test_stack_name_reference_is_the_selected_environments_stack(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        """
environments:
  prod: {stack: pacs-prod}
alarms:
  drift:
    name: drift-${stack.name}
    metric: {name: DriftedResources, namespace: PACS/Reconcile, statistic: Maximum, period: 300,
             dimensions: {Stack: "${stack.name}"}}
    comparison: GreaterThanThreshold
    threshold: 0
    evaluation_periods: 1
""",
    )
    prod = load(spec, env="prod").resources["alarms.drift"].config
    assert (prod["name"], prod["metric"]["dimensions"]) == ("drift-pacs-prod", {"Stack": "pacs-prod"})
    assert load(spec).resources["alarms.drift"].config["metric"]["dimensions"] == {"Stack": "pacs-test"}
