"""`mockserver.testing`'s public names load lazily and all resolve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mockserver.testing
from contracts.lazy_exports import stub_exports


def test_every_public_name_resolves() -> None:
    assert mockserver.testing.__all__ == sorted(
        stub_exports(Path(mockserver.testing.__file__).with_suffix(".pyi"))
    )
    for name in mockserver.testing.__all__:
        assert getattr(mockserver.testing, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mockserver.testing.nope


def test_importing_the_package_imports_no_fake() -> None:
    code = "import sys, mockserver.testing; print('mockserver.testing.fake' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
