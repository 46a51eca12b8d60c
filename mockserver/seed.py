"""Fixtures: workspaces, their API keys and their credentials, from JSON.

Format (documented in README, "The fake server"):

    {
      "workspaces": [
        {
          "id": "ws_acme",
          "keys": [
            {"key": "plnx_test_acme_admin", "user_id": "usr_acme_admin",
             "scopes": ["connections:read", "connections:write"]}
          ],
          "credentials": [
            {"name": "prod-postgres", "type": "database",
             "config": {"host": "...", "username": "...", "password": "..."},
             "status": "deleted", "created_at": "2025-03-20T09:15:22Z",
             "updated_at": "...", "deleted_at": "...", "created_by": "usr_...",
             "id": "cred_..."}
          ]
        }
      ]
    }

Only `id` of a workspace and `key` of a key, and `name`, `type`, `config` of
a credential are required. `config` holds secrets in plain text, as a client
would send them on create. Errors name the place in the file, never a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import contracts
from contracts.errors import PlanasonixError
from contracts.registry import schema_documents

from .auth import READ_WRITE, USER_ID_RULE, Keyring, valid_user_id, valid_workspace
from .clock import normalize, parse_timestamp
from .errors import ApiError, ErrorDetail, NameTaken, ValidationFailed, object_errors
from .store import ACTIVE, DELETED, STATUSES, Credential, CredentialStore

_WORKSPACE_FIELDS = {"id", "name", "keys", "credentials"}
_KEY_FIELDS = {"key", "user_id", "scopes"}
_CREDENTIAL_FIELDS = {
    "id",
    "name",
    "type",
    "config",
    "status",
    "created_at",
    "updated_at",
    "deleted_at",
    "created_by",
}

# The contract's own id rule (`common.json#/$defs/credential_id`), for ids a
# fixture or state file brings; fullmatch, so no trailing newline slips by.
_CREDENTIAL_ID: Final = re.compile(
    schema_documents()["common.json"]["$defs"]["credential_id"]["pattern"]
)


BUNDLED_SEEDS = ("demo",)
"""Fixtures shipped in the package (`mockserver/data/<name>.json`): `--seed demo`."""


def bundled_seed(name: str) -> Path | None:
    """The path of the bundled fixtures called `name`, or None when there is none."""
    if name not in BUNDLED_SEEDS:
        return None
    return Path(__file__).parent / "data" / f"{name}.json"


class SeedError(PlanasonixError, ValueError):
    """A fixtures file that cannot be loaded. `details` name the places in the
    file by path (`workspaces[0].credentials[1].config.port`), never a value;
    the message lists them for a terminal."""

    def __init__(self, message: str, details: Iterable[ErrorDetail] = ()) -> None:
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        super().__init__(message)

    @classmethod
    def at(cls, details: Iterable[ErrorDetail]) -> SeedError:
        found = tuple(details)
        return cls("; ".join(f"{d.path or '(file)'}: {d.message}" for d in found), found)


def _refuse(path: str, message: str) -> SeedError:
    return SeedError.at([ErrorDetail(path, message)])


def _under(where: str, path: str) -> str:
    """`path` (relative to a credential, as the store names it) inside the file."""
    return f"{where}.{path}" if path else where


@dataclass(frozen=True)
class SeedSummary:
    workspaces: tuple[str, ...]
    keys: int
    credentials: int


def load_fixtures_file(
    path: str | Path, store: CredentialStore, keyring: Keyring | None = None
) -> SeedSummary:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise SeedError(f"cannot read fixtures file: {type(error).__name__}") from None
    return load_fixtures(data, store, keyring)


def load_fixtures(
    data: object, store: CredentialStore, keyring: Keyring | None = None
) -> SeedSummary:
    """Add the fixtures to `store` (and their keys to `keyring`, when given).

    The whole file is first loaded into a scratch store, so a file with an
    error adds nothing; a clash with data already in `store` can still stop
    it halfway (reset first for a clean load).
    """
    # The scratch store answers by the same profile: a name clash is the profile's call.
    scratch_keys = Keyring()
    _load(data, CredentialStore(clock=store.clock, policy=store.policy), scratch_keys)
    if keyring is not None:
        _check_keys_agree(scratch_keys, keyring)
    return _load(data, store, keyring)


def _check_keys_agree(seeded: Keyring, keyring: Keyring) -> None:
    """A seed key that the keyring (`--api-key K=ws`) already maps to another
    workspace is refused: whichever came last would silently win."""
    for key, principal in seeded.items():
        known = keyring.authenticate(key)
        if known is not None and known.workspace != principal.workspace:
            raise _refuse(
                "workspaces",
                f"the key {mask_key(key)} is given for workspace {known.workspace!r} "
                f"(--api-key/--read-only-key) and for workspace {principal.workspace!r} "
                "in the fixtures; a key belongs to one workspace",
            )


def _load(data: object, store: CredentialStore, keyring: Keyring | None) -> SeedSummary:
    workspaces = _list(_object(data, "", {"workspaces"}).get("workspaces", []), "workspaces")
    names: list[str] = []
    keys = credentials = 0
    key_places: dict[str, tuple[str, str]] = {}  # key -> (where, workspace)
    for w, workspace in enumerate(workspaces):
        where = f"workspaces[{w}]"
        entry = _object(workspace, where, _WORKSPACE_FIELDS)
        ws_id = entry.get("id")
        if not isinstance(ws_id, str) or not valid_workspace(ws_id):
            raise _refuse(f"{where}.id", "must be 1-64 of A-Z a-z 0-9 _ . -")
        names.append(ws_id)
        for k, key_entry in enumerate(_list(entry.get("keys", []), f"{where}.keys")):
            keys += 1
            _add_key(key_entry, ws_id, f"{where}.keys[{k}]", keyring)
            _check_key_once(key_entry, ws_id, f"{where}.keys[{k}]", key_places)
        for c, cred in enumerate(_list(entry.get("credentials", []), f"{where}.credentials")):
            credentials += 1
            _add_credential(cred, ws_id, f"{where}.credentials[{c}]", store)
    return SeedSummary(tuple(names), keys, credentials)


def mask_key(key: str) -> str:
    """A key as it may be shown: its `plnx_` prefix and last four characters
    (`plnx_…abcd`); a key too short to hide anything shows as `…`."""
    if len(key) < 12:
        return "…"
    prefix = "plnx_" if key.startswith("plnx_") else ""
    return f"{prefix}…{key[-4:]}"


def _check_key_once(
    entry: object, workspace: str, where: str, places: dict[str, tuple[str, str]]
) -> None:
    """One key belongs to one workspace: a key listed twice would silently
    answer for whichever came last, so the file is refused naming both places."""
    key = entry.get("key") if isinstance(entry, dict) else None
    if not isinstance(key, str):
        return
    earlier = places.get(key)
    if earlier is not None and earlier[1] != workspace:
        raise _refuse(
            where,
            f"the key {mask_key(key)} is also at {earlier[0]} (workspace {earlier[1]!r}); "
            "a key belongs to one workspace",
        )
    places.setdefault(key, (where, workspace))


def _add_key(entry: object, workspace: str, where: str, keyring: Keyring | None) -> None:
    spec = _object(entry, where, _KEY_FIELDS)
    scopes = spec.get("scopes", sorted(READ_WRITE))
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise _refuse(f"{where}.scopes", "must be a list of strings")
    user_id = spec.get("user_id")
    if user_id is not None and not isinstance(user_id, str):
        raise _refuse(f"{where}.user_id", "must be a string")
    key = spec.get("key")
    if not isinstance(key, str):
        raise _refuse(f"{where}.key", "is required and must be a string")
    try:
        probe = Keyring()
        probe.add(key, workspace, user_id=user_id, scopes=set(scopes))
        if keyring is not None:
            keyring.add(key, workspace, user_id=user_id, scopes=set(scopes))
    except ValueError as error:
        # Keyring messages are fixed sentences, never the key itself.
        raise _refuse(where, str(error)) from None


def _add_credential(entry: object, workspace: str, where: str, store: CredentialStore) -> None:
    spec = _object(entry, where, _CREDENTIAL_FIELDS)
    times: dict[str, Any] = {}
    for field in ("created_at", "updated_at", "deleted_at"):
        value = spec.get(field)
        if value is None:
            continue
        try:
            times[field] = parse_timestamp(value) if isinstance(value, str) else None
        except ValueError:
            times[field] = None
        if times[field] is None:
            raise _refuse(f"{where}.{field}", "must be an RFC 3339 timestamp")
    for field in ("id", "created_by", "status"):
        if field in spec and not isinstance(spec[field], str):
            raise _refuse(f"{where}.{field}", "must be a string")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise _refuse(f"{where}.config", "is required and must be an object")
    try:
        load_credential(
            store,
            workspace,
            name=spec.get("name"),  # type: ignore[arg-type]  # validated by load_credential
            type=spec.get("type"),  # type: ignore[arg-type]
            config=config,
            status=spec.get("status", ACTIVE),
            id=spec.get("id"),
            created_by=spec.get("created_by"),
            **times,
        )
    except NameTaken:
        raise _refuse(f"{where}.name", "is taken in this workspace") from None
    except ApiError as error:
        details = error.details or (ErrorDetail("", error.message),)
        raise SeedError.at(ErrorDetail(_under(where, d.path), d.message) for d in details) from None


def load_credential(
    store: CredentialStore,
    workspace: str,
    *,
    name: str,
    type: str,
    config: Mapping[str, Any],
    status: str = ACTIVE,
    id: str | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
    deleted_at: datetime | None = None,
    created_by: str | None = None,
    validate: bool = True,
) -> Credential:
    """Add one credential with a given history to `store`: the rules every
    fixtures entry, `PlanasonixFake.seed(name=...)` and a state file follow.

    The same validation as create applies. `id` must match the contract's
    id pattern, `created_by` look like a user id, and `deleted_at` come
    with `status: deleted` and not before `created_at`. Timestamps default
    to now; `updated_at` is raised to `created_at` (and `deleted_at`) when
    earlier, and a deleted credential without `deleted_at` was deleted at
    `updated_at`. `validate=False` skips the schema check (not the other
    rules) for data the store wrote itself or a benchmark generated: schema
    validation dominates the cost of a bulk load. Errors are the store's
    (`ValidationFailed`, `NameTaken`), naming fields relative to the credential.
    """
    if validate:
        schema_errors = contracts.validate_create(
            {"name": name, "type": type, "config": dict(config)}
        )
        if schema_errors:
            raise ValidationFailed(details=schema_errors)
    errors: list[ErrorDetail] = []
    if status not in STATUSES:
        errors.append(ErrorDetail("status", "must be active or deleted"))
    if id is not None and not (isinstance(id, str) and _CREDENTIAL_ID.fullmatch(id)):
        errors.append(ErrorDetail("id", "is not a valid credential id (cred_...)"))
    if created_by is not None and not valid_user_id(created_by):
        errors.append(ErrorDetail("created_by", USER_ID_RULE))
    if deleted_at is not None and status != DELETED:
        errors.append(ErrorDetail("deleted_at", "must be null unless status is deleted"))
    if errors:
        raise ValidationFailed(details=errors)
    created = normalize(created_at) if created_at else normalize(store.clock())
    updated = max(normalize(updated_at) if updated_at else created, created)
    deleted: datetime | None = None
    if status == DELETED:
        deleted = normalize(deleted_at) if deleted_at else updated
        if deleted < created:
            raise ValidationFailed(
                details=[ErrorDetail("deleted_at", "must not be earlier than created_at")]
            )
        updated = max(updated, deleted)
    return store.insert(
        workspace,
        name=name,
        type=type,
        config=config,
        status=status,
        id=id,
        created_at=created,
        updated_at=updated,
        deleted_at=deleted,
        created_by=created_by,
    )


def _object(value: object, where: str, allowed: set[str]) -> dict[str, Any]:
    errors = object_errors(value, allowed, where)
    if errors:
        raise SeedError.at(errors)
    assert isinstance(value, dict)
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _refuse(where, "must be a list")
    return value
