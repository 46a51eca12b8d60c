"""The API keys are the kit's own secrets: no output shows any 8 characters of one.

Against deployments that echo the key they are sent (a 401 saying "invalid
key: <key>", and one that returns the caller's key in every body and in a
header), every output of a run (the JSON report, the JUnit file, stdout,
stderr, the curl lines inside them) is scanned for every 8-character piece
of every key, in any case; the near misses the kit sends (the key one
character longer or shorter) are pieces of it too. The echo itself is
reported, as an expectation.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broken_variants import served
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.wire.keymask import PIECE, KeyMask


def _key() -> str:
    return "plnx_test_" + secrets.token_hex(12)


PRIMARY, SECOND, READER = _key(), _key(), _key()
KEYS = (PRIMARY, SECOND, READER)


def _pieces(key: str) -> set[str]:
    low = key.lower()
    return {low[i : i + PIECE] for i in range(len(low) - PIECE + 1)}


def _assert_no_piece(text: str, where: str) -> None:
    low = text.lower()
    for key in KEYS:
        shown = sorted(p for p in _pieces(key) if p in low)
        assert not shown, f"{where} shows {len(shown)} piece(s) of a key"


def _presented(request: Request) -> str:
    bearer = request.headers.get("Authorization", "")
    return bearer.partition(" ")[2] or request.headers.get("X-Planasonix-Api-Key", "")


def _fake() -> Any:
    from mockserver.app import create_app

    return create_app(
        keys={PRIMARY: "ws_mask_a", SECOND: "ws_mask_b"}, read_only_keys={READER: "ws_mask_a"}
    )


class EchoOnRefusal:
    """A 401 that quotes the key it refused: "invalid key: <key>"."""

    def __init__(self) -> None:
        self.app = _fake()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = Response.from_app(self.app, environ)
        if response.status_code == 401:
            message = f"invalid key: {_presented(request)}"
            body = {"error": {"code": "unauthorized", "message": message}}
            response.set_data(json.dumps(body))
        return response(environ, start_response)


class EchoAlways:
    """The caller's key in every answer: in a header, and in every JSON object body."""

    def __init__(self) -> None:
        self.app = _fake()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        key = _presented(request)
        response = Response.from_app(self.app, environ)
        response.headers["X-Request-Key"] = key
        try:
            body = json.loads(response.get_data())
        except ValueError:
            body = None
        if isinstance(body, dict):
            body["request_key"] = key
            response.set_data(json.dumps(body))
        return response(environ, start_response)


@pytest.fixture(
    params=[EchoOnRefusal, EchoAlways], ids=["401 quotes the key", "key in every answer"]
)
def echoing(request: pytest.FixtureRequest) -> Iterator[str]:
    with served(request.param()) as url:
        yield url


def test_no_output_of_a_run_shows_a_piece_of_any_key(
    echoing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    argv = ["run", "--base-url", echoing, "--api-key", PRIMARY, "--second-api-key", SECOND]
    argv += ["--read-only-api-key", READER, "--report", str(report), "--junitxml", str(junit)]
    argv += ["--check", "auth-isolation", "--check", "scopes", "--max-examples", "2"]
    code = main(argv)
    out, err = capsys.readouterr()
    data = json.loads(report.read_text())
    assert code in (0, 1), data["error"]  # it ran
    assert data["exchanges"], "the report records the exchanges (with their curl lines)"
    for text, where in (
        (report.read_text(), "the JSON report"),
        (junit.read_text(), "the JUnit file"),
        (out, "stdout"),
        (err, "stderr"),
    ):
        _assert_no_piece(text, where)
    # The echo is reported, as an expectation the deployment does not meet.
    echoes = [f for f in data["expectations"] if (f.get("source") or {}).get("name") == "key_echo"]
    assert echoes, [f["message"] for f in data["expectations"]]
    assert "EXPECTATION" in out and "API key it was sent" in out


def test_the_near_misses_the_kit_sends_are_masked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The refusal quotes each near miss (the key one longer, one shorter) whole.
    with served(EchoOnRefusal()) as url:
        main(
            [
                "run",
                "--base-url",
                url,
                "--api-key",
                PRIMARY,
                "--check",
                "auth-isolation",
                "--report",
                str(tmp_path / "r.json"),
            ]
        )
    capsys.readouterr()
    text = (tmp_path / "r.json").read_text()
    assert "invalid key: ***" in text  # the echo is there, masked
    for variant in (PRIMARY[:-1], PRIMARY + "x", PRIMARY[:PIECE]):
        assert variant not in text


# --- the mask itself ---------------------------------------------------------------------

ALPHABET = string.ascii_letters + string.digits + "_-"


def _variants(key: str) -> list[str]:
    return [key, key[:-1], key + "x", key.upper(), key.swapcase(), key[: PIECE + 2], key[3:]]


@given(
    key=st.text(ALPHABET, min_size=PIECE, max_size=60),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    which=st.integers(min_value=0, max_value=6),
)
def test_the_mask_leaves_no_piece_of_any_variant(
    key: str, before: str, after: str, which: int
) -> None:
    variant = _variants(key)[which]
    masked = KeyMask([key]).mask(before + variant + after)
    low = masked.lower()
    assert not [p for p in _pieces(key) if p in low]


@given(text=st.text(max_size=200))
def test_the_mask_changes_nothing_without_a_piece_of_a_key(text: str) -> None:
    key = "plnx_test_" + "q" * 20 + "Z9"
    if any(p in text.lower() for p in _pieces(key)):
        return
    assert KeyMask([key]).mask(text) == text


def test_a_short_key_is_masked_whole() -> None:
    assert KeyMask(["k3y"]).mask("a k3y and K3Y") == "a *** and ***"


@pytest.mark.parametrize("command", ["learn", "diff"])
def test_learn_and_diff_outputs_show_no_piece_of_the_key(
    echoing: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"learn": ["--output"], "diff": ["--report", "--junitxml"]}[command]
    paths = [tmp_path / f"out{i}" for i in range(len(files))]
    argv = [command, "--base-url", echoing, "--api-key", PRIMARY]
    for flag, path in zip(files, paths, strict=True):
        argv += [flag, str(path)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    for text, where in ((out, "stdout"), (err, "stderr")):
        _assert_no_piece(text, where)
    for path in paths:
        if path.exists():  # learn writes no profile of a deployment that broke a rule
            _assert_no_piece(path.read_text(), str(path.name))
