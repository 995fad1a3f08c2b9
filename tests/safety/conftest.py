"""Fixtures of the safety suite: the end-to-end moto server and in-process CLI (shared with
tests/e2e), and an in-process moto backend seeded with the PACS stack's existing infrastructure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The e2e fixtures, imported so that tests here get the same `server` and `cli`.
from e2e.conftest import Cli, Server, cli, moto_server, server, stack_dir  # noqa: F401
from pacs_reconcile.emulator.seed import seed_existing_infrastructure

from . import moto_fixes
from .helpers import share_model_loader

moto_fixes.install()

REGION = "ap-northeast-2"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def seeded_moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process (fresh per test), seeded like the emulator; contexts share a model loader."""
    share_model_loader(monkeypatch)
    with mock_aws():
        seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION, None)
        yield
