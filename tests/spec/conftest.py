"""Spec tests run from the spec's folder (tmp_path/stack, where make_spec writes it)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def in_the_spec_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnostics name files relative to the current directory: run from the spec's folder, as its
    author would, so files are named as the spec's include patterns name them."""
    folder = tmp_path / "stack"
    folder.mkdir(exist_ok=True)
    monkeypatch.chdir(folder)
