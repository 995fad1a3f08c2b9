"""End-to-end fixtures: a moto server on 127.0.0.1 (reset and seeded per test) and an in-process CLI
runner that records every AWS context the CLI made, so tests can count the calls it sent."""

from __future__ import annotations

import logging
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from moto_snapshot import SeededState
from pacs_reconcile import aws as aws_module
from pacs_reconcile.cli import app
from pacs_reconcile.emulator.seed import seed_existing_infrastructure
from pacs_reconcile.emulator.server import free_port

REPO = Path(__file__).resolve().parents[2]
REGION = "ap-northeast-2"
SPEC_FOLDERS = ("specs", "functions", "configs")
"""What the spec reads besides monitoring.yaml (included specs, code bundles, config files)."""
SPEC_COMMANDS = ("plan", "apply", "destroy", "validate", "drift", "verify")


@dataclass
class Server:
    endpoint: str

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Server]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seeded_server_state(moto_server: Server) -> SeededState:
    """The server's state right after seeding, taken once per test process."""
    return SeededState(
        lambda: seed_existing_infrastructure(boto3.Session(region_name=REGION), REGION, moto_server.endpoint)
    )


@pytest.fixture
def server(moto_server: Server, seeded_server_state: SeededState) -> Server:
    """The moto server, emptied and seeded with the PACS stack's existing infrastructure."""
    moto_server.reset()
    seeded_server_state.restore()
    return moto_server


def copy_repository_spec(folder: Path) -> Path:
    """Copy the repository's monitoring.yaml and what it reads into `folder`; returns `folder`."""
    shutil.copy(REPO / "monitoring.yaml", folder / "monitoring.yaml")
    for name in SPEC_FOLDERS:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    """A private copy of the repository's monitoring.yaml + specs/ that a test may edit."""
    return copy_repository_spec(tmp_path)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str
    contexts: list[aws_module.AwsContext] = field(default_factory=list)

    @property
    def calls(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for ctx in self.contexts:
            for name, count in ctx.stats.calls.items():
                total[name] = total.get(name, 0) + count
        return total

    @property
    def mutating_calls(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for ctx in self.contexts:
            for name, count in ctx.stats.mutating().items():
                total[name] = total.get(name, 0) + count
        return total


def invoke_recording(
    command: list[str], env: dict[str, str] | None = None, input: str | None = None
) -> Result:
    """Run the CLI in-process and keep every AWS context it made, so a test can count its calls."""
    contexts: list[aws_module.AwsContext] = []
    original = aws_module.AwsContext.__init__

    def recording_init(ctx: aws_module.AwsContext, *a: Any, **kw: Any) -> None:
        original(ctx, *a, **kw)
        contexts.append(ctx)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aws_module.AwsContext, "__init__", recording_init)
        outcome = CliRunner().invoke(app, command, env=env, input=input, catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr, contexts)


class Cli:
    def __init__(self, server: Server, spec_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.server = server
        self.spec_dir = spec_dir
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        command = ["--no-color", "--endpoint-url", self.server.endpoint, *args]
        if args and args[0] in SPEC_COMMANDS and "-f" not in args:
            command += ["-f", str(self.spec_dir / "monitoring.yaml")]
        return invoke_recording(command, env=env, input=input)


@pytest.fixture
def cli(server: Server, stack_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(server, stack_dir, monkeypatch)


@pytest.fixture(scope="session")
def converged_server_state(
    moto_server: Server, seeded_server_state: SeededState, tmp_path_factory: pytest.TempPathFactory
) -> SeededState:
    """The seeded server after one `apply` of the repository's spec, taken once per test process."""

    def seed_and_apply() -> None:
        seeded_server_state.restore()
        spec_dir = copy_repository_spec(tmp_path_factory.mktemp("converged"))
        applied = Cli(moto_server, spec_dir, pytest.MonkeyPatch())("apply", "--auto-approve")
        assert applied.exit_code == 0, applied.stdout + applied.stderr

    return SeededState(seed_and_apply)


@pytest.fixture
def converged(server: Server, converged_server_state: SeededState) -> Server:
    """The server holding the repository's stack as one `apply` left it (the spec in `stack_dir`)."""
    converged_server_state.restore()
    return server
