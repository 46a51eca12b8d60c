"""A kit verdict comes from one place: anything that is not a finding is "could not run".

An exception that is not a finding (a KeyError in a check, a RecursionError
from an answer, a bug in the client or in the report) ends the run with exit
2 and its error in every output: the JSON report (``"conformant": false,
"exit_code": 2, "error": ...``), the JUnit file (an ``<error>``) and the
terminal ("COULD NOT RUN: ..."), never CONFORMANT. Each phase gets one,
and so does the client, at the first request and in the middle of a phase.
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broken_variants import KEY_A, KEY_B, fake_app, served

from contracts.kit.checks import default_phases
from contracts.kit.cli.main import main
from contracts.kit.cli.runner import Runner, RunResult, write_junit, write_report
from contracts.kit.client import Client
from contracts.kit.context import KitContext, Settings

PHASES = [name for name, _ in default_phases(read_only=False)]
EXCEPTIONS: list[type[Exception]] = [KeyError, RecursionError, ValueError, TypeError]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with served(fake_app()) as base:
        yield base


def _noop(ctx: KitContext) -> None:
    return None


def _run(
    url: str, tmp_path: Path, phases: Any = None, only: set[str] | None = None
) -> tuple[RunResult, dict[str, Any], ET.Element, str]:
    ctx = KitContext.build(url, KEY_A, second_api_key=KEY_B, settings=Settings(max_examples=2))
    report, junit, out = tmp_path / "report.json", tmp_path / "junit.xml", io.StringIO()
    reporters = [lambda r: write_report(r, report), lambda r: write_junit(r, junit)]
    result = Runner(ctx, out=out, phases=phases, only=only, reporters=reporters).run()
    return result, json.loads(report.read_text()), ET.parse(junit).getroot(), out.getvalue()


def _assert_could_not_run(
    result: RunResult, report: dict[str, Any], junit: ET.Element, text: str, *why: str
) -> None:
    assert result.exit_code == 2
    assert report["exit_code"] == 2 and report["conformant"] is False
    for part in why:
        assert part in report["error"], report["error"]
    assert int(junit.get("errors", "0")) >= 1
    messages = [e.get("message", "") for e in junit.iter("error")]
    assert any(all(part in m for part in why) for m in messages), messages
    verdicts = [line for line in text.splitlines() if line.startswith(("CONFORMANT", "COULD NOT"))]
    assert len(verdicts) == 1 and verdicts[0].startswith("COULD NOT RUN: "), verdicts
    for part in why:
        assert part in verdicts[0]


@pytest.mark.parametrize("index", range(len(PHASES)), ids=PHASES)
def test_an_exception_in_any_phase_is_could_not_run_everywhere(
    url: str, tmp_path: Path, index: int
) -> None:
    name, kind = PHASES[index], EXCEPTIONS[index % len(EXCEPTIONS)]

    def broken(ctx: KitContext) -> None:
        raise kind("injected")

    phases: list[Any] = [(n, broken if n == name else _noop) for n in PHASES]
    result, report, junit, text = _run(url, tmp_path, phases)
    _assert_could_not_run(result, report, junit, text, name, kind.__name__)
    statuses = {p["name"]: p["status"] for p in report["phases"]}
    assert statuses[name] == "error"
    # Those before it ran; those after it are listed as not run, with why; none passed.
    assert all(statuses[n] == "passed" for n in PHASES[:index])
    later = [p for p in report["phases"] if p["name"] in PHASES[index + 1 :]]
    assert len(later) == len(PHASES) - index - 1
    assert all(p["status"] == "not run" and kind.__name__ in p["note"] for p in later)
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    assert cases[name].find("error") is not None
    for later_name in PHASES[index + 1 :]:
        assert cases[later_name].find("skipped") is not None, later_name
    # The cross-cutting checks saw only part of the answers: not passed either.
    assert cases["response-schema"].find("skipped") is not None


class BrokenOnCall:
    """Counts ``Client._reply`` calls and raises on the ``n``-th (the client itself breaking)."""

    def __init__(self, n: int, exc: Exception) -> None:
        self.n, self.exc, self.calls = n, exc, 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = Client._reply

        def _reply(client: Client, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.n:
                raise self.exc
            return real(client, *args, **kwargs)

        monkeypatch.setattr(Client, "_reply", _reply)


@pytest.mark.parametrize(
    ("n", "where"),
    [(1, "the run broke"), (40, "auth-isolation could not run")],
    ids=["first request", "mid-phase"],
)
def test_an_exception_in_the_client_is_could_not_run_everywhere(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int, where: str
) -> None:
    broken = BrokenOnCall(n, RecursionError("maximum recursion depth exceeded"))
    broken.install(monkeypatch)
    result, report, junit, text = _run(url, tmp_path, only={"auth-isolation"})
    assert broken.calls >= n
    _assert_could_not_run(result, report, junit, text, where, "RecursionError")


def test_an_exception_while_reporting_is_could_not_run(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contracts.kit.model import Choices

    def broken(self: Choices) -> dict[str, str]:
        raise KeyError("injected")

    monkeypatch.setattr(Choices, "as_json", broken)
    phases: list[Any] = [(n, _noop) for n in PHASES]
    result, report, junit, _ = _run(url, tmp_path, phases)
    assert result.exit_code == 2
    assert report["exit_code"] == 2 and report["conformant"] is False
    assert "the report broke: KeyError" in report["error"]
    assert any("the report broke" in e.get("message", "") for e in junit.iter("error"))


def test_a_healthy_run_of_noops_is_conformant(url: str, tmp_path: Path) -> None:
    # The counterpart: the machinery above says CONFORMANT when nothing breaks.
    phases: list[Any] = [(n, _noop) for n in PHASES]
    result, report, junit, text = _run(url, tmp_path, phases)
    assert result.exit_code == 0 and report["conformant"] is True and report["error"] == ""
    assert int(junit.get("errors", "0")) == 0 and int(junit.get("failures", "0")) == 0
    assert [line for line in text.splitlines() if line.startswith("CONFORMANT")]


def test_the_command_line_says_could_not_run_when_a_check_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import contracts.kit.checks.names as names

    def broken(ctx: KitContext) -> None:
        raise KeyError("missing")

    monkeypatch.setattr(names, "check_names", broken)
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    argv = ["run", "--target", "fake", "--check", "names", "--report", str(report)]
    code = main([*argv, "--junitxml", str(junit)])
    out = capsys.readouterr().out
    assert code == 2
    data = json.loads(report.read_text())
    assert data["exit_code"] == 2 and data["conformant"] is False
    assert "names could not run: KeyError" in data["error"]
    assert ET.parse(junit).getroot().find(".//testcase[@name='names']/error") is not None
    assert "COULD NOT RUN: names could not run: KeyError" in out


@pytest.mark.parametrize("flag", ["--report", "--junitxml"])
def test_an_unwritable_report_path_stops_the_run_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    target = tmp_path / "missing-folder" / "out"
    code = main(
        ["run", "--base-url", "http://127.0.0.1:9", "--api-key", "k" * 20, flag, str(target)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and flag in err and "no such directory" in err


def test_the_terminal_shows_a_few_of_each_expectation_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    from collections import Counter
    from contextlib import redirect_stdout

    from deployments import problem_json

    from contracts.kit.cli.main import main

    out = io.StringIO()
    report = tmp_path / "report.json"
    argv = ["--api-key", "plnx_ind_a", "--check", "auth-isolation", "--report", str(report)]
    with problem_json.serve(None) as url, redirect_stdout(out):
        code = main(["run", "--base-url", url, *argv])
    text = out.getvalue()
    assert code == 0, text
    counts = Counter(
        (f.get("source") or {}).get("name") for f in json.loads(report.read_text())["expectations"]
    )
    assert max(counts.values()) > 3, counts  # the deployment meets one many times
    full = [line for line in text.splitlines() if line.startswith("EXPECTATION [")]
    assert len(full) == sum(min(c, 3) for c in counts.values())
    for name, count in counts.items():
        if count > 3:
            assert f"EXPECTATION {name}: {count - 3} more like these (all in --report)" in text
