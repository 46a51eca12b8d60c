"""`learn` never loses a run to its output, and never writes a profile of a broken deployment.

``--output`` is checked before the first request (one line, exit 2). A
deployment that breaks a documented rule (here: it echoes a secret in a
header) is reported, exit 1, and no profile is written, neither to the file
nor to stdout: its answers would teach the fake its bug.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from broken_variants import KEY_A, LeakInHeader, fake_app, served

from contracts.kit.cli.main import main


class Counting:
    def __init__(self, app: Any) -> None:
        self.app, self.seen = app, 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen += 1
        return self.app(environ, start_response)


def _unwritable(tmp_path: Path, how: str) -> Path:
    if how == "no such folder":
        return tmp_path / "missing" / "profile.json"
    if how == "a folder":
        return tmp_path
    if how == "under a file":
        (tmp_path / "plain").write_text("x")
        return tmp_path / "plain" / "profile.json"
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    return folder / "profile.json"


@pytest.mark.parametrize(
    "how", ["no such folder", "a folder", "under a file", "a read-only folder"]
)
def test_an_unwritable_output_is_refused_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    if how == "a read-only folder" and os.geteuid() == 0:
        pytest.skip("root writes into a read-only folder")
    output = _unwritable(tmp_path, how)
    counting = Counting(fake_app())
    with served(counting) as url:
        code = main(["learn", "--base-url", url, "--api-key", KEY_A, "--output", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert counting.seen == 0
    lines = err.splitlines()
    assert len(lines) == 1 and "--output" in lines[0] and str(output) in lines[0]


def test_a_leaking_deployment_gets_no_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "profile.json"
    with served(LeakInHeader(fake_app())) as url:
        code = main(["learn", "--base-url", url, "--api-key", KEY_A, "--output", str(output)])
        to_stdout = main(["learn", "--base-url", url, "--api-key", KEY_A])
    out, err = capsys.readouterr()
    assert code == 1 and to_stdout == 1
    assert not output.exists()
    assert out == ""  # not to stdout either
    assert "VIOLATION [secret-non-echo]" in err
    assert "no profile written" in err


def test_a_healthy_deployment_still_gets_its_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "profile.json"
    with served(fake_app()) as url:
        code = main(["learn", "--base-url", url, "--api-key", KEY_A, "--output", str(output)])
    assert code == 0, capsys.readouterr().err
    assert output.read_text().startswith("{")
