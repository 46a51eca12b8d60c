"""`planasonix-mock serve --seed demo` and the banner after a restart from a state file."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.fake_support import bearer, canary, start_server, stop_server


def test_seed_demo_and_banner_after_restart_from_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANASONIX_STATE_KEY", canary())
    state = tmp_path / "planasonix.state.json"
    process, base = start_server("--seed", "demo", "--state-file", str(state))
    try:
        seeded = requests.get(f"{base}/api/credentials", headers=bearer("plnx_test_dev_key"))
    finally:
        code, output = stop_server(process)
    assert code == 0 and "Development key: plnx_test_dev_key (workspace ws_acme)" in output
    assert seeded.status_code == 200 and seeded.json()["data"]
    # Restart from the state file alone: the dev key opens the data it holds, and says so.
    process, base = start_server("--state-file", str(state))
    try:
        page = requests.get(f"{base}/api/credentials", headers=bearer("plnx_test_dev_key"))
        assert page.status_code == 200 and page.json()["data"] == seeded.json()["data"]
    finally:
        code, output = stop_server(process)
    assert code == 0
    assert "Development key: plnx_test_dev_key (workspace ws_acme)" in output
