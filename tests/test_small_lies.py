"""The small lies and hangs: a busy emulator port, Ctrl-D at the prompt, destroy's summary, an
unreachable endpoint, an --allow-destroy that names nothing."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from typer.testing import CliRunner, Result

from pacs_reconcile import commands
from pacs_reconcile.aws import CONNECT_ATTEMPTS, AwsContext, AwsSettings
from pacs_reconcile.cli import app
from pacs_reconcile.cli_framework import run
from pacs_reconcile.commands import GlobalOptions, Session
from pacs_reconcile.emulator.server import DEFAULT_PORT, free_port

REGION = "ap-northeast-2"
SPEC = """\
version: 1
stack: small-lies
region: ap-northeast-2
log_groups:
  app: {name: /small-lies/app, retention_days: 7}
"""


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, ["--no-color", *args], catch_exceptions=False)


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


# The emulator's port ---------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_the_emulator_on_a_busy_port_exits_1_at_once(busy_port: int) -> None:
    """It used to print moto's "Address already in use" from a thread and wait forever."""
    done = subprocess.run(
        [sys.executable, "-m", "pacs_reconcile.cli", "--no-color", "emulator", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert f"port {busy_port} on 127.0.0.1 is in use" in done.stderr
    assert "choose another with --port N" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_emulator_does_not_default_to_localstacks_ports() -> None:
    assert DEFAULT_PORT != 4566 and not 4510 <= DEFAULT_PORT <= 4559
    assert re.search(rf"\[default:\s+{DEFAULT_PORT}\b", cli("emulator", "--help").stdout)


# The confirmation prompt -----------------------------------------------------------------------


class _Terminal(io.StringIO):
    """A terminal whose person pressed Ctrl-D (end of input) at once."""

    def isatty(self) -> bool:
        return True


def test_ctrl_d_at_the_prompt_cancels_instead_of_crashing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(""))
    session = Session(GlobalOptions(color=False))
    with pytest.raises(SystemExit) as exit_:
        try:
            run(session, lambda: commands._confirm(session, False, "small-lies") or 0)
        except Exception as exc:  # typer.Exit is how run() ends
            raise SystemExit(getattr(exc, "exit_code", None)) from exc
    stderr = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "apply cancelled; nothing was changed" in stderr
    assert "internal error" not in stderr and "bug" not in stderr


# destroy's summary -----------------------------------------------------------------------------


def test_destroy_says_destroy_complete(spec: Path, aws: AwsContext) -> None:
    assert cli("apply", "-f", str(spec), "--auto-approve").exit_code == 0
    destroyed = cli("destroy", "-f", str(spec), "--auto-approve", "--allow-destroy", "log_groups.app")
    assert destroyed.exit_code == 0, destroyed.stderr
    assert "Destroy complete! Resources: 0 added, 0 changed, 0 replaced, 1 destroyed." in destroyed.stdout
    assert "Apply complete" not in destroyed.stdout


# An unreachable endpoint -----------------------------------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's sleeps between attempts, recorded instead of slept (the test takes no time)."""
    import botocore.endpoint

    slept: list[float] = []

    class _Clock:
        @staticmethod
        def sleep(seconds: float) -> None:
            slept.append(seconds)

    monkeypatch.setattr(botocore.endpoint, "time", _Clock)
    return slept


def test_an_unreachable_endpoint_fails_after_a_few_attempts_saying_so(no_backoff: list[float]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    ctx = AwsContext(AwsSettings(region=REGION, endpoint_url=closed), stack="small-lies")
    said: list[str] = []
    ctx.report = said.append
    with pytest.raises(EndpointConnectionError, match=closed.replace(".", r"\.")):
        ctx.client("logs").describe_log_groups()
    assert sum(ctx.stats.attempts.values()) == CONNECT_ATTEMPTS == 5
    assert [line.rsplit("; ", 1)[1] for line in said] == [f"retrying ({n}/5)..." for n in range(2, 6)]
    assert said[0].startswith("cannot reach 127.0.0.1:")
    assert len(no_backoff) == CONNECT_ATTEMPTS - 1


def test_plan_against_an_unreachable_endpoint_names_it(spec: Path, no_backoff: list[float]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = cli("--endpoint-url", closed, "plan", "-f", str(spec))
    assert result.exit_code == 1
    assert "retrying (2/5)..." in result.stderr and "retrying (5/5)..." in result.stderr
    assert closed in result.stderr.splitlines()[-1]


# --allow-destroy that names nothing -------------------------------------------------------------


def test_allow_destroy_matching_nothing_is_an_error_with_a_suggestion(spec: Path, aws: AwsContext) -> None:
    assert cli("apply", "-f", str(spec), "--auto-approve").exit_code == 0
    result = cli("destroy", "-f", str(spec), "--auto-approve", "--allow-destroy", "log_groups.ap")
    assert result.exit_code == 3
    assert "--allow-destroy log_groups.ap: matches no resource of this stack" in result.stderr
    assert "did you mean 'log_groups.app'?" in result.stderr
    groups = boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/small-lies/app"]
