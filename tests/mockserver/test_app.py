from __future__ import annotations

from fake_support import START, bearer, sample_config

from mockserver import (
    CredentialStore,
    FakeConfig,
    FakeState,
    Keyring,
    ManualClock,
    create_app,
    get_state,
)


def test_each_app_owns_its_state() -> None:
    first, second = create_app(), create_app()
    assert isinstance(get_state(first), FakeState)
    assert get_state(first).store is not get_state(second).store
    client = first.test_client()
    created = client.post(
        "/api/credentials",
        json={"name": "x", "type": "password", "config": sample_config("password")},
        headers=bearer("plnx_test_dev_key"),
    )
    assert created.status_code == 201
    assert len(get_state(first).store) == 1
    assert len(get_state(second).store) == 0


def test_keys_and_read_only_keys() -> None:
    app = create_app(keys={"k_rw": "ws_x"}, read_only_keys={"k_ro": "ws_x"})
    ring = get_state(app).keyring
    assert ring.authenticate("plnx_test_dev_key") is None
    rw, ro = ring.authenticate("k_rw"), ring.authenticate("k_ro")
    assert rw is not None and rw.can("connections:write")
    assert ro is not None and not ro.can("connections:write")


def test_seeded_apps_are_reproducible() -> None:
    def run() -> tuple[str, str]:
        ring = Keyring()
        ring.add("k", "ws")
        # A manual clock: cursors carry created_at, and the wall clock may tick between runs.
        store = CredentialStore(clock=ManualClock(START), seed=11)
        app = create_app(store, keyring=ring, config=FakeConfig(seed=11))
        client = app.test_client()
        for name in ("a", "b"):
            client.post(
                "/api/credentials",
                json={"name": name, "type": "password", "config": {"password": "p"}},
                headers=bearer("k"),
            )
        page = client.get("/api/credentials?limit=1", headers=bearer("k")).get_json()
        return page["data"][0]["id"], page["meta"]["page"]["cursor"]

    assert run() == run()


def test_smaller_body_limit_is_configurable() -> None:
    app = create_app(config=FakeConfig(max_body_bytes=100))
    response = app.test_client().post(
        "/api/credentials",
        json={"name": "x" * 200, "type": "password", "config": {"password": "p"}},
        headers=bearer("plnx_test_dev_key"),
    )
    assert response.status_code == 413
