"""Deployments written from the published page alone, not from the fake, judged by the kit.

Each valid one must pass ``run`` (with a second workspace's key and a read-only
key), ``learn`` + ``diff``, and the kit's run through the validating proxy with
no violation (expectations may be noted); each one-bug copy must be caught by
``run`` alone, by the check that owns the rule. The ``/v1``-only deployment is
given both as ``http://host:port`` and as ``http://host:port/v1``. ``make test``
runs one seed; ``make kit-soak`` (KIT_SOAK=1) runs three. The Express deployment
(Node) is judged the same way in ``make ecosystem-check``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, redirect_stdout
from pathlib import Path

import pytest
import requests
from deployments import fastapi_app, problem_json, starlette_edge, v1_only

from contracts.kit.cli.main import main
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.proxy import watching

Serve = Callable[[str | None], AbstractContextManager[str]]
V1_ONLY = "Flask + SQLite, /v1 only, JSON:API errors"
DEPLOYMENTS: dict[str, Serve] = {
    "problem+json, 410 for deleted ids": problem_json.serve,
    "FastAPI, 422 detail bodies": fastapi_app.serve,
    V1_ONLY: v1_only.serve,
    "Starlette behind an edge proxy, ids of its own shape": starlette_edge.serve,
}
# (deployment, what the base URL given to the kit adds to http://host:port)
TARGETS = [(name, "") for name in sorted(DEPLOYMENTS)] + [(V1_ONLY, "/v1")]
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
@pytest.mark.parametrize(("name", "suffix"), TARGETS)
def test_a_valid_independent_deployment_passes_run(name: str, suffix: str, seed: int) -> None:
    with DEPLOYMENTS[name](None) as base:
        url = base + suffix
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "3", "--seed", str(seed)
        )
    assert (code, _violations(text)) == (EXIT_OK, [])
    if name == V1_ONLY:
        # Checked where it is served, under the path it is served at, and the
        # legacy header it refuses is an expectation, not a violation.
        assert "path prefixes served and checked: /v1/api\n" in text
        assert "X-Planasonix-Api-Key answered 401: the legacy header is not accepted" in text
        assert "source: expectation (legacy_header)" in text
        assert "operations   100.0%" in text


def test_the_v1_only_deployment_serves_v1_only_and_refuses_the_legacy_header() -> None:
    """What the test above relies on: the deployment really takes those readings."""
    with v1_only.serve() as url:
        bearer = {"Authorization": "Bearer plnx_ind_a"}
        assert requests.get(f"{url}/v1/api/credentials", headers=bearer).status_code == 200
        assert requests.get(f"{url}/api/credentials", headers=bearer).status_code == 404
        legacy = {"X-Planasonix-Api-Key": "plnx_ind_a"}
        refused = requests.get(f"{url}/v1/api/credentials", headers=legacy)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["status"] == "401"


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("name", "suffix"), TARGETS)
def test_a_valid_independent_deployment_diffs_clean_against_its_own_profile(
    name: str, suffix: str, seed: int, tmp_path: Path
) -> None:
    profile = tmp_path / "profile.json"
    with DEPLOYMENTS[name](None) as base:
        url = base + suffix
        learned, learn_text = _kit(
            "learn", "--base-url", url, *KEYS, "--seed", str(seed), "--output", str(profile)
        )
        assert learned == EXIT_OK, learn_text
        code, text = _kit(
            "diff", "--base-url", url, *KEYS, "--seed", str(seed), "--profile", str(profile)
        )
    assert code == EXIT_OK, text


# A bug, and the checks that own its rule: a created_at that moves on restore is
# the lifecycle model's and the timestamps check's (whichever walks it first).
BUGS = [
    ("leak", ("secret-non-echo",)),
    ("isolation", ("auth-isolation",)),
    ("lifecycle", ("lifecycle", "timestamps")),
]
BUG_CASES = [(name, bug, checks) for name in sorted(DEPLOYMENTS) for bug, checks in BUGS]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "bug", "checks"), BUG_CASES)
def test_a_one_bug_copy_is_caught_by_run(name: str, bug: str, checks: tuple[str, ...]) -> None:
    # --no-shrink: that run catches it is the point, not how short its sequence gets.
    with DEPLOYMENTS[name](bug) as url:
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "3", "--seed", "1",
            "--no-shrink",
        )  # fmt: skip
    found = _violations(text)
    assert code == EXIT_VIOLATIONS, text[-2000:]
    assert any(f"VIOLATION [{check}]" in line for line in found for check in checks), found


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_the_kit_through_the_proxy_in_front_of_a_valid_deployment_raises_nothing(
    name: str, seed: int
) -> None:
    judge, printed = Judge(), io.StringIO()
    with DEPLOYMENTS[name](None) as upstream, watching(upstream, judge, out=printed) as url:
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "2", "--seed", str(seed)
        )
    assert (code, _violations(text)) == (EXIT_OK, [])
    assert judge.violations == [], printed.getvalue()
    assert judge.api_calls > 100  # the proxy saw the run, not a handful of calls


@pytest.mark.slow
def test_a_workspace_leak_and_a_secret_in_a_409_are_both_reported_in_one_run() -> None:
    """JSON:API error bodies (not the fake's shape) hide neither bug behind the other."""
    with v1_only.serve("isolation,conflict_leak") as url:
        code, text = _kit(
            "run", "--base-url", url, *KEYS, *OTHERS, "--max-examples", "3", "--seed", "1"
        )
    found = _violations(text)
    assert code == EXIT_VIOLATIONS
    assert any("[auth-isolation]" in v and "another workspace's id" in v for v in found), found
    assert any("[secret-non-echo]" in v and "answered 409" in v for v in found), found
