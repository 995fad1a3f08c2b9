"""The whole repository spec, with the metrics collector (IAM, Lambda, EventBridge), through the CLI
against a moto server: all creates -> apply -> empty plan -> a second apply sends no mutating call;
then changes to the spec are planned at their path and carried out (a permission by replacement)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pacs_reconcile.resources.lambda_ import build_bundle, code_sha256

from .conftest import REPO, Cli, Server

FUNCTION = "pacs-custom-metrics-collector"
ROLE = "pacs-lambda-custom-metrics"
RULE = "pacs-custom-metrics"
BOOKKEEPING_TAGS = "tags.pacs-reconcile:"
COLLECTOR = {
    "iam_roles.collector",
    "iam_roles.collector.policy_attachments.collector",
    "iam_policies.collector",
    "log_groups.collector",
    "lambda_functions.collector",
    "lambda_functions.collector.permissions.events",
    "event_rules.collector",
    "event_rules.collector.targets.collector",
}


def plan_json(cli: Cli) -> dict[str, Any]:
    result = cli("plan", "--detailed-exitcode", "--format", "json")
    assert result.exit_code in (0, 2), result.stderr
    return dict(json.loads(result.stdout))


def changed(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The changes of a plan, but for the tool's bookkeeping tags (a spec fingerprint written on
    each resource, which changes with any edit of the resource or its children)."""
    out: dict[str, dict[str, Any]] = {}
    for change in plan["changes"]:
        differences = [d for d in change["differences"] if not d["path"].startswith(BOOKKEEPING_TAGS)]
        if change["action"] != "no-op" and (differences or change["action"] != "update"):
            out[change["address"]] = {**change, "differences": differences}
    return out


def policy_statements(server: Server) -> list[dict[str, Any]]:
    return list(json.loads(server.client("lambda").get_policy(FunctionName=FUNCTION)["Policy"])["Statement"])


def environment_of(server: Server) -> dict[str, str]:
    configuration = server.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    return dict(configuration["Environment"]["Variables"])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new))


def test_the_whole_stack_converges_with_the_collector(cli: Cli, server: Server) -> None:
    first = plan_json(cli)
    actions = {c["address"]: c["action"] for c in first["changes"]}
    assert set(actions.values()) == {"create"}
    assert set(actions) >= COLLECTOR

    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr

    clean = cli("plan", "--detailed-exitcode")
    assert clean.exit_code == 0, clean.stdout
    again = cli("apply", "--auto-approve")
    assert again.exit_code == 0
    assert again.mutating_calls == {}

    # What was made is wired as declared.
    function = server.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    bundle = build_bundle(REPO / "functions" / "metrics_collector")
    assert function["CodeSha256"] == code_sha256(bundle)
    assert function["Runtime"] == "python3.12"
    assert function["Environment"]["Variables"] == {
        "S3_BUCKET": "pacs-storage",
        "RDS_INSTANCE_ID": "pacs-postgresql",
        "NAMESPACE": "PACS/Custom",
    }
    iam = server.client("iam")
    attached = iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"]
    assert [a["PolicyName"] for a in attached] == [ROLE]
    targets = server.client("events").list_targets_by_rule(Rule=RULE)["Targets"]
    assert [t["Arn"] for t in targets] == [function["FunctionArn"]]
    statement = policy_statements(server)[0]
    rule_arn = server.client("events").describe_rule(Name=RULE)["Arn"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule_arn


@pytest.mark.usefixtures("converged")
def test_a_permission_change_is_a_replacement_and_is_carried_out(cli: Cli, server: Server) -> None:
    edit(
        cli.spec_dir / "specs" / "collector.yaml",
        "        principal: events.amazonaws.com\n",
        '        principal: events.amazonaws.com\n        source_account: "123456789012"\n',
    )

    plan = changed(plan_json(cli))
    assert list(plan) == ["lambda_functions.collector.permissions.events"]
    change = plan["lambda_functions.collector.permissions.events"]
    assert change["action"] == "replace"
    assert [d["path"] for d in change["differences"]] == ["source_account"]

    applied = cli("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "1 replaced" in applied.stdout
    assert cli("plan", "--detailed-exitcode").exit_code == 0
    statements = policy_statements(server)
    assert [s["Condition"]["StringEquals"]["AWS:SourceAccount"] for s in statements] == ["123456789012"]


def test_a_code_change_updates_the_function_and_nothing_else(cli: Cli, server: Server) -> None:
    assert cli("apply", "--auto-approve").exit_code == 0
    source = cli.spec_dir / "functions" / "metrics_collector" / "index.py"
    source.write_text(source.read_text() + "\n# a change\n")

    plan = changed(plan_json(cli))
    assert list(plan) == ["lambda_functions.collector"]
    assert [d["path"] for d in plan["lambda_functions.collector"]["differences"]] == ["code.sha256"]

    assert cli("apply", "--auto-approve").exit_code == 0
    reported = server.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    assert reported == code_sha256(build_bundle(source.parent))
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_policy_document_change_becomes_its_new_default_version(cli: Cli, server: Server) -> None:
    assert cli("apply", "--auto-approve").exit_code == 0
    edit(
        cli.spec_dir / "specs" / "collector.yaml",
        "Action: rds:DescribeDBInstances",
        "Action: [rds:DescribeDBInstances, rds:ListTagsForResource]",
    )

    plan = changed(plan_json(cli))
    assert list(plan) == ["iam_policies.collector"]
    assert plan["iam_policies.collector"]["action"] == "update"

    assert cli("apply", "--auto-approve").exit_code == 0
    arn = f"arn:aws:iam::123456789012:policy/{ROLE}"
    versions = server.client("iam").list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions if v["IsDefaultVersion"]] == ["v2"]
    assert cli("plan", "--detailed-exitcode").exit_code == 0


def test_a_secret_in_the_function_environment_never_shows(cli: Cli, server: Server) -> None:
    secret = "collector-token-SUPERSECRET-42"
    edit(
        cli.spec_dir / "monitoring.yaml",
        "\nenvironments:",
        "\n  collector_token: {default: '', sensitive: true, from_env: COLLECTOR_TOKEN}\n\nenvironments:",
    )
    edit(
        cli.spec_dir / "specs" / "collector.yaml",
        "      NAMESPACE: ${var.custom_metrics_namespace}\n",
        "      NAMESPACE: ${var.custom_metrics_namespace}\n      API_TOKEN: ${var.collector_token}\n",
    )
    env = {"COLLECTOR_TOKEN": secret}

    outputs = [
        cli("plan", env=env),
        cli("plan", "--format", "json", env=env),
        cli("apply", "--auto-approve", env=env),
    ]
    assert outputs[2].exit_code == 0, outputs[2].stdout + outputs[2].stderr
    variables = environment_of(server)
    assert variables["API_TOKEN"] == secret, "the function gets the value itself"

    _with_token(server, variables, "changed-by-hand-ALSOSECRET")  # drift: the secret on both sides of a diff
    drifted = cli("plan", "--format", "json", env=env)
    paths = [d["path"] for c in json.loads(drifted.stdout)["changes"] for d in c["differences"]]
    assert paths == ["environment.API_TOKEN"]
    outputs += [drifted, cli("plan", env=env), cli("apply", "--auto-approve", env=env)]
    for result in outputs:
        for text in (result.stdout, result.stderr):
            assert "SUPERSECRET" not in text and "ALSOSECRET" not in text
    assert "(sensitive value)" in outputs[0].stdout


def _with_token(server: Server, variables: dict[str, str], token: str) -> None:
    server.client("lambda").update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {**variables, "API_TOKEN": token}}
    )
