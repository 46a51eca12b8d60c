from __future__ import annotations

import pytest

from mockserver.auth import (
    READ_ONLY,
    WRITE_SCOPE,
    EnvironHeaders,
    Keyring,
    authenticate,
    extract_key,
    require_scope,
)
from mockserver.errors import Forbidden, Unauthorized


def test_keyring_maps_keys_to_principals() -> None:
    ring = Keyring()
    principal = ring.add("plnx_live_abc", "ws_a")
    assert ring.authenticate("plnx_live_abc") == principal
    assert principal.user_id.startswith("usr_")
    assert ring.authenticate("plnx_live_abd") is None
    assert ring.authenticate("plnx_live_ab") is None
    assert ring.authenticate("\udc80") is None
    assert "plnx_live_abc" not in repr(ring)
    assert dict(ring.items()) == {"plnx_live_abc": principal}
    assert ring.workspaces() == {"ws_a"}
    assert ring.revoke("plnx_live_abc")
    assert ring.authenticate("plnx_live_abc") is None
    assert not ring.revoke("plnx_live_abc")


@pytest.mark.parametrize(
    ("key", "workspace", "kwargs"),
    [
        ("has space", "ws", {}),
        ("", "ws", {}),
        ("plnx_k_1", "bad workspace", {}),
        ("plnx_k_2", "ws", {"user_id": "user1"}),
        ("plnx_k_3", "ws", {"scopes": {"admin"}}),
    ],
)
def test_keyring_refuses_bad_entries(key: str, workspace: str, kwargs: dict) -> None:
    with pytest.raises(ValueError) as raised:
        Keyring().add(key, workspace, **kwargs)
    assert key not in str(raised.value) or not key


def test_header_parsing() -> None:
    assert extract_key({"Authorization": "Bearer abc"}) == "abc"
    assert extract_key({"Authorization": "BEARER  abc "}) == "abc"
    assert extract_key({"X-Planasonix-Api-Key": " abc "}) == "abc"
    for headers in [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer a b"}]:
        with pytest.raises(Unauthorized) as raised:
            extract_key(headers)
        assert raised.value.headers["WWW-Authenticate"].startswith("Bearer")


def test_environ_headers_read_the_wsgi_names() -> None:
    environ = {
        "HTTP_AUTHORIZATION": "Bearer abc",
        "HTTP_X_PLANASONIX_API_KEY": "abc",
        "HTTP_X_ODD": 7,  # not text: no header a client could have sent
    }
    headers = EnvironHeaders(environ)
    assert headers.get("Authorization") == "Bearer abc"
    assert headers.get("x-planasonix-api-key") == "abc"
    assert headers.get("X-Odd") is None and headers.get("Missing") is None
    assert extract_key(headers) == "abc"
    with pytest.raises(Unauthorized):
        extract_key(EnvironHeaders({}))


def test_both_headers_must_carry_the_same_key() -> None:
    both = {"Authorization": "Bearer abc", "X-Planasonix-Api-Key": " abc"}
    assert extract_key(both) == "abc"
    with pytest.raises(Unauthorized) as raised:
        extract_key({"Authorization": "Bearer abc", "X-Planasonix-Api-Key": "abd"})
    assert "abc" not in raised.value.message and "abd" not in raised.value.message
    for headers in [
        {"Authorization": "Bearer abc", "X-Planasonix-Api-Key": ""},
        {"Authorization": "Basic abc", "X-Planasonix-Api-Key": "abc"},
    ]:
        with pytest.raises(Unauthorized):
            extract_key(headers)


def test_scopes() -> None:
    ring = Keyring()
    ring.add("reader", "ws", scopes=READ_ONLY)
    principal = authenticate(ring, {"Authorization": "Bearer reader"})
    with pytest.raises(Forbidden):
        require_scope(principal, WRITE_SCOPE)
    with pytest.raises(Unauthorized):
        authenticate(ring, {"Authorization": "Bearer nobody"})


def test_an_unknown_scope_is_refused_without_repeating_it() -> None:
    canary = "scope-canary-5d0f2b7e"
    with pytest.raises(ValueError) as caught:
        Keyring().add("plnx_test_x", "ws_x", scopes=("connections:read", canary))
    assert "unknown scope" in str(caught.value)
    assert canary not in str(caught.value)
