"""Environments that cannot be confused: each overlay may set its stack, region, account guard and
the role its calls are made as; a placeholder secret is refused where the spec requires a value.

The CLI runs in-process against moto in-process (no server): one account, 123456789012."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from e2e.conftest import Result, invoke_recording
from output_schemas import check
from pacs_reconcile import OWNER_TAG

ACCOUNT = "123456789012"
SPEC = """\
version: 1
stack: lc
region: ap-northeast-2
variables:
  suffix: {default: ""}
  secret: {default: placeholder, sensitive: true, from_env: LC_SECRET, required_in: [prod]}
environments:
  dev:
    stack: lc-dev
    variables: {suffix: -dev}
  prod:
    stack: lc-prod
    account_id: "123456789012"
    variables: {suffix: -prod}
  elsewhere:
    stack: lc-elsewhere
    account_id: "111122223333"
  deployer:
    stack: lc-deployer
    assume_role: {role_arn: "arn:aws:iam::123456789012:role/pacs-deployer", session_name: ci-run}
log_groups:
  app: {name: "/lc/app${var.suffix}", retention_days: 7}
ssm_parameters:
  secret: {name: "/lc/secret${var.suffix}", type: SecureString, value: "${var.secret}"}
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return invoke_recording(["--no-color", *args], env=env)


def _owner(name: str) -> str:
    logs = boto3.client("logs", region_name="ap-northeast-2")
    group = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    return str(logs.list_tags_for_resource(resourceArn=group["arn"].removesuffix(":*"))["tags"][OWNER_TAG])


def test_two_environments_in_one_account_both_converge(moto: None, spec: Path) -> None:
    secret = {"LC_SECRET": "s3cret-value"}
    for env in ("dev", "prod"):
        applied = run("apply", "-f", str(spec), "--env", env, "--auto-approve", env=secret)
        assert applied.exit_code == 0, applied.stdout + applied.stderr
    for env in ("dev", "prod"):
        again = run("plan", "-f", str(spec), "--env", env, "--detailed-exitcode", env=secret)
        assert again.exit_code == 0, again.stdout
    assert _owner("/lc/app-dev") == "lc-dev"
    assert _owner("/lc/app-prod") == "lc-prod"


def test_the_account_guard_refuses_before_any_other_call(moto: None, spec: Path) -> None:
    refused = run("apply", "-f", str(spec), "--env", "elsewhere", "--auto-approve")
    assert refused.exit_code == 1
    assert (
        "refusing to run: environment elsewhere is for AWS account 111122223333 "
        "(environments.elsewhere.account_id), but the credentials are for account 123456789012"
    ) in refused.stderr
    assert refused.calls == {"sts.GetCallerIdentity": 1}
    assert run("drift", "-f", str(spec), "--env", "elsewhere").exit_code == 1, "reads are guarded too"


def test_an_environment_makes_its_calls_as_its_role(moto: None, spec: Path) -> None:
    planned = run("plan", "-f", str(spec), "--env", "deployer")
    assert planned.exit_code == 0, planned.stderr
    (ctx,) = planned.contexts
    assert ctx.stats.calls["sts.AssumeRole"] == 1
    # moto answers GetCallerIdentity with the identity of the credentials it is called with
    identity = ctx.client("sts").get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/pacs-deployer/ci-run"


def test_a_placeholder_secret_is_refused_in_prod_only(moto: None, spec: Path) -> None:
    refused = run("apply", "-f", str(spec), "--env", "prod", "--auto-approve")
    assert refused.exit_code == 3
    assert (
        "variables.secret: still its default in environment prod (required_in); set the environment "
        "variable LC_SECRET or --var secret=..."
    ) in refused.stderr
    assert "placeholder" not in refused.stderr, "the value is never shown"
    assert refused.contexts == [], "refused before any AWS call"
    assert run("apply", "-f", str(spec), "--env", "dev", "--auto-approve").exit_code == 0
    given = run("apply", "-f", str(spec), "--env", "prod", "--auto-approve", "--var", "secret=x-1234")
    assert given.exit_code == 0, given.stderr


def test_drift_env_all_reports_every_environment_in_one_document(moto: None, spec: Path) -> None:
    two = spec.parent / "two.yaml"
    text = spec.read_text()
    two.write_text(text[: text.index("  elsewhere:")] + text[text.index("log_groups:") :])
    secret = {"LC_SECRET": "s3cret-value"}
    for env in ("dev", "prod"):
        assert run("apply", "-f", str(two), "--env", env, "--auto-approve", env=secret).exit_code == 0
    clean = run("drift", "-f", str(two), "--env", "all", "--format", "json", env=secret)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    document = json.loads(clean.stdout)
    check(document, "environments.v1")
    assert document["exit_codes"] == {"dev": 0, "prod": 0}
    assert {e: r["stack"] for e, r in document["environments"].items()} == {
        "dev": "lc-dev",
        "prod": "lc-prod",
    }
    assert len(clean.contexts) == 2, "one AWS session per environment"

    logs = boto3.client("logs", region_name="ap-northeast-2")
    logs.put_retention_policy(logGroupName="/lc/app-prod", retentionInDays=1)
    drifted = run("drift", "-f", str(two), "--env", "all", env=secret)
    assert drifted.exit_code == 2
    dev_part, prod_part = drifted.stdout.split("== environment prod (exit 2) ==")
    assert "== environment dev (exit 0) ==" in dev_part and "No drift." in dev_part
    assert "drifted   log_groups.app" in prod_part

    # Every environment of the full spec: one refused by its account guard does not hide the others.
    everything = run("drift", "-f", str(spec), "--env", "all", env=secret)
    assert everything.exit_code == 1, "an environment that failed outranks drift elsewhere"
    assert "[elsewhere] error: refusing to run: environment elsewhere is for AWS account" in everything.stderr
    assert "== environment prod (exit 2) ==" in everything.stdout
    as_json = run("drift", "-f", str(spec), "--env", "all", "--format", "json", env=secret)
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    check(document, "environments.v1")
    assert document["exit_codes"]["elsewhere"] == 1 and document["exit_codes"]["prod"] == 2
    assert document["environments"]["elsewhere"]["error"]["type"] == "refused"
