"""`validate` refuses the policy documents IAM would refuse at apply time (MalformedPolicyDocument):
an action not written `service:action`, an identity-policy statement without Resource/NotResource
or with a Principal, a trust policy without a Principal, and a Version other than 2012-10-17 or
2008-10-17. Rules from the IAM JSON policy element reference:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html (Version,
Action, Resource, Principal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile.errors import SpecError
from pacs_reconcile.resources.iam import InlinePolicySpec, ManagedPolicySpec, RoleSpec, check_document
from pacs_reconcile.spec.loader import load_spec

ALLOW_LOGS = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
TRUST = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}


def identity(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def refusal(document: dict[str, Any], trust: bool = False) -> str:
    with pytest.raises(ValueError) as caught:
        check_document(document, trust=trust)
    return str(caught.value)


@pytest.mark.parametrize(
    "statement",
    [
        ALLOW_LOGS,
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List?ucket", "ecs:*"], "Resource": ["*"]},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::secret/*"},
        {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "${lookups.rds.arn}"},
        {"Effect": "Allow", "Action": "application-autoscaling:Describe*", "Resource": "*"},
    ],
)
def test_documents_iam_accepts_pass(statement: dict[str, Any]) -> None:
    assert check_document(identity(statement)) == identity(statement)


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17", None])
def test_both_policy_language_versions_and_none_pass(version: str | None) -> None:
    check_document(identity(ALLOW_LOGS, version=version))


@pytest.mark.parametrize("version", ["2012-10-18", "2012-10-17 ", "2024-01-01", "1"])
def test_another_version_is_refused(version: str) -> None:
    assert refusal(identity(ALLOW_LOGS, version=version)) == (
        "Version must be 2012-10-17 or 2008-10-17 (the policy language version)"
    )


@pytest.mark.parametrize(
    "action", ["PutLogEvents", "logs", "logs:", ":PutLogEvents", "logs:Put Log", "logs:a:b"]
)
def test_an_action_without_its_service_is_refused(action: str) -> None:
    message = refusal(identity({**ALLOW_LOGS, "Action": ["logs:CreateLogStream", action]}))
    assert message == (
        f"Statement[0].Action[1]: {action!r} is not an action written service:action "
        "(e.g. logs:PutLogEvents, s3:Get*) or *"
    )


def test_an_identity_statement_needs_a_resource() -> None:
    statement = {"Effect": "Allow", "Action": "logs:PutLogEvents"}
    assert refusal(identity(ALLOW_LOGS, statement)) == "Statement[1] needs Resource (or NotResource)"


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({**ALLOW_LOGS, "NotResource": "x"}, "Statement[0] has both Resource and NotResource: use one"),
        ({**ALLOW_LOGS, "NotAction": "s3:*"}, "Statement[0] has both Action and NotAction: use one"),
        ({"Effect": "Allow", "Resource": "*"}, "Statement[0] needs Action (or NotAction)"),
        ({**ALLOW_LOGS, "Action": []}, "Statement[0].Action is empty"),
        ({**ALLOW_LOGS, "Resource": []}, "Statement[0].Resource is empty"),
        (
            {**ALLOW_LOGS, "Principal": "*"},
            "Statement[0].Principal: an identity policy names no principal (the role is it)",
        ),
    ],
)
def test_malformed_identity_statements_are_refused(statement: dict[str, Any], message: str) -> None:
    assert refusal(identity(statement)) == message


def test_a_trust_policy_needs_a_principal_and_no_resource() -> None:
    check_document(identity(TRUST), trust=True)
    without = {k: v for k, v in TRUST.items() if k != "Principal"}
    assert refusal(identity(without), trust=True) == "Statement[0] needs a Principal: who may assume the role"
    assert refusal(identity({**TRUST, "Action": "AssumeRole"}), trust=True).startswith(
        "Statement[0].Action[0]: 'AssumeRole' is not an action"
    )


def test_every_iam_model_applies_the_rules() -> None:
    bad = identity({"Effect": "Allow", "Action": "PutLogEvents", "Resource": "*"})
    for model, fields in (
        (InlinePolicySpec, {"name": "p", "document": bad}),
        (ManagedPolicySpec, {"name": "p", "document": bad}),
        (RoleSpec, {"name": "r", "assume_role_policy": identity({**TRUST, "Action": "AssumeRole"})}),
    ):
        with pytest.raises(ValidationError, match="is not an action written service:action"):
            model.model_validate(fields)


def test_validate_reports_each_with_file_line_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # files are shown relative to the current directory
    spec = tmp_path / "monitoring.yaml"
    spec.write_text(
        """\
version: 1
stack: pacs-test
iam_policies:
  wrong_version:
    name: wrong-version
    document: {Version: "2012-10-18", Statement: [{Effect: Allow, Action: "logs:*", Resource: "*"}]}
  no_service:
    name: no-service
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: PutLogEvents, Resource: "*"}]}
  no_resource:
    name: no-resource
    document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "logs:PutLogEvents"}]}
""",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    assert [str(d) for d in caught.value.diagnostics] == [
        "monitoring.yaml:6:15: iam_policies.wrong_version.document: "
        "Version must be 2012-10-17 or 2008-10-17 (the policy language version)",
        "monitoring.yaml:9:15: iam_policies.no_service.document: Statement[0].Action[0]: 'PutLogEvents' "
        "is not an action written service:action (e.g. logs:PutLogEvents, s3:Get*) or *",
        "monitoring.yaml:12:15: iam_policies.no_resource.document: "
        "Statement[0] needs Resource (or NotResource)",
    ]
