"""A run is replayable and leaves no files: the seed, printed and reported, fixes
every request; a failing schemathesis case is shrunk to a request a person can read."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from broken_variants import KEY_A, KEY_B, Middleware, fake_app, run_kit, served
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.runner import EXIT_OK, EXIT_VIOLATIONS, Runner, RunResult
from contracts.kit.context import DEFAULT_SEED, KitContext, Settings

ROOT = Path(__file__).resolve().parents[2]
_ID = re.compile(r"cred_[A-Za-z0-9_-]+")
_CURSOR = re.compile(r"cursor=[^&\"]+")


def _requests(result: RunResult, exchanges: list[dict[str, Any]]) -> list[str]:
    """Requests with what differs between two servers and two runs made the same:
    the server's port, the run's prefix, the ids and cursors the server handed
    out (ids numbered by first use). Canaries and keys are masked in the record."""
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        return names.setdefault(match.group(0), f"cred_{len(names)}")

    lines = []
    for exchange in exchanges:
        text = json.dumps(
            [exchange["method"], exchange["url"], exchange["request_body"]], sort_keys=True
        )
        text = text.replace(result.prefix, "PREFIX").replace(result.base_url, "")
        text = _CURSOR.sub("cursor=C", text)  # opaque, issued by the server
        lines.append(_ID.sub(rename, text))
    return lines


# Phases that send bursts of concurrent requests on purpose: the same requests
# go out, in whatever order the threads get to run, and how the kit tidies up
# after a race depends on which request won it. They are compared as the set of
# distinct requests they send.
CONCURRENT_PHASES = {"names"}


def _by_phase(result: RunResult) -> list[tuple[str, list[str]]]:
    """The requests of each phase, in order (a concurrent phase: the distinct ones)."""
    assert len(result.exchanges) == result.requests, "the record holds every request"
    out = []
    for phase in result.phases:
        exchanges = result.exchanges[phase.first_request : phase.first_request + phase.requests]
        block = _requests(result, exchanges)
        if phase.name in CONCURRENT_PHASES:
            # Which of two racing creates got which id is the server's race to decide.
            block = sorted({_ID.sub("cred_?", line) for line in block})
        out.append((phase.name, block))
    return out


def test_the_same_seed_sends_the_same_requests_and_another_seed_does_not() -> None:
    first = run_kit(fake_app(), seed=11, max_examples=3)
    again = run_kit(fake_app(), seed=11, max_examples=3)
    assert first.exit_code == again.exit_code == EXIT_OK
    assert first.seed == 11 and len(first.exchanges) > 200
    assert _by_phase(first) == _by_phase(again)
    # The phases that draw at random draw differently under another seed.
    random_phases = {"lifecycle", "schemathesis"}
    other = run_kit(fake_app(), seed=12, max_examples=3, only=random_phases)
    assert other.exit_code == EXIT_OK
    mine = [(name, block) for name, block in _by_phase(first) if name in random_phases]
    assert len(mine) == 2
    assert mine[0] != _by_phase(other)[0] and mine[1] != _by_phase(other)[1]


def test_the_seed_is_printed_and_in_every_report(tmp_path: Path) -> None:
    """A default run from an empty directory: the fixed default seed is printed first
    and reported in JSON and JUnit, and no file appears that was not asked for
    (no Hypothesis example database, nothing from schemathesis)."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "contracts.kit.cli.main",
            "run",
            "--target",
            "fake",
            "--max-examples",
            "2",
            "--report",
            str(report),
            "--junitxml",
            str(junit),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
        env=env,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert f"seed {DEFAULT_SEED}" in lines[0]
    assert f"--seed {DEFAULT_SEED}" in lines[-1]
    assert json.loads(report.read_text())["seed"] == DEFAULT_SEED
    properties = ET.parse(junit).getroot().find("properties")
    assert properties is not None
    assert {p.get("name"): p.get("value") for p in properties}["seed"] == str(DEFAULT_SEED)
    assert list(workdir.iterdir()) == []


class ServerErrorOnConfigUpdate(Middleware):
    """Answers 500 to every update that carries a ``config`` object, however small."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        if request.method == "PUT" and isinstance(body, dict) and "config" in body:
            return self.error(500, "internal_error", "boom")
        return None


def test_a_schemathesis_finding_is_shrunk_to_a_readable_request() -> None:
    with served(ServerErrorOnConfigUpdate(fake_app())) as url:
        ctx = KitContext.build(
            url, KEY_A, second_api_key=KEY_B, settings=Settings(seed=3, schemathesis_examples=25)
        )
        result = Runner(ctx, out=io.StringIO(), only={"schemathesis"}).run()
    assert result.exit_code == EXIT_VIOLATIONS
    finding = next(f for f in result.findings if f.check == "schemathesis")
    assert "PUT" in finding.message and "Server error" in finding.message, finding.message
    (curl,) = finding.sequence
    words = shlex.split(curl.split("    # ->")[0])
    sent = json.loads(words[words.index("--data-raw") + 1])
    # The least a case needs to fail: a config, nearly empty, and nothing else long.
    assert "config" in sent and len(json.dumps(sent)) <= 80, curl
    assert len(curl) < 400, curl
