"""Hostile deployments: every read the kit does is bounded, and a bound hit is a finding.

A deployment that answers JSON nested 100,000 deep, a body that never ends,
a gzip bomb (64 MiB of zeros in 64 KB) or a 200 MB body gets a finding that
names the limit (``--max-body``, ``--timeout``, the nesting depth), never a
crash and never a verdict of conformance. When the very first listing is
such an answer, nothing can be judged: the run says so (exit 2) in every
output, and the finding is in the report too.
"""

from __future__ import annotations

import json
import threading
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from broken_variants import KEY_A, KEY_B, fake_app, served
from hostile import BOMB_SIZE, DEPTH, HUGE_SIZE, KINDS, Hostile, bomb, hostile_process, lists_only

from contracts.kit.cli.main import main
from contracts.kit.context import KitContext
from contracts.kit.violations import RESPONSE_SCHEMA

T = TypeVar("T")
CAP = 1024 * 1024  # --max-body in these tests
REASON = {
    "deep": "nested deeper than the kit reads",
    "endless": "not complete after 1s (--timeout)",
    "bomb": "larger than 1 MiB (--max-body)",
    "huge": "larger than 1 MiB on the wire (--max-body)",
}


def bounded(fn: Callable[[], T], seconds: float = 120.0) -> T:
    """``fn()``, failing the test (not hanging it) if it never returns."""
    out: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            out.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the kit never finished reading the answer"
    if errors:
        raise errors[0]
    return out[0]


def test_the_hostile_answers_are_what_they_claim() -> None:
    # The bomb is small on the wire and large inflated; the others are as named.
    assert len(bomb()) < BOMB_SIZE // 500
    assert BOMB_SIZE > 60 * CAP and HUGE_SIZE > 100 * CAP and DEPTH == 100_000


@pytest.mark.parametrize("kind", KINDS)
def test_a_hostile_answer_is_read_within_bounds_and_is_a_finding(kind: str) -> None:
    # The server runs in a process of its own: only what the kit holds is measured.
    with hostile_process(kind) as url:
        ctx = KitContext.build(url, KEY_A, timeout=1.0, max_body=CAP)
        tracemalloc.start()
        try:
            reply = bounded(lambda: ctx.client.list({"limit": 1}))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert reply.body is None  # nothing half-read is judged as a document
    assert len(reply.text.encode("utf-8")) <= CAP * 3  # (replacement characters widen it)
    assert reply.raw is not None and len(reply.raw.content) <= CAP
    # Held at most a few times the cap, however much the deployment sends or inflates.
    assert peak < 8 * CAP, peak
    findings = [v for v in ctx.sink if v.check == RESPONSE_SCHEMA]
    assert findings, [v.message for v in ctx.sink]
    assert REASON[kind] in findings[0].message
    assert "did not read whole" in findings[0].message


def _outputs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "report.json", tmp_path / "junit.xml"


def _run(url: str, tmp_path: Path, *extra: str) -> int:
    report, junit = _outputs(tmp_path)
    argv = [
        "run",
        "--base-url",
        url,
        "--api-key",
        KEY_A,
        "--second-api-key",
        KEY_B,
        "--report",
        str(report),
        "--junitxml",
        str(junit),
        "--timeout",
        "1",
        "--max-body",
        "1MiB",
        "--max-examples",
        "2",
        *extra,
    ]
    return main(argv)


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_first_listing_is_could_not_run_in_every_output(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(Hostile(fake_app(), kind, when=lists_only)) as url:
        code = bounded(lambda: _run(url, tmp_path))
    out = capsys.readouterr().out
    assert code == 2
    report_path, junit_path = _outputs(tmp_path)
    report = json.loads(report_path.read_text())
    assert report["exit_code"] == 2 and report["conformant"] is False
    assert REASON[kind] in report["error"]
    assert any(REASON[kind] in f["message"] for f in report["findings"])
    # Every phase is listed as not run, with why; none as passed.
    assert report["phases"] and {p["status"] for p in report["phases"]} == {"not run"}
    assert all("the run stopped before it" in p["note"] for p in report["phases"])
    suite = ET.parse(junit_path).getroot()
    assert int(suite.get("errors", "0")) >= 1
    errors = [e.get("message", "") for e in suite.iter("error")]
    assert any(REASON[kind] in message for message in errors)
    for case in suite.iter("testcase"):
        assert list(case), f"{case.get('name')} is reported as passed"
    verdict = [line for line in out.splitlines() if line.startswith(("CONFORMANT", "COULD"))]
    assert verdict and verdict[-1].startswith("COULD NOT RUN: ") and REASON[kind] in verdict[-1]


class Nth:
    """Picks the ``n``-th listing request and no other (the run is well under way by then)."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def __call__(self, environ: dict[str, Any]) -> bool:
        if not lists_only(environ):
            return False
        self.seen += 1
        return self.seen == self.n


@pytest.mark.parametrize("kind", ["bomb", "deep"])
def test_a_hostile_answer_mid_run_is_a_finding_never_a_pass(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The finding is reported wherever it happens. A probe that cannot go on without the
    # answer it did not get may stop its phase: that is "could not run" (exit 2) with the
    # reason, never a pass.
    with served(Hostile(fake_app(), kind, when=Nth(12))) as url:
        code = bounded(lambda: _run(url, tmp_path, "--check", "auth-isolation"))
    out = capsys.readouterr().out
    report = json.loads(_outputs(tmp_path)[0].read_text())
    assert code in (1, 2) and report["exit_code"] == code and report["conformant"] is False
    findings = [f for f in report["findings"] if REASON[kind] in f["message"]]
    assert findings and findings[0]["check"] == RESPONSE_SCHEMA
    assert findings[0]["phase"] == "auth-isolation"
    phase = report["phases"][0]
    assert phase["name"] == "auth-isolation" and phase["status"] in ("failed", "error")
    if code == 2:
        assert report["error"].startswith("auth-isolation could not run: ")
        assert "COULD NOT RUN: auth-isolation could not run" in out
    else:
        assert "VIOLATIONS FOUND" in out
    failures = [f.get("message", "") for f in ET.parse(_outputs(tmp_path)[1]).iter("failure")]
    assert any(REASON[kind] in message for message in failures)


@pytest.mark.parametrize("kind", ["deep", "bomb"])
@pytest.mark.parametrize("command", ["learn", "diff"])
def test_learn_and_diff_refuse_an_unreadable_listing_with_the_reason(
    command: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "profile.json"
    extra = ["--output", str(output)] if command == "learn" else []
    with served(Hostile(fake_app(), kind, when=lists_only)) as url:
        argv = [command, "--base-url", url, "--api-key", KEY_A, "--max-body", "1MiB", *extra]
        code = bounded(lambda: main(argv))
    out, err = capsys.readouterr()
    assert code == 2
    assert REASON[kind] in out + err and "cannot run" in out + err
    assert not output.exists()


def test_a_deployment_that_never_answers_is_could_not_run_with_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with served(Hostile(fake_app(), "silent", when=lists_only)) as url:
        code = bounded(lambda: _run(url, tmp_path))
    out = capsys.readouterr().out
    report = json.loads(_outputs(tmp_path)[0].read_text())
    assert code == 2 and report["conformant"] is False
    assert "no answer from" in report["error"] and "within 1s (--timeout)" in report["error"]
    assert "COULD NOT RUN: no answer from" in out
