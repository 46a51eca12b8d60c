"""A package's public names, declared once in its stub and loaded on first use.

Each package that exports names lazily (`contracts`, `mockserver`,
`mockserver.testing`) lists them in one place: its `__init__.pyi`, as explicit
re-exports (`from .store import CredentialStore as CredentialStore`). Type
checkers read the stub; at run time `attach_stub` reads the same lines and
gives the package its `__all__`, a module `__getattr__` that imports a name's
module on first use, and a `__dir__`. This is the "stub with a lazy loader"
of Scientific Python's lazy-loading convention (the `lazy_loader` package),
in a few lines and without the dependency.

Why lazy: pytest imports these packages (for their plugins) in every run of
an environment that has them installed, and most of those runs never touch
Flask or build the schema registry.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["attach_stub", "stub_exports"]


def stub_exports(stub: str | Path) -> dict[str, str]:
    """Public name -> the module it lives in, read from the stub's re-exports.

    Only `from MODULE import NAME as NAME` counts (the form a type checker
    takes as a re-export); relative modules keep their dots (`.store`).
    """
    tree = ast.parse(Path(stub).read_text(encoding="utf-8"), filename=str(stub))
    exports: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.asname == alias.name:
                exports[alias.name] = module
    return exports


def attach_stub(
    package: str, init_file: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """`__getattr__`, `__dir__` and `__all__` for `package`, from the `__init__.pyi`
    beside `init_file`. Use: `__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)`.
    """
    exports = stub_exports(Path(init_file).with_suffix(".pyi"))
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        # Later lookups find the name in the package and skip this function.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *names})

    return __getattr__, __dir__, names
