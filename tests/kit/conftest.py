"""Puts this folder on sys.path: the kit's tests share alt_server and broken_variants."""

from __future__ import annotations

import sys
from pathlib import Path

# --import-mode=importlib puts no test directory on sys.path.
sys.path.insert(0, str(Path(__file__).parent))
