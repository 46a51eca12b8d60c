"""Headless Chromium for the browser tests: one set of flags, one page dump.

The network is closed here, so Chromium's own background connections (updates,
sync, component downloads) are switched off; each run gets an empty profile.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found is not None
    return found


def dump_dom(url: str, *, budget_ms: int, console: bool = False) -> tuple[str, str]:
    """(the DOM Chromium rendered at ``url``, its log); ``console``: the page's console
    messages (and CSP refusals) go to the log as ":CONSOLE" lines."""
    profile = tempfile.mkdtemp(prefix="chromium-")
    logging = ["--enable-logging=stderr", "--v=0"] if console else []
    try:
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                *logging,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, result.stderr
