"""The cache of parsed botocore models (aws_models.ModelFiles): read back only when it matches its
source to the last field, written whole or not at all, and never a reason for a run to fail."""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

import botocore
import pytest

from pacs_reconcile import aws_models
from pacs_reconcile.aws_models import CACHE_OFF_VARIABLE, ModelFiles, model_cache_directory
from pacs_reconcile.aws_operations import OPERATIONS

LOGS_API = os.path.join(os.path.dirname(botocore.__file__), "data", "logs", "2014-03-28", "service-2")
WHOLE_API = os.path.join(os.path.dirname(botocore.__file__), "data", "codebuild", "2016-10-06", "service-2")
"""The API model of a service the tool makes no client of: kept whole."""


def _source(tmp_path: Path, content: dict[str, Any], gzipped: bool = False) -> str:
    """A model file as botocore's data folder has them; returns its path without the extension."""
    stem = tmp_path / "data" / "svc" / "2020-01-01" / "service-2"
    stem.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(content).encode()
    if gzipped:
        stem.with_suffix(".json.gz").write_bytes(gzip.compress(data))
    else:
        stem.with_suffix(".json").write_bytes(data)
    return str(stem)


def _cache_files(directory: Path) -> list[str]:
    return sorted(os.listdir(directory)) if directory.exists() else []


def test_a_model_read_back_is_the_parsed_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parsed = ModelFiles(None).load_file(LOGS_API)
    assert ModelFiles(str(tmp_path)).load_file(LOGS_API) == parsed  # parsed and kept
    monkeypatch.setattr(aws_models.json, "loads", None)  # any parse now fails
    again = ModelFiles(str(tmp_path)).load_file(LOGS_API)
    assert again == parsed
    assert list(again["shapes"]) == list(parsed["shapes"])  # the file's order too


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_changed_source_is_parsed_again(tmp_path: Path, gzipped: bool) -> None:
    """Same size, one nanosecond apart; and a new size with the old modification time."""
    cache = str(tmp_path / "cache")
    source = _source(tmp_path, {"version": 1}, gzipped)
    file = source + (".json.gz" if gzipped else ".json")
    assert ModelFiles(cache).load_file(source) == {"version": 1}
    status = os.stat(file)
    _source(tmp_path, {"version": 2}, gzipped)
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    assert os.stat(file).st_size == status.st_size
    assert ModelFiles(cache).load_file(source) == {"version": 2}
    _source(tmp_path, {"version": 300}, gzipped)
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    assert ModelFiles(cache).load_file(source) == {"version": 300}


def test_a_source_moved_elsewhere_is_not_taken_for_another(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    first = _source(tmp_path / "a", {"which": "a"})
    second = _source(tmp_path / "b", {"which": "b"})
    os.utime(second + ".json", ns=(0, os.stat(first + ".json").st_mtime_ns))
    assert ModelFiles(cache).load_file(first) == {"which": "a"}
    assert ModelFiles(cache).load_file(second) == {"which": "b"}


def test_each_botocore_version_and_python_has_its_own_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(CACHE_OFF_VARIABLE, raising=False)
    now = model_cache_directory()
    assert now is not None and botocore.__version__ in now and sys.implementation.cache_tag in now
    monkeypatch.setattr(botocore, "__version__", "1.0.0")
    assert model_cache_directory() not in (None, now)


def test_a_model_made_another_way_is_not_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(CACHE_OFF_VARIABLE, raising=False)
    now = model_cache_directory()
    monkeypatch.setattr(aws_models, "CACHE_FORMAT", aws_models.CACHE_FORMAT + 1)
    assert model_cache_directory() not in (None, now)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"\x00garbage" + data[8:], id="overwritten"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\xe9" + data[1:], id="another-format"),
    ],
)
def test_a_damaged_cache_file_is_parsed_from_the_json_and_written_again(
    tmp_path: Path, damage: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    source = _source(tmp_path, {"shapes": {"A": {"type": "string"}}})
    ModelFiles(str(cache)).load_file(source)
    (kept,) = _cache_files(cache)
    (cache / kept).write_bytes(damage((cache / kept).read_bytes()))
    assert ModelFiles(str(cache)).load_file(source) == {"shapes": {"A": {"type": "string"}}}
    monkeypatch.setattr(aws_models.json, "loads", None)
    assert ModelFiles(str(cache)).load_file(source) == {"shapes": {"A": {"type": "string"}}}


def test_a_cache_file_of_another_layout_is_not_used(tmp_path: Path) -> None:
    """What another version of this tool might have written there: marshal data, another shape."""
    import marshal

    cache = tmp_path / "cache"
    source = _source(tmp_path, {"right": True})
    ModelFiles(str(cache)).load_file(source)
    (kept,) = _cache_files(cache)
    (cache / kept).write_bytes(marshal.dumps({"right": False}))
    assert ModelFiles(str(cache)).load_file(source) == {"right": True}


@pytest.mark.parametrize("where", ["under-a-file", "rename-refused"])
def test_a_cache_that_cannot_be_written_changes_nothing(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only or full disk, a home that is not a folder: the model comes from its JSON, no
    error, and no half-written file is left behind."""
    source = _source(tmp_path, {"ok": 1})
    if where == "under-a-file":
        (tmp_path / "home").write_text("not a folder")
        cache = tmp_path / "home" / "cache"
    else:
        cache = tmp_path / "cache"

        def refuse(*_: Any) -> None:
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr(aws_models.os, "replace", refuse)
    assert ModelFiles(str(cache)).load_file(source) == {"ok": 1}
    assert ModelFiles(str(cache)).load_file(source) == {"ok": 1}
    assert _cache_files(cache) == [] if where == "rename-refused" else not cache.exists()


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(CACHE_OFF_VARIABLE, "1")
    assert model_cache_directory() is None
    monkeypatch.setattr(aws_models, "_shared", {})
    aws_models.shared_loader(None).load_service_model("sts", "service-2")
    assert list(tmp_path.iterdir()) == []


def test_the_cache_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_OFF_VARIABLE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    home_cache = str(tmp_path / "home" / ".cache" / "pacs-reconcile") + os.sep
    assert str(model_cache_directory()).startswith(str(tmp_path / "xdg" / "pacs-reconcile") + os.sep)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # invalid by the spec: ignored
    assert str(model_cache_directory()).startswith(home_cache)
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert str(model_cache_directory()).startswith(home_cache)


def test_method_names_read_back_are_botocores_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "codebuild" not in OPERATIONS
    ModelFiles(str(tmp_path)).load_file(WHOLE_API)
    warmed: dict[tuple[str, str], str] = {}
    monkeypatch.setattr(botocore, "_xform_cache", warmed)
    model = ModelFiles(str(tmp_path)).load_file(WHOLE_API)
    assert len(warmed) == len(model["operations"]) > 50
    assert all(warmed[(name, "_")] == botocore.xform_name(name) for name in model["operations"])


def test_botocore_takes_method_names_from_the_cache_the_loader_fills(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pins botocore/__init__.py: xform_name looks in botocore._xform_cache under (name, sep)."""
    monkeypatch.setitem(botocore._xform_cache, ("PinnedOperationName", "_"), "pinned")
    assert botocore.xform_name("PinnedOperationName") == "pinned"
