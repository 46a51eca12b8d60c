"""Shared test settings: Hypothesis profiles, and where the plain helpers live.

`make test` runs with HYPOTHESIS_PROFILE=ci: derandomized, so every CI run
draws the same examples. `make fuzz` uses the long `fuzz` profile.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60)
settings.register_profile(
    "fuzz", deadline=None, max_examples=3000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# --import-mode=importlib puts no test directory on sys.path: the helper
# modules in tests/support (fake_support, standalone_support) are imported by
# name from the tests of every package.
SUPPORT = str(Path(__file__).parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)
