"""A Hypothesis state machine: the store against a tiny reference model.

The model is the readable statement of the lifecycle with the fake's
choices: names stay reserved while soft-deleted, repeated delete/restore
change nothing, purge works from any status, updates of deleted ones are
conflicts, and secrets survive everything but purge and rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fake_support import START
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from mockserver import CredentialStore, ManualClock, jsontext
from mockserver.errors import CredentialNotFound, NameTaken, StateConflict

WS = "ws_a"
OTHER_WS = "ws_b"
names = st.sampled_from(["alpha", "beta", "Alpha", "gamma", "beta "])
secrets_ = st.text(alphabet="abcdef0123456789", min_size=1, max_size=6)


@dataclass
class ModelCredential:
    name: str
    status: str = "active"
    username: str | None = None
    password: str = ""
    purged: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class StoreMachine(RuleBasedStateMachine):
    creds = Bundle("creds")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.store = CredentialStore(clock=self.clock, seed=3)
        self.model: dict[str, ModelCredential] = {}

    def holder(self, name: str, exclude: str | None = None) -> str | None:
        for cred_id, cred in self.model.items():
            if not cred.purged and cred.name == name and cred_id != exclude:
                return cred_id
        return None

    @rule(target=creds, name=names, password=secrets_)
    def create(self, name: str, password: str) -> str:
        expect_taken = self.holder(name) is not None
        try:
            created = self.store.create(
                WS, name=name, type="password", config={"password": password}
            )
        except NameTaken:
            assert expect_taken
            return "cred_never_created0000"
        assert not expect_taken
        self.model[created.id] = ModelCredential(name=name, password=password)
        return created.id

    @rule(cred_id=creds)
    def delete(self, cred_id: str) -> None:
        cred = self.model.get(cred_id)
        try:
            result = self.store.delete(WS, cred_id)
        except CredentialNotFound:
            assert cred is None or cred.purged
            return
        assert cred is not None and not cred.purged
        cred.status = "deleted"
        assert result.status == "deleted" and result.deleted_at is not None

    @rule(cred_id=creds)
    def restore(self, cred_id: str) -> None:
        cred = self.model.get(cred_id)
        try:
            result = self.store.restore(WS, cred_id)
        except CredentialNotFound:
            assert cred is None or cred.purged
            return
        assert cred is not None and not cred.purged
        cred.status = "active"
        assert result.status == "active" and result.deleted_at is None

    @rule(cred_id=creds)
    def purge(self, cred_id: str) -> None:
        cred = self.model.get(cred_id)
        try:
            self.store.purge(WS, cred_id)
        except CredentialNotFound:
            assert cred is None or cred.purged
            return
        assert cred is not None and not cred.purged
        cred.purged = True

    @rule(cred_id=creds, name=names)
    def rename(self, cred_id: str, name: str) -> None:
        cred = self.model.get(cred_id)
        try:
            self.store.update(WS, cred_id, {"name": name})
        except CredentialNotFound:
            assert cred is None or cred.purged
            return
        except StateConflict:
            assert cred is not None and cred.status == "deleted"
            return
        except NameTaken:
            assert cred is not None and self.holder(name, exclude=cred_id) is not None
            return
        assert cred is not None and cred.status == "active"
        assert self.holder(name, exclude=cred_id) is None
        cred.name = name

    @rule(
        cred_id=creds,
        username=st.one_of(st.none(), st.sampled_from(["u1", "u2"])),
        password=st.one_of(st.none(), secrets_),
    )
    def change_config(self, cred_id: str, username: str | None, password: str | None) -> None:
        cred = self.model.get(cred_id)
        patch: dict[str, Any] = {"username": username}
        if password is not None:
            patch["password"] = password
        before = None if cred is None or cred.purged else self.store.get(WS, cred_id)
        try:
            after = self.store.update(WS, cred_id, {"config": patch})
        except CredentialNotFound:
            assert cred is None or cred.purged
            return
        except StateConflict:
            assert cred is not None and cred.status == "deleted"
            return
        assert cred is not None and before is not None
        changed = username != cred.username or (password is not None and password != cred.password)
        cred.username = username
        if password is not None:
            cred.password = password
        assert (after.updated_at != before.updated_at) == (
            changed and self.clock() != before.updated_at
        )

    @rule(cred_id=creds)
    def other_workspace_sees_nothing(self, cred_id: str) -> None:
        try:
            self.store.get(OTHER_WS, cred_id)
        except CredentialNotFound:
            return
        raise AssertionError("another workspace saw a credential")

    @rule(seconds=st.integers(min_value=0, max_value=3))
    def tick(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @invariant()
    def store_matches_model(self) -> None:
        live = {i: c for i, c in self.model.items() if not c.purged}
        listed = self.store.list(WS, status="all", limit=200).items
        assert {c.id for c in listed} == set(live)
        keys = [c.sort_key for c in listed]
        assert keys == sorted(keys, reverse=True)
        active = self.store.list(WS, limit=200).items
        assert {c.id for c in active} == {i for i, c in live.items() if c.status == "active"}
        assert len({c.name for c in active}) == len(active)
        for item in listed:
            cred = live[item.id]
            assert (item.name, item.status) == (cred.name, cred.status)
            assert item.config.get("username") == cred.username
            assert "password" not in item.config
            assert self.store.secrets_of(WS, item.id).reveal() == {"password": cred.password}

    @invariant()
    def kept_json_is_never_stale(self) -> None:
        # `get_json` answers from text kept since the credential last changed:
        # after any sequence of changes it must read exactly like a fresh encoding.
        for item in self.store.list(WS, status="all", limit=200).items:
            status, text = self.store.get_json(WS, item.id)
            assert status == item.status
            assert text == jsontext.encode(self.store.get(WS, item.id).to_json())

    @invariant()
    def pages_agree_with_one_big_list(self) -> None:
        everything = [c.id for c in self.store.list(WS, status="all", limit=200).items]
        walked: list[str] = []
        after = None
        while True:
            page = self.store.list(WS, status="all", limit=3, after=after)
            walked += [c.id for c in page.items]
            if page.next_key is None:
                break
            after = page.next_key
        assert walked == everything


TestStoreMachine = StoreMachine.TestCase
