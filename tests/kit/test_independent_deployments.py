"""Deployments written from the published page alone, not from the fake, judged by the kit.

Each valid one must pass ``run`` (with a second workspace's key and a read-only
key) and ``learn`` + ``diff`` with no violation (expectations may be noted);
each one-bug copy must be caught by ``run`` alone, by the check that owns the
rule. ``make test`` runs one seed; ``make kit-soak`` (KIT_SOAK=1) runs three.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, redirect_stdout
from pathlib import Path

import pytest
from deployments import fastapi_app, problem_json

from contracts.kit.cli.main import main
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS

Serve = Callable[[str | None], AbstractContextManager[str]]
DEPLOYMENTS: dict[str, Serve] = {
    "problem+json, 410 for deleted ids": problem_json.serve,
    "FastAPI, 422 detail bodies": fastapi_app.serve,
}
KEYS = ["--api-key", "plnx_ind_a"]
OTHERS = ["--second-api-key", "plnx_ind_b", "--read-only-api-key", "plnx_ind_ro"]
SEEDS = [1, 2, 3] if os.environ.get("KIT_SOAK") else [1]


def _kit(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def _violations(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("VIOLATION ")]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_a_valid_independent_deployment_passes_run(name: str, seed: int) -> None:
    with DEPLOYMENTS[name](None) as url:
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "3", "--seed", str(seed)
        )
    assert (code, _violations(text)) == (EXIT_OK, [])


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_a_valid_independent_deployment_diffs_clean_against_its_own_profile(
    name: str, seed: int, tmp_path: Path
) -> None:
    profile = tmp_path / "profile.json"
    with DEPLOYMENTS[name](None) as url:
        learned, learn_text = _kit(
            "learn", "--base-url", url, *KEYS, "--seed", str(seed), "--output", str(profile)
        )
        assert learned == EXIT_OK, learn_text
        code, text = _kit(
            "diff", "--base-url", url, *KEYS, "--seed", str(seed), "--profile", str(profile)
        )
    assert code == EXIT_OK, text


BUGS = [("leak", "secret-non-echo"), ("isolation", "auth-isolation"), ("lifecycle", "lifecycle")]
BUG_CASES = [(name, bug, check) for name in sorted(DEPLOYMENTS) for bug, check in BUGS]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "bug", "check"), BUG_CASES)
def test_a_one_bug_copy_is_caught_by_run(name: str, bug: str, check: str) -> None:
    with DEPLOYMENTS[name](bug) as url:
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "3", "--seed", "1"
        )
    assert code == EXIT_VIOLATIONS, text[-2000:]
    assert any(f"VIOLATION [{check}]" in line for line in _violations(text)), _violations(text)
