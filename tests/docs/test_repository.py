"""Repository rules a user would trip over, checked on the files themselves.

- Nothing shipped cites the project's internal design notes: users have the
  published API page and these docs, not the notes, so no package file, page
  or README may say "SPEC" or use a "§" section number.
- Every path a Makefile target names exists (a target that runs a missing
  test file fails only when someone finally runs it).
- The README stays a short front door (the docs site holds the rest).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT

SHIPPED_DIRS = ("contracts", "mockserver", "docs")
SHIPPED_FILES = ("README.md", "mkdocs.yml", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".pyi", ".json", ".yaml", ".yml", ".md", ".html", ".js", ".css", ".txt"}
INTERNAL_MARKERS = ("SPEC", "§")
README_MAX_LINES = 150


def shipped_files() -> Iterator[Path]:
    for folder in SHIPPED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            text_file = path.suffix in TEXT_SUFFIXES or "static" in path.parts
            if path.is_file() and "__pycache__" not in path.parts and text_file:
                yield path
    for name in SHIPPED_FILES:
        yield ROOT / name


def internal_references(text: str) -> list[str]:
    """Each line of `text` that cites the internal notes, with its number."""
    return [
        f"{number}: {line.strip()[:120]}"
        for number, line in enumerate(text.splitlines(), start=1)
        if any(marker in line for marker in INTERNAL_MARKERS)
    ]


def test_the_scan_covers_code_schemas_static_files_and_docs() -> None:
    scanned = {path.relative_to(ROOT).as_posix() for path in shipped_files()}
    assert "README.md" in scanned
    assert "contracts/openapi.yaml" in scanned
    assert "contracts/schemas/credential.json" in scanned
    assert "docs/behaviour.md" in scanned
    assert any(name.startswith("mockserver/standalone/static/") for name in scanned)
    assert any(name.startswith("contracts/kit/") and name.endswith(".py") for name in scanned)


def test_internal_references_are_found() -> None:
    assert internal_references("ok\nsee SPEC.md\n§4 says\nfine") == [
        "2: see SPEC.md",
        "3: §4 says",
    ]


def test_nothing_shipped_cites_the_internal_notes() -> None:
    found = {
        path.relative_to(ROOT).as_posix(): hits
        for path in shipped_files()
        if (hits := internal_references(path.read_text(encoding="utf-8", errors="replace")))
    }
    assert found == {}, "cite the published page or an invariant instead:\n" + "\n".join(
        f"{name}:{hit}" for name, hits in found.items() for hit in hits
    )


# --- the Makefile --------------------------------------------------------------

PATH_PATTERN = re.compile(
    r"(?<![\w/.-])((?:tests|benchmarks|tools|contracts|mockserver|docs|fixtures)/[\w/.-]*\w)"
)


def recipe_paths(makefile: str) -> list[str]:
    """Repository paths named in the recipes (tab-indented lines) of a Makefile."""
    text = makefile.replace("\\\n", " ")
    return [
        match
        for line in text.splitlines()
        if line.startswith("\t")
        for match in PATH_PATTERN.findall(line)
    ]


def test_recipe_paths_finds_paths_across_continuation_lines() -> None:
    makefile = "fuzz:\n\tpytest a \\\n\t\ttests/x/test_y.py tools/z.py\n# tests/not_a_recipe.py\n"
    assert recipe_paths(makefile) == ["tests/x/test_y.py", "tools/z.py"]


def test_every_path_a_make_target_names_exists() -> None:
    named = recipe_paths((ROOT / "Makefile").read_text(encoding="utf-8"))
    assert "tests/kit/test_soak.py" in named  # the scan sees the recipes at all
    missing = sorted({path for path in named if not (ROOT / path).exists()})
    assert missing == []


# --- the README ----------------------------------------------------------------


def test_the_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


@pytest.mark.parametrize("needed", ["make test", "make serve", "make docs"])
def test_the_readme_names_the_make_commands(needed: str) -> None:
    # .ci/run calls `make test`: the README must keep saying it is the test command.
    assert needed in (ROOT / "README.md").read_text(encoding="utf-8")
