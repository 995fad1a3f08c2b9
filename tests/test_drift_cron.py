"""The cron wrapper: one run at a time, a time limit, exit codes passed through, a log."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

WRAPPER = Path(__file__).resolve().parents[1] / "scripts" / "drift-cron.sh"


def _fake_tool(tmp_path: Path, sleep: float, exit_code: int) -> Path:
    tool = tmp_path / "fake-pacs-reconcile"
    tool.write_text(f'#!/usr/bin/env bash\necho "args: $*"\necho oops >&2\nsleep {sleep}\nexit {exit_code}\n')
    tool.chmod(0o755)
    return tool


def _env(tmp_path: Path, tool: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PACS_RECONCILE": str(tool),
        "PACS_DRIFT_STATE_DIR": str(tmp_path / "state"),
        "PACS_SPEC_DIR": str(tmp_path),
        **extra,
    }


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_exit_code_of_the_drift_command_passes_through(tmp_path: Path, code: int) -> None:
    env = _env(tmp_path, _fake_tool(tmp_path, 0, code))
    result = subprocess.run([str(WRAPPER)], env=env, capture_output=True, timeout=30)
    assert result.returncode == code
    log = (tmp_path / "state" / "drift.log").read_text()
    assert "out: args: --no-color drift --publish-metric --notify-topic sns_topics.alerts --report" in log
    assert "err: oops" in log
    assert f"end: exit {code}" in log


def test_a_second_instance_exits_without_running_while_the_first_runs(tmp_path: Path) -> None:
    env = _env(tmp_path, _fake_tool(tmp_path, 3, 2))
    first = subprocess.Popen([str(WRAPPER), "--format", "json"], env=env)
    try:
        deadline = time.monotonic() + 10
        log = tmp_path / "state" / "drift.log"
        while not (log.exists() and "start:" in log.read_text()):
            assert time.monotonic() < deadline, "the first run never started"
            time.sleep(0.05)
        second = subprocess.run([str(WRAPPER)], env=env, capture_output=True, timeout=10)
        assert second.returncode == 75
        assert "skipped: the previous drift run still holds" in log.read_text()
        assert log.read_text().count("start:") == 1
    finally:
        assert first.wait(timeout=20) == 2


def test_a_run_over_the_time_limit_is_stopped(tmp_path: Path) -> None:
    env = _env(tmp_path, _fake_tool(tmp_path, 30, 0), PACS_DRIFT_TIMEOUT="1")
    started = time.monotonic()
    result = subprocess.run([str(WRAPPER)], env=env, capture_output=True, timeout=40)
    assert result.returncode == 124
    assert time.monotonic() - started < 20


def test_each_environment_has_its_own_run_lock_log_and_report(tmp_path: Path) -> None:
    tool = _fake_tool(tmp_path, 0, 2)
    for env in ("prod", "dev"):
        result = subprocess.run(
            [str(WRAPPER)], env=_env(tmp_path, tool, PACS_ENV=env), capture_output=True, timeout=30
        )
        assert result.returncode == 2
        log = (tmp_path / "state" / f"drift-{env}.log").read_text()
        report = tmp_path / "state" / f"drift-report.{env}.json"
        assert f"out: args: --no-color drift --env {env} --publish-metric" in log
        assert f"--report {report}" in log
    assert not (tmp_path / "state" / "drift.log").exists()
    bad = subprocess.run(
        [str(WRAPPER)], env=_env(tmp_path, tool, PACS_ENV="prod;rm"), capture_output=True, timeout=30
    )
    assert bad.returncode == 3
