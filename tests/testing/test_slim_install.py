"""The base install is the fake, its server and its fixtures; the kit needs `[kit]`.

Cheap in-suite checks; `make install-check` does the real fresh-venv install.
- pyproject: the base dependencies exclude the kit's Hypothesis and schemathesis.
- Importing both pytest plugins imports neither (nor the kit's own modules).
- With those two made unimportable, the fake, its fixtures and `--seed demo` still work.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KIT_ONLY = ("hypothesis", "schemathesis")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;@]", r, maxsplit=1)[0].lower() for r in requirements}


def test_base_dependencies_exclude_the_kit() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = _names(project["dependencies"])
    assert not base & set(KIT_ONLY)
    extras = project["optional-dependencies"]
    assert set(KIT_ONLY) <= _names(extras["kit"])
    assert {"httpx", "respx"} <= _names(extras["httpx"])
    # The fixtures and the server are the base install.
    assert {"flask", "waitress", "requests", "responses", "pytest"} <= base


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_plugins_import_nothing_of_the_kit() -> None:
    done = _python(
        "import sys\n"
        "import mockserver.testing.pytest_plugin, contracts.kit.cli.pytest_plugin\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{KIT_ONLY!r} or (m.startswith('contracts.kit.') and not m.endswith('pytest_plugin')"
        " and m != 'contracts.kit.cli')"
        " or m in ('flask', 'werkzeug', 'responses', 'httpx', 'respx'))\n"
        "print(heavy)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# A finder that refuses the kit's dependencies: this interpreter behaves as a base install.
BLOCK = f"""
import sys
class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {KIT_ONLY!r}:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, _Refuse())
"""


def test_fake_fixtures_and_demo_seed_work_without_the_kit(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(
        "def test_fake(planasonix_fake):\n"
        "    planasonix_fake.faults.add(status=503, times=1)\n"
        "    url, h = planasonix_fake.url + '/api/credentials', planasonix_fake.auth_headers\n"
        "    assert planasonix_fake.session.get(url, headers=h).status_code == 503\n"
        "    assert planasonix_fake.session.get(url, headers=h).status_code == 200\n",
        encoding="utf-8",
    )
    done = _python(
        BLOCK
        + "import pytest\n"
        + "from mockserver.standalone.cli import build_parser\n"
        + "seed = build_parser().parse_args(['serve', '--seed', 'demo']).seed\n"
        + "print(seed)\n"
        + "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'no:hypothesispytest', "
        + f"'-p', 'no:schemathesis', '--rootdir', {str(tmp_path)!r}, {str(tmp_path)!r}]))\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    seed = Path(done.stdout.splitlines()[0])
    assert seed.name == "demo.json" and seed.parent.name == "data"
    assert "1 passed" in done.stdout


def test_packaged_demo_data_is_the_fixtures_file() -> None:
    """One source: fixtures/demo.json (used by the docs and tests) equals the shipped copy."""
    shipped = json.loads((ROOT / "mockserver" / "data" / "demo.json").read_text("utf-8"))
    checkout = json.loads((ROOT / "fixtures" / "demo.json").read_text("utf-8"))
    assert shipped == checkout


def test_contracts_names_load_on_first_use() -> None:
    """`contracts` is imported by the kit's plugin in every pytest run: its names are lazy."""
    import contracts

    # Declared in contracts/__init__.pyi; tests/contracts/test_lazy_exports.py checks it.
    assert contracts.__all__
    for name in contracts.__all__:
        assert getattr(contracts, name) is not None
    done = _python("import sys, contracts; print('contracts.registry' in sys.modules)")
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
