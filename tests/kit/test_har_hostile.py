"""check-har on hostile files: one line and exit 2, never a traceback or a hang."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.kit.traffic.har import HarError, load


def _har(status: object, url: str = "http://127.0.0.1:1/api/credentials") -> dict[str, object]:
    entry = {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"method": "GET", "url": url, "headers": []},
        "response": {"status": status, "headers": [], "content": {}},
    }
    return {"log": {"entries": [entry]}}


def _check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "contracts.kit.cli.entry", "check-har", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("status", ["201", 201.5, True])
def test_an_entry_with_a_status_that_is_not_a_whole_number_is_not_judged(
    status: object, tmp_path: Path
) -> None:
    har = tmp_path / "odd.har"
    har.write_text(json.dumps(_har(status)), encoding="utf-8")
    report = tmp_path / "report.json"
    done = _check(har, "--report", str(report))
    assert done.returncode == 2
    assert "1 exchange(s) not judged" in done.stdout
    assert json.loads(report.read_text())["unjudged"] == 1
    assert _check(har, "--allow-unjudged").returncode == 0


def test_a_malformed_url_is_one_line_and_exit_2(tmp_path: Path) -> None:
    har = tmp_path / "url.har"
    har.write_text(json.dumps(_har(200, "http://[::1/api/credentials")), encoding="utf-8")
    done = _check(har)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "planasonix-contract: entry 0: request.url is not a URL"
    ]


def test_a_deep_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    har = tmp_path / "deep.har"
    har.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    done = _check(har)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_endless_file_is_read_only_up_to_the_cap() -> None:
    with pytest.raises(HarError, match="larger than 1024 bytes"):
        load("/dev/zero", max_bytes=1024)
