"""Shared by the documentation tests: the repository root and tools/docs_reference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_docs_reference() -> ModuleType:
    """tools/docs_reference.py, which is a script beside the hooks, not a package."""
    name = "docs_reference"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "docs_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def docs_reference() -> ModuleType:
    return load_docs_reference()
