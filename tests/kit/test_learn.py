"""``learn``: a deployment's choices as a profile, with what it could not tell.

Against our fake it must learn the default profile; against the independent
server with every alternative turned it must learn each one; what the
answers do not settle is listed, never guessed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from broken_variants import ALTERNATIVES, KEY_A, Middleware, fake_app, served
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.profiles.learn import Observer, run_learn
from contracts.kit.report import EXIT_ERROR, EXIT_OK
from contracts.profile import DEFAULT_PROFILE, load_profile, setting_names


def test_learning_the_fake_gives_the_default_profile() -> None:
    with served(fake_app()) as url:
        result = run_learn(url, KEY_A)
    assert result.exit_code == EXIT_OK, [v.message for v in result.violations]
    assert result.undetermined == ()
    assert result.profile() == DEFAULT_PROFILE
    assert not result.leftovers


def test_learning_the_independent_server_finds_every_alternative() -> None:
    with served(ALTERNATIVES["alt server, every alternative"]()) as url:
        result = run_learn(url, KEY_A)
    assert result.exit_code == EXIT_OK
    assert result.profile().to_json(full=False, notes=False) == {
        "create_status": 200,
        "create_location": False,
        "validation_status": 422,
        "get_deleted": "not_found",
        "list_default_status": "all",
        "delete_deleted": "conflict",
        "restore_active": "conflict",
        "deleted_names": "freed",
        "purge_active": "conflict",
        "update_deleted": "allowed",
        "created_by": "omitted",
        "page_size_default": 10,
        "page_size_max": 25,
        "page_size_over_max": "clamp",
        "type_filter": "ignored",
        "update_replaces_config": True,
    }


class MixedErrorShapes(Middleware):
    """404s come as {code, message}, other errors in the envelope: both conformant."""

    def after(self, request: Request, body: object, response: Response) -> Response:
        data = self.json_of(response)
        if response.status_code == 404 and isinstance(data, dict) and "error" in data:
            return self.with_json(response, {k: data["error"][k] for k in ("code", "message")})
        return response


def test_what_the_answers_do_not_settle_is_listed_and_left_at_the_default() -> None:
    with served(MixedErrorShapes(fake_app())) as url:
        result = run_learn(url, KEY_A)
    assert result.exit_code == EXIT_OK
    assert result.undetermined == ("error_body",)
    profile = result.profile()
    assert profile.error_body == DEFAULT_PROFILE.error_body
    assert profile.undetermined == ("error_body",)


def test_an_observer_that_saw_nothing_claims_nothing() -> None:
    settings: dict[str, object] = {}
    Observer(settings).finish({})
    assert set(settings) == {"extra_fields"}  # no field seen beyond the documented ones


def test_the_command_line_writes_a_loadable_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "profile.json"
    with served(ALTERNATIVES["GET deleted is 404"]()) as url:
        assert main(["learn", "--base-url", url, "--api-key", KEY_A, "--output", str(out)]) == 0
        assert main(["learn", "--base-url", url, "--api-key", KEY_A]) == EXIT_OK
        assert main(["learn", "--base-url", url, "--api-key", "plnx_test_nope"]) == EXIT_ERROR
    written = load_profile(str(out))
    assert written.get_deleted == "not_found"
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) >= set(setting_names())
    assert KEY_A not in out.read_text()


def test_learn_and_diff_write_nothing_where_they_run(tmp_path: Path) -> None:
    """Like `run`: no ./.hypothesis (constants cache, Unicode table) or any other file
    appears in the directory `learn` and `diff` are run from."""
    workdir = tmp_path / "project"
    workdir.mkdir()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with served(fake_app()) as url:
        for command in ("learn", "diff"):
            args = [command, "--base-url", url, "--api-key", KEY_A]
            completed = subprocess.run(
                [sys.executable, "-m", "contracts.kit.cli.main", *args],
                capture_output=True,
                text=True,
                timeout=300,
                cwd=workdir,
                env=env,
                check=False,
            )
            assert completed.returncode == EXIT_OK, completed.stderr
    assert list(workdir.iterdir()) == []
