"""Putting one fake together, and back to its start: the one place that does it.

`create_app`, `planasonix-mock serve`, `PlanasonixFake`, the kit's
`--target fake` (through `create_app`) and both resets (`POST /_mock/reset`,
`fake.reset()`) go through here, so these rules hold for all of them:

- Keys given by name are added first: read-write ones, then read-only ones.
- The seed (parsed fixtures, see `mockserver.seed`) then loads into the store
  and the keyring, all or nothing.
- The documented development key `plnx_test_dev_key` opens the first seeded
  workspace (`ws_dev` without a seed). By default it is added only when no
  key is configured at all, the seed's included; `dev_key=True` adds it
  beside a seed's keys (what `serve` does when no key flag is given, so the
  banner's curl line works with any seed), `dev_key=False` never.
- The key a client is handed first is the first read-write key configured,
  else the development key.

No Flask here: the state is plain objects; `create_app` serves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .auth import DEV_KEY, DEV_USER, DEV_WORKSPACE, READ_ONLY, WRITE_SCOPE, Keyring
from .clock import Clock
from .ids import IdGenerator
from .journal import Journal
from .profile import Policy, Profile
from .seed import SeedSummary, load_fixtures
from .state import FakeConfig, FakeState, new_state
from .store import CredentialStore

ProfileSource = Profile | Policy | Mapping[str, Any] | str | Path
KeyPairs = Mapping[str, str] | Iterable[tuple[str, str]]
"""API key -> workspace, as a mapping or as pairs in the order given."""


@dataclass(frozen=True)
class BuiltState:
    """What `build_state` made: the state, and what a banner or a test is told."""

    state: FakeState
    seeded: SeedSummary | None
    """What the seed loaded; None without a seed."""
    dev_workspace: str | None
    """The workspace the development key opens; None when it was not added."""
    api_key: str
    """The key a client is handed first (see the module docstring)."""
    workspace: str
    """The workspace `api_key` opens."""


def build_state(
    *,
    config: FakeConfig | None = None,
    store: CredentialStore | None = None,
    clock: Clock | None = None,
    profile: ProfileSource | None = None,
    keyring: Keyring | None = None,
    keys: KeyPairs | None = None,
    read_only_keys: KeyPairs | None = None,
    seed: object | None = None,
    dev_key: bool | None = None,
    journal: Journal | None = None,
) -> BuiltState:
    """One fake's state, by the rules of the module docstring.

    `store` and `keyring` may come filled (they are used, not copied); a new
    store runs on `clock` (default: the system clock) with ids seeded by
    `config.seed`. `profile` (a `Policy`, a profile document, or a path to
    one) replaces the store's answers to what the docs leave open.
    `keys` / `read_only_keys` map API key -> workspace (a mapping, or pairs
    added in order, the way repeated command-line flags come). Raises ValueError for
    an invalid key, `SeedError` for a seed that cannot load and
    `ProfileError` for a profile that cannot be read.
    """
    config = config or FakeConfig()
    if store is None:
        store = CredentialStore(clock=clock, seed=config.seed)
    if profile is not None:
        store.policy = Policy.of(str(profile) if isinstance(profile, Path) else profile)
    keyring = keyring if keyring is not None else Keyring()
    for key, workspace in _pairs(keys):
        keyring.add(key, workspace)
    for key, workspace in _pairs(read_only_keys):
        keyring.add(key, workspace, scopes=READ_ONLY)
    seeded = load_fixtures(seed, store, keyring) if seed is not None else None
    dev_workspace: str | None = None
    if dev_key is None:
        dev_key = len(keyring) == 0
    if dev_key:
        dev_workspace = seeded.workspaces[0] if seeded and seeded.workspaces else DEV_WORKSPACE
        keyring.add(DEV_KEY, dev_workspace, user_id=DEV_USER)
    api_key, workspace = DEV_KEY, dev_workspace or DEV_WORKSPACE
    for key, principal in keyring.items():
        if principal.can(WRITE_SCOPE):
            api_key, workspace = key, principal.workspace
            break
    state = new_state(
        store=store,
        keyring=keyring,
        journal=journal or Journal(config.journal_size),
        config=config,
    )
    return BuiltState(state, seeded, dev_workspace, api_key, workspace)


def _pairs(keys: KeyPairs | None) -> Iterable[tuple[str, str]]:
    if keys is None:
        return ()
    return keys.items() if isinstance(keys, Mapping) else keys


def reset_state(state: FakeState, *, seed: object | None = None) -> None:
    """Forget every credential and the journal; keys, clock and settings stay.

    With `seed`, load it again, with ids from a fresh generator when ids are
    seeded: the seed gets the ids it got at the start, so ids a client kept
    stay valid after a reset.
    """
    state.store.reset()
    state.journal.clear()
    if seed is None:
        return
    if state.config.seed is not None and isinstance(state.store.id_generator, IdGenerator):
        state.store.id_generator = IdGenerator(state.config.seed)
    load_fixtures(seed, state.store, state.keyring)


def rebind_dev_key(state: FakeState) -> str:
    """The development key's workspace once a state file replaced the credentials.

    A state file brings credentials, never keys: the key stays where it is
    while that workspace holds credentials, else it moves to the first
    workspace (by name) that holds some. Returns the workspace it opens.
    """
    dev = state.keyring.authenticate(DEV_KEY)
    current = dev.workspace if dev is not None else DEV_WORKSPACE
    held = sorted(state.store.workspaces())
    if held and current not in held:
        state.keyring.add(DEV_KEY, held[0], user_id=DEV_USER)
        return held[0]
    return current
