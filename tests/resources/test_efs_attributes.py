"""EFS file systems with a customer managed KMS key and One Zone storage, on the emulator: created
so, converged, each a replacement when changed (CreateFileSystem fixes them), round-tripped
through export. Throughput changes in place are covered with the emulator's UpdateFileSystem in
test_patch_efs.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from pacs_reconcile import OWNER_TAG
from pacs_reconcile.aws import AwsContext
from pacs_reconcile.diff import diff_states
from pacs_reconcile.resources.base import Desired, Live, ReadScope
from pacs_reconcile.resources.efs import FileSystems, FileSystemSpec

from .exported import exported_state
from .spec_cycle import converges

FILE_SYSTEMS = FileSystems()
TOKEN = "pacs-dicom-cache"
KEY_ID = "0b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0"
KEY_ARN = f"arn:aws:kms:ap-northeast-2:123456789012:key/{KEY_ID}"
SPEC: dict[str, Any] = {
    "creation_token": TOKEN,
    "kms_key_id": KEY_ARN,
    "availability_zone_name": "ap-northeast-2a",
}


def desired(aws: AwsContext, spec: dict[str, Any]) -> Desired:
    state = FILE_SYSTEMS.canonical(FileSystemSpec.model_validate(spec).model_dump(mode="json"))
    return Desired("efs_file_systems.cache", TOKEN, state, {OWNER_TAG: aws.stack})


def read(aws: AwsContext) -> Live:
    return FILE_SYSTEMS.read(aws, [TOKEN], ReadScope(aws.stack))[TOKEN]


def test_a_one_zone_file_system_under_a_customer_key_converges_and_round_trips(aws: AwsContext) -> None:
    want = desired(aws, SPEC)
    FILE_SYSTEMS.create(aws, want)
    described = aws.client("efs").describe_file_systems(CreationToken=TOKEN)["FileSystems"][0]
    assert described["KmsKeyId"].endswith(KEY_ID)  # sent as the key id; AWS answers with the key ARN
    assert described["AvailabilityZoneName"] == "ap-northeast-2a"
    assert diff_states(want.state, FILE_SYSTEMS.canonical(dict(read(aws).state))).paths() == []
    exported, _ = exported_state(aws, "efs_file_systems", TOKEN)
    assert diff_states(want.state, exported).paths() == []


def test_a_key_given_by_id_matches_the_key_arn_aws_reports(aws: AwsContext) -> None:
    FILE_SYSTEMS.create(aws, desired(aws, SPEC))
    by_id = desired(aws, {**SPEC, "kms_key_id": KEY_ID})
    assert diff_states(by_id.state, FILE_SYSTEMS.canonical(dict(read(aws).state))).paths() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("kms_key_id", "1b1d2c3e-4f50-6172-8394-a5b6c7d8e9f0"), ("availability_zone_name", "ap-northeast-2c")],
)
def test_a_change_shows_at_its_path_and_is_a_replacement(aws: AwsContext, field: str, value: str) -> None:
    FILE_SYSTEMS.create(aws, desired(aws, SPEC))
    delta = diff_states(
        desired(aws, {**SPEC, field: value}).state, FILE_SYSTEMS.canonical(dict(read(aws).state))
    )
    assert delta.paths() == [field]
    assert FILE_SYSTEMS.replacing_paths(delta) == [field]


def test_a_regional_file_system_reads_as_no_zone(aws: AwsContext) -> None:
    FILE_SYSTEMS.create(aws, desired(aws, {"creation_token": TOKEN}))
    live = read(aws)
    assert live.state["availability_zone_name"] == ""
    regional = desired(aws, {"creation_token": TOKEN, "availability_zone_name": ""})
    assert diff_states(regional.state, FILE_SYSTEMS.canonical(dict(live.state))).paths() == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({**SPEC, "encrypted": False}, "kms_key_id needs encrypted: true"),
        ({**SPEC, "kms_key_id": "pacs-efs"}, "key's id, key ARN, alias"),
        ({**SPEC, "kms_key_id": "alias/aws/elasticfilesystem"}, "AWS managed key"),
        ({**SPEC, "availability_zone_name": "apne2-az1"}, "availability zone name"),
    ],
)
def test_validation(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError, match=expected):
        FileSystemSpec.model_validate(spec)


ALIAS = "alias/pacs-efs"


def _key_with_alias(aws: AwsContext) -> str:
    kms = aws.client("kms")
    key_id = str(kms.create_key()["KeyMetadata"]["KeyId"])
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key_id)
    return key_id


def _made_under(aws: AwsContext, key_id: str) -> None:
    """A file system as AWS describes one made with KmsKeyId = an alias: with the key's ARN
    (DescribeFileSystems, FileSystemDescription.KmsKeyId "The ID of an KMS key used to protect the
    encrypted file system"); the emulator would keep the alias text as sent."""
    arn = f"arn:aws:kms:ap-northeast-2:123456789012:key/{key_id}"
    aws.client("efs").create_file_system(
        CreationToken=TOKEN,
        Encrypted=True,
        KmsKeyId=arn,
        AvailabilityZoneName="ap-northeast-2a",
        Tags=[{"Key": OWNER_TAG, "Value": aws.stack}],
    )


@pytest.mark.parametrize(
    "named", [ALIAS, "arn:aws:kms:ap-northeast-2:123456789012:alias/pacs-efs"], ids=["alias", "alias-arn"]
)
def test_a_key_named_by_its_alias_matches_the_key_arn_aws_reports(aws: AwsContext, named: str) -> None:
    """CreateFileSystem KmsKeyId takes a "Key alias" or "Key alias ARN" as well as a key id or ARN
    (EFS API reference); AWS then reports the key's ARN, which the plan compares through the alias:
    no difference while the alias points at the file system's key, one ListAliases a plan."""
    _made_under(aws, _key_with_alias(aws))
    want = desired(aws, {**SPEC, "kms_key_id": named})
    aws.stats.calls.clear()
    live = FILE_SYSTEMS.complete(aws, read(aws), want.state)
    assert live is not None
    assert diff_states(want.state, FILE_SYSTEMS.canonical(dict(live.state))).paths() == []
    assert FILE_SYSTEMS.complete(aws, read(aws), want.state) is not None
    assert aws.stats.calls["kms.ListAliases"] == 1, "shared by the plan's look-ups"


def test_an_alias_pointing_at_another_key_is_a_replacement(aws: AwsContext) -> None:
    _made_under(aws, KEY_ID)
    _key_with_alias(aws)  # the alias names another key than the file system's
    want = desired(aws, {**SPEC, "kms_key_id": ALIAS})
    live = FILE_SYSTEMS.complete(aws, read(aws), want.state)
    assert live is not None
    delta = diff_states(want.state, FILE_SYSTEMS.canonical(dict(live.state)))
    assert delta.paths() == ["kms_key_id"]
    assert FILE_SYSTEMS.replacing_paths(delta) == ["kms_key_id"]


def test_a_file_system_under_a_keys_alias_by_reference_converges(tmp_path: Path, aws: AwsContext) -> None:
    text = yaml.safe_dump(
        {
            "version": 1,
            "stack": "pacs-test",
            "kms_keys": {"data": {"name": "pacs-efs"}},
            "efs_file_systems": {"cache": {"creation_token": TOKEN, "kms_key_id": "${kms_keys.data.alias}"}},
        }
    )
    converges(tmp_path, aws, text)
    described = aws.client("efs").describe_file_systems(CreationToken=TOKEN)["FileSystems"][0]
    assert described["KmsKeyId"].endswith("alias/pacs-efs") or described["KmsKeyId"].endswith(
        aws.client("kms").describe_key(KeyId=ALIAS)["KeyMetadata"]["KeyId"]
    )
