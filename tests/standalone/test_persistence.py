"""--state-file: restarts keep state, writes are atomic, no secret reaches the disk."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from fake_support import START, canary, sample_config
from flask import Flask
from standalone_support import DEV, WS_DEV, assert_absent, make_app, password_body

import contracts
from mockserver import CredentialStore, Keyring, ManualClock, create_app, get_state
from mockserver.auth import DEV_KEY, DEV_USER
from mockserver.standalone import StandaloneExtension, StandaloneOptions
from mockserver.standalone.persistence import PLACEHOLDER, SecretCipher, StateFile, StateFileError

KEY = "correct horse battery staple"


def fake(path: Path, key: str | None = KEY, **extra: Any) -> Flask:
    return make_app(StandaloneOptions(state_file=path, state_key=key, **extra))


def fill(app: Flask) -> tuple[list[str], dict[str, Any]]:
    """One credential of every type with canary secrets; one soft-deleted. Returns canaries."""
    client = app.test_client()
    secrets: list[str] = []

    def secret() -> str:
        value = canary()
        secrets.append(value)
        return value

    configs: dict[str, Any] = {}
    for type_ in contracts.CREDENTIAL_TYPES:
        body = {"name": f"c-{type_}", "type": type_, "config": sample_config(type_, secret)}
        response = client.post("/api/credentials", json=body, headers=DEV)
        assert response.status_code == 201, response.json
        configs[response.json["data"]["id"]] = body["config"]
    first = next(iter(configs))
    assert client.delete(f"/api/credentials/{first}", headers=DEV).status_code == 200
    return secrets, configs


def listing(app: Flask) -> list[dict[str, Any]]:
    client = app.test_client()
    data: list[dict[str, Any]] = client.get(
        "/api/credentials?status=all&limit=200", headers=DEV
    ).json["data"]
    return data


def test_restart_keeps_every_credential_and_its_secrets(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    app = fake(path)
    secrets, configs = fill(app)
    before = listing(app)
    blob = path.read_bytes()
    for secret in secrets:
        assert_absent(secret, blob)
    assert os.stat(path).st_mode & 0o077 == 0  # private to the user

    again = fake(path)
    assert listing(again) == before
    store = get_state(again).store
    for cred_id, config in configs.items():
        kept = store.secrets_of(WS_DEV, cred_id).reveal()
        assert kept == contracts.split_secrets(store.get(WS_DEV, cred_id).type, config)[1]
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp files left


@pytest.mark.parametrize("key", [KEY, None])
def test_ids_made_after_a_restart_sort_after_the_kept_ones(tmp_path: Path, key: str | None) -> None:
    # The id counter restarted at 0: new ids sorted before the kept ones (SPEC §1:
    # ordered by creation), and same-second list ties came out in the wrong order.
    path = tmp_path / "state.json"
    _, configs = fill(fake(path, key=key))
    keyring = Keyring()
    keyring.add(DEV_KEY, WS_DEV, user_id=DEV_USER)
    # Another id seed, as after a restart without --id-seed: a fake seeded like
    # the first one would only skip past the kept ids because it re-made them.
    again = create_app(
        CredentialStore(clock=ManualClock(START), seed=8),
        keyring=keyring,
        extensions=[StandaloneExtension(StandaloneOptions(state_file=path, state_key=key))],
    )
    response = again.test_client().post(
        "/api/credentials", json=password_body("after-restart", canary()), headers=DEV
    )
    assert response.status_code == 201, response.json
    assert response.json["data"]["id"] > max(configs)


def test_without_a_key_only_the_secret_fields_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    app = fake(path, key=None)
    secrets, configs = fill(app)
    before = listing(app)
    blob = path.read_bytes()
    for secret in secrets:
        assert_absent(secret, blob)
    again = fake(path, key=None)
    assert listing(again) == before
    cred_id = next(c for c in configs if "password" in configs[c])
    kept = get_state(again).store.secrets_of(WS_DEV, cred_id).reveal()
    assert kept["password"] == PLACEHOLDER


def test_without_a_key_a_secret_object_leaves_not_even_its_keys(tmp_path: Path) -> None:
    # The field list used to be the secret's own leaves: a service_account_json
    # object wrote its keys to disk in plain text, and they are part of the secret.
    path = tmp_path / "state.json"
    client = fake(path, key=None).test_client()
    key_name, value = canary(), canary()
    config = {"project_id": "p", "service_account_json": {key_name: value}}
    created = client.post(
        "/api/credentials", json={"name": "g", "type": "gcp", "config": config}, headers=DEV
    )
    assert created.status_code == 201, created.json
    blob = path.read_bytes()
    assert_absent(value, blob)
    assert_absent(key_name, blob)
    kept = get_state(fake(path, key=None)).store.secrets_of(WS_DEV, created.json["data"]["id"])
    assert kept.reveal() == {"service_account_json": PLACEHOLDER}


def test_every_acknowledged_write_is_on_disk_before_the_response(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    client = fake(path, key=None).test_client()
    created = client.post("/api/credentials", json=password_body("a", canary()), headers=DEV)
    cred_id = created.json["data"]["id"]
    assert cred_id in path.read_text()
    client.delete(f"/api/credentials/{cred_id}", headers=DEV)
    on_disk = json.loads(path.read_text())["credentials"]
    assert on_disk[0]["status"] == "deleted"
    client.delete(f"/api/credentials/{cred_id}/permanent", headers=DEV)
    assert json.loads(path.read_text())["credentials"] == []


def test_reset_and_seed_through_the_control_plane_are_saved(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    client = fake(path).test_client()
    key = "plnx_test_" + canary()
    fixtures = {
        "workspaces": [
            {
                "id": "ws_s",
                "keys": [{"key": key}],
                "credentials": [
                    {"name": "s", "type": "password", "config": {"password": canary()}}
                ],
            }
        ]
    }
    assert client.post("/_mock/seed", json=fixtures).status_code == 200
    assert_absent(key, path.read_bytes())
    restarted = fake(path).test_client()
    # The credentials survive; the key does not: keys come from flags and seed only.
    response = restarted.get("/api/credentials", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 401
    assert "ws_s" in [w["id"] for w in restarted.get("/_mock/state").json["data"]["workspaces"]]
    restarted.post("/_mock/reset")
    assert json.loads(path.read_text())["credentials"] == []


def test_a_failed_save_is_not_acknowledged_and_keeps_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.json"
    client = fake(path, key=None).test_client()
    client.post("/api/credentials", json=password_body("kept", canary()), headers=DEV)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    response = client.post("/api/credentials", json=password_body("lost", canary()), headers=DEV)
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_concurrent_writes_all_reach_the_file(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    app = fake(path, key=None)

    def worker(n: int) -> None:
        client = app.test_client()
        for i in range(5):
            body = password_body(f"w{n}-{i}", canary())
            assert client.post("/api/credentials", json=body, headers=DEV).status_code == 201

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(json.loads(path.read_text())["credentials"]) == 30


def test_wrong_missing_or_corrupt_state_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    fill(fake(path))
    original = path.read_bytes()
    with pytest.raises(StateFileError, match="state key"):
        fake(path, key="not the key")
    with pytest.raises(StateFileError, match="encrypted"):
        fake(path, key=None)
    assert path.read_bytes() == original
    for text in (
        "{",
        "[]",
        '{"format": "other"}',
        '{"format": "planasonix-mock-state", "version": 9}',
        '{"format": "planasonix-mock-state", "version": 1, "encryption": null,'
        ' "credentials": [{"config": {}, "type": "nope", "name": "x", "workspace": "w"}]}',
    ):
        path.write_text(text)
        with pytest.raises(StateFileError):
            fake(path, key=None)
        assert path.read_text() == text


def test_a_key_added_later_encrypts_from_then_on(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    fill(fake(path, key=None))
    app = fake(path, key=KEY)
    assert json.loads(path.read_text())["encryption"] is None  # nothing written yet
    app.test_client().post("/api/credentials", json=password_body("new", canary()), headers=DEV)
    assert json.loads(path.read_text())["encryption"]["scheme"] == "fernet-scrypt"
    assert len(listing(fake(path, key=KEY))) == len(contracts.CREDENTIAL_TYPES) + 1


def test_state_file_repr_and_unreadable_folder(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "s.json", KEY)
    assert KEY not in repr(state)
    with pytest.raises(StateFileError, match="cannot write"):
        fake(tmp_path / "missing-folder" / "s.json")


def _rewrite(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_a_credential_without_a_workspace_is_refused_not_filed_under_none(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.json"
    fill(fake(path, key=None))
    _rewrite(path, lambda doc: doc["credentials"][0].pop("workspace"))
    with pytest.raises(StateFileError, match=r"credentials\[0\]\.workspace"):
        fake(path, key=None)
    _rewrite(path, lambda doc: doc["credentials"][0].update(workspace=7))
    with pytest.raises(StateFileError, match=r"credentials\[0\]\.workspace"):
        fake(path, key=None)


def test_keys_in_an_older_file_are_ignored_not_resurrected(tmp_path: Path) -> None:
    # Files written before keys left the state file hold an encrypted key list.
    path = tmp_path / "state.json"
    fill(fake(path))
    document = json.loads(path.read_text())
    assert "keys" not in document
    cipher = SecretCipher(KEY, base64.b64decode(document["encryption"]["salt"]))
    old_key = "plnx_test_" + canary()
    entries = [{"key": old_key, "workspace": WS_DEV, "scopes": ["connections:read"]}]
    document["keys"] = cipher.encrypt(entries)
    path.write_text(json.dumps(document))
    client = fake(path).test_client()
    assert client.get("/api/credentials", headers=DEV).status_code == 200
    response = client.get("/api/credentials", headers={"Authorization": f"Bearer {old_key}"})
    assert response.status_code == 401


def test_a_state_file_loads_by_the_profile_it_was_written_under(tmp_path: Path) -> None:
    # With deleted names freed, a deleted and an active credential may share a
    # name; the file's check before loading must answer by the same profile.
    path = tmp_path / "state.json"

    def freed_fake() -> Flask:
        return create_app(
            CredentialStore(clock=ManualClock(START), seed=7),
            keys={DEV_KEY: WS_DEV},
            profile={"deleted_names": "freed"},
            extensions=[StandaloneExtension(StandaloneOptions(state_file=path, state_key=KEY))],
        )

    client = freed_fake().test_client()
    first = client.post("/api/credentials", json=password_body("twin", canary()), headers=DEV)
    assert (
        client.delete(f"/api/credentials/{first.json['data']['id']}", headers=DEV).status_code
        == 200
    )
    assert (
        client.post(
            "/api/credentials", json=password_body("twin", canary()), headers=DEV
        ).status_code
        == 201
    )
    again = freed_fake()
    assert sorted(c["status"] for c in listing(again)) == ["active", "deleted"]
