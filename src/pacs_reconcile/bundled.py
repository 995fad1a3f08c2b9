"""The example stack and documentation sources shipped inside the package.

`monitoring.yaml`, `specs/`, `functions/`, `configs/`, `docs/examples/` and `schema/` live at the
repository's root, where people edit them; the wheel carries a copy under `pacs_reconcile/example/`
(setup.py's build step), so `demo`, `emulator` and `docs` work from an installed package with no
checkout. In a checkout (an editable install, tests) the repository's own files are used.
"""

from __future__ import annotations

from pathlib import Path

EXAMPLE_DIR = "example"
"""The folder of the package that holds the copy, in a built wheel."""

EXAMPLE_FILES = ("monitoring.yaml",)
EXAMPLE_FOLDERS = ("specs", "functions", "configs", "docs/examples", "schema")
"""What is copied: the spec and everything it reads, plus the sources of the reference pages."""


def example_root() -> Path | None:
    """The folder holding the example monitoring.yaml: the package's copy, else the checkout's."""
    package = Path(__file__).resolve().parent
    for candidate in (package / EXAMPLE_DIR, package.parents[1]):
        if (candidate / "monitoring.yaml").is_file() and (candidate / "specs").is_dir():
            return candidate
    return None


def example_spec() -> Path | None:
    root = example_root()
    return root / "monitoring.yaml" if root else None


def docs_examples() -> Path | None:
    root = example_root()
    return root / "docs" / "examples" if root and (root / "docs" / "examples").is_dir() else None
