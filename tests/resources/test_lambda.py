"""Lambda kinds against moto: deterministic code bundles compared by CodeSha256 (AWS-NOTES item 6),
the function cycle, the bounded retry while a new role is not assumable (item 12), permissions
that can only be replaced (item 7), and spec validation."""

from __future__ import annotations

import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import Delta, compare_tags, diff_states
from pacs_reconcile.errors import ReconcileError
from pacs_reconcile.resources._retry import RetryWindow
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.lambda_ import (
    Functions,
    FunctionSpec,
    Permissions,
    PermissionSpec,
    build_bundle,
    code_sha256,
)
from pacs_reconcile.resources.registry import KINDS

from .aws_faults import fail

FUNCTION = "pacs-custom-metrics-collector"
RULE_ARN = "arn:aws:events:ap-northeast-2:123456789012:rule/pacs-custom-metrics"
NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
FUNCTIONS = Functions()
PERMISSIONS = Permissions()


# Helpers ---------------------------------------------------------------------------------------


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    """A spec folder holding a function's code under functions/collector."""
    code = tmp_path / "functions" / "collector"
    code.mkdir(parents=True)
    (code / "index.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (code / "lib").mkdir()
    (code / "lib" / "util.py").write_text("VALUE = 1\n")
    return tmp_path


@pytest.fixture
def role_arn(aws: AwsContext) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = aws.client("iam").create_role(RoleName="collector", AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def function_spec(role_arn: str, **spec: Any) -> dict[str, Any]:
    return {
        "name": FUNCTION,
        "runtime": "python3.12",
        "handler": "index.handler",
        "role": role_arn,
        "code": {"source_dir": "functions/collector"},
        **spec,
    }


def desired_function(aws: AwsContext, spec_dir: Path, spec: dict[str, Any]) -> Desired:
    """What the loader and engine make of a function entry: validated, prepared, canonical."""
    config = FUNCTIONS.prepare(FunctionSpec.model_validate(spec).model_dump(mode="json"), spec_dir)
    state = FUNCTIONS.canonical(config)
    return Desired(
        "lambda_functions.test",
        state["name"],
        state,
        {OWNER_TAG: aws.stack, "Name": FUNCTION},
        None,
        spec_dir,
        config,
    )


def delta_of(kind: Any, desired: Desired, live: Live) -> Delta:
    return diff_states(desired.state, kind.canonical(live.state))


def read_function(aws: AwsContext) -> Live:
    found = FUNCTIONS.read(aws, [FUNCTION], ReadScope(aws.stack))
    assert FUNCTION in found, "function not read back"
    return found[FUNCTION]


def make_function(aws: AwsContext, spec_dir: Path, role_arn: str, **spec: Any) -> tuple[Desired, Live]:
    desired = desired_function(aws, spec_dir, function_spec(role_arn, **spec))
    return desired, FUNCTIONS.create(aws, desired)


def lam(aws: AwsContext) -> Any:
    return aws.client("lambda")


def entries(data: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(data)).infolist()


# Code bundles (AWS-NOTES item 6) ---------------------------------------------------------------


def test_the_bundle_depends_only_on_names_and_contents(spec_dir: Path, tmp_path: Path) -> None:
    folder = spec_dir / "functions" / "collector"
    first = build_bundle(folder)

    copy = tmp_path / "copy"  # the same files, written in another order, other times and modes
    (copy / "lib").mkdir(parents=True)
    (copy / "lib" / "util.py").write_text("VALUE = 1\n")
    (copy / "index.py").write_text((folder / "index.py").read_text())
    os.utime(copy / "index.py", (1_000_000_000, 1_000_000_000))
    (copy / "index.py").chmod(0o755)
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "index.cpython-312.pyc").write_bytes(b"\x00cache")
    (copy / "stale.pyc").write_bytes(b"\x00")

    assert build_bundle(copy) == first
    infos = entries(first)
    assert [i.filename for i in infos] == ["index.py", "lib/util.py"], "sorted files, no folders, no caches"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_a_changed_file_changes_the_hash(spec_dir: Path) -> None:
    folder = spec_dir / "functions" / "collector"
    before = code_sha256(build_bundle(folder))
    (folder / "lib" / "util.py").write_text("VALUE = 2\n")
    assert code_sha256(build_bundle(folder)) != before


def test_prepare_adds_the_hash_and_canonical_compares_only_it(spec_dir: Path) -> None:
    config = FunctionSpec.model_validate(function_spec("arn:aws:iam::123456789012:role/x")).model_dump(
        mode="json"
    )
    prepared = FUNCTIONS.prepare(config, spec_dir)
    expected = code_sha256(build_bundle(spec_dir / "functions" / "collector"))
    assert prepared["code"] == {"source_dir": "functions/collector", "sha256": expected}
    assert FUNCTIONS.canonical(prepared)["code"] == {"sha256": expected}
    assert FUNCTIONS.canonical(config)["code"] is None, "without a hash the code is not managed"


@pytest.mark.parametrize(
    ("source_dir", "message"),
    [
        ("/etc", "inside the spec's folder"),
        ("../outside", "inside the spec's folder"),
        ("functions/missing", "no folder functions/missing"),
        ("empty", "has no files"),
        ("link-out", "resolves outside"),
        ("leaky", "links outside the folder"),
        ("dangling", "cannot read"),
        ("looping", "leads round in a loop"),  # an internal RuntimeError before
        ("piped", "events is not a regular file"),  # reading the pipe never ended before
    ],
)
def test_prepare_refuses_folders_that_are_not_inside_the_spec_folder(
    spec_dir: Path, tmp_path_factory: pytest.TempPathFactory, source_dir: str, message: str
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("not for Lambda")
    (spec_dir / "empty").mkdir()
    (spec_dir / "link-out").symlink_to(outside, target_is_directory=True)
    (spec_dir / "leaky").mkdir()
    (spec_dir / "leaky" / "index.py").write_text("")
    (spec_dir / "leaky" / "secret.txt").symlink_to(outside / "secret.txt")
    (spec_dir / "dangling").mkdir()
    (spec_dir / "dangling" / "index.py").symlink_to(spec_dir / "dangling" / "gone.py")
    (spec_dir / "looping").mkdir()
    (spec_dir / "looping" / "a.py").symlink_to(spec_dir / "looping" / "b.py")
    (spec_dir / "looping" / "b.py").symlink_to(spec_dir / "looping" / "a.py")
    (spec_dir / "piped").mkdir()
    (spec_dir / "piped" / "index.py").write_text("")
    os.mkfifo(spec_dir / "piped" / "events")
    spec = function_spec("arn:aws:iam::123456789012:role/x", code={"source_dir": source_dir})
    config = FunctionSpec.model_validate(spec).model_dump(mode="json")
    with pytest.raises(ValueError, match=message):
        FUNCTIONS.prepare(config, spec_dir)


def test_the_hash_is_what_lambda_reports_as_code_sha256(
    aws: AwsContext, spec_dir: Path, role_arn: str
) -> None:
    desired, created = make_function(aws, spec_dir, role_arn)
    reported = lam(aws).get_function(FunctionName=FUNCTION)["Configuration"]["CodeSha256"]
    assert reported == desired.state["code"]["sha256"] == created.state["code"]["sha256"]


def test_code_changed_after_the_plan_is_not_deployed(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    desired = desired_function(aws, spec_dir, function_spec(role_arn))
    (spec_dir / "functions" / "collector" / "index.py").write_text("raise SystemExit('edited since plan')\n")
    with pytest.raises(ReconcileError, match="changed since the plan"):
        FUNCTIONS.create(aws, desired)


def test_create_needs_only_the_desired_it_is_given(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    """The code folder travels in the Desired (the entry's source_dir under its base_dir), not in
    process state left by the loader: a spec prepared elsewhere (e.g. before a saved plan) deploys."""
    # A file only this test writes: a hash no other test has prepared.
    (spec_dir / "functions" / "collector" / "only_here.py").write_text(f"# {spec_dir}\n")
    config = FunctionSpec.model_validate(function_spec(role_arn)).model_dump(mode="json")
    sha256 = code_sha256(build_bundle(spec_dir / "functions" / "collector"))
    config["code"]["sha256"] = sha256  # as prepare() writes it, without calling it in this process
    state = FUNCTIONS.canonical(config)
    tags = {OWNER_TAG: aws.stack}
    desired = Desired("lambda_functions.test", FUNCTION, state, tags, None, spec_dir, config)
    created = FUNCTIONS.create(aws, desired)
    assert created.state["code"] == {"sha256": sha256}


def test_a_code_folder_gone_since_the_plan_is_not_deployed(
    aws: AwsContext, spec_dir: Path, role_arn: str
) -> None:
    desired = desired_function(aws, spec_dir, function_spec(role_arn))
    shutil.rmtree(spec_dir / "functions" / "collector")
    with pytest.raises(ReconcileError, match="no folder functions/collector"):
        FUNCTIONS.create(aws, desired)


def test_an_unprepared_bundle_is_refused(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    desired = desired_function(aws, spec_dir, function_spec(role_arn))
    unprepared = Desired(
        desired.address, desired.key, {**desired.state, "code": {"sha256": "bm90IHByZXBhcmVk"}}, desired.tags
    )
    with pytest.raises(ReconcileError, match="not prepared"):
        FUNCTIONS.create(aws, unprepared)


# Functions -------------------------------------------------------------------------------------------


def test_function_cycle_create_read_drift_repair_delete(
    aws: AwsContext, spec_dir: Path, role_arn: str
) -> None:
    desired, created = make_function(
        aws,
        spec_dir,
        role_arn,
        memory=256,
        timeout=60,
        environment={"S3_BUCKET": "pacs-storage"},
        description="collector",
    )
    assert created.attrs == {
        "name": FUNCTION,
        "arn": f"arn:aws:lambda:ap-northeast-2:123456789012:function:{FUNCTION}",
    }
    live = read_function(aws)
    assert not delta_of(FUNCTIONS, desired, live), "an unchanged function must diff empty"
    assert live.tags == desired.tags

    lam(aws).update_function_configuration(
        FunctionName=FUNCTION,
        MemorySize=512,
        Environment={"Variables": {"S3_BUCKET": "pacs-storage", "DEBUG": "1"}},
    )
    drifted = read_function(aws)
    delta = delta_of(FUNCTIONS, desired, drifted)
    assert sorted(delta.paths()) == ["environment.DEBUG", "memory"]

    FUNCTIONS.update(aws, desired, drifted, delta)
    assert not delta_of(FUNCTIONS, desired, read_function(aws))

    FUNCTIONS.delete(aws, live)
    assert FUNCTIONS.read(aws, [FUNCTION], ReadScope(aws.stack)) == {}
    FUNCTIONS.delete(aws, live)  # already gone: no error


def test_a_code_change_updates_the_code(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    make_function(aws, spec_dir, role_arn)
    (spec_dir / "functions" / "collector" / "index.py").write_text("def handler(e, c):\n    return 2\n")
    desired = desired_function(aws, spec_dir, function_spec(role_arn))
    live = read_function(aws)
    delta = delta_of(FUNCTIONS, desired, live)
    assert delta.paths() == ["code.sha256"]

    FUNCTIONS.update(aws, desired, live, delta)
    assert read_function(aws).state["code"] == {"sha256": desired.state["code"]["sha256"]}


def test_function_tags_drift_and_repair(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    desired, created = make_function(aws, spec_dir, role_arn)
    lam(aws).tag_resource(Resource=created.attrs["arn"], Tags={"Owner": "bob"})
    lam(aws).untag_resource(Resource=created.attrs["arn"], TagKeys=["Name"])
    live = read_function(aws)
    changes = compare_tags(live.tags, desired.tags)
    assert changes.to_set == {"Name": FUNCTION} and changes.to_unset == ["Owner"]
    FUNCTIONS.update_tags(aws, live, changes)
    assert read_function(aws).tags == desired.tags


def test_owned_functions_are_found_without_being_asked_for(
    aws: AwsContext, spec_dir: Path, role_arn: str
) -> None:
    make_function(aws, spec_dir, role_arn)
    zipped = build_bundle(spec_dir / "functions" / "collector")
    lam(aws).create_function(
        FunctionName="foreign",
        Runtime="python3.12",
        Role=role_arn,
        Handler="index.handler",
        Code={"ZipFile": zipped},
        Tags={OWNER_TAG: "another-stack"},
    )
    assert set(FUNCTIONS.read(aws, [], ReadScope(aws.stack))) == {FUNCTION}


def test_a_failed_read_is_never_absent(aws: AwsContext) -> None:
    fail(lam(aws), "GetFunction", "AccessDeniedException", "no", status=403)
    with pytest.raises(ClientError, match="AccessDenied"):
        FUNCTIONS.read(aws, [FUNCTION], ReadScope(aws.stack))


# A new role Lambda cannot assume yet (AWS-NOTES item 12) --------------------------------------------


def test_create_retries_while_the_new_role_is_not_assumable_yet(
    aws: AwsContext, spec_dir: Path, role_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail(lam(aws), "CreateFunction", "InvalidParameterValueException", NOT_ASSUMABLE, times=2)
    sleeps: list[float] = []
    monkeypatch.setattr(Functions, "role_window", RetryWindow(seconds=60, sleep=sleeps.append))

    _, created = make_function(aws, spec_dir, role_arn)

    assert len(calls) == 3, "two refusals, then the call that went through"
    assert sleeps == [1.0, 2.0], "backing off between attempts"
    assert created.attrs["name"] == FUNCTION and read_function(aws)


def test_the_retry_is_bounded(
    aws: AwsContext, spec_dir: Path, role_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail(lam(aws), "CreateFunction", "InvalidParameterValueException", NOT_ASSUMABLE, times=100)
    clock = iter(float(t) for t in range(1000))
    monkeypatch.setattr(
        Functions, "role_window", RetryWindow(seconds=10, sleep=lambda s: None, clock=lambda: next(clock))
    )
    with pytest.raises(ClientError, match="cannot be assumed"):
        make_function(aws, spec_dir, role_arn)
    assert 2 < len(calls) < 15


def test_other_invalid_parameters_are_not_retried(
    aws: AwsContext, spec_dir: Path, role_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail(
        lam(aws), "CreateFunction", "InvalidParameterValueException", "Unzipped size must be smaller"
    )
    monkeypatch.setattr(Functions, "role_window", RetryWindow(seconds=60, sleep=lambda s: None))
    with pytest.raises(ClientError, match="Unzipped size"):
        make_function(aws, spec_dir, role_arn)
    assert len(calls) == 1


def test_a_role_change_is_retried_too(
    aws: AwsContext, spec_dir: Path, role_arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_function(aws, spec_dir, role_arn)
    trust = aws.client("iam").get_role(RoleName="collector")["Role"]["AssumeRolePolicyDocument"]
    new_role = aws.client("iam").create_role(
        RoleName="collector-2", AssumeRolePolicyDocument=json.dumps(trust)
    )
    desired = desired_function(aws, spec_dir, function_spec(new_role["Role"]["Arn"]))
    calls = fail(lam(aws), "UpdateFunctionConfiguration", "InvalidParameterValueException", NOT_ASSUMABLE)
    monkeypatch.setattr(Functions, "role_window", RetryWindow(seconds=60, sleep=lambda s: None))

    live = read_function(aws)
    FUNCTIONS.update(aws, desired, live, delta_of(FUNCTIONS, desired, live))

    assert len(calls) == 2
    assert read_function(aws).state["role"] == new_role["Role"]["Arn"]


# Permissions (AWS-NOTES item 7) ------------------------------------------------------------------------


def permission(**spec: Any) -> Desired:
    state = PERMISSIONS.canonical(
        PermissionSpec.model_validate(
            {"statement_id": "AllowExecutionFromEventBridge", "principal": "events.amazonaws.com", **spec}
        ).model_dump(mode="json")
    )
    return Desired("lambda_functions.test.permissions.events", PERMISSIONS.key(state, FUNCTION), state, {})


def read_permissions(aws: AwsContext, parent: Live) -> dict[Any, Live]:
    return PERMISSIONS.read(aws, [], ReadScope(aws.stack, {FUNCTION: parent}))


def test_permission_cycle_and_a_hand_made_one(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    _, function = make_function(aws, spec_dir, role_arn)
    assert read_permissions(aws, function) == {}, "no policy yet: no permissions"
    desired = permission(source_arn=RULE_ARN, source_account="123456789012")
    PERMISSIONS.create(aws, desired)

    found = read_permissions(aws, function)
    assert set(found) == {(FUNCTION, "AllowExecutionFromEventBridge")}
    assert not delta_of(PERMISSIONS, desired, found[desired.key])

    lam(aws).add_permission(
        FunctionName=FUNCTION,
        StatementId="hand-made",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
    )
    assert set(read_permissions(aws, function)) == {desired.key, (FUNCTION, "hand-made")}

    PERMISSIONS.delete(aws, found[desired.key])
    assert set(read_permissions(aws, function)) == {(FUNCTION, "hand-made")}
    PERMISSIONS.delete(aws, found[desired.key])  # already gone: no error


def test_an_account_principal_reads_back_as_the_account(
    aws: AwsContext, spec_dir: Path, role_arn: str
) -> None:
    _, function = make_function(aws, spec_dir, role_arn)
    desired = permission(statement_id="CrossAccount", principal="111122223333")
    PERMISSIONS.create(aws, desired)
    live = read_permissions(aws, function)[(FUNCTION, "CrossAccount")]
    assert live.state["principal"] == "111122223333"
    assert not delta_of(PERMISSIONS, desired, live)
    assert (
        PERMISSIONS.canonical({"principal": "arn:aws:iam::111122223333:root"})["principal"] == "111122223333"
    )


def test_a_permission_is_replaced_never_updated(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    assert Permissions.meta.force_new == set(PermissionSpec.model_fields), "every field forces a replacement"
    _, function = make_function(aws, spec_dir, role_arn)
    old = permission(source_arn=RULE_ARN)
    PERMISSIONS.create(aws, old)
    new = permission(source_arn=RULE_ARN + "-v2")
    live = read_permissions(aws, function)[old.key]
    assert delta_of(PERMISSIONS, new, live).paths() == ["source_arn"]

    # Lambda refuses a statement id that exists (moto does not check): the engine's replacement
    # removes the old statement first, then adds the new one.
    PERMISSIONS.delete(aws, live)
    PERMISSIONS.create(aws, new)
    found = read_permissions(aws, function)
    assert list(found) == [new.key]
    assert not delta_of(PERMISSIONS, new, found[new.key])


# Validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"runtime": "python3.9"}, "python3.9 is deprecated on Lambda"),
        ({"runtime": "nodejs22.x"}, "unsupported runtime 'nodejs22.x'"),
        ({"memory": 64}, "greater than or equal to 128"),
        ({"timeout": 901}, "less than or equal to 900"),
        ({"name": "bad name"}, "function names are 1-64"),
        ({"role": "arn:aws:iam::123456789012:user/me"}, "must be a role ARN"),
        ({"environment": {"AWS_REGION": "x"}}, "set by Lambda itself"),
        ({"environment": {"1BAD": "x"}}, "variable names"),
        ({"code": {"source_dir": "x", "sha256": "y"}}, "Extra inputs are not permitted"),
    ],
)
def test_function_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FunctionSpec.model_validate(function_spec("arn:aws:iam::123456789012:role/x", **changes))


def test_environment_errors_never_show_a_value() -> None:
    secret = "s3cr3t-" * 700
    with pytest.raises(ValidationError) as raised:
        FunctionSpec.model_validate(
            function_spec("arn:aws:iam::123456789012:role/x", environment={"TOKEN": secret})
        )
    assert "s3cr3t" not in str(raised.value)
    assert "Lambda allows 4096" in str(raised.value)


def test_environment_numbers_and_booleans_become_text() -> None:
    spec = FunctionSpec.model_validate(
        function_spec("arn:aws:iam::123456789012:role/x", environment={"PORT": 5432, "DEBUG": False})
    )
    assert spec.environment == {"PORT": "5432", "DEBUG": "false"}


def test_references_are_left_for_plan_time() -> None:
    assert FunctionSpec.model_validate(function_spec("${iam_roles.collector.arn}"))
    assert PermissionSpec.model_validate(
        {
            "statement_id": "s",
            "principal": "events.amazonaws.com",
            "source_arn": "${event_rules.collector.arn}",
        }
    )


@pytest.mark.parametrize("principal", ["events", "arn-less", "123"])
def test_permission_principal_validation(principal: str) -> None:
    with pytest.raises(ValidationError, match="service principal"):
        PermissionSpec.model_validate({"statement_id": "s", "principal": principal})


def test_kinds_are_registered_with_their_metadata() -> None:
    assert isinstance(KINDS["lambda_functions"], Functions)
    assert KINDS["permissions"].meta.parent == "lambda_functions"
    assert {"name", "arn"} <= set(KINDS["lambda_functions"].meta.attributes)
    assert KINDS["permissions"].meta.identity == "statement_id"


def test_dead_letter_target_cycle(aws: AwsContext, spec_dir: Path, role_arn: str) -> None:
    topic = aws.client("sns").create_topic(Name="pacs-alerts-undelivered")["TopicArn"]
    desired, _ = make_function(aws, spec_dir, role_arn, dead_letter_target_arn=topic)
    live = read_function(aws)
    assert live.state["dead_letter_target_arn"] == topic
    assert not delta_of(FUNCTIONS, desired, live)

    lam(aws).update_function_configuration(FunctionName=FUNCTION, DeadLetterConfig={"TargetArn": ""})
    drifted = read_function(aws)
    delta = delta_of(FUNCTIONS, desired, drifted)
    assert delta.paths() == ["dead_letter_target_arn"]
    FUNCTIONS.update(aws, desired, drifted, delta)
    assert read_function(aws).state["dead_letter_target_arn"] == topic

    removed = desired_function(aws, spec_dir, function_spec(role_arn, dead_letter_target_arn=""))
    FUNCTIONS.update(aws, removed, read_function(aws), delta_of(FUNCTIONS, removed, read_function(aws)))
    assert not delta_of(FUNCTIONS, removed, read_function(aws))
    unmanaged = desired_function(aws, spec_dir, function_spec(role_arn))
    assert not delta_of(FUNCTIONS, unmanaged, read_function(aws)), "unset: not managed"


def test_dead_letter_target_must_be_a_topic_or_queue(role_arn: str) -> None:
    bad = function_spec(
        role_arn, dead_letter_target_arn="arn:aws:lambda:ap-northeast-2:123456789012:function:x"
    )
    with pytest.raises(ValidationError, match="must be an SNS topic or SQS queue ARN"):
        FunctionSpec.model_validate(bad)
    queue = "arn:aws:sqs:ap-northeast-2:123456789012:pacs-undelivered"
    assert FunctionSpec.model_validate(function_spec(role_arn, dead_letter_target_arn=queue))
    assert FunctionSpec.model_validate(function_spec(role_arn, dead_letter_target_arn="${sns_topics.x.arn}"))
