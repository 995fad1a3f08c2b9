"""An AwsContext's region and credentials: the settings', else botocore's own resolution (the
environment, then the profile in the AWS config files), else us-east-1. No call is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from pacs_reconcile.aws import AwsContext, AwsSettings


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config and a credentials file with a `prod` profile; no credentials or region in the
    environment."""
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = eu-central-1\n", encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[prod]\naws_access_key_id = AKIAPRODEXAMPLE\naws_secret_access_key = prod-secret\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    for name in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_region_set_wins_over_the_environment_and_the_profile(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    ctx = AwsContext(AwsSettings(region="sa-east-1", profile="prod"))
    assert ctx.region == "sa-east-1"
    assert ctx.client("sts").meta.region_name == "sa-east-1"


def test_without_a_region_set_the_environment_s_then_the_profile_s(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert AwsContext(AwsSettings(profile="prod")).region == "eu-central-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert AwsContext(AwsSettings(profile="prod")).region == "ap-southeast-2"


def test_without_any_region_us_east_1(aws_files: Path) -> None:
    ctx = AwsContext(AwsSettings())
    assert ctx.region == "us-east-1"
    assert ctx.client("sts").meta.region_name == "us-east-1"


def test_the_profile_s_credentials_sign_the_calls(aws_files: Path) -> None:
    credentials = AwsContext(AwsSettings(profile="prod"))._session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "AKIAPRODEXAMPLE"
