"""Fixtures of the safety suite: the end-to-end moto server and in-process CLI (shared with
tests/e2e), and an in-process moto backend seeded with the PACS stack's existing infrastructure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The e2e fixtures, imported so that tests here get the same `server` and `cli`.
from e2e.conftest import (  # noqa: F401
    Cli,
    Server,
    cli,
    converged,
    converged_server_state,
    moto_server,
    seeded_server_state,
    server,
    stack_dir,
)
from moto_snapshot import SeededState
from pacs_reconcile.emulator.seed import seed_existing_infrastructure

REGION = "ap-northeast-2"
REPO = Path(__file__).resolve().parents[2]


_SEEDED_IN_PROCESS = SeededState(
    lambda: seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION, None)
)


@pytest.fixture
def seeded_moto() -> Iterator[None]:
    """moto in-process (fresh per test), seeded like the emulator."""
    with mock_aws():
        _SEEDED_IN_PROCESS.restore()
        yield
