"""The built wheel, installed in a fresh virtualenv outside the repository, runs the commands people
try first: --version, demo, emulator, docs --out and validate of a copied spec.

Slow (a build, a virtualenv with the emulator extra, the demo): marked `slow`; the wheel is built
once per session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tomllib
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pacs_reconcile.bundled import EXAMPLE_DIR, EXAMPLE_FILES, EXAMPLE_FOLDERS

REPO = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]

pytestmark = pytest.mark.slow


@dataclass
class Installed:
    wheel: Path
    bin: Path
    home: Path
    """A folder outside the repository: the commands run here."""

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "pacs-reconcile"), *args],
            cwd=self.home,
            env=_clean_env(self.home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _clean_env(home: Path) -> dict[str, str]:
    """No PYTHONPATH (the source tree must not leak in), no AWS account, no colours."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        HOME=str(home),
        NO_COLOR="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",
    )
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """sdist -> wheel (so the sdist is proven complete too) -> a fresh venv with the emulator extra."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    home = root / "home"
    home.mkdir()
    pip = subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{wheel}[emulator]"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=home,
        env=_clean_env(home),
        check=False,
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    yield Installed(wheel, env_dir / "bin", home)


def test_the_wheel_carries_the_example_stack_and_the_licence(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    prefix = f"pacs_reconcile/{EXAMPLE_DIR}"
    for name in EXAMPLE_FILES:
        assert f"{prefix}/{name}" in names
    for folder in EXAMPLE_FOLDERS:
        expected = {
            f"{prefix}/{p.relative_to(REPO).as_posix()}"
            for p in (REPO / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }
        assert expected and expected <= names, f"{folder}: {sorted(expected - names)[:5]}"
    assert "pacs_reconcile/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_version_is_the_one_in_pyproject(installed: Installed) -> None:
    result = installed.run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == VERSION


def test_demo_runs_outside_the_repository(installed: Installed) -> None:
    result = installed.run("demo", timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "example stack shipped in the package" in result.stderr
    assert "Demo finished" in result.stderr


def test_docs_are_written_outside_the_repository(installed: Installed) -> None:
    result = installed.run("docs", "--out", "reference")
    assert result.returncode == 0, result.stderr
    pages = {p.name for p in (installed.home / "reference").glob("*.md")}
    assert pages == {p.name for p in (REPO / "docs" / "reference").glob("*.md")}
    log_groups = (installed.home / "reference" / "log_groups.md").read_text(encoding="utf-8")
    assert "_No example yet" not in log_groups  # the examples came with the package


def test_a_copied_spec_validates(installed: Installed) -> None:
    copy = installed.home / "my-stack"
    copy.mkdir()
    shutil.copy(REPO / "monitoring.yaml", copy / "monitoring.yaml")
    for folder in ("specs", "functions", "configs"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    result = installed.run("validate", "-f", "my-stack/monitoring.yaml")
    assert result.returncode == 0, result.stderr
    assert "Valid:" in result.stderr
    broken = copy / "specs" / "logs.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("retention_days:", "retention_dayz:", 1))
    result = installed.run("validate", "-f", "my-stack/monitoring.yaml")
    assert result.returncode == 3
    assert "retention_dayz" in result.stderr


def test_the_emulator_serves_the_example_stack_from_the_wheel(installed: Installed) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [str(installed.bin / "pacs-reconcile"), "emulator", "--port", str(port)],
        cwd=installed.home,
        env=_clean_env(installed.home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        seen = []
        for line in process.stderr:  # the line comes once the emulator is seeded
            seen.append(line)
            if "listening on" in line:
                break
        assert process.poll() is None, "".join(seen)[-3000:]
        example = subprocess.run(
            [
                str(installed.bin / "python"),
                "-c",
                "import pacs_reconcile.bundled as b; print(b.example_spec())",
            ],
            capture_output=True,
            text=True,
            check=True,
            env=_clean_env(installed.home),
        ).stdout.strip()
        assert f"site-packages/pacs_reconcile/{EXAMPLE_DIR}/" in example  # the package's copy
        plan = installed.run(
            "--endpoint-url", f"http://127.0.0.1:{port}", "plan", "-f", example, "--detailed-exitcode"
        )
        assert plan.returncode == 2, plan.stdout[-2000:] + plan.stderr[-2000:]  # everything to create
        assert "Plan: " in plan.stdout and " to add" in plan.stdout
    finally:
        process.terminate()
        process.wait(timeout=30)
