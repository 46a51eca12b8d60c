from __future__ import annotations

import json
from pathlib import Path

import pytest

import contracts
from mockserver import CredentialStore, Keyring
from mockserver.seed import SeedError, load_fixtures, load_fixtures_file

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "demo.json"


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
        ([], "(file)"),
        ({"workspaces": {}}, "workspaces"),
        ({"workspaces": [{"id": "bad id"}]}, "workspaces[0].id"),
        ({"workspaces": [{"id": "w", "colour": 1}]}, "workspaces[0]"),
        ({"workspaces": [{"id": "w", "keys": [{"key": "a b"}]}]}, "workspaces[0].keys[0]"),
        ({"workspaces": [{"id": "w", "keys": [{"key": "k", "scopes": "x"}]}]}, "scopes"),
        ({"workspaces": [{"id": "w", "credentials": [{"name": "x"}]}]}, "credentials[0].config"),
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
            "credentials[1]",
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
            "config.port",
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
            "created_at",
        ),
    ],
)
def test_bad_fixtures_name_the_place_not_the_value(data: object, where: str) -> None:
    store = CredentialStore()
    with pytest.raises(SeedError) as raised:
        load_fixtures(data, store, Keyring())
    assert where in str(raised.value)
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
