"""Files next to the spec that a kind reads while the spec loads (a Lambda function's code folder,
a parameter's value file): a path names something inside the spec's folder, even through links."""

from __future__ import annotations

from pathlib import Path


def followed(path: Path) -> Path | None:
    """`path` made absolute with its symbolic links followed, or None when they lead round in a
    loop: Python 3.11 raises RuntimeError for one, and an OSError (the file system's ELOOP) is
    taken alike."""
    try:
        return path.resolve()
    except (RuntimeError, OSError):
        return None


def inside_spec_folder(base_dir: Path, relative_path: str, field: str, what: str) -> Path:
    """The resolved path `relative_path` names under `base_dir`; ValueError (naming `field` and
    `what` it must be, e.g. "a folder") when it is absolute, climbs with '..' or resolves outside the
    folder (a symbolic link)."""
    relative = Path(relative_path)
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{field}: must be {what} inside the spec's folder (no absolute path, no '..')")
    base = base_dir.resolve()
    resolved = followed(base / relative)
    if resolved is None:
        raise ValueError(f"{field}: {relative_path} is a link that leads round in a loop")
    if not resolved.is_relative_to(base):
        raise ValueError(f"{field}: {relative_path} resolves outside the spec's folder (a symbolic link?)")
    return resolved
