"""The reference pages say what the code does.

The generated pages (tools/docs_reference.py) must name every command, flag,
config field and secret; the hand-written settings pages must name every
pytest option and ini setting the two plugins register, and every profile
setting.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

import contracts
from contracts.profile import setting_names

from .conftest import ROOT


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _parsers(sub)
    return found


@pytest.mark.parametrize("script", ["planasonix-mock", "planasonix-contract"])
def test_the_cli_page_names_every_command_and_flag(script: str, docs_reference: ModuleType) -> None:
    page = docs_reference.cli_reference()
    for parser in _parsers(docs_reference.script_parser(script)):
        assert f"`{parser.prog}`" in page
        for action in parser._actions:
            for flag in action.option_strings:
                if action.help != argparse.SUPPRESS and flag not in ("-h", "--help"):
                    assert f"`{flag}" in page, (parser.prog, flag)


def test_the_cli_page_follows_the_console_scripts_of_pyproject(
    docs_reference: ModuleType,
) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert docs_reference.console_scripts() == scripts
    assert set(docs_reference.CONSOLE_SCRIPTS) == set(scripts)


def test_the_config_fields_page_marks_exactly_the_secret_fields(
    docs_reference: ModuleType,
) -> None:
    page = docs_reference.config_fields_reference()
    sections = page.split("\n## ")[1:]
    assert [section.split("`")[1] for section in sections] == list(contracts.CREDENTIAL_TYPES)
    for type_, section in zip(contracts.CREDENTIAL_TYPES, sections, strict=True):
        rows = {line.split("`")[1]: line for line in section.splitlines() if line.startswith("| `")}
        secret = {".".join(path) for path in contracts.secret_paths(type_)}
        public = {".".join(path) for path in contracts.public_paths(type_)}
        assert secret | public <= set(rows), type_
        assert {name for name, row in rows.items() if "**secret**" in row} == secret, type_
        for name in contracts.required_fields(type_):
            assert rows[name].split("|")[3].strip() == "yes", (type_, name)


def test_the_openapi_page_lists_every_operation(docs_reference: ModuleType) -> None:
    page = docs_reference.openapi_reference()
    document = contracts.openapi_document()
    for path, item in document["paths"].items():
        if path.startswith("/api/"):
            for method in item:
                if method in ("get", "post", "put", "delete"):
                    assert f"| `{method.upper()}` | `{path}` |" in page


def _plugin_settings(pytester: pytest.Pytester) -> set[str]:
    """Every option and ini name the package's pytest plugins register, from `--help`."""
    help_text = "\n".join(pytester.runpytest_inprocess("--help", "-p", "no:xdist").outlines)
    options = set(re.findall(r"(--(?:planasonix|contract)[-\w]*)", help_text))
    ini = set(re.findall(r"^\s+(planasonix_\w+) \(\w+\):", help_text, flags=re.M))
    return options | ini


def test_the_settings_page_names_every_pytest_option_and_ini_setting(
    pytester: pytest.Pytester,
) -> None:
    page = (ROOT / "docs" / "reference" / "settings.md").read_text(encoding="utf-8")
    names = _plugin_settings(pytester)
    assert {"--planasonix-seed", "planasonix_hosts", "--contract-base-url"} <= names
    assert sorted(name for name in names if f"`{name}" not in page) == []


def test_the_journal_table_names_every_record_field() -> None:
    from mockserver.journal import JournalRecord

    page = (ROOT / "docs" / "guides" / "pytest-fixtures.md").read_text(encoding="utf-8")
    table = page[page.index("## The journal") :]
    for field in dataclasses.fields(JournalRecord):
        assert f"| `{field.name}` |" in table, field.name


def test_the_profiles_page_documents_every_setting() -> None:
    page = (ROOT / "docs" / "guides" / "profiles.md").read_text(encoding="utf-8")
    table = page[page.index("## Profile settings") :]
    for name in setting_names():
        assert f"| `{name}` |" in table, name


@pytest.mark.parametrize("source", ["tests/docs/test_examples.py", "tests/docs/commands.sh"])
def test_every_example_section_is_shown_on_a_page(source: str) -> None:
    sections = re.findall(r"--8<-- \[start:(\w+)\]", (ROOT / source).read_text(encoding="utf-8"))
    pages = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "docs").rglob("*.md"))
    assert sections
    assert [name for name in sections if f'--8<-- "{source}:{name}"' not in pages] == []


def test_the_kit_page_describes_every_check() -> None:
    from contracts.kit.violations import CHECKS

    page = (ROOT / "docs" / "guides" / "contract-kit.md").read_text(encoding="utf-8")
    table = page[page.index("## The checks") :]
    assert len(CHECKS) >= 10
    assert [name for name in CHECKS if f"| `{name}` |" not in table] == []


def test_the_cli_page_finds_a_parser_wherever_the_entry_point_builds_it(
    docs_reference: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A console script whose parser is built in another module, inside main():
    # the page follows pyproject's entry point, not a module path of its own.
    (tmp_path / "moved_parser.py").write_text(
        "import argparse\n"
        "def build():\n"
        "    parser = argparse.ArgumentParser(description='moved')\n"
        "    sub = parser.add_subparsers(dest='command')\n"
        "    sub.add_parser('go', help='go somewhere').add_argument('--far', help='how far')\n"
        "    return parser\n"
    )
    (tmp_path / "moved_entry.py").write_text(
        "import moved_parser\ndef main(argv=None):\n    moved_parser.build().parse_args(argv)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(docs_reference, "console_scripts", lambda: {"moved": "moved_entry:main"})
    parser = docs_reference.script_parser("moved")
    assert parser.description == "moved"
    monkeypatch.setattr(docs_reference, "CONSOLE_SCRIPTS", ("moved",))
    page = docs_reference.cli_reference()
    assert "### `moved go`" in page
    assert "| `--far FAR` |  | how far |" in page
