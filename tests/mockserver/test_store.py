"""The store alone: every lifecycle transition of SPEC §4, names, pages, threads."""

from __future__ import annotations

import contextlib
import pickle
import threading
from datetime import timedelta

import pytest
from fake_support import START, sample_config

import contracts
from mockserver import CredentialStore, ManualClock, jsontext
from mockserver.errors import CredentialNotFound, NameTaken, StateConflict, ValidationFailed
from mockserver.seed import load_credential

WS = "ws_a"


def make(store: CredentialStore, name: str = "c1", type_: str = "password", ws: str = WS):
    return store.create(ws, name=name, type=type_, config=sample_config(type_))


# --- create / get ---------------------------------------------------------------------


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
def test_create_keeps_secrets_apart(store: CredentialStore, type_: str) -> None:
    config = sample_config(type_)
    created = store.create(WS, name="x", type=type_, config=config, created_by="usr_a")
    assert created.status == "active"
    assert created.deleted_at is None
    assert created.created_at == created.updated_at == START
    assert created.config == contracts.redact(type_, config)
    assert store.secrets_of(WS, created.id).reveal() == contracts.split_secrets(type_, config)[1]
    assert contracts.merge_config(created.config, store.secrets_of(WS, created.id).reveal()) == (
        config
    )
    assert not contracts.validate_response("credential", created.to_json(), strict=True)


def test_create_rejects_invalid_body_naming_fields(store: CredentialStore) -> None:
    with pytest.raises(ValidationFailed) as raised:
        store.create(WS, name="x", type="database", config={"host": "h", "port": "5432"})
    paths = {d.path for d in raised.value.details}
    assert "config.username" in paths
    assert "config.port" in paths
    with pytest.raises(ValidationFailed) as raised:
        store.create(WS, name="x", type="password", config={"password": "p", "bogus": 1})
    assert [d.path for d in raised.value.details] == ["config.bogus"]
    with pytest.raises(ValidationFailed):
        store.create_from_body(WS, ["not", "an", "object"])
    assert len(store) == 0


def test_get_of_unknown_or_foreign_id_is_not_found(store: CredentialStore) -> None:
    created = make(store)
    with pytest.raises(CredentialNotFound):
        store.get("ws_b", created.id)
    with pytest.raises(CredentialNotFound):
        store.get(WS, "cred_doesnotexist00000")
    for call in (store.delete, store.restore, store.purge, store.secrets_of):
        with pytest.raises(CredentialNotFound):
            call("ws_b", created.id)
    with pytest.raises(CredentialNotFound):
        store.update("ws_b", created.id, {"name": "z"})


# --- delete / restore / purge -----------------------------------------------------------


def test_soft_delete_then_get_shows_deleted(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store)
    clock.advance(60)
    deleted = store.delete(WS, created.id)
    assert deleted.status == "deleted"
    assert deleted.deleted_at == START + timedelta(seconds=60)
    fetched = store.get(WS, created.id)
    assert fetched == deleted
    for field in ("id", "name", "type", "config", "created_at", "created_by"):
        assert getattr(fetched, field) == getattr(created, field)


def test_delete_of_deleted_changes_nothing(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store)
    first = store.delete(WS, created.id)
    clock.advance(300)
    assert store.delete(WS, created.id) == first
    assert store.get(WS, created.id) == first


def test_restore_brings_everything_back(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store, type_="database")
    secrets_before = store.secrets_of(WS, created.id)
    clock.advance(10)
    store.delete(WS, created.id)
    clock.advance(10)
    restored = store.restore(WS, created.id)
    assert restored.status == "active"
    assert restored.deleted_at is None
    for field in ("id", "name", "type", "config", "created_at", "created_by"):
        assert getattr(restored, field) == getattr(created, field)
    assert store.secrets_of(WS, created.id) == secrets_before
    assert restored.updated_at >= created.updated_at


def test_restore_of_active_changes_nothing(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store)
    clock.advance(5)
    assert store.restore(WS, created.id) == created
    assert store.get(WS, created.id) == created


@pytest.mark.parametrize("soft_delete_first", [False, True])
def test_purge_is_final_and_frees_the_name(store: CredentialStore, soft_delete_first: bool) -> None:
    created = make(store)
    if soft_delete_first:
        store.delete(WS, created.id)
    assert store.purge(WS, created.id) == created.id
    for call in (store.get, store.delete, store.restore, store.purge):
        with pytest.raises(CredentialNotFound):
            call(WS, created.id)
    with pytest.raises(CredentialNotFound):
        store.update(WS, created.id, {"name": "other"})
    assert store.list(WS, status="all").items == []
    again = make(store)
    assert again.id != created.id


# --- names ------------------------------------------------------------------------------


def test_names_are_unique_per_workspace_exact_and_case_sensitive(store: CredentialStore) -> None:
    make(store, "prod")
    with pytest.raises(NameTaken):
        make(store, "prod")
    make(store, "Prod")
    make(store, "prod ")
    make(store, "prod", ws="ws_b")
    assert len(store) == 4


def test_deleted_name_stays_reserved(store: CredentialStore) -> None:
    old = make(store, "keep")
    other = make(store, "other")
    store.delete(WS, old.id)
    with pytest.raises(NameTaken):
        make(store, "keep")
    with pytest.raises(NameTaken):
        store.update(WS, other.id, {"name": "keep"})
    assert store.get(WS, other.id).name == "other"


def test_rename_frees_the_old_name(store: CredentialStore) -> None:
    created = make(store, "before")
    store.update(WS, created.id, {"name": "after"})
    make(store, "before")


# --- update -----------------------------------------------------------------------------


def test_update_merges_config_key_by_key(store: CredentialStore, clock: ManualClock) -> None:
    created = store.create(
        WS,
        name="db",
        type="database",
        config={"host": "h", "username": "u", "password": "old", "warehouse": "W"},
    )
    clock.advance(30)
    updated = store.update(WS, created.id, {"config": {"role": "R", "warehouse": None}})
    assert updated.config == {"host": "h", "username": "u", "role": "R"}
    assert updated.name == "db"
    assert updated.updated_at == START + timedelta(seconds=30)
    assert updated.created_at == created.created_at
    assert store.secrets_of(WS, created.id).reveal() == {"password": "old"}


def test_update_new_secret_replaces_stored_one(store: CredentialStore) -> None:
    created = store.create(
        WS, name="p", type="password", config={"password": "old", "username": "u"}
    )
    updated = store.update(WS, created.id, {"config": {"password": "new"}})
    assert store.secrets_of(WS, created.id).reveal() == {"password": "new"}
    assert updated.config == {"username": "u"}


def test_update_removing_required_field_is_rejected(store: CredentialStore) -> None:
    created = make(store, type_="database")
    with pytest.raises(ValidationFailed) as raised:
        store.update(WS, created.id, {"config": {"host": None}})
    assert [d.path for d in raised.value.details] == ["config.host"]
    assert store.get(WS, created.id) == created


def test_update_rejects_type_change_and_unknown_fields(store: CredentialStore) -> None:
    created = make(store)
    with pytest.raises(ValidationFailed) as raised:
        store.update(WS, created.id, {"type": "aws"})
    assert [d.path for d in raised.value.details] == ["type"]
    store.update(WS, created.id, {"type": "password"})  # same type: allowed
    with pytest.raises(ValidationFailed) as raised:
        store.update(WS, created.id, {"config": {"nope": None}})
    assert [d.path for d in raised.value.details] == ["config.nope"]
    with pytest.raises(ValidationFailed) as raised:
        store.update(WS, created.id, {"colour": "blue"})
    assert [d.path for d in raised.value.details] == ["colour"]
    with pytest.raises(ValidationFailed):
        store.update(WS, created.id, {"name": ""})
    with pytest.raises(ValidationFailed):
        store.update(WS, created.id, "text")
    assert store.get(WS, created.id) == created


def test_noop_update_leaves_updated_at(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store, type_="database")
    clock.advance(100)
    secrets = store.secrets_of(WS, created.id).reveal()
    same = store.update(
        WS,
        created.id,
        {
            "name": created.name,
            "config": {"host": "db.example.com", "password": secrets["password"]},
        },
    )
    assert same == created
    assert store.update(WS, created.id, {}) == created


def test_update_of_deleted_is_a_conflict(store: CredentialStore) -> None:
    created = make(store)
    deleted = store.delete(WS, created.id)
    with pytest.raises(StateConflict):
        store.update(WS, created.id, {"name": "new"})
    assert store.get(WS, created.id) == deleted


def test_updated_at_never_goes_backwards(store: CredentialStore, clock: ManualClock) -> None:
    created = make(store)
    clock.set(START - timedelta(days=1))
    updated = store.update(WS, created.id, {"name": "renamed"})
    assert updated.updated_at == created.updated_at
    deleted = store.delete(WS, created.id)
    assert deleted.updated_at >= updated.updated_at


# --- listing ----------------------------------------------------------------------------


def test_list_filters_by_status_and_type(store: CredentialStore) -> None:
    a = make(store, "a", "password")
    b = make(store, "b", "aws")
    c = make(store, "c", "aws")
    store.delete(WS, c.id)
    make(store, "other-ws", ws="ws_b")
    assert [x.id for x in store.list(WS).items] == [b.id, a.id]
    assert [x.id for x in store.list(WS, status="deleted").items] == [c.id]
    assert [x.id for x in store.list(WS, status="all").items] == [c.id, b.id, a.id]
    assert [x.id for x in store.list(WS, status="all", type="aws").items] == [c.id, b.id]
    assert [x.id for x in store.list(WS, type="aws").items] == [b.id]
    assert store.list("ws_nobody").items == []
    assert store.count(WS) == 3


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"status": "gone"}, "status"),
        ({"type": "ftp"}, "type"),
    ],
)
def test_list_rejects_bad_parameters(store: CredentialStore, kwargs: dict, path: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        store.list(WS, **kwargs)
    assert [d.path for d in raised.value.details] == [path]


def test_list_orders_newest_first_with_id_tiebreak(
    store: CredentialStore, clock: ManualClock
) -> None:
    same_second = [make(store, f"s{i}") for i in range(3)]
    clock.advance(1)
    newest = make(store, "new")
    listed = store.list(WS).items
    assert [x.id for x in listed] == [newest.id, *sorted((x.id for x in same_second), reverse=True)]
    assert [x.id for x in same_second] == sorted(x.id for x in same_second)


def test_pages_walk_everything_once(store: CredentialStore, clock: ManualClock) -> None:
    ids = []
    for i in range(23):
        ids.append(make(store, f"n{i}").id)
        if i % 3 == 0:
            clock.advance(1)
    seen: list[str] = []
    after = None
    while True:
        page = store.list(WS, limit=5, after=after)
        assert len(page.items) <= 5
        seen += [x.id for x in page.items]
        if page.next_key is None:
            break
        after = page.next_key
    assert seen == list(reversed(ids))


def test_paging_while_others_write_never_repeats_or_skips(
    store: CredentialStore, clock: ManualClock
) -> None:
    stable = [make(store, f"stable{i}").id for i in range(30)]
    doomed = [make(store, f"doomed{i}").id for i in range(10)]
    seen: list[str] = []
    after = None
    turn = 0
    while True:
        page = store.list(WS, limit=4, after=after)
        seen += [x.id for x in page.items]
        # Between pages, other clients create, delete, purge and restore.
        clock.advance(1)
        make(store, f"late{turn}")
        if turn < len(doomed):
            (store.delete if turn % 2 else store.purge)(WS, doomed[turn])
        turn += 1
        if page.next_key is None:
            break
        after = page.next_key
    assert len(seen) == len(set(seen))
    assert set(stable) <= set(seen)


# --- determinism, threads, secrecy ------------------------------------------------------------


def test_fixed_seed_reproduces_ids_and_timestamps() -> None:
    def run() -> list[tuple[str, str]]:
        store = CredentialStore(clock=ManualClock(START), seed=42)
        return [(c.id, c.to_json()["created_at"]) for c in (make(store, f"n{i}") for i in range(5))]

    first = run()
    assert first == run()
    assert all(cid.startswith("cred_") and len(cid) == 21 for cid, _ in first)
    assert CredentialStore(clock=ManualClock(START), seed=43).create(
        WS, name="n0", type="password", config=sample_config("password")
    ).id not in {cid for cid, _ in first}


def test_concurrent_writers_keep_the_store_consistent() -> None:
    store = CredentialStore(seed=1)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(40):
                created = make(store, f"w{worker}-{i}")
                if i % 4 == 0:
                    store.delete(WS, created.id)
                store.list(WS, limit=10)
                with contextlib.suppress(NameTaken):
                    make(store, "contended")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(store) == 6 * 40 + 1
    assert store.count(WS, status="deleted") == 6 * 10
    listed = store.list(WS, status="all", limit=200)
    assert len({x.id for x in listed.items}) == 200


def test_no_repr_shows_a_secret(store: CredentialStore) -> None:
    values: list[str] = []

    def secret() -> str:
        values.append(f"topsecret{len(values)}xyz")
        return values[-1]

    for type_ in contracts.CREDENTIAL_TYPES:
        store.create(WS, name=type_, type=type_, config=sample_config(type_, secret))
    box = store.secrets_of(WS, store.list(WS, type="database").items[0].id)
    texts = [repr(store), str(store), repr(box), str(box), repr(store.list(WS, status="all"))]
    texts += [repr(pair) for pair in store.iter_all()]
    texts += [repr(record) for record in store._records.values()]
    for text in texts:
        for value in values:
            assert value not in text
    with pytest.raises(TypeError):
        pickle.dumps(box)


def test_integer_fields_come_from_the_schemas() -> None:
    from mockserver.store import integer_paths

    assert integer_paths("database") == (("port",), ("ssh_tunnel", "port"))
    assert integer_paths("password") == (("port",),)
    assert integer_paths("aws") == ()


def test_an_integral_float_at_an_integer_field_is_stored_as_an_int(store: CredentialStore) -> None:
    config = sample_config("database") | {"port": 5432.0}
    config["ssh_tunnel"] = {"host": "bastion", "username": "u", "port": 22.0, "private_key": "k"}
    created = store.create(WS, name="db", type="database", config=config)
    assert created.config["port"] == 5432 and type(created.config["port"]) is int
    assert type(created.config["ssh_tunnel"]["port"]) is int
    updated = store.update(WS, created.id, {"config": {"port": 6543.0}})
    assert type(updated.config["port"]) is int and updated.config["port"] == 6543
    assert store.update(WS, created.id, {"config": {"port": 6543.0}}) == updated  # no change
    loaded = load_credential(
        store, WS, name="p", type="password", config={"password": "p", "port": 21.0}
    )
    assert type(loaded.config["port"]) is int
    assert "6543.0" not in repr(store.get(WS, created.id).to_json())


@pytest.mark.parametrize("name", ["prod\n", "prod\r", "pro\u0000d", "\u009fprod", "prod\u007f"])
def test_every_way_a_name_enters_refuses_control_characters(
    store: CredentialStore, name: str
) -> None:
    # `$` in a Python pattern matches before a final newline: "prod\n" once passed.
    config = sample_config("password")
    with pytest.raises(ValidationFailed) as created:
        store.create(WS, name=name, type="password", config=config)
    assert created.value.details[0].path == "name"
    kept = store.create(WS, name="kept", type="password", config=config)
    with pytest.raises(ValidationFailed):
        store.update(WS, kept.id, {"name": name})
    with pytest.raises(ValidationFailed):
        load_credential(store, WS, name=name, type="password", config=config)
    assert [c.name for c in store.list(WS).items] == ["kept"]


def test_names_with_inner_blanks_and_non_ascii_stay_valid(store: CredentialStore) -> None:
    for name in ("prod db", " padded ", "caf\u00e9", "\u00a0x", "a\u2028b"):
        store.create(WS, name=name, type="password", config=sample_config("password"))
    assert store.count(WS) == 5


# --- the kept JSON text (get_json) ------------------------------------------------------


def test_get_json_is_kept_until_the_credential_changes(
    store: CredentialStore, clock: ManualClock
) -> None:
    canary = "canary-kept-json-7f3a91"
    created = store.create(
        WS,
        name="kept",
        type="database",
        config={**sample_config("database"), "password": canary},
    )
    first = store.get_json(WS, created.id)
    assert store.get_json(WS, created.id)[1] is first[1]  # kept, not encoded again
    assert canary not in first[1]

    def fresh() -> tuple[str, str]:
        current = store.get(WS, created.id)
        return current.status, jsontext.encode(current.to_json())

    assert first == fresh()
    changes = [
        lambda: store.update(WS, created.id, {"name": "kept-renamed"}),
        lambda: store.update(WS, created.id, {"config": {"host": "other.example.com"}}),
        lambda: store.delete(WS, created.id),
        lambda: store.restore(WS, created.id),
    ]
    for change in changes:
        before = store.get_json(WS, created.id)
        clock.advance(1)
        change()
        after = store.get_json(WS, created.id)
        assert after != before
        assert after == fresh()
        assert canary not in after[1]
    store.purge(WS, created.id)
    with pytest.raises(CredentialNotFound):
        store.get_json(WS, created.id)
