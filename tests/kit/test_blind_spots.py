"""Units behind the checks added for the first kit's blind spots (issue 10).

The checks themselves are proven in test_variants.py: each catches a broken
variant built there, and every valid variant passes them.
"""

from __future__ import annotations

import io
import json
import random
import string
from pathlib import Path

import pytest
from broken_variants import KEY_A, fake_app, served
from hypothesis import given
from hypothesis import strategies as st

from contracts.kit.canaries import (
    EDGE,
    FRAGMENT,
    MARK,
    SHARED,
    SHARED_EDGE,
    CanaryDetector,
    CanaryFactory,
)
from contracts.kit.cli.main import main
from contracts.kit.cli.runner import Runner, write_junit
from contracts.kit.context import KitContext
from contracts.kit.exchange import Exchange
from contracts.kit.statuses import status_problem


@pytest.fixture
def factory() -> CanaryFactory:
    return CanaryFactory(CanaryDetector(), key=b"blind-spots" * 3)


@pytest.mark.parametrize("size", [EDGE, SHARED_EDGE, SHARED_EDGE + 1, FRAGMENT - 1])
@pytest.mark.parametrize("end", ["first", "last"])
def test_a_short_start_or_end_is_a_leak(factory: CanaryFactory, size: int, end: str) -> None:
    canaries = [factory.fresh() for _ in range(5)]
    canary = canaries[3]
    part = canary[:size] if end == "first" else canary[-size:]
    leaks = factory.detector.scan(json.dumps({"config": {"hint": "****" + part}}))
    assert len(leaks) == 1 and "fragment of 6+" in leaks[0].encoding
    holders = [c for c in canaries if c.startswith(part) or c.endswith(part)]
    # A piece only one canary holds names it; the run's shared head and tail name none.
    assert leaks[0].canary_index == (3 if len(holders) == 1 else SHARED)


def test_any_six_characters_of_a_canary_anywhere_are_a_leak(factory: CanaryFactory) -> None:
    """Inside a longer token, in the middle of a word: 6 characters are enough."""
    canary = factory.fresh()
    for start in range(len(canary) - EDGE + 1):
        piece = canary[start : start + EDGE]
        assert factory.detector.scan("x" + piece + "y"), piece
    assert factory.detector.scan(" " + canary[10 : 10 + EDGE - 1] + " ") == []


def test_no_canary_window_occurs_in_a_reserved_text() -> None:
    factory = CanaryFactory(CanaryDetector(), key=b"reserve" * 5)
    first = factory.derive(1)
    # Reserving a text that holds a window of the canary number 1 would hand it out
    # again: the factory draws another one for that number.
    factory.reserve("key-" + first[12:18] + "-suffix")
    again = factory.derive(1)
    assert again != first
    assert first[12:18] not in again
    assert all(MARK in again[i : i + EDGE] for i in range(len(again) - EDGE + 1))


def test_canaries_share_the_run_edges_and_differ_in_the_core(factory: CanaryFactory) -> None:
    a, b = factory.fresh(), factory.fresh()
    assert a[:SHARED_EDGE] == b[:SHARED_EDGE] and a[-SHARED_EDGE:] == b[-SHARED_EDGE:]
    assert a != b
    other_run = CanaryFactory(CanaryDetector()).fresh()
    assert other_run[:SHARED_EDGE] != a[:SHARED_EDGE]


def test_random_tokens_do_not_match_by_chance(factory: CanaryFactory) -> None:
    """The module docstring's bound, seen: 50 000 random tokens of 6-11 characters."""
    for _ in range(300):
        factory.fresh()
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits
    tokens = (
        "".join(rng.choice(alphabet) for _ in range(rng.randint(EDGE, FRAGMENT - 1)))
        for _ in range(50_000)
    )
    assert factory.detector.scan(" ".join(tokens)) == []


@given(st.text(alphabet=string.ascii_letters + string.digits + " -_:/.", max_size=400))
def test_ordinary_text_holds_no_edge(text: str) -> None:
    detector = CanaryDetector()
    factory = CanaryFactory(detector, key=b"k" * 32)
    factory.fresh()
    assert detector.scan(text) == []


def _exchange(method: str, path: str, status: int, **headers: str) -> Exchange:
    return Exchange(1, method, "http://h" + path, {}, None, status, dict(headers))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/credentials", 200),
        ("POST", "/v1/api/credentials", 201),
        ("POST", "/api/credentials", 200),
        ("DELETE", "/api/credentials/cred_x/permanent", 409),
        ("PUT", "/api/credentials/cred_x", 422),
        ("GET", "/api/credentials/cred_x", 503),
        ("GET", "/api/credentials/cred_x", 410),  # a deleted id hidden as gone
        ("GET", "/somewhere/else", 500),  # not a documented route: not judged
    ],
)
def test_documented_statuses_pass(method: str, path: str, status: int) -> None:
    assert status_problem(_exchange(method, path, status)) is None


@pytest.mark.parametrize(
    ("method", "path", "status", "why"),
    [
        ("DELETE", "/api/credentials/cred_x", 204, "no content"),
        ("GET", "/api/credentials", 302, "a redirect to /login"),
        ("POST", "/api/credentials/cred_x/restore", 500, "a server error"),
        ("PUT", "/api/credentials/cred_x", 201, "not list"),
        ("GET", "/v1/api/credentials/cred_x", 418, "not list"),
    ],
)
def test_undocumented_statuses_are_reported(method: str, path: str, status: int, why: str) -> None:
    problem = status_problem(_exchange(method, path, status, Location="/login"))
    assert problem is not None and why in problem


def test_target_fake_provides_a_read_only_key(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    code = main(["run", "--target", "fake", "--check", "scopes", "--report", str(report)])
    data = json.loads(report.read_text())
    assert code == 0, data["findings"]
    (phase,) = data["phases"]
    # Four ways in, each: two setup creates, reads and seven refused writes.
    assert phase["name"] == "scopes" and phase["status"] == "passed" and phase["requests"] > 40


def test_a_rejected_read_only_key_means_the_run_could_not_run() -> None:
    with served(fake_app()) as url:
        ctx = KitContext.build(url, KEY_A, read_only_api_key="plnx_test_not_a_key")
        result = Runner(ctx, out=io.StringIO(), only={"scopes"}).run()
    assert result.exit_code == 2 and "read-only API key was rejected" in result.error


def test_without_the_keys_scopes_is_not_run_and_isolation_says_what_it_left_out(
    tmp_path: Path,
) -> None:
    # Not "passed": a reader of the report must see the checks had nothing to check with.
    with served(fake_app()) as url:
        ctx = KitContext.build(url, KEY_A)
        result = Runner(ctx, out=io.StringIO(), only={"scopes", "auth-isolation"}).run()
    assert result.exit_code == 0, result.findings
    phases = {p.name: p for p in result.phases}
    assert phases["scopes"].status == "not run"
    assert "--read-only-api-key" in phases["scopes"].note
    assert phases["auth-isolation"].status == "passed"
    # What it left out is a probe not run, in every report, never a silent pass.
    assert "auth-isolation: isolation between workspaces: no --second-api-key was given" in (
        result.not_run
    )
    report = tmp_path / "j.xml"
    write_junit(result, report)
    junit = report.read_text()
    assert 'name="scopes"><system-out>' in junit and "<skipped" in junit
    assert 'name="auth-isolation (probes not run)"' in junit


@pytest.mark.parametrize("command", ["run", "learn", "diff"])
def test_a_wrong_key_against_a_v1_only_deployment_is_a_rejected_key(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not "listing answered 404" (the /api it does not serve), and no word about the
    legacy header, which a key that works nowhere cannot tell anything about."""
    from deployments import v1_only

    extra = ["--output", str(tmp_path / "p.json")] if command == "learn" else []
    with v1_only.serve() as url:
        code = main([command, "--base-url", url, "--api-key", "plnx_not_this_key", *extra])
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert code == 2, text
    assert "API key was rejected (401)" in text
    assert "X-Planasonix-Api-Key" not in text and "listing credentials answered 404" not in text
    assert "path prefixes served and checked" not in text
