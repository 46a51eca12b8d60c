"""``diff``: the fake under a profile against a deployment, divergence by divergence.

Against each independent SPEC.md alternative the kit's tests have, the profile
``learn`` writes makes ``diff`` report nothing, and the default profile makes
it report exactly what that alternative implies, as drift. A real rule break
is a violation, not drift.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from broken_variants import ALTERNATIVES, BROKEN, KEY_A, Middleware, fake_app, served
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.profiles.diff import (
    DiffResult,
    build_sequence,
    run_diff,
    write_report,
)
from contracts.kit.profiles.learn import run_learn
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS
from contracts.profile import DEFAULT_PROFILE, Profile

# What the default profile must report against each alternative: the settings its
# drift names. The independent server (alt_server) shows no created_by and
# ignores type=, on top of the knob each of its variants turns.
ALT_SERVER = {"created_by", "type_filter"}
IMPLIED: dict[str, set[str]] = {
    "GET deleted is 404": {"get_deleted"},
    "list includes deleted": {"list_default_status"},
    "delete of deleted is 409": {"delete_deleted"},
    "restore of active is 409": {"restore_active"},
    "purge of active is 409": {"purge_active"},
    "create answers 200": {"create_status", "create_location"},
    "create answers 202": ALT_SERVER | {"create_status", "create_location"},
    "validation is 422": {"validation_status", "query_error_status"},
    "taken names refused with 422": {"name_taken_status"},
    "deleted_at only once set": {"deleted_at_on_get", "deleted_at_on_list"},
    "extra non-secret fields": {"extra_fields"},
    "no deleted_at on get and list": {"deleted_at_on_get", "deleted_at_on_list"},
    "full metadata on delete and restore": {"status_bodies"},
    "page size clamped": {"page_size_default", "page_size_over_max"},
    "other error shape": {"error_body"},
    "deleted name freed": ALT_SERVER | {"deleted_names"},
    "update of deleted allowed": ALT_SERVER | {"update_deleted"},
    "update replaces the whole config": ALT_SERVER,
    "lenient input": ALT_SERVER,
    "alt server, every alternative": ALT_SERVER
    | {
        "create_status",
        "create_location",
        "validation_status",
        "get_deleted",
        "list_default_status",
        "delete_deleted",
        "restore_active",
        "deleted_names",
        "purge_active",
        "update_deleted",
        "page_size_default",
        "page_size_over_max",
    },
}


def describe(result: DiffResult) -> str:
    return result.text()


def test_diff_against_the_fake_itself_reports_nothing() -> None:
    with served(fake_app()) as url:
        result = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    assert result.exit_code == EXIT_OK, describe(result)
    assert result.divergences == [] and not result.leftovers
    assert len(result.steps) == len(build_sequence(result.seed))


# Every valid alternative is one a profile setting expresses: the fake imitates it.
@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_a_learned_profile_explains_an_alternative_and_the_default_shows_it(name: str) -> None:
    with served(ALTERNATIVES[name]()) as url:
        learned = run_learn(url, KEY_A)
        assert learned.exit_code == EXIT_OK, [v.message for v in learned.violations]
        under_learned = run_diff(url, KEY_A, profile=learned.profile())
        under_default = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    assert under_learned.exit_code == EXIT_OK, describe(under_learned)
    assert not under_learned.leftovers and not under_default.leftovers
    assert under_default.violations == [], describe(under_default)
    assert all(d.setting for d in under_default.divergences), describe(under_default)
    if name in IMPLIED:
        assert under_default.settings() == IMPLIED[name], describe(under_default)
        assert (under_default.exit_code == EXIT_OK) == (not IMPLIED[name])


@pytest.mark.parametrize(
    ("name", "rule", "shown_by"),
    [
        ("duplicate active names", "invariant 5", "status code"),
        ("update changes status", "invariant 4", "field status"),
        ("response misses created_at", "created_at", "field created_at"),
    ],
)
def test_a_rule_break_is_a_violation_not_drift(name: str, rule: str, shown_by: str) -> None:
    factory, _, _ = BROKEN[name]
    with served(factory()) as url:
        result = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    assert result.exit_code == EXIT_VIOLATIONS
    showing = [d for d in result.divergences if d.detail.startswith(shown_by)]
    assert showing, describe(result)
    first = min(showing, key=lambda d: d.step)  # where the break shows first
    assert first.kind == "violation" and rule in first.rule, describe(result)
    assert all(d.sequence and d.sequence[0].startswith("curl ") for d in result.violations)


def test_the_same_seed_gives_the_same_sequence_and_another_seed_another() -> None:
    assert build_sequence(5) == build_sequence(5)
    assert build_sequence(5) != build_sequence(6)
    labels = [s.label for s in build_sequence(5)]
    assert "get deleted a" in labels and "purge active b" in labels


def test_the_command_line_writes_json_and_junit_and_exits_by_outcome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps(Profile(get_deleted="not_found").to_json(full=False)))
    report, junit = tmp_path / "diff.json", tmp_path / "diff.xml"
    with served(fake_app()) as url:
        args = ["diff", "--base-url", url, "--api-key", KEY_A, "--seed", "3"]
        same = main(args)
        code = main([*args, "--profile", str(profile), "--report", str(report),
                     "--junitxml", str(junit)])  # fmt: skip
    assert same == EXIT_OK
    assert code == EXIT_VIOLATIONS
    out = capsys.readouterr().out
    assert "drift" in out and "get_deleted" in out
    data = json.loads(report.read_text())
    assert data["seed"] == 3 and data["settings"] == ["get_deleted"]
    assert {d["kind"] for d in data["divergences"]} == {"drift"}
    suite = ET.parse(junit).getroot()
    assert int(suite.get("failures", "0")) >= 1
    assert KEY_A not in report.read_text() + junit.read_text()


def test_the_command_line_cannot_run_without_a_deployment_or_with_a_bad_profile(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"create_status": 299}')
    with served(fake_app()) as url:
        assert main(["diff", "--base-url", url, "--api-key", KEY_A, "--profile", str(bad)]) == 2
        assert main(["diff", "--base-url", url, "--api-key", "plnx_test_wrong"]) == EXIT_ERROR
    assert main(["diff", "--base-url", "http://127.0.0.1:9", "--api-key", KEY_A]) == EXIT_ERROR


class NameEchoesASecret(Middleware):
    """A GET answers with the last secret it was sent as the credential's name."""

    def after(self, request: Request, body: object, response: Response) -> Response:
        data = self.json_of(response)
        if request.method == "GET" and isinstance(data, dict) and self.secrets:
            inner = data.get("data")
            if isinstance(inner, dict) and "name" in inner:
                inner["name"] = self.secrets[-1]
                return self.with_json(response, data)
        return response


def test_a_leak_is_a_violation_and_the_report_never_shows_the_secret(tmp_path: Path) -> None:
    app = NameEchoesASecret(fake_app())
    with served(app) as url:
        result = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    assert any("secret-non-echo" in d.rule for d in result.violations), describe(result)
    report = tmp_path / "r.json"
    write_report(result, report)
    shown = report.read_text() + result.text()
    assert app.secrets and not any(secret in shown for secret in app.secrets)
