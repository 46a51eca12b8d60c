"""The package's public names load lazily and all resolve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mockserver
from contracts.lazy_exports import stub_exports


def test_every_public_name_resolves() -> None:
    assert mockserver.__all__ == sorted(stub_exports(Path(mockserver.__file__).with_suffix(".pyi")))
    for name in mockserver.__all__:
        assert getattr(mockserver, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mockserver.nope  # type: ignore[attr-defined]


def test_loading_the_pytest_plugin_does_not_import_flask() -> None:
    code = "import sys, mockserver.testing.pytest_plugin; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
