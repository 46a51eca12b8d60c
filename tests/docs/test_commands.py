"""Every command line the docs and the README show is one the commands accept.

The lines come from tests/docs/commands.sh (cut into the pages by
pymdownx.snippets) and from the README's `sh` blocks; each `planasonix-mock` or
`planasonix-contract` command among them is parsed by the parser its console
script builds (found through pyproject.toml, as the CLI reference page is).
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from types import ModuleType

import pytest

from .conftest import ROOT

SCRIPTS = ("planasonix-mock", "planasonix-contract")


def command_lines(text: str) -> list[list[str]]:
    """Each documented command as argv, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands: list[list[str]] = []
    for line in joined.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        # Leading VAR=value assignments and a .venv/bin/ path are not the command.
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
            words.pop(0)
        if words and Path(words[0]).name in SCRIPTS:
            commands.append([Path(words[0]).name, *words[1:]])
    return commands


def readme_shell_blocks() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```(?:sh|bash|console)\n(.*?)```", readme, flags=re.S))


DOCUMENTED = command_lines((ROOT / "tests" / "docs" / "commands.sh").read_text(encoding="utf-8"))
DOCUMENTED += command_lines(readme_shell_blocks())


def test_the_docs_show_commands_of_both_scripts() -> None:
    assert {argv[0] for argv in DOCUMENTED} == set(SCRIPTS)


@pytest.mark.parametrize("argv", DOCUMENTED, ids=lambda argv: " ".join(argv)[:60])
def test_each_documented_command_parses(argv: list[str], docs_reference: ModuleType) -> None:
    parser: argparse.ArgumentParser = docs_reference.script_parser(argv[0])
    parser.parse_args(argv[1:])  # argparse exits (SystemExit 2) on a flag it does not take


def test_a_flag_the_commands_do_not_take_fails(docs_reference: ModuleType) -> None:
    parser = docs_reference.script_parser("planasonix-mock")
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--no-such-flag"])


def test_command_lines_joins_continuations_and_drops_comments() -> None:
    text = "A=1 .venv/bin/planasonix-mock serve \\\n  --port 0  # free port\nmake serve\n"
    assert command_lines(text) == [["planasonix-mock", "serve", "--port", "0"]]
