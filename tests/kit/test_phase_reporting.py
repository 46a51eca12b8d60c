"""Reporting says exactly what ran: never "passed" for a phase that stopped early.

One JUnit ``<failure>`` per test case (a case per finding), a case for the
rest of a phase that a raised finding stopped (``<skipped>``, with why), the
terminal line naming what happened ("failed after 3 of its requests: stopped
by a violation"), checks not part of the run ``<skipped>``; and every start
error of the command line one line and exit 2.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broken_variants import KEY_A, fake_app, served

from contracts.kit.checks import default_phases
from contracts.kit.cli.main import main
from contracts.kit.cli.runner import Runner, RunResult, junit_cases, write_junit
from contracts.kit.context import KitContext
from contracts.kit.report import junit_text
from contracts.kit.violations import AUTH_ISOLATION, NAMES, PAGINATION, ContractViolation

PHASES = [name for name, _ in default_phases(read_only=False)]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with served(fake_app()) as base:
        yield base


def _lists(ctx: KitContext, count: int) -> None:
    for _ in range(count):
        ctx.client.list({"limit": 1})


def stops(ctx: KitContext) -> None:
    """Two findings recorded and gone on from, then one that ends the phase."""
    _lists(ctx, 3)
    ctx.report(ContractViolation(AUTH_ISOLATION, "first recorded"))
    ctx.report(ContractViolation(AUTH_ISOLATION, "second recorded"))
    raise ContractViolation(AUTH_ISOLATION, "raised, ending the phase")


def goes_on(ctx: KitContext) -> None:
    """Findings recorded, and every probe run."""
    _lists(ctx, 2)
    ctx.report(ContractViolation(PAGINATION, "one"))
    ctx.report(ContractViolation(PAGINATION, "two"))


def _run(url: str, phases: list[Any]) -> tuple[RunResult, str]:
    ctx = KitContext.build(url, KEY_A)
    out = io.StringIO()
    return Runner(ctx, out=out, phases=phases).run(), out.getvalue()


def test_a_phase_stopped_by_a_violation_says_so_everywhere(url: str, tmp_path: Path) -> None:
    result, text = _run(url, [(AUTH_ISOLATION, stops), (PAGINATION, goes_on)])
    assert result.exit_code == 1
    phase = {p.name: p for p in result.phases}
    assert phase[AUTH_ISOLATION].status == "failed" and not phase[AUTH_ISOLATION].complete
    assert phase[PAGINATION].status == "failed" and phase[PAGINATION].complete
    # The terminal says what happened, in words.
    lines = text.splitlines()
    at = lines.index(f"[1/2] {AUTH_ISOLATION} ...")
    assert lines[at + 1].strip().startswith("failed after 3 of its requests (")
    assert lines[at + 1].strip().endswith("stopped by a violation")
    at = lines.index(f"[2/2] {PAGINATION} ...")
    assert lines[at + 1].strip().startswith("failed (2 requests, ")
    # JUnit: one failure per case, a case per finding, the rest of the stopped phase skipped.
    junit = tmp_path / "junit.xml"
    write_junit(result, junit)
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for case in cases.values():
        assert len(case.findall("failure")) <= 1
    auth = [n for n in cases if n and n.startswith(AUTH_ISOLATION)]
    assert sorted(auth) == sorted(
        [
            AUTH_ISOLATION,
            f"{AUTH_ISOLATION} [2]",
            f"{AUTH_ISOLATION} [3]",
            f"{AUTH_ISOLATION} (the rest)",
        ]
    )
    failures = [cases[n].find("failure") for n in auth]
    messages = {f.get("message") for f in failures if f is not None}
    assert messages == {"first recorded", "second recorded", "raised, ending the phase"}
    rest = cases[f"{AUTH_ISOLATION} (the rest)"].find("skipped")
    assert rest is not None and "stopped by a violation" in rest.get("message", "")
    assert "after 3 of its requests" in rest.get("message", "")
    # The phase that ran every probe has no "rest" case: its findings are the whole story.
    assert f"{PAGINATION} (the rest)" not in cases
    assert {n for n in cases if n and n.startswith(PAGINATION)} == {PAGINATION, f"{PAGINATION} [2]"}


def test_checks_that_were_not_part_of_the_run_are_skipped_not_passed(url: str) -> None:
    result, _ = _run(url, [(NAMES, lambda ctx: None)])
    assert result.exit_code == 0
    cases = {c.name: c for c in junit_cases(result)}
    assert cases[NAMES].skipped is None and not cases[NAMES].failures  # it ran and passed
    for other in PHASES:
        if other != NAMES:
            assert cases[other].skipped == "not part of this run (--check, --read-only)", other
    document = ET.fromstring(junit_text("s", junit_cases(result)))
    assert int(document.get("skipped", "0")) == len(PHASES) - 1


def test_a_budget_cut_phase_is_skipped_with_why_and_the_run_is_not_conformant(url: str) -> None:
    from contracts.kit.violations import BudgetExhausted

    def spent(ctx: KitContext) -> None:
        _lists(ctx, 1)
        raise BudgetExhausted("request budget of 10 reached")

    result, text = _run(url, [(PAGINATION, spent)])
    assert result.exit_code == 2 and "request budget" in result.error
    case = next(c for c in junit_cases(result) if c.name == PAGINATION)
    assert case.skipped is not None and "request budget of 10 reached" in case.skipped
    assert "skipped after 1 of its requests" in text
    assert [line for line in text.splitlines() if line.startswith("COULD NOT RUN: ")]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--timeout", "-1"],
        ["run", "--timeout", "nan"],
        ["run", "--max-body", "12"],
        ["run", "--max-body", "lots"],
        ["learn"],
        ["no-such-command"],
    ],
)
def test_a_command_line_error_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert len(err.splitlines()) == 1 and err.startswith("planasonix-contract"), err


def test_max_body_takes_sizes_with_units() -> None:
    from contracts.kit.cli.limits import byte_size

    assert byte_size("4MiB") == byte_size("4m") == 4 * 1024 * 1024
    assert byte_size("512KiB") == 512 * 1024 and byte_size("2048") == 2048


def test_probes_a_phase_could_not_run_are_a_skipped_case_and_found_checks_are_named(
    url: str,
) -> None:
    def partly(ctx: KitContext) -> None:
        _lists(ctx, 1)
        ctx.skipped("the legacy header under /v1/api", "the deployment does not take it")
        ctx.report(ContractViolation(NAMES, "a leak seen by an auth probe"))

    result, text = _run(url, [(AUTH_ISOLATION, partly)])
    cases = {c.name: c for c in junit_cases(result)}
    left = cases[f"{AUTH_ISOLATION} (probes not run)"]
    assert left.skipped is not None and "the legacy header under /v1/api" in left.skipped
    # The terminal line names the checks whose rules the phase saw broken.
    assert "failed (1 requests, " in text and "1 violation(s) [names]" in text


def test_a_pass_that_left_probes_out_says_partly_checked_on_its_verdict_line(url: str) -> None:
    def partly(ctx: KitContext) -> None:
        _lists(ctx, 1)
        ctx.skipped("a create with a drawn config", "the deployment refused the config (400)")

    result, text = _run(url, [(AUTH_ISOLATION, partly)])
    verdict = text.strip().splitlines()[-1]
    assert result.exit_code == 0
    assert verdict.startswith("CONFORMANT (partly checked: 1 probe(s) could not run"), verdict
    result, text = _run(url, [(AUTH_ISOLATION, lambda ctx: _lists(ctx, 1))])
    assert text.strip().splitlines()[-1].startswith("CONFORMANT: 0 violation(s)")


def test_the_checks_judged_on_every_answer_name_the_phase_that_ended_early(url: str) -> None:
    result, _ = _run(url, [(AUTH_ISOLATION, stops), (PAGINATION, goes_on)])
    assert not result.error
    skipped = {c.name: c.skipped for c in junit_cases(result)}
    why = skipped["response-schema"] or ""
    assert f"phases ended before their last probe ({AUTH_ISOLATION})" in why, why
    assert "the run stopped early" not in why
