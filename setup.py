"""Build hook: copy the example stack into the package, so an installed wheel can run `demo`,
`emulator` and `docs` without the repository. Everything else is in pyproject.toml."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _bundled() -> ModuleType:
    """pacs_reconcile/bundled.py, which names what is copied (read without importing the package)."""
    spec = importlib.util.spec_from_file_location("_bundled", ROOT / "src" / "pacs_reconcile" / "bundled.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithExample(build_py):
    def run(self) -> None:
        super().run()
        bundled = _bundled()
        target = Path(self.build_lib) / "pacs_reconcile" / bundled.EXAMPLE_DIR
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in bundled.EXAMPLE_FILES:
            shutil.copy2(ROOT / name, target / name)
        for folder in bundled.EXAMPLE_FOLDERS:
            shutil.copytree(
                ROOT / folder,
                target / folder,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithExample})
