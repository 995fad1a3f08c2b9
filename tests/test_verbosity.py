"""-v shows each phase with its time and the AWS calls as they complete; -vv (or --debug) adds
botocore's wire log with credentials and secrets masked. In-process moto."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pacs_reconcile.aws import AwsContext
from pacs_reconcile.cli import app
from pacs_reconcile.redact import MASK
from pacs_reconcile.verbosity import WIRE_LOGGERS, mask_credentials

SECRET = "correct-horse-battery-staple"
SPEC = """\
version: 1
stack: verbose
region: ap-northeast-2
variables:
  admin_password: {sensitive: true, from_env: VERBOSE_ADMIN_PASSWORD}
log_groups:
  app: {name: /verbose/app, retention_days: 7}
ssm_parameters:
  admin:
    name: /verbose/admin-password
    type: SecureString
    value: ${var.admin_password}
"""
SIGNATURE = re.compile(r"Signature=[0-9a-f]{64}")


def cli(*args: str) -> Result:
    return CliRunner().invoke(
        app, ["--no-color", *args], env={"VERBOSE_ADMIN_PASSWORD": SECRET}, catch_exceptions=False
    )


@pytest.fixture
def spec(tmp_path: Path, aws: AwsContext) -> Path:
    path = tmp_path / "monitoring.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def quiet_loggers() -> Iterator[None]:
    """The wire log is switched on per run: leave botocore's loggers as found."""
    saved = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in WIRE_LOGGERS
    }
    yield
    for name, (level, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_without_v_there_is_no_trace(spec: Path) -> None:
    result = cli("plan", "-f", str(spec))
    assert result.exit_code == 0, result.stderr
    assert "reading AWS and planning" not in result.stderr
    assert "aws logs." not in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_v_shows_phases_with_times_and_the_aws_calls(spec: Path, where: str) -> None:
    args = ["-v", "plan", "-f", str(spec)] if where == "before" else ["plan", "-f", str(spec), "-v"]
    result = cli(*args)
    assert result.exit_code == 0, result.stderr
    assert re.search(r"^loading the spec .*monitoring\.yaml: \d+\.\d\ds$", result.stderr, re.M)
    phase = re.search(r"^reading AWS and planning: \d+\.\d\ds, (\d+) AWS calls$", result.stderr, re.M)
    assert phase and int(phase[1]) > 0
    calls = re.findall(r"^aws (\w[\w-]*\.\w+): HTTP 200, \d+\.\d\ds$", result.stderr, re.M)
    assert "logs.DescribeLogGroups" in calls
    assert len(calls) == int(phase[1])  # every call of the phase, as it completed


@pytest.mark.parametrize("flag", [["-vv"], ["--debug"]])
def test_vv_shows_the_wire_log_with_secrets_and_credentials_masked(spec: Path, flag: list[str]) -> None:
    result = cli(*flag, "apply", "-f", str(spec), "--auto-approve")
    assert result.exit_code == 0, result.stderr
    assert "botocore" in result.stderr and " DEBUG " in result.stderr  # the wire log is there
    assert "PutParameter" in result.stderr  # including the call that carries the secret
    assert SECRET not in result.stderr + result.stdout
    assert MASK in result.stderr
    assert not SIGNATURE.search(result.stderr)


def test_the_wire_log_ends_with_the_command(spec: Path) -> None:
    """A program (or test) that runs the CLI in-process, then calls the API, gets no DEBUG lines."""
    before = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in WIRE_LOGGERS
    }
    assert cli("-vv", "plan", "-f", str(spec)).exit_code == 0
    after = {
        name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in WIRE_LOGGERS
    }
    assert after == before


@pytest.mark.parametrize(
    "line",
    [
        "headers={'Authorization': b'AWS4-HMAC-SHA256 "
        "Credential=AKIAEXAMPLE/20250101/ap-northeast-2/logs/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "a" * 64 + "'}",
        "'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEXAMPLETOKEN'",
        "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>",
        "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE%2F2025&X-Amz-Signature=" + "b" * 64,
    ],
)
def test_credentials_are_masked(line: str) -> None:
    masked = mask_credentials(line)
    for secret in ("AKIAEXAMPLE", "a" * 64, "b" * 64, "IQoJb3JpZ2luX2VjEXAMPLETOKEN", "wJalrXUtnFEMI"):
        assert secret not in masked
    assert MASK in masked
