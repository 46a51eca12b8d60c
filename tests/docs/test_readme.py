"""The README's Python quickstart runs as a downstream suite would run it.

Its `python` blocks are written into a fresh pytest project and run there with
the installed plugin (the fixtures need no import); its `sh` blocks are
checked by test_commands.py.
"""

from __future__ import annotations

import re

import pytest

from .conftest import ROOT


def readme_python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", readme, flags=re.S)


def test_the_readme_has_a_python_quickstart() -> None:
    blocks = readme_python_blocks()
    assert blocks
    assert all("def test_" in block for block in blocks)


def test_the_readme_python_quickstart_passes(pytester: pytest.Pytester) -> None:
    blocks = readme_python_blocks()
    pytester.makepyfile(**{f"test_readme_{n}": block for n, block in enumerate(blocks)})
    result = pytester.runpytest_inprocess("-p", "no:xdist", "-q")
    tests = sum(block.count("def test_") for block in blocks)
    result.assert_outcomes(passed=tests)
