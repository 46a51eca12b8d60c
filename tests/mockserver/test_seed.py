from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fake_support import START, sample_config

import contracts
from mockserver import CredentialStore, Keyring
from mockserver.errors import NameTaken, ValidationFailed
from mockserver.seed import SeedError, load_credential, load_fixtures, load_fixtures_file

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo.json"
CRED = "workspaces[0].credentials[0]"
WS = "ws_a"


def test_demo_fixtures_cover_every_type_and_both_workspaces() -> None:
    store, keyring = CredentialStore(), Keyring()
    summary = load_fixtures_file(DEMO, store, keyring)
    assert summary.workspaces == ("ws_acme", "ws_globex")
    assert summary.credentials >= 12
    everything = [c for c, _ in store.iter_all()]
    assert {c.type for c in everything} == set(contracts.CREDENTIAL_TYPES)
    assert {c.workspace for c in everything if c.status == "deleted"} == {"ws_acme", "ws_globex"}
    admin = keyring.authenticate("plnx_test_acme_admin")
    viewer = keyring.authenticate("plnx_test_acme_viewer")
    assert admin is not None and viewer is not None
    assert not viewer.can("connections:write")
    for credential, secrets in store.iter_all():
        assert not contracts.validate_response("credential", credential.to_json(), strict=True)
        assert secrets or credential.type in ("aws", "azure", "gcp")


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], ""),
        ({"workspaces": {}}, "workspaces"),
        ({"workspaces": [{"id": "bad id"}]}, "workspaces[0].id"),
        ({"workspaces": [{"id": "w", "colour": 1}]}, "workspaces[0].colour"),
        ({"workspaces": [{"id": "w", "keys": [{"key": "a b"}]}]}, "workspaces[0].keys[0]"),
        (
            {"workspaces": [{"id": "w", "keys": [{"key": "k", "scopes": "x"}]}]},
            "workspaces[0].keys[0].scopes",
        ),
        ({"workspaces": [{"id": "w", "credentials": [{"name": "x"}]}]}, CRED + ".config"),
        (
            {
                "workspaces": [
                    {
                        "id": "w",
                        "credentials": [
                            {"name": "x", "type": "password", "config": {"password": "SEEDPW"}},
                            {"name": "x", "type": "password", "config": {"password": "SEEDPW"}},
                        ],
                    }
                ]
            },
            "workspaces[0].credentials[1].name",
        ),
        (
            {
                "workspaces": [
                    {
                        "id": "w",
                        "credentials": [
                            {
                                "name": "x",
                                "type": "password",
                                "config": {"password": "SEEDPW", "port": "SEEDPW"},
                            }
                        ],
                    }
                ]
            },
            CRED + ".config.port",
        ),
        (
            {
                "workspaces": [
                    {
                        "id": "w",
                        "credentials": [
                            {
                                "name": "x",
                                "type": "password",
                                "config": {"password": "p"},
                                "created_at": "yesterday",
                            }
                        ],
                    }
                ]
            },
            CRED + ".created_at",
        ),
    ],
)
def test_bad_fixtures_name_the_place_not_the_value(data: object, where: str) -> None:
    store = CredentialStore()
    with pytest.raises(SeedError) as raised:
        load_fixtures(data, store, Keyring())
    assert [detail.path for detail in raised.value.details] == [where]
    assert str(raised.value).startswith(f"{where or '(file)'}: ")
    assert "SEEDPW" not in str(raised.value)
    assert len(store) == 0


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(SeedError):
        load_fixtures_file(path, CredentialStore())
    with pytest.raises(SeedError):
        load_fixtures_file(tmp_path / "missing.json", CredentialStore())


def test_explicit_ids_and_history_survive(tmp_path: Path) -> None:
    data = {
        "workspaces": [
            {
                "id": "w",
                "credentials": [
                    {
                        "id": "cred_fixed00000000001",
                        "name": "x",
                        "type": "password",
                        "config": {"password": "p"},
                        "status": "deleted",
                        "created_at": "2024-01-01T00:00:00Z",
                        "deleted_at": "2024-02-01T00:00:00Z",
                        "created_by": "usr_me",
                    }
                ],
            }
        ]
    }
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    store = CredentialStore()
    load_fixtures_file(path, store)
    rendered = store.get("w", "cred_fixed00000000001").to_json()
    assert rendered["deleted_at"] == "2024-02-01T00:00:00Z"
    assert rendered["updated_at"] == "2024-02-01T00:00:00Z"
    assert rendered["created_by"] == "usr_me"


def _one(**fields: object) -> dict[str, object]:
    credential = {"name": "x", "type": "password", "config": {"password": "SEEDPW"}} | fields
    return {"workspaces": [{"id": "w", "credentials": [credential]}]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"created_by": "SEEDPW"}, "created_by"),
        ({"created_by": "usr_SEEDPW!"}, "created_by"),
        ({"created_by": "usr_" + "a" * 65}, "created_by"),
        ({"id": "cred_SEEDPW.1"}, "id"),
        ({"id": "cred_SEEDPW\n"}, "id"),
        ({"id": "cred_" + "a" * 65}, "id"),
        ({"id": "credSEEDPW"}, "id"),
        ({"deleted_at": "2025-01-01T00:00:00Z"}, "deleted_at"),
        ({"status": "active", "deleted_at": "2025-01-01T00:00:00Z"}, "deleted_at"),
        (
            {
                "status": "deleted",
                "created_at": "2025-01-02T00:00:00Z",
                "deleted_at": "2025-01-01T23:59:59Z",
            },
            "deleted_at",
        ),
    ],
)
def test_history_fields_are_checked_not_dropped(fields: dict[str, object], field: str) -> None:
    store, keyring = CredentialStore(), Keyring()
    with pytest.raises(SeedError) as raised:
        load_fixtures(_one(**fields), store, keyring)
    assert [detail.path for detail in raised.value.details] == [f"{CRED}.{field}"]
    assert "SEEDPW" not in str(raised.value) + repr(raised.value.details)
    assert len(store) == 0


def test_good_history_fields_load() -> None:
    store = CredentialStore()
    load_fixtures(
        _one(
            id="cred_Fixture-1_a",
            created_by="usr_Some-One_1",
            status="deleted",
            created_at="2025-01-01T00:00:00Z",
            deleted_at="2025-01-01T00:00:00Z",
        ),
        store,
    )
    (credential,) = [c for c, _ in store.iter_all()]
    assert (credential.id, credential.created_by) == ("cred_Fixture-1_a", "usr_Some-One_1")
    assert credential.deleted_at == credential.created_at


# --- one credential with a history (fixtures entries, state files, fake.seed) ---


def test_load_credential_accepts_history_and_rejects_clashes(store: CredentialStore) -> None:
    loaded = load_credential(
        store,
        WS,
        name="old",
        type="password",
        config=sample_config("password"),
        status="deleted",
        id="cred_fixture0000000001",
        created_at=START - timedelta(days=10),
        deleted_at=START - timedelta(days=1),
        created_by="usr_x",
    )
    assert loaded.status == "deleted"
    assert loaded.updated_at == START - timedelta(days=1)
    with pytest.raises(ValidationFailed):
        load_credential(
            store, WS, name="dup-id", type="password", config={"password": "p"}, id=loaded.id
        )
    with pytest.raises(ValidationFailed):
        load_credential(
            store, WS, name="bad", type="password", config={"password": "p"}, status="gone"
        )
    with pytest.raises(NameTaken):
        load_credential(store, WS, name="old", type="password", config={"password": "p"})
    store.reset()
    assert len(store) == 0
    assert store.list(WS, status="all").items == []


def test_load_credential_checks_id_creator_and_deletion_time(store: CredentialStore) -> None:
    base = {"name": "h", "type": "password", "config": {"password": "p"}}
    refused: list[tuple[dict[str, Any], str]] = [
        ({"id": "cred_a.b"}, "id"),
        ({"id": "cred_ab\n"}, "id"),
        ({"id": "cred_" + "a" * 65}, "id"),
        ({"created_by": "alice"}, "created_by"),
        ({"created_by": "usr_a b"}, "created_by"),
        ({"deleted_at": START}, "deleted_at"),
        (
            {"status": "deleted", "created_at": START, "deleted_at": START - timedelta(seconds=1)},
            "deleted_at",
        ),
        (
            {"status": "deleted", "deleted_at": START - timedelta(days=1)},
            "deleted_at",
        ),  # created: now
    ]
    for fields, field in refused:
        with pytest.raises(ValidationFailed) as raised:
            load_credential(store, WS, **base, **fields)
        assert [d.path for d in raised.value.details] == [field], fields
    assert len(store) == 0
    loaded = load_credential(
        store,
        WS,
        **base,
        id="cred_A-z_09",
        created_by="usr_B-y_1",
        status="deleted",
        deleted_at=START,
    )
    assert (loaded.id, loaded.created_by, loaded.deleted_at) == ("cred_A-z_09", "usr_B-y_1", START)
