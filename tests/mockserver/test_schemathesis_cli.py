"""`schemathesis run --checks all` against the live fake reports no failure.

Run from the repository root, so `schemathesis.toml` applies: it lists the
rules of this API that a schema cannot state (opaque cursors, updates checked
against the stored credential, the whole-body size limit). `use_after_free` is
excluded on the command line: a soft-deleted credential stays readable (the
fake's SPEC.md choice), and `--checks all` would override the file's setting.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_support import KEY_A

ROOT = Path(__file__).resolve().parents[2]


def test_schemathesis_finds_no_failure_with_every_check(tmp_path: Path) -> None:
    # The server logs a line per request: to a file, since an undrained pipe
    # would fill up and stall the server mid-run.
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", "0",
             "--api-key", f"{KEY_A}=ws_a"],
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    try:
        url = _wait_for_url(log)
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
             "--checks", "all", "--exclude-checks", "use_after_free",
             "-H", f"Authorization: Bearer {KEY_A}",
             "--max-examples", "15", "--seed", "20261127", "--no-color"],
            cwd=ROOT, capture_output=True, text=True, timeout=400, check=False,
        )  # fmt: skip
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=20)
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    # The closing line counts failures and errors; warnings (such as "validation
    # mismatch" for the opaque cursor) are expected and allowed.
    closing = result.stdout.strip().splitlines()[-1]
    assert not re.search(r"\d+ (failure|error)", closing), summary
    assert "Tested: 14" in result.stdout, summary
    assert code == 0
    assert "Traceback" not in log.read_text(errors="replace")


def _wait_for_url(log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"^Listening on (\S+)$", log.read_text(errors="replace"), re.MULTILINE)
        if match:
            return match.group(1)
        time.sleep(0.1)
    raise AssertionError("the server did not start: " + log.read_text(errors="replace"))
