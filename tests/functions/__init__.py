"""Tests of the Lambda functions' own code (functions/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def load_function(folder: str) -> ModuleType:
    """A function's index.py as Lambda loads it (a file, not part of any package)."""
    spec = importlib.util.spec_from_file_location(f"{folder}_index", FUNCTIONS / folder / "index.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module
