"""Profiles: every open answer of SPEC.md section 4 is a setting of the fake.

Each test serves the fake under one profile through Flask's test client and
checks the answer the setting picks, and that the default profile is the
fake's documented behaviour. Secrets are unique canaries.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from fake_support import KEY_A, bearer
from flask.testing import FlaskClient

from contracts.profile import (
    DEFAULT_PROFILE,
    Profile,
)
from mockserver import create_app
from mockserver.errors import CredentialNotFound, NameTaken, StateConflict
from mockserver.profile import Policy
from mockserver.state import get_state
from mockserver.store import CredentialStore

H = bearer(KEY_A)


def client_for(**settings: Any) -> FlaskClient:
    return create_app(keys={KEY_A: "ws_a"}, profile=settings).test_client()


def canary() -> str:
    return "canary-" + secrets.token_hex(12)


def make(client: FlaskClient, name: str = "c", type_: str = "password") -> dict[str, Any]:
    body = {"name": name, "type": type_, "config": {"username": "u", "password": canary()}}
    response = client.post("/api/credentials", json=body, headers=H)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    data: dict[str, Any] = response.get_json()["data"]
    return data


def delete(client: FlaskClient, cred_id: str) -> Any:
    return client.delete(f"/api/credentials/{cred_id}", headers=H)


# --- the profile document -------------------------------------------------------------------


def test_the_default_profile_is_the_fakes_behaviour() -> None:
    app = create_app(keys={KEY_A: "ws_a"})
    assert get_state(app).policy.profile == DEFAULT_PROFILE
    client = app.test_client()
    response = client.post(
        "/api/credentials",
        json={"name": "c", "type": "password", "config": {"password": canary()}},
        headers=H,
    )
    assert response.status_code == 201 and "Location" in response.headers
    cred_id = response.get_json()["data"]["id"]
    assert set(delete(client, cred_id).get_json()["data"]) == {"id", "status", "deleted_at"}
    got = client.get(f"/api/credentials/{cred_id}", headers=H)
    assert got.status_code == 200 and got.get_json()["data"]["deleted_at"] is not None
    assert delete(client, cred_id).status_code == 200
    listed = client.get("/api/credentials", headers=H).get_json()
    assert listed["data"] == [] and listed["meta"]["page"]["limit"] == 50
    bad = client.get("/api/credentials?limit=201", headers=H)
    assert bad.status_code == 400 and set(bad.get_json()) == {"error"}


# --- lifecycle settings (the store asks the policy) ---------------------------------------------


def test_the_store_follows_its_policy_without_flask() -> None:
    store = CredentialStore(
        policy=Policy.of(
            {"delete_deleted": "conflict", "restore_active": "conflict", "purge_active": "conflict"}
        )
    )
    cred = store.create("ws", name="n", type="password", config={"password": canary()})
    with pytest.raises(StateConflict):
        store.restore("ws", cred.id)
    with pytest.raises(StateConflict):
        store.purge("ws", cred.id)
    store.delete("ws", cred.id)
    with pytest.raises(StateConflict):
        store.delete("ws", cred.id)
    assert store.purge("ws", cred.id) == cred.id


def test_freed_names_let_a_new_credential_take_a_deleted_ones_name() -> None:
    store = CredentialStore(policy=Policy.of({"deleted_names": "freed"}))
    old = store.create("ws", name="n", type="password", config={"password": canary()})
    store.delete("ws", old.id)
    new = store.create("ws", name="n", type="password", config={"password": canary()})
    with pytest.raises(NameTaken):
        store.restore("ws", old.id)  # would make two active credentials named n
    store.purge("ws", old.id)  # purging the deleted one leaves the active one's name alone
    with pytest.raises(NameTaken):
        store.create("ws", name="n", type="password", config={"password": canary()})
    store.delete("ws", new.id)
    store.purge("ws", new.id)
    store.create("ws", name="n", type="password", config={"password": canary()})


def test_reserved_names_stay_taken_while_deleted() -> None:
    store = CredentialStore()
    old = store.create("ws", name="n", type="password", config={"password": canary()})
    store.delete("ws", old.id)
    with pytest.raises(NameTaken):
        store.create("ws", name="n", type="password", config={"password": canary()})


def test_an_allowed_update_of_a_deleted_one_keeps_it_deleted() -> None:
    store = CredentialStore(policy=Policy.of({"update_deleted": "allowed"}))
    cred = store.create("ws", name="n", type="password", config={"password": canary()})
    store.delete("ws", cred.id)
    updated = store.update("ws", cred.id, {"name": "m", "config": {"username": "x"}})
    assert (updated.status, updated.name, updated.config["username"]) == ("deleted", "m", "x")


def test_a_hidden_deleted_one_answers_404_to_get_and_update() -> None:
    client = client_for(get_deleted="not_found", update_deleted="not_found")
    cred = make(client)
    delete(client, cred["id"])
    assert client.get(f"/api/credentials/{cred['id']}", headers=H).status_code == 404
    put = client.put(f"/api/credentials/{cred['id']}", json={"name": "x"}, headers=H)
    assert put.status_code == 404
    with pytest.raises(CredentialNotFound):
        Policy.of({"get_deleted": "not_found", "update_deleted": "not_found"}).update_deleted()


# --- HTTP settings (the routes ask the policy) --------------------------------------------------


@pytest.mark.parametrize("status", [200, 202, 203])
def test_create_status_and_location(status: int) -> None:
    # The docs say "2xx with the new metadata": each such status is a profile's to pick.
    client = client_for(create_status=status, create_location=False)
    secret = canary()
    response = client.post(
        "/api/credentials",
        json={"name": "c", "type": "password", "config": {"password": secret}},
        headers=H,
    )
    assert response.status_code == status and "Location" not in response.headers
    assert response.get_json()["data"]["name"] == "c"
    assert secret not in response.get_data(as_text=True)


def test_validation_and_query_errors_take_their_own_status() -> None:
    client = client_for(validation_status=422, query_error_status=422)
    bad_body = {"name": "c", "type": "not_a_type", "config": {}}
    assert client.post("/api/credentials", json=bad_body, headers=H).status_code == 422
    assert client.get("/api/credentials?limit=0", headers=H).status_code == 422
    assert client.get("/api/credentials?cursor=junk", headers=H).status_code == 422
    client = client_for(validation_status=422)
    assert client.get("/api/credentials?limit=0", headers=H).status_code == 400


@pytest.mark.parametrize("status", [400, 422])
def test_a_taken_name_takes_its_own_status_on_create_rename_and_restore(status: int) -> None:
    client = client_for(name_taken_status=status, deleted_names="freed")
    first, other = make(client, "taken"), make(client, "other")
    dup = {"name": "taken", "type": "password", "config": {"password": canary()}}
    answer = client.post("/api/credentials", json=dup, headers=H)
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (status, "conflict")
    rename = client.put(f"/api/credentials/{other['id']}", json={"name": "taken"}, headers=H)
    assert rename.status_code == status
    delete(client, first["id"])
    make(client, "taken")  # the name is freed by the delete, and taken again
    clash = client.post(f"/api/credentials/{first['id']}/restore", headers=H)
    assert clash.status_code == status
    # A state conflict (an update of a deleted one) is not a taken name: it keeps its 409.
    delete(client, other["id"])
    assert client.put(f"/api/credentials/{other['id']}", json={}, headers=H).status_code == 409


def test_every_410_the_gone_settings_give_is_in_the_served_document() -> None:
    client = client_for(get_deleted="gone", delete_deleted="gone", update_deleted="gone")
    cred = make(client)
    delete(client, cred["id"])
    path = f"/api/credentials/{cred['id']}"
    answers = {
        "get": client.get(path, headers=H),
        "put": client.put(path, json={"name": "n"}, headers=H),
        "delete": client.delete(path, headers=H),
    }
    documented = client.get("/openapi.json").get_json()["paths"]["/api/credentials/{id}"]
    for method, answer in answers.items():
        assert answer.status_code == 410, method
        assert "410" in documented[method]["responses"], method


def test_deleted_at_when_deleted_shows_only_once_set() -> None:
    client = client_for(deleted_at_on_get="when_deleted", deleted_at_on_list="when_deleted")
    live, gone = make(client, "live"), make(client, "gone")
    delete(client, gone["id"])
    got = {c: client.get(f"/api/credentials/{c}", headers=H).get_json()["data"] for c in
           (live["id"], gone["id"])}  # fmt: skip
    listed = client.get("/api/credentials?status=all", headers=H).get_json()["data"]
    for view in [*got.values(), *listed]:
        assert ("deleted_at" in view) == (view["status"] == "deleted"), view
        assert view.get("deleted_at", "set") is not None
    assert len(listed) == 2


def test_deleted_at_created_by_and_extra_fields_in_views() -> None:
    client = client_for(
        deleted_at_on_get="absent",
        deleted_at_on_list="absent",
        created_by="omitted",
        extra_fields=["etag", "config.hint"],
    )
    cred = make(client)
    got = client.get(f"/api/credentials/{cred['id']}", headers=H).get_json()["data"]
    listed = client.get("/api/credentials", headers=H).get_json()["data"][0]
    for view in (got, listed):
        assert "deleted_at" not in view and "created_by" not in view
        assert view["etag"] is None and view["config"]["hint"] is None
    assert "deleted_at" in cred  # create answers keep it: the docs show it on writes


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ({}, lambda view: "deleted_at" in view and "created_by" in view),
        ({"deleted_at_on_get": "absent"}, lambda view: "deleted_at" not in view),
        ({"created_by": "omitted"}, lambda view: "created_by" not in view),
        ({"extra_fields": ["etag"]}, lambda view: view.get("etag", 0) is None),
        # Settings of other views leave a GET by id in the fake's own shape.
        ({"deleted_at_on_list": "absent"}, lambda view: "deleted_at" in view),
    ],
)
def test_get_by_id_follows_each_view_setting_alone(
    setting: dict[str, Any], shown: Callable[[dict[str, Any]], bool]
) -> None:
    # A GET by id answers from the store's kept text only in the fake's own
    # shape; each setting that changes the shape must still reach the view.
    client = client_for(**setting)
    cred = make(client)
    for _ in range(2):  # the second read comes from the kept text when it may
        view = client.get(f"/api/credentials/{cred['id']}", headers=H).get_json()["data"]
        assert shown(view), view
        assert {k: v for k, v in view.items() if k in cred} == {
            k: v for k, v in cred.items() if k in view
        }


def test_full_status_bodies_carry_the_metadata_and_no_secret() -> None:
    client = client_for(status_bodies="full")
    secret = canary()
    body = {"name": "c", "type": "password", "config": {"username": "u", "password": secret}}
    cred = client.post("/api/credentials", json=body, headers=H).get_json()["data"]
    for response in (
        delete(client, cred["id"]),
        client.post(f"/api/credentials/{cred['id']}/restore", headers=H),
    ):
        data = response.get_json()["data"]
        assert {"id", "status", "deleted_at", "name", "config"} <= set(data)
        assert secret not in response.get_data(as_text=True)


@pytest.mark.parametrize("over", ["reject", "clamp"])
def test_page_sizes(over: str) -> None:
    client = client_for(page_size_default=2, page_size_max=3, page_size_over_max=over)
    for n in range(4):
        make(client, f"c{n}")
    page = client.get("/api/credentials", headers=H).get_json()
    assert len(page["data"]) == 2 and page["meta"]["page"]["limit"] == 2
    big = client.get("/api/credentials?limit=9", headers=H)
    if over == "clamp":
        assert big.status_code == 200 and big.get_json()["meta"]["page"]["limit"] == 3
    else:
        assert big.status_code == 400


def test_list_without_status_may_include_deleted_ones() -> None:
    client = client_for(list_default_status="all")
    cred = make(client)
    delete(client, cred["id"])
    listed = client.get("/api/credentials", headers=H).get_json()["data"]
    assert [item["status"] for item in listed] == ["deleted"]


@pytest.mark.parametrize("how", ["ignored", "rejected"])
def test_unsupported_filters(how: str) -> None:
    client = client_for(type_filter=how, status_filter=how)
    make(client, "p", "password")
    for query in ("type=aws", "status=deleted"):
        response = client.get(f"/api/credentials?{query}", headers=H)
        if how == "rejected":
            assert response.status_code == 400
        else:
            assert [i["name"] for i in response.get_json()["data"]] == ["p"]


def test_a_flat_error_body_on_the_api_only() -> None:
    client = client_for(error_body="flat")
    missing = client.get("/api/credentials/cred_nothere", headers=H)
    assert missing.status_code == 404
    assert set(missing.get_json()) == {"code", "message"}
    assert missing.get_json()["code"] == "not_found"
    elsewhere = client.get("/not-the-api", headers=H)
    assert "error" in elsewhere.get_json()


def test_two_apps_with_different_profiles_share_nothing() -> None:
    strict = create_app(keys={KEY_A: "ws_a"}, profile=Profile(get_deleted="not_found"))
    plain = create_app(keys={KEY_A: "ws_a"})
    assert get_state(strict).policy.profile.get_deleted == "not_found"
    assert get_state(plain).policy.profile.get_deleted == "found"


# --- `planasonix-mock serve --profile` --------------------------------------------------------


def test_serve_answers_by_the_profile_it_is_given(tmp_path: Any) -> None:
    import requests
    from fake_support import start_server, stop_server

    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"create_status": 200, "error_body": "flat"}))
    process, base = start_server("--api-key", "plnx_test_p=ws_p", "--profile", str(path))
    try:
        headers = bearer("plnx_test_p")
        body = {"name": "c", "type": "password", "config": {"password": canary()}}
        created = requests.post(f"{base}/api/credentials", json=body, headers=headers, timeout=10)
        missing = requests.get(f"{base}/api/credentials/cred_none", headers=headers, timeout=10)
    finally:
        code, output = stop_server(process)
    assert code == 0, output
    assert created.status_code == 200
    assert missing.status_code == 404 and set(missing.json()) == {"code", "message"}


def test_serve_refuses_a_bad_profile_naming_the_setting(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver.standalone.cli import main

    path = tmp_path / "profile.json"
    path.write_text(json.dumps({"get_deleted": "sometimes"}))
    assert main(["serve", "--port", "0", "--profile", str(path)]) == 2
    assert "get_deleted" in capsys.readouterr().err


# --- the pytest plugin: `profile=` marker argument and `planasonix_profile` ini option ----------


def test_the_fixtures_take_a_profile_from_the_ini_file_and_the_marker(
    pytester: pytest.Pytester,
) -> None:
    (pytester.path / "strict.json").write_text(json.dumps({"create_status": 200}))
    pytester.makeini(
        """
        [pytest]
        planasonix_profile = strict.json
        """
    )
    pytester.makepyfile(
        test_inner="""
        import pytest

        BODY = {"name": "n", "type": "password", "config": {"password": "p" * 12}}

        def create(fake):
            return fake.session.post(
                fake.url + "/api/credentials", json=BODY, headers=fake.auth_headers
            )

        def test_ini(planasonix_fake):
            assert create(planasonix_fake).status_code == 200

        @pytest.mark.planasonix(profile={"create_status": 201, "get_deleted": "not_found"})
        def test_marker_dict_wins(planasonix_fake):
            created = create(planasonix_fake)
            assert created.status_code == 201
            cred_id = created.json()["data"]["id"]
            url = planasonix_fake.url + "/api/credentials/" + cred_id
            planasonix_fake.session.delete(url, headers=planasonix_fake.auth_headers)
            got = planasonix_fake.session.get(url, headers=planasonix_fake.auth_headers)
            assert got.status_code == 404

        @pytest.mark.planasonix(profile=None)
        def test_marker_none_is_the_default(planasonix_server):
            assert create(planasonix_server).status_code == 201
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:xdist", "-q")
    result.assert_outcomes(passed=3)


@pytest.mark.parametrize("replaces", [False, True])
def test_update_replaces_config_decides_what_an_omitted_config_field_becomes(
    replaces: bool,
) -> None:
    client = client_for(update_replaces_config=replaces)
    made = make(client)
    new_secret = canary()
    response = client.put(
        f"/api/credentials/{made['id']}", json={"config": {"password": new_secret}}, headers=H
    )
    assert response.status_code == 200
    assert new_secret not in response.get_data(as_text=True)
    config = response.get_json()["data"]["config"]
    # merged: the omitted username stays; replaced: it is gone with the old config
    assert ("username" in config) is not replaces
