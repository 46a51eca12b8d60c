"""Run every benchmark script in this folder (`make bench`); never part of `make test`.

Each `bench_*.py` has a `main()` that measures its own baseline in the same run
and prints ratios, so results compare across machines.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    for path in sorted(here.glob("bench_*.py")):
        print(f"== {path.stem}", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
