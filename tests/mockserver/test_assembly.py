"""One assembly of a fake: the key rules, the seed, resets, and who goes through it."""

from __future__ import annotations

from typing import Any

import pytest
from fake_support import START, sample_config

from mockserver import CredentialStore, FakeConfig, ManualClock, create_app
from mockserver.assembly import build_state, rebind_dev_key, reset_state
from mockserver.auth import DEV_KEY
from mockserver.journal import JournalRecord
from mockserver.seed import SeedError, load_credential
from mockserver.state import get_state
from mockserver.testing import PlanasonixFake


def seed_of(*workspaces: str, keys: dict[str, list[dict[str, Any]]] | None = None) -> Any:
    return {
        "workspaces": [
            {
                "id": ws,
                "keys": (keys or {}).get(ws, []),
                "credentials": [
                    {"name": f"{ws}-db", "type": "password", "config": sample_config("password")}
                ],
            }
            for ws in workspaces
        ]
    }


def workspace_of(built: Any, key: str) -> str | None:
    principal = built.state.keyring.authenticate(key)
    return None if principal is None else principal.workspace


def test_without_keys_or_seed_the_dev_key_opens_ws_dev() -> None:
    built = build_state()
    assert workspace_of(built, DEV_KEY) == "ws_dev"
    assert (built.api_key, built.workspace, built.dev_workspace) == (DEV_KEY, "ws_dev", "ws_dev")
    assert built.seeded is None


def test_a_seed_without_keys_is_opened_by_the_dev_key_at_its_first_workspace() -> None:
    built = build_state(seed=seed_of("ws_second", "ws_first"))
    assert workspace_of(built, DEV_KEY) == "ws_second"  # first in the file, not by name
    assert (built.api_key, built.workspace) == (DEV_KEY, "ws_second")
    assert built.seeded is not None and built.seeded.credentials == 2


def test_a_seed_with_keys_replaces_the_dev_key_unless_asked_for() -> None:
    keys = {"ws_b": [{"key": "plnx_test_b_admin"}]}
    built = build_state(seed=seed_of("ws_a", "ws_b", keys=keys))
    assert workspace_of(built, DEV_KEY) is None and built.dev_workspace is None
    assert (built.api_key, built.workspace) == ("plnx_test_b_admin", "ws_b")
    beside = build_state(seed=seed_of("ws_a", "ws_b", keys=keys), dev_key=True)
    assert workspace_of(beside, DEV_KEY) == "ws_a" and beside.dev_workspace == "ws_a"
    assert workspace_of(beside, "plnx_test_b_admin") == "ws_b"


def test_keys_by_name_replace_the_dev_key_and_read_only_ones_only_read() -> None:
    built = build_state(keys=[("plnx_test_rw", "ws_a")], read_only_keys={"plnx_test_ro": "ws_a"})
    assert workspace_of(built, DEV_KEY) is None
    reader = built.state.keyring.authenticate("plnx_test_ro")
    assert reader is not None and reader.scopes == {"connections:read"}
    assert (built.api_key, built.workspace) == ("plnx_test_rw", "ws_a")
    assert workspace_of(build_state(keys={"plnx_test_rw": "ws_a"}, dev_key=False), DEV_KEY) is None


def test_only_read_only_keys_leave_the_client_key_unopened() -> None:
    # The first key handed out is a read-write one; with none, the (absent) dev key.
    built = build_state(read_only_keys={"plnx_test_ro": "ws_a"})
    assert built.api_key == DEV_KEY and workspace_of(built, DEV_KEY) is None


def test_pairs_are_added_in_order_so_a_bad_one_is_refused_even_if_repeated() -> None:
    with pytest.raises(ValueError, match="workspace id"):
        build_state(keys=[("plnx_test_k", "bad workspace"), ("plnx_test_k", "ws_a")])


def test_a_bad_seed_is_refused_and_the_profile_applies_before_it_loads() -> None:
    with pytest.raises(SeedError):
        build_state(seed={"workspaces": [{"id": "ws a"}]})
    doc = {"workspaces": [{"id": "ws_a", "credentials": [
        {"name": "n", "type": "password", "config": sample_config("password"), "status": "deleted"},
        {"name": "n", "type": "password", "config": sample_config("password")},
    ]}]}  # fmt: skip
    with pytest.raises(SeedError, match="taken"):
        build_state(seed=doc)  # by default a deleted credential keeps its name
    built = build_state(seed=doc, profile={"deleted_names": "freed"})
    assert len(built.state.store) == 2


def test_a_given_store_and_clock_are_used() -> None:
    clock = ManualClock(START)
    built = build_state(clock=clock, config=FakeConfig(seed=3), seed=seed_of("ws_a"))
    assert [c.created_at for c, _ in built.state.store.iter_all()] == [START]
    store = CredentialStore()
    assert build_state(store=store).state.store is store


def test_reset_forgets_credentials_and_journal_and_reloads_the_seed_with_its_ids() -> None:
    seed = seed_of("ws_a", "ws_b")
    built = build_state(config=FakeConfig(seed=11), seed=seed)
    state = built.state
    ids = sorted(c.id for c, _ in state.store.iter_all())
    load_credential(state.store, "ws_a", name="extra", type="password", config={"password": "p"})
    state.journal.append(
        JournalRecord(
            request_id="req_1",
            method="GET",
            path="/api/credentials",
            status=200,
            duration_ms=1.0,
            started_at="2025-03-01T12:00:00.000000Z",
        )
    )
    reset_state(state)
    assert len(state.store) == 0 and len(state.journal) == 0
    assert workspace_of(built, DEV_KEY) == "ws_a"  # keys stay
    reset_state(state, seed=seed)
    assert sorted(c.id for c, _ in state.store.iter_all()) == ids


def test_rebind_moves_the_dev_key_only_off_a_workspace_without_credentials() -> None:
    built = build_state()
    state = built.state
    assert rebind_dev_key(state) == "ws_dev"  # nothing held anywhere: stays
    load_credential(state.store, "ws_z", name="z", type="password", config={"password": "p"})
    load_credential(state.store, "ws_m", name="m", type="password", config={"password": "p"})
    assert rebind_dev_key(state) == "ws_m" and workspace_of(built, DEV_KEY) == "ws_m"
    load_credential(state.store, "ws_a", name="a", type="password", config={"password": "p"})
    assert rebind_dev_key(state) == "ws_m"  # it holds credentials: kept


def test_create_app_serves_a_built_state_and_refuses_state_with_pieces() -> None:
    built = build_state(seed=seed_of("ws_seeded"))
    app = create_app(state=built.state)
    assert get_state(app) is built.state
    listed = app.test_client().get(
        "/api/credentials", headers={"Authorization": f"Bearer {DEV_KEY}"}
    )
    assert [c["name"] for c in listed.get_json()["data"]] == ["ws_seeded-db"]
    with pytest.raises(TypeError, match="not both"):
        create_app(state=built.state, keys={"plnx_test_x": "ws_x"})


def test_the_fake_and_create_app_follow_the_same_key_rules() -> None:
    seed = seed_of("ws_first", "ws_second")
    fake = PlanasonixFake(seed=seed)
    assert (fake.api_key, fake.workspace) == (DEV_KEY, "ws_first")
    assert fake.keyring.authenticate(DEV_KEY) == build_state(seed=seed).state.keyring.authenticate(
        DEV_KEY
    )
    assert get_state(create_app()).keyring.authenticate(
        DEV_KEY
    ) == build_state().state.keyring.authenticate(DEV_KEY)
