"""Shared fixtures: moto in-process with the emulator's patches, never real AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# No test may ever reach real AWS: fake credentials and no profile, set before boto3 loads.
for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "ap-northeast-2"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
# moto loads ~2,600 machine images on every EC2 reset; nothing here needs them (seconds per test)
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from moto import mock_aws  # noqa: E402

from pacs_reconcile import aws as aws_module  # noqa: E402
from pacs_reconcile.aws import AwsContext, AwsSettings  # noqa: E402
from pacs_reconcile.emulator import install_moto_patches  # noqa: E402
from pacs_reconcile.resources.registry import load_all  # noqa: E402

REGION = "ap-northeast-2"
STACK = "pacs-test"

install_moto_patches()
load_all()


@pytest.fixture
def aws() -> Iterator[AwsContext]:
    """An AwsContext on moto in-process (fresh state per test)."""
    with mock_aws():
        yield AwsContext(AwsSettings(region=REGION, max_attempts=2, retry_mode="standard"), stack=STACK)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Contexts of one account share their rate limiters for the whole process (as one run over
    several environments must); between tests that would carry one test's throttling into the next."""
    aws_module.forget_rate_limits()
