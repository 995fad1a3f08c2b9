"""kms_keys on the emulator: a key with its alias, policy and rotation converges (apply -> empty plan
-> zero writes) and a log group and an SQS queue encrypt with it by reference; DescribeKey's
defaults are no difference; each attribute changed by hand shows at its path and is repaired, a
deletion scheduled by hand included; usage, spec and multi-Region force a replacement; a delete
schedules the deletion with the key's window and says so; keys are kept unless named; export
round-trips; and the spec refuses what KMS refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.engine.apply import apply_plan
from pacs_reconcile.engine.changes import Action
from pacs_reconcile.export import Selection, check, export, render
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.kms import WINDOW_TAG, KmsKeys, KmsKeySpec
from pacs_reconcile.resources.registry import KINDS

from .spec_cycle import actions, applied, converges, plan_of, repaired_by_hand_change

KEYS: KmsKeys = KINDS["kms_keys"]  # type: ignore[assignment]
NAME = "pacs-logs"
ALIAS = f"alias/{NAME}"
ACCOUNT = "123456789012"
KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Principal": {"Service": "logs.ap-northeast-2.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ],
}
SPEC = f"""\
version: 1
stack: pacs-test
kms_keys:
  logs:
    name: {NAME}
    description: PACS logs
    policy: {json.dumps(KEY_POLICY)}
    enable_key_rotation: true
    rotation_period_in_days: 180
    deletion_window_in_days: 7
    tags: {{Name: pacs-logs}}
log_groups:
  backend:
    name: /pacs/backend
    retention_days: 30
    kms_key_id: ${{kms_keys.logs.arn}}
sqs_queues:
  events:
    name: pacs-events
    kms_master_key_id: ${{kms_keys.logs.alias}}
"""


def desired(aws: AwsContext, **spec: Any) -> Desired:
    state = KEYS.canonical(KmsKeySpec.model_validate({"name": NAME, **spec}).model_dump(mode="json"))
    return Desired("kms_keys.logs", state["name"], state, {OWNER_TAG: aws.stack, "Name": "pacs-logs"})


def read(aws: AwsContext, *names: str) -> dict[Any, Live]:
    return KEYS.read(aws, list(names), ReadScope(aws.stack))


def differences(want: Desired, live: Live) -> list[str]:
    return diff_states(want.state, KEYS.canonical(dict(live.state))).paths()


def key_id(aws: AwsContext, alias: str = ALIAS) -> str:
    return str(aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])


def test_registered_as_a_stateful_kind_known_by_its_alias() -> None:
    assert KEYS.meta.stateful and KEYS.meta.identity == "name"
    assert KEYS.meta.force_new == {"key_usage", "key_spec", "multi_region"}
    assert set(KEYS.meta.attributes) == {"name", "alias", "arn", "id", "alias_arn"}


def test_a_key_converges_and_encrypts_a_log_group_and_a_queue(tmp_path: Path, aws: AwsContext) -> None:
    first = plan_of(tmp_path, aws, SPEC)
    assert set(actions(first).values()) == {Action.CREATE}
    converges(tmp_path, aws, SPEC)

    kms = aws.client("kms")
    metadata = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]
    arn = metadata["Arn"]
    group = aws.client("logs").describe_log_groups(logGroupNamePrefix="/pacs/backend")["logGroups"][0]
    assert group["kmsKeyId"] == arn
    queue = aws.client("sqs").get_queue_url(QueueName="pacs-events")["QueueUrl"]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == ALIAS
    assert kms.get_key_rotation_status(KeyId=metadata["KeyId"])["RotationPeriodInDays"] == 180
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=metadata["KeyId"])["Tags"]}
    assert tags[OWNER_TAG] == "pacs-test" and tags[WINDOW_TAG] == "7", "tagged on create"
    assert "kms.TagResource" not in aws.stats.mutating()

    live = read(aws, NAME)[NAME]
    assert live.tags is not None and WINDOW_TAG not in live.tags, "bookkeeping, not shown"


POINTED_AT = """\
version: 1
stack: pacs-test
kms_keys:
  data:
    name: pacs-data
    description: PACS topics, parameters and file systems
sns_topics:
  alerts:
    name: pacs-alerts
    kms_master_key_id: ${kms_keys.data.alias}
ssm_parameters:
  token:
    name: /pacs/exporter/token
    type: SecureString
    value: not-a-real-token
    key_id: ${kms_keys.data.arn}
efs_file_systems:
  grafana:
    creation_token: pacs-grafana
    encrypted: true
    kms_key_id: ${kms_keys.data.arn}
"""


def test_a_topic_a_parameter_and_a_file_system_encrypt_with_a_key_by_reference(
    tmp_path: Path, aws: AwsContext
) -> None:
    """The kinds that take a KMS key name the stack's key by reference, not by a literal ARN, and
    converge on it."""
    converges(tmp_path, aws, POINTED_AT)
    arn = _kms(aws).describe_key(KeyId="alias/pacs-data")["KeyMetadata"]["Arn"]
    topic = next(
        t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"] if "pacs-alerts" in t["TopicArn"]
    )
    assert (
        aws.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"]
        == "alias/pacs-data"
    )
    parameter = aws.client("ssm").describe_parameters()["Parameters"][0]
    assert parameter["KeyId"] == arn
    (system,) = aws.client("efs").describe_file_systems(CreationToken="pacs-grafana")["FileSystems"]
    assert system["KmsKeyId"].rsplit("key/", 1)[-1] == arn.rsplit("key/", 1)[-1], "the key's id or ARN"


def test_describe_keys_defaults_are_no_difference(aws: AwsContext) -> None:
    """A key made with nothing set: KeyUsage, KeySpec, MultiRegion (left out of some answers: CreateKey's
    defaults), rotation off, AWS's default key policy (not managed) and no window tag (30 days)."""
    kms = aws.client("kms")
    kms.create_alias(AliasName=ALIAS, TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
    live = read(aws, NAME)[NAME]
    assert differences(desired(aws), live) == []
    assert live.state["deletion_window_in_days"] == 30


def _kms(aws: AwsContext) -> Any:
    return aws.client("kms")


OUT_OF_BAND = {
    "description": (
        lambda aws: _kms(aws).update_key_description(KeyId=key_id(aws), Description="x"),
        "description",
    ),
    "disabled": (lambda aws: _kms(aws).disable_key(KeyId=key_id(aws)), "enabled"),
    # A key pending deletion reports rotation off (GetKeyRotationStatus, KMS API reference).
    "deletion scheduled": (
        lambda aws: _kms(aws).schedule_key_deletion(KeyId=key_id(aws), PendingWindowInDays=7),
        "enabled enable_key_rotation rotation_period_in_days",
    ),
    "rotation off": (
        lambda aws: _kms(aws).disable_key_rotation(KeyId=key_id(aws)),
        "enable_key_rotation rotation_period_in_days",
    ),
    "rotation period": (
        lambda aws: _kms(aws).enable_key_rotation(KeyId=key_id(aws), RotationPeriodInDays=90),
        "rotation_period_in_days",
    ),
    "policy": (
        lambda aws: _kms(aws).put_key_policy(
            KeyId=key_id(aws),
            PolicyName="default",
            Policy=json.dumps({**KEY_POLICY, "Statement": KEY_POLICY["Statement"][:1]}),
        ),
        "policy",
    ),
    "tag added": (
        lambda aws: _kms(aws).tag_resource(KeyId=key_id(aws), Tags=[{"TagKey": "Owner", "TagValue": "bob"}]),
        "tags",
    ),
}


@pytest.mark.parametrize("case", sorted(OUT_OF_BAND))
def test_a_change_by_hand_shows_at_its_path_and_is_repaired(aws: AwsContext, case: str) -> None:
    mutate, path = OUT_OF_BAND[case]
    want = desired(aws, policy=KEY_POLICY, enable_key_rotation=True, rotation_period_in_days=180)
    changed, repaired = repaired_by_hand_change(KEYS, aws, want, mutate, path)
    if case == "deletion scheduled":
        assert changed.notes and "deletion is scheduled" in changed.notes[0]
        assert repaired.notes == ()
    assert _kms(aws).describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyState"] == "Enabled"


def test_a_key_pending_deletion_reports_rotation_off_and_gets_its_own_back(aws: AwsContext) -> None:
    """ "Pending deletion: While a KMS key is pending deletion, its key rotation status is false and
    KMS does not rotate the key material. If you cancel the deletion, the original key rotation
    status returns" (GetKeyRotationStatus, KMS API reference). A key the spec wants not rotating,
    whose rotation was turned on and deletion scheduled by hand, shows only the deletion; the apply
    that cancels it also sets the rotation the spec wants, or the restored rotation would be a
    difference after it."""
    want = desired(aws)
    KEYS.create(aws, want)
    _kms(aws).enable_key_rotation(KeyId=key_id(aws))
    _kms(aws).schedule_key_deletion(KeyId=key_id(aws), PendingWindowInDays=7)
    assert _kms(aws).get_key_rotation_status(KeyId=key_id(aws))["KeyRotationEnabled"] is False
    live = read(aws, NAME)[NAME]
    delta = diff_states(want.state, KEYS.canonical(dict(live.state)))
    assert delta.paths() == ["enabled"]
    KEYS.update(aws, want, live, delta)
    assert differences(want, read(aws, NAME)[NAME]) == []
    assert _kms(aws).get_key_rotation_status(KeyId=key_id(aws))["KeyRotationEnabled"] is False


@pytest.mark.parametrize(
    ("changes", "forced"),
    [
        ({"key_usage": "SIGN_VERIFY", "key_spec": "RSA_2048"}, {"key_usage", "key_spec"}),
        ({"multi_region": True}, {"multi_region"}),
    ],
)
def test_usage_spec_and_multi_region_force_a_replacement(
    aws: AwsContext, changes: dict[str, Any], forced: set[str]
) -> None:
    KEYS.create(aws, desired(aws))
    delta = diff_states(desired(aws, **changes).state, read(aws, NAME)[NAME].state)
    assert set(KEYS.replacing_paths(delta)) == forced


def test_a_delete_schedules_the_deletion_with_the_keys_window_and_the_plan_says_so(
    tmp_path: Path, aws: AwsContext
) -> None:
    applied(tmp_path, aws, SPEC)
    header = SPEC.split("kms_keys:")[0]
    kept = actions(plan_of(tmp_path, aws, header))
    assert kept['kms_keys["pacs-logs"]'] == Action.RETAINED, "stateful: kept unless named"

    named = plan_of(tmp_path, aws, header, allow_destroy=('kms_keys["pacs-logs"]',))
    (change,) = [c for c in named.changes if c.kind == "kms_keys"]
    assert change.action == Action.DELETE
    assert any("schedules its deletion" in note and "7 days" in note for note in change.notes)
    requests: list[dict[str, Any]] = []
    _kms(aws).meta.events.register(
        "provide-client-params.kms.ScheduleKeyDeletion", lambda params, **_: requests.append(dict(params))
    )
    the_key = key_id(aws)
    assert named.values is not None
    apply_plan(named, named.values, aws)
    assert requests == [{"KeyId": the_key, "PendingWindowInDays": 7}]
    assert _kms(aws).describe_key(KeyId=the_key)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    assert all(a["AliasName"] != ALIAS for a in _kms(aws).list_aliases()["Aliases"]), "the alias is gone"
    after = actions(plan_of(tmp_path, aws, header))
    assert not any(a.startswith("kms_keys") for a in after), "a key being deleted is not listed again"


def test_reads_list_aliases_once(aws: AwsContext) -> None:
    for index in range(4):
        KEYS.create(aws, desired(aws, name=f"pacs-{index}"))
    aws.stats.calls.clear()
    found = read(aws, "pacs-0", "missing")
    assert set(found) == {f"pacs-{i}" for i in range(4)}, "owned keys found by the sweep too"
    calls = dict(aws.stats.calls)
    assert calls["kms.ListAliases"] == 1 and calls["kms.DescribeKey"] == 4
    assert "kms.ListResourceTags" not in calls, "tags from the owner-tag sweep"


def test_export_round_trips(tmp_path: Path, aws: AwsContext) -> None:
    applied(tmp_path, aws, SPEC)
    result = export(aws, aws.stack, Selection(kinds=("kms_keys",), prefix="pacs-"))
    (entry,) = result.entries["kms_keys"]
    assert entry.config["name"] == NAME and entry.config["deletion_window_in_days"] == 7
    assert entry.config["rotation_period_in_days"] == 180
    text = render(result, "pacs-reconcile export")
    assert check(text, result, None) == []
    exported = tmp_path / "exported"
    exported.mkdir()
    planned = actions(plan_of(exported, aws, text))
    assert {a: x for a, x in planned.items() if a.startswith("kms_keys")} == {}, "no change to the key"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "alias/pacs-logs"}, "without alias/: 'pacs-logs'"),
        ({"name": "aws/logs"}, "reserved"),
        ({"name": "pacs logs"}, "letters, digits"),
        ({"key_spec": "ECC_NIST_P256"}, "does not go with key_spec ECC_NIST_P256"),
        ({"key_spec": "HMAC_256", "key_usage": "ENCRYPT_DECRYPT"}, "GENERATE_VERIFY_MAC"),
        ({"key_spec": "RSA_2048", "key_usage": "SIGN_VERIFY", "enable_key_rotation": True}, "only symmetric"),
        ({"rotation_period_in_days": 180}, "only with enable_key_rotation"),
        ({"enable_key_rotation": True, "rotation_period_in_days": 89}, "greater than or equal to 90"),
        ({"deletion_window_in_days": 6}, "greater than or equal to 7"),
        ({"deletion_window_in_days": 31}, "less than or equal to 30"),
        ({"key_spec": "AES_256"}, "SYMMETRIC_DEFAULT"),
        ({"policy": {"Version": "2012-10-17"}}, "needs a 'Statement'"),
    ],
)
def test_validation(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KmsKeySpec.model_validate({"name": NAME, **spec})
