"""The `planasonix-contract` console script: a clear message when the kit's extra is missing.

A base install (`pip install planasonix-credentials-fake`) ships this command
too, but not the kit's dependencies; without this guard it would die with a
ModuleNotFoundError traceback instead of saying what to install.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence

KIT_REQUIREMENTS = ("hypothesis", "schemathesis")
INSTALL_HINT = "pip install 'planasonix-credentials-fake[kit]'"


def missing_requirements() -> list[str]:
    return [name for name in KIT_REQUIREMENTS if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None) -> int:
    missing = missing_requirements()
    if missing:
        print(
            f"planasonix-contract: the contract kit needs {', '.join(missing)}, "
            f"which come with the kit extra: {INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2
    from contracts.kit.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
