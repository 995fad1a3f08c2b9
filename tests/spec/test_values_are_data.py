"""Values that come from outside the spec (--var, environment variables, and variable defaults)
are data: a `${` inside one is never read as a template, sensitive or not, and no error ever
quotes a sensitive value, whole or in part."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.engine.values import Values
from pacs_reconcile.errors import SpecError

from .test_loader import load, make_spec

HOSTILE = [
    "Ab${Secr3tPart99}Cd",
    "${var.other}",
    "${sns_topics.alerts.arn}",
    "x${",
    "}${}{",
    "a$${b",
    "$${var.other}",
    "${lookups.vpc.id} and ${each.key}",
]

SPEC = """\
variables:
  password: {sensitive: true, from_env: PACS_PASSWORD, default: placeholder}
  label: {default: plain}
  other: {default: other-value}
ssm_parameters:
  secret:
    name: /pacs/secret
    type: SecureString
    value: ${var.password}
    description: "label ${var.label} end"
log_groups:
  app:
    name: /pacs/app
    tags: {Label: "${var.label}", Whole: "${var.password}"}
"""


def _rendered(path: Path, **kwargs: dict[str, str]) -> tuple[dict[str, object], dict[str, object]]:
    spec = load(path, **kwargs)  # type: ignore[arg-type]
    values = Values({})
    parameter, _ = values.desired(spec.resources["ssm_parameters.secret"])
    _, tags = values.desired(spec.resources["log_groups.app"])
    assert tags is not None
    return parameter, dict(tags)


@pytest.mark.parametrize("text", HOSTILE)
def test_a_sensitive_value_from_the_environment_is_data(tmp_path: Path, text: str) -> None:
    path = make_spec(tmp_path, SPEC)
    parameter, tags = _rendered(path, environ={"PACS_PASSWORD": text})
    assert parameter["value"] == text
    assert tags["Whole"] == text


@pytest.mark.parametrize("text", HOSTILE)
def test_a_value_from_var_is_data(tmp_path: Path, text: str) -> None:
    path = make_spec(tmp_path, SPEC)
    parameter, tags = _rendered(path, cli={"label": text, "password": text})
    assert parameter["value"] == text
    assert parameter["description"] == f"label {text} end"
    assert tags["Label"] == text


def test_a_default_with_a_template_is_data(tmp_path: Path) -> None:
    path = make_spec(tmp_path, SPEC.replace("default: plain", 'default: "${var.other}"'))
    parameter, _ = _rendered(path)
    assert parameter["description"] == "label ${var.other} end"


def test_a_value_used_in_when_and_a_comparison_is_compared_as_given(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          flag: {default: "x"}
          twin: {default: "y"}
          size: {default: "x"}
        log_groups:
          enabled: {name: /pacs/on, when: "${var.flag}"}
          same: {name: /pacs/same, when: "${var.flag == var.twin}"}
          longer: {name: /pacs/longer, when: "${var.size != var.flag}"}
        """.replace("        ", ""),
    )
    spec = load(path, cli={"flag": "a${b", "twin": "a${b", "size": "a$${b"})
    assert set(spec.resources) == {"log_groups.enabled", "log_groups.same", "log_groups.longer"}


def test_a_lookup_gets_the_value_as_given(tmp_path: Path) -> None:
    path = make_spec(
        tmp_path,
        """\
        variables:
          vpc_name: {default: x}
        lookups:
          vpc: {kind: vpc, tags: {Name: "${var.vpc_name}"}}
        """.replace("        ", ""),
    )
    spec = load(path, cli={"vpc_name": "odd${name}"})
    assert spec.lookups["vpc"].config["tags"] == {"Name": "odd${name}"}


@pytest.mark.parametrize("text", ["Ab${Secr3tPart99}Cd", "Zz${a b c}Qq-long-secret", "Yy${"])
def test_no_error_quotes_any_part_of_a_sensitive_value(tmp_path: Path, text: str) -> None:
    """Another problem in the spec makes it invalid; the messages never show the secret."""
    path = make_spec(tmp_path, SPEC + "  broken: {name: 5, retention_days: nope}\n")
    with pytest.raises(SpecError) as caught:
        load(path, environ={"PACS_PASSWORD": text})
    shown = "\n".join(str(d) for d in caught.value.diagnostics)
    assert "retention_days" in shown
    for fragment in (text, "Secr3t", "a b c", "long-secret"):
        assert fragment not in shown


def test_a_secret_with_a_template_reaches_aws_unchanged_and_converges(
    tmp_path: Path, aws: AwsContext
) -> None:
    from pacs_reconcile.engine.apply import apply_plan
    from pacs_reconcile.engine.plan import make_plan

    text = "Ab${Secr3tPart99}Cd"
    spec = load(make_spec(tmp_path, SPEC), environ={"PACS_PASSWORD": text})
    ctx = AwsContext(aws.settings, stack=spec.stack)
    first = make_plan(spec, ctx)
    assert first.values is not None
    result = apply_plan(first, first.values, ctx)
    assert all(str(o.status) == "done" for o in result.outcomes), result.outcomes
    stored = ctx.client("ssm").get_parameter(Name="/pacs/secret", WithDecryption=True)["Parameter"]
    assert stored["Value"] == text
    assert [c.address for c in make_plan(spec, ctx).changes if c.action.mutates] == []
    assert mock_aws  # in-process moto comes from the `aws` fixture
