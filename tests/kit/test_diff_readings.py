"""``learn`` + ``diff`` judge by the published page, and still catch what it rules out.

A deployment diffed under the profile ``learn`` wrote for it reports nothing,
whatever reading of the page it took (410 for deleted ids, a repeated delete
answered 404, errors as problem documents, ``+00:00`` offsets, oldest first,
``/v1`` only). A deployment that changes one choice between ``learn`` and
``diff`` is reported under that setting alone, and a secret on a later page of
a listing is a violation.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from broken_variants import KEY_A, KEYS, Middleware, WsgiApp, served
from deployments import problem_json
from werkzeug.wrappers import Request, Response

from contracts.kit.profiles.diff import (
    DiffResult,
    list_order,
    run_diff,
    write_junit,
    write_report,
)
from contracts.kit.profiles.learn import run_learn
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS
from contracts.profile import DEFAULT_PROFILE, Profile

JSON = Any
HIDDEN_410 = {"get_deleted": "gone", "delete_deleted": "gone", "update_deleted": "gone"}


def fake(**settings: JSON) -> WsgiApp:
    """The fake as a deployment, answering the open questions as ``settings`` say."""
    from mockserver.app import create_app

    app: WsgiApp = create_app(keys=KEYS, profile=DEFAULT_PROFILE.with_settings(**settings))
    return app


def shown(result: DiffResult) -> str:
    return result.text()


def test_a_problem_json_deployment_is_learned_as_it_is_and_diffs_clean(tmp_path: Path) -> None:
    with problem_json.serve(None) as url:
        learned = run_learn(url, "plnx_ind_a")
        assert learned.exit_code == EXIT_OK, [v.message for v in learned.violations]
        profile = learned.profile()
        result = run_diff(url, "plnx_ind_a", profile=profile)
    assert (profile.get_deleted, profile.delete_deleted, profile.update_deleted) == (
        "gone",
        "not_found",
        "gone",
    )
    assert profile.list_order == "oldest_first"
    assert "error_body" in profile.undetermined  # problem documents: no shape a profile names
    assert result.exit_code == EXIT_OK and result.divergences == [], shown(result)
    # The '+00:00' offsets and the problem documents are expectations: noted, not blamed.
    assert result.expectations, shown(result)
    assert not result.leftovers
    junit = tmp_path / "diff.xml"
    write_junit(result, junit)
    suite = ET.parse(junit).getroot()
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert int(suite.get("skipped", "0")) == len(result.expectations)


def test_410_for_deleted_ids_is_learned_served_by_the_fake_and_diffs_clean() -> None:
    with served(fake(**HIDDEN_410)) as url:
        learned = run_learn(url, KEY_A)
        under_learned = run_diff(url, KEY_A, profile=learned.profile())
        under_default = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    assert learned.profile().to_json(full=False, notes=False) == HIDDEN_410
    assert under_learned.exit_code == EXIT_OK, shown(under_learned)
    assert under_default.violations == [], shown(under_default)
    assert under_default.settings() == set(HIDDEN_410), shown(under_default)


def test_a_deployment_that_changes_its_repeated_delete_between_learn_and_diff_is_caught() -> None:
    with served(fake(delete_deleted="not_found")) as url:
        learned = run_learn(url, KEY_A)
    assert learned.profile().delete_deleted == "not_found"
    with served(fake()) as url:  # the next release answers a repeated delete with 200
        result = run_diff(url, KEY_A, profile=learned.profile())
    assert result.exit_code == EXIT_VIOLATIONS
    assert result.settings() == {"delete_deleted"}, shown(result)
    statuses = {(d.deployment, d.fake) for d in result.divergences if d.aspect == "status"}
    assert statuses == {(200, 404)}, shown(result)


def test_list_order_is_its_own_setting_learned_and_never_blamed_on_another() -> None:
    with served(fake(list_order="oldest_first")) as url:
        learned = run_learn(url, KEY_A)
        under_default = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
        under_learned = run_diff(url, KEY_A, profile=learned.profile())
        unspecified = DEFAULT_PROFILE.with_settings(list_order="unspecified")
        under_unspecified = run_diff(url, KEY_A, profile=unspecified)
    assert learned.profile().to_json(full=False, notes=False) == {"list_order": "oldest_first"}
    assert learned.undetermined == ()
    assert under_default.divergences, shown(under_default)
    assert under_default.settings() == {"list_order"}, shown(under_default)
    assert {d.aspect for d in under_default.divergences} == {"list-order"}
    assert under_learned.exit_code == EXIT_OK, shown(under_learned)
    assert under_unspecified.exit_code == EXIT_OK, shown(under_unspecified)


@pytest.mark.parametrize(
    ("positions", "order"),
    [
        ([0, 1, 2], "oldest_first"),
        ([2, 1, 0], "newest_first"),
        ([1, 0, 2], "unspecified"),
        ([0], None),
        ([], None),
    ],
)
def test_a_walk_shows_its_order_only_with_two_of_the_run_s_credentials(
    positions: list[int], order: str | None
) -> None:
    assert list_order(positions) == order


class LeaksOnLaterPages(Middleware):
    """A listing's second and later pages carry six characters from inside a secret it
    was sent; the first page is clean, so only a walk that follows a cursor sees it."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        data = self.json_of(response)
        later = request.method == "GET" and "cursor" in request.args
        if later and isinstance(data, dict) and self.secrets:
            data.setdefault("meta", {})["note"] = self.secrets[0][2:8]
            return self.with_json(response, data)
        return response


def test_a_secret_on_page_two_of_a_listing_is_a_violation_never_shown(tmp_path: Path) -> None:
    app = LeaksOnLaterPages(fake())
    with served(app) as url:
        result = run_diff(url, KEY_A, profile=DEFAULT_PROFILE)
    leaks = [d for d in result.violations if "secret-non-echo" in d.rule]
    assert leaks, shown(result)
    assert {d.label for d in leaks} <= {"list one per page", "list two per page"}
    report = tmp_path / "diff.json"
    write_report(result, report)
    written = report.read_text() + shown(result)
    assert app.secrets and not any(secret[2:8] in written for secret in app.secrets)


class OnlyUnderV1(Middleware):
    """Valid: serves ``/v1/api`` only; anything else is an HTML 404."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if not request.path.startswith("/v1/"):
            return Response("<html><body>Not Found</body></html>", 404, mimetype="text/html")
        return None


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_a_deployment_serving_only_v1_is_learned_and_diffed_under_v1(suffix: str) -> None:
    with served(OnlyUnderV1(fake())) as url:
        learned = run_learn(url + suffix, KEY_A)
        result = run_diff(url + suffix, KEY_A, profile=learned.profile())
    assert learned.exit_code == EXIT_OK, learned.error
    assert learned.base_url == result.base_url == url + "/v1"
    assert learned.profile() == DEFAULT_PROFILE
    assert result.exit_code == EXIT_OK, shown(result)


def test_the_fake_serves_410_and_oldest_first_pages_as_its_profile_says() -> None:
    from mockserver.app import create_app

    profile = Profile().with_settings(**HIDDEN_410, list_order="oldest_first")
    client = create_app(keys=KEYS, profile=profile).test_client()
    auth = {"Authorization": f"Bearer {KEY_A}"}
    made = []
    for n in range(3):
        body = {"name": f"order-{n}", "type": "password", "config": {"password": f"pw-{n}-x"}}
        made.append(client.post("/api/credentials", json=body, headers=auth).get_json()["data"])
    listed, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/credentials", query_string=query, headers=auth).get_json()
        listed += [item["id"] for item in page["data"]]
        cursor = page["meta"]["page"]["cursor"]
        if not cursor:
            break
    assert listed == [c["id"] for c in made]
    gone = made[0]["id"]
    assert client.delete(f"/api/credentials/{gone}", headers=auth).status_code == 200
    assert client.get(f"/api/credentials/{gone}", headers=auth).status_code == 410
    assert client.delete(f"/api/credentials/{gone}", headers=auth).status_code == 410
    put = client.put(f"/api/credentials/{gone}", json={"name": "x"}, headers=auth)
    assert (put.status_code, put.get_json()["error"]["code"]) == (410, "gone")
    assert client.post(f"/api/credentials/{gone}/restore", headers=auth).status_code == 200
    assert json.dumps(page).count("pw-") == 0


def test_a_profile_hides_deleted_ids_from_put_only_where_get_hides_them_too() -> None:
    from contracts.profile import profile_errors

    assert profile_errors({"update_deleted": "gone"})
    assert profile_errors({"update_deleted": "gone", "get_deleted": "not_found"}) == []
    assert profile_errors({"update_deleted": "not_found", "get_deleted": "gone"}) == []
    assert profile_errors({"list_order": "by_name"})
