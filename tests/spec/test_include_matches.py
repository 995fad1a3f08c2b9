"""Everything an include pattern matches is read, or the spec is invalid: a broken symbolic link,
a directory named like a spec or a special file is never skipped (skipping it would make `plan`
delete everything that file declared)."""

from __future__ import annotations

import os
from pathlib import Path

from .test_loader import group, load, make_spec, problems

INCLUDE = "include: [specs/*.yaml]\n"


def test_a_broken_symlink_is_an_error(tmp_path: Path) -> None:
    path = make_spec(tmp_path, INCLUDE, {"specs/a.yaml": group("a")})
    os.symlink(path.parent / "specs" / "gone.yaml", path.parent / "specs" / "alarms.yaml")
    assert problems(path) == ["monitoring.yaml:4:11: include[0]: specs/alarms.yaml is a broken symbolic link"]


def test_links_that_lead_round_in_a_loop_are_an_error(tmp_path: Path) -> None:
    # Each ended the load as an internal RuntimeError (Symlink loop) when its path was resolved.
    path = make_spec(tmp_path, INCLUDE, {"specs/a.yaml": group("a")})
    os.symlink(path.parent / "specs" / "c.yaml", path.parent / "specs" / "b.yaml")
    os.symlink(path.parent / "specs" / "b.yaml", path.parent / "specs" / "c.yaml")
    assert problems(path) == [
        "monitoring.yaml:4:11: include[0]: specs/b.yaml is a broken symbolic link",
        "monitoring.yaml:4:11: include[0]: specs/c.yaml is a broken symbolic link",
    ]
    os.symlink(path.parent / "root-b.yaml", path.parent / "root-a.yaml")
    os.symlink(path.parent / "root-a.yaml", path.parent / "root-b.yaml")
    assert [line.rsplit("/", 1)[-1] for line in problems(path.parent / "root-a.yaml")] == [
        "root-a.yaml: cannot read file: Too many levels of symbolic links"
    ]


def test_a_directory_named_like_a_spec_is_an_error(tmp_path: Path) -> None:
    path = make_spec(tmp_path, INCLUDE, {"specs/a.yaml": group("a"), "specs/alarms.yaml/x.yaml": group("x")})
    assert problems(path) == [
        "monitoring.yaml:4:11: include[0]: specs/alarms.yaml is a directory, not a spec file"
    ]


def test_a_special_file_is_an_error_and_is_never_opened(tmp_path: Path) -> None:
    path = make_spec(tmp_path, INCLUDE, {"specs/a.yaml": group("a")})
    os.mkfifo(path.parent / "specs" / "pipe.yaml")  # opening it would block forever
    assert problems(path) == ["monitoring.yaml:4:11: include[0]: specs/pipe.yaml is not a regular file"]


def test_every_unreadable_match_is_reported_at_once(tmp_path: Path) -> None:
    path = make_spec(tmp_path, "include: [specs/*.yaml, more/*.yaml]\n", {"specs/a.yaml": group("a")})
    os.symlink(path.parent / "nowhere.yaml", path.parent / "specs" / "b.yaml")
    (path.parent / "more" / "c.yaml").mkdir(parents=True)
    assert problems(path) == [
        "monitoring.yaml:4:11: include[0]: specs/b.yaml is a broken symbolic link",
        "monitoring.yaml:4:25: include[1]: more/c.yaml is a directory, not a spec file",
    ]


def test_regular_files_and_links_to_them_still_load(tmp_path: Path) -> None:
    path = make_spec(tmp_path, INCLUDE, {"specs/a.yaml": group("a"), "other/b.yaml": group("b")})
    os.symlink(path.parent / "other" / "b.yaml", path.parent / "specs" / "b.yaml")
    assert list(load(path).resources) == ["log_groups.a", "log_groups.b"]
