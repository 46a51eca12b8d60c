"""`mockserver.testing`'s public names load lazily and all resolve."""

from __future__ import annotations

import subprocess
import sys

import pytest

import mockserver.testing


def test_every_public_name_resolves() -> None:
    assert set(mockserver.testing.__all__) == set(mockserver.testing._EXPORTS)
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
