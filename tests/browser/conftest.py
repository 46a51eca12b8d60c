"""Browser tests: headless Chromium against a running fake (`make browser-test`).

Everything here is marked `browser` and skipped when no Chromium is found;
`make test` deselects the marker, so these never run there.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# --import-mode=importlib puts no test directory on sys.path: the tests share headless.py.
sys.path.insert(0, str(Path(__file__).parent))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    for item in items:
        if "tests/browser" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            if chromium is None:
                item.add_marker(pytest.mark.skip(reason="chromium is not installed"))
