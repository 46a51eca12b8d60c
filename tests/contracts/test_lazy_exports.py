"""Each package's public names are declared once, in its `__init__.pyi`, and load lazily."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.lazy_exports import attach_stub, stub_exports

PACKAGES = ("contracts", "mockserver", "mockserver.testing")


def stub_of(package: str) -> Path:
    init = importlib.import_module(package).__file__
    assert init is not None
    return Path(init).with_suffix(".pyi")


@pytest.mark.parametrize("package", PACKAGES)
def test_all_is_the_stub_and_every_name_is_the_object_its_module_holds(package: str) -> None:
    module = importlib.import_module(package)
    exports = stub_exports(stub_of(package))
    assert module.__all__ == sorted(exports)
    for name, where in exports.items():
        home = importlib.import_module(where, package)
        assert getattr(module, name) is getattr(home, name), name
        assert name in dir(module)


@pytest.mark.parametrize("package", PACKAGES)
def test_an_unknown_name_is_an_attribute_error(package: str) -> None:
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        _ = importlib.import_module(package).nope


@pytest.mark.parametrize(
    ("package", "heavy"),
    [
        ("contracts", ("contracts.registry", "jsonschema")),
        ("mockserver", ("flask", "mockserver.store", "jsonschema")),
        ("mockserver.testing", ("flask", "mockserver.testing.fake")),
    ],
)
def test_importing_a_package_loads_none_of_its_modules(
    package: str, heavy: tuple[str, ...]
) -> None:
    code = f"import sys, {package}; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_only_explicit_re_exports_count(tmp_path: Path) -> None:
    stub = tmp_path / "__init__.pyi"
    stub.write_text(
        "from typing import Any\n"
        "import os as os\n"
        "from .a import One as One, helper\n"
        "from .b import Two as Two\n"
        "from pkg.c import Three as Three\n"
        "from .d import Four as Renamed\n"
        "__all__: list[str]\n",
        encoding="utf-8",
    )
    assert stub_exports(stub) == {"One": ".a", "Two": ".b", "Three": "pkg.c"}


def test_a_loaded_name_is_kept_on_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "lazy_demo_pkg"
    package.mkdir()
    (package / "__init__.pyi").write_text("from .inner import VALUE as VALUE\n", encoding="utf-8")
    (package / "__init__.py").write_text(
        "from contracts.lazy_exports import attach_stub\n"
        "__getattr__, __dir__, __all__ = attach_stub(__name__, __file__)\n",
        encoding="utf-8",
    )
    (package / "inner.py").write_text("VALUE = object()\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    demo = importlib.import_module("lazy_demo_pkg")
    try:
        assert "lazy_demo_pkg.inner" not in sys.modules
        first = demo.VALUE
        assert "lazy_demo_pkg.inner" in sys.modules and vars(demo)["VALUE"] is first
        assert demo.__all__ == ["VALUE"]
    finally:
        for name in ("lazy_demo_pkg", "lazy_demo_pkg.inner"):
            sys.modules.pop(name, None)


def test_attach_stub_needs_the_stub_beside_the_package(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        attach_stub("nowhere", str(tmp_path / "__init__.py"))


def test_the_stubs_ship_with_the_packages() -> None:
    import tomllib

    root = Path(__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = data["tool"]["setuptools"]["package-data"]
    for package in PACKAGES:
        top, _, rest = package.partition(".")
        pattern = f"{rest.replace('.', '/')}/*.pyi" if rest else "*.pyi"
        assert pattern in shipped[top], package
