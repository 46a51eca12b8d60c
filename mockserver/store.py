"""The fake's state and rules, in plain Python (no Flask): moto's "backend".

A `CredentialStore` owns every credential of every workspace, enforces the
lifecycle (docs: behaviour) with the fake's choices, keeps secrets apart from the
metadata it hands out, and pages with keysets. All validation goes through
the `contracts` registry, so no rule about fields lives here twice.

Why the shapes below:
- Secrets live only inside `SecretBox`, whose repr masks them, and every
  public snapshot (`Credential`) is built from the public half alone.
- Sorted indices per (workspace, status filter, type filter) make a page cost
  O(log n + limit): a page starts with a bisection, never with a scan.
- One re-entrant lock serialises every call; the work per call is small.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from itertools import islice
from typing import Any, Final

from sortedcontainers import SortedList

import contracts
from contracts.registry import schema_documents

from . import jsontext
from .clock import Clock, format_timestamp, normalize, system_clock
from .errors import (
    CredentialNotFound,
    ErrorDetail,
    NameTaken,
    ValidationFailed,
    object_errors,
)
from .ids import IdGenerator
from .pagination import SortKey
from .profile import DEFAULT_POLICY, Policy

ACTIVE: Final = "active"
DELETED: Final = "deleted"
STATUSES: Final = (ACTIVE, DELETED)
STATUS_FILTERS: Final = (ACTIVE, DELETED, "all")
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 200

JSONObject = dict[str, Any]


class SecretBox:
    """Holds the secret half of a config. Its repr names how many, never what."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: JSONObject = _json_copy(dict(values or {}))

    def reveal(self) -> JSONObject:
        """A deep copy of the secrets, nested like the config they came from."""
        return _json_copy(self._values)  # type: ignore[no-any-return]

    def __bool__(self) -> bool:
        return bool(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretBox) and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # mutable-by-value: not hashable

    def __repr__(self) -> str:
        return f"SecretBox(<{_count_leaves(self._values)} secret values hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # Pickling would copy secrets into places (caches, dumps) that never
        # pass through redaction; callers must reveal() on purpose instead.
        raise TypeError("SecretBox cannot be pickled; use reveal() deliberately")


# Every rendered credential formats two or three instants, mostly the same
# few (a page shares them, a GET repeats them): strftime is the costly part.
_timestamp_text: Final = lru_cache(maxsize=4096)(format_timestamp)

_JSON_SCALARS: Final = frozenset({str, int, float, bool, type(None)})


def _json_copy(value: Any) -> Any:
    """A deep copy of a JSON tree (dicts, lists, scalars), several times faster than deepcopy.

    Every create, update and read copies a config; `copy.deepcopy`'s memo and
    dispatch cost more than the copying. Anything that is not plain JSON goes
    to deepcopy, so the result is always independent of the input.
    """
    kind = type(value)
    if kind is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    if kind is list:
        return [_json_copy(item) for item in value]
    if kind in _JSON_SCALARS:
        return value
    return copy.deepcopy(value)


def _count_leaves(values: Mapping[str, Any]) -> int:
    return sum(_count_leaves(v) if isinstance(v, dict) else 1 for v in values.values())


@dataclass(frozen=True)
class Credential:
    """A read-only snapshot of one credential's metadata: never any secret."""

    id: str
    workspace: str
    name: str
    type: str
    status: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: str | None
    config: JSONObject

    @property
    def sort_key(self) -> SortKey:
        return _sort_key(self.created_at, self.id)

    def to_json(self) -> JSONObject:
        """The documented resource shape (with the fake's `deleted_at`)."""
        body: JSONObject = {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "status": self.status,
            "created_at": _timestamp_text(self.created_at),
            "updated_at": _timestamp_text(self.updated_at),
            "deleted_at": _timestamp_text(self.deleted_at) if self.deleted_at else None,
            "config": _json_copy(self.config),
        }
        if self.created_by is not None:
            body["created_by"] = self.created_by
        return body


@dataclass(frozen=True)
class Page:
    """One page of a list: the items, and the key to continue after (None: last page)."""

    items: list[Credential]
    next_key: SortKey | None
    limit: int


@dataclass(init=False, slots=True)
class _Record:
    """The stored, mutable form of a credential. Only the store touches it."""

    id: str
    workspace: str
    name: str
    type: str
    status: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    created_by: str | None
    public: JSONObject
    secrets: SecretBox = field(repr=False)
    # `to_json()` of the snapshot, encoded: made on the first read and dropped
    # by any assignment to the record (`__setattr__`), so a GET by id, the
    # busiest call, neither copies nor encodes a credential that has not
    # changed. Metadata only, like the snapshot it is made from.
    _json: str | None = field(default=None, init=False, repr=False, compare=False)

    def __init__(
        self,
        *,
        id: str,
        workspace: str,
        name: str,
        type: str,
        status: str,
        created_at: datetime,
        updated_at: datetime,
        deleted_at: datetime | None,
        created_by: str | None,
        public: JSONObject,
        secrets: SecretBox,
    ) -> None:
        # `object.__setattr__`: a plain assignment would run `__setattr__` below,
        # which drops the cached text, eleven times for every credential created.
        init = object.__setattr__
        init(self, "id", id)
        init(self, "workspace", workspace)
        init(self, "name", name)
        init(self, "type", type)
        init(self, "status", status)
        init(self, "created_at", created_at)
        init(self, "updated_at", updated_at)
        init(self, "deleted_at", deleted_at)
        init(self, "created_by", created_by)
        init(self, "public", public)
        init(self, "secrets", secrets)
        init(self, "_json", None)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "_json":
            object.__setattr__(self, "_json", None)

    @property
    def sort_key(self) -> SortKey:
        return _sort_key(self.created_at, self.id)

    def json_text(self) -> str:
        text = self._json
        if text is None:
            text = jsontext.encode(self.snapshot().to_json())
            self._json = text
        return text

    def snapshot(self) -> Credential:
        return Credential(
            id=self.id,
            workspace=self.workspace,
            name=self.name,
            type=self.type,
            status=self.status,
            created_at=self.created_at,
            updated_at=self.updated_at,
            deleted_at=self.deleted_at,
            created_by=self.created_by,
            config=_json_copy(self.public),
        )


def _sort_key(created_at: datetime, cred_id: str) -> SortKey:
    return int(created_at.timestamp()), cred_id


@cache
def integer_paths(type_: str) -> tuple[tuple[str, ...], ...]:
    """Config paths of `type_` whose schema type is integer, read from its schema."""

    def walk(schema: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        for name, sub in schema.get("properties", {}).items():
            if not isinstance(sub, dict):
                continue
            kind = sub.get("type")
            if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
                yield (*prefix, name)
            elif "properties" in sub:
                yield from walk(sub, (*prefix, name))

    return tuple(walk(schema_documents()[f"config-{type_}.json"], ()))


def _integral(type_: str, config: Mapping[str, Any]) -> JSONObject:
    """A copy of `config` with integral floats at integer fields made ints.

    JSON Schema counts 5432.0 as an integer, so validation lets it through;
    stored as a float it would read back as 5432.0.
    """
    result: JSONObject = _json_copy(dict(config))
    if type_ not in contracts.CREDENTIAL_TYPES:
        return result
    for path in integer_paths(type_):
        node: Any = result
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        value = node.get(path[-1]) if isinstance(node, dict) else None
        if isinstance(value, float) and value.is_integer():
            node[path[-1]] = int(value)
    return result


def _fail(errors: list[contracts.FieldError]) -> None:
    if errors:
        raise ValidationFailed(details=errors)


class CredentialStore:
    """Every workspace's credentials. Thread-safe; every method is atomic.

    `clock` returns an aware datetime (stored to the second); `id_generator`
    returns new `cred_` ids; `seed` seeds the default id generator so a run
    is reproducible. Both stay replaceable attributes (`store.clock = ...`)
    for the control plane's controllable clock.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        id_generator: Callable[[], str] | None = None,
        seed: int | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.clock: Clock = clock or system_clock
        # The profile's lifecycle answers (the open points); replaceable like the clock.
        self.policy: Policy = policy or DEFAULT_POLICY
        self.id_generator: Callable[[], str] = id_generator or IdGenerator(seed)
        self._lock = threading.RLock()
        self._records: dict[str, _Record] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._indices: dict[tuple[str, str, str | None], SortedList] = {}

    def __repr__(self) -> str:
        with self._lock:
            workspaces = len({r.workspace for r in self._records.values()})
            return f"CredentialStore(credentials={len(self._records)}, workspaces={workspaces})"

    def __len__(self) -> int:
        return len(self._records)

    # --- reads -----------------------------------------------------------------

    def get(self, workspace: str, cred_id: str) -> Credential:
        """The credential, active or soft-deleted; CredentialNotFound otherwise."""
        with self._lock:
            return self._find(workspace, cred_id).snapshot()

    def get_json(self, workspace: str, cred_id: str) -> tuple[str, str]:
        """`get`'s status, and its `to_json()` as the fake's JSON text (`mockserver.jsontext`).

        The text is kept with the credential until it next changes, so
        reading the same credential again copies and encodes nothing.
        """
        with self._lock:
            record = self._find(workspace, cred_id)
            return record.status, record.json_text()

    def secrets_of(self, workspace: str, cred_id: str) -> SecretBox:
        """The stored secrets, for tests and tooling; never rendered by the API."""
        with self._lock:
            record = self._find(workspace, cred_id)
            return SecretBox(record.secrets.reveal())

    def list(
        self,
        workspace: str,
        *,
        status: str = ACTIVE,
        type: str | None = None,
        limit: int = DEFAULT_LIMIT,
        after: SortKey | None = None,
    ) -> Page:
        """A page, newest first (created_at, then id, descending), strictly after `after`;
        oldest first (ascending) when the profile's list_order says so."""
        _fail(list_param_errors(status, type, limit, self.policy.max_limit))
        with self._lock:
            index = self._indices.get((workspace, status, type))
            if index is None:
                keys: list[SortKey] = []
            elif self.policy.oldest_first:
                walk = (
                    iter(index)
                    if after is None
                    else index.irange(minimum=after, inclusive=(False, True))
                )
                keys = list(islice(walk, limit + 1))
            elif after is None:
                keys = list(islice(reversed(index), limit + 1))
            else:
                walk = index.irange(maximum=after, inclusive=(True, False), reverse=True)
                keys = list(islice(walk, limit + 1))
            items = [self._records[cred_id].snapshot() for _, cred_id in keys[:limit]]
        next_key = keys[limit - 1] if len(keys) > limit else None
        return Page(items=items, next_key=next_key, limit=limit)

    def iter_all(self) -> Iterator[tuple[Credential, SecretBox]]:
        """Every credential with its secrets, oldest first: for state files and dumps."""
        with self._lock:
            records = sorted(self._records.values(), key=lambda r: r.sort_key)
            pairs = [(r.snapshot(), SecretBox(r.secrets.reveal())) for r in records]
        yield from pairs

    def workspaces(self) -> set[str]:
        with self._lock:
            return {r.workspace for r in self._records.values()}

    def count(self, workspace: str, *, status: str = "all", type: str | None = None) -> int:
        with self._lock:
            return len(self._indices.get((workspace, status, type), ()))

    # --- writes ----------------------------------------------------------------

    def create(
        self,
        workspace: str,
        *,
        name: str,
        type: str,
        config: Mapping[str, Any],
        created_by: str | None = None,
    ) -> Credential:
        """Create an active credential (keyword form of `create_from_body`)."""
        body = {"name": name, "type": type, "config": dict(config)}
        return self.create_from_body(workspace, body, created_by=created_by)

    def create_from_body(
        self, workspace: str, body: object, *, created_by: str | None = None
    ) -> Credential:
        """Create from a request body `{name, type, config}`; 400/409 as errors."""
        _fail(contracts.validate_create(body))
        assert isinstance(body, dict)  # validate_create guarantees it
        with self._lock:
            now = self._now()
            record = self._new_record(
                workspace,
                cred_id=self._fresh_id(),
                name=body["name"],
                type_=body["type"],
                config=body["config"],
                created_at=now,
                created_by=created_by,
            )
            self._insert(record)
            return record.snapshot()

    def update(self, workspace: str, cred_id: str, changes: object) -> Credential:
        """Apply a PUT body: omitted fields stay, config merges key by key.

        In `config`, null removes an optional key and a value replaces the
        stored one (secrets included); the merged config must pass the create
        rules of the type. A change of `type` is a 400, an update of a
        soft-deleted credential a 409, and an update that changes nothing
        leaves `updated_at` alone.
        """
        _fail(contracts.validate_update(changes))
        assert isinstance(changes, dict)  # validate_update guarantees it
        with self._lock:
            record = self._find(workspace, cred_id)
            if record.status == DELETED:
                self.policy.update_deleted()
            if "type" in changes and changes["type"] != record.type:
                raise ValidationFailed(details=[ErrorDetail("type", "cannot be changed")])
            name: str = changes.get("name", record.name)
            merged = contracts.merge_config(record.public, record.secrets.reveal())
            if "config" in changes and self.policy.update_replaces_config:
                merged = {}  # the profile's update_replaces_config: no merge
            patch: Mapping[str, Any] = changes.get("config") or {}
            _fail(object_errors(patch, contracts.config_fields(record.type), "config"))
            for key, value in patch.items():
                if value is None:
                    merged.pop(key, None)
                else:
                    merged[key] = copy.deepcopy(value)
            _fail(contracts.validate_config(record.type, merged))
            merged = _integral(record.type, merged)
            if name != record.name and (workspace, name) in self._names:
                raise NameTaken()
            public, secrets = contracts.split_secrets(record.type, merged)
            new_secrets = SecretBox(secrets)
            if name == record.name and public == record.public and new_secrets == record.secrets:
                return record.snapshot()
            if name != record.name:
                holds = self._holds_name(record)
                self._release_name(record)
                record.name = name
                if holds:
                    self._names[(workspace, name)] = record.id
            record.public = public
            record.secrets = new_secrets
            record.updated_at = max(self._now(), record.updated_at)
            return record.snapshot()

    def delete(self, workspace: str, cred_id: str) -> Credential:
        """Soft delete. Deleting a deleted credential changes nothing (same deleted_at)."""
        with self._lock:
            record = self._find(workspace, cred_id)
            if record.status == DELETED:
                self.policy.repeat_delete()
                return record.snapshot()
            now = max(self._now(), record.updated_at)
            self._move(record, DELETED, deleted_at=now, updated_at=now)
            if not self.policy.deleted_names_reserved:
                self._release_name(record)
            return record.snapshot()

    def restore(self, workspace: str, cred_id: str) -> Credential:
        """Undo a soft delete. Restoring an active credential changes nothing."""
        with self._lock:
            record = self._find(workspace, cred_id)
            if record.status == ACTIVE:
                self.policy.restore_active()
                return record.snapshot()
            if not self._holds_name(record):
                if (workspace, record.name) in self._names:
                    raise NameTaken("An active credential holds this name; rename it first.")
                self._names[(workspace, record.name)] = record.id
            now = max(self._now(), record.updated_at)
            self._move(record, ACTIVE, deleted_at=None, updated_at=now)
            return record.snapshot()

    def purge(self, workspace: str, cred_id: str) -> str:
        """Remove for good, active or deleted; the name becomes free. Returns the id."""
        with self._lock:
            record = self._find(workspace, cred_id)
            if record.status == ACTIVE:
                self.policy.purge_active()
            self._index(record, add=False)
            self._release_name(record)
            del self._records[record.id]
            return record.id

    def insert(
        self,
        workspace: str,
        *,
        name: str,
        type: str,
        config: Mapping[str, Any],
        status: str,
        id: str | None,
        created_at: datetime,
        updated_at: datetime,
        deleted_at: datetime | None,
        created_by: str | None,
    ) -> Credential:
        """Insert a credential with a complete, already checked history.

        For fixtures and state files, through `mockserver.seed.load_credential`,
        which holds the rules such a history follows (schema, id and creator
        shape, timestamps in order, defaults). The store keeps only its own:
        an id is used once, a name is held once, and ids it makes later sort
        after any id it was given.
        """
        with self._lock:
            if id is not None and id in self._records:
                raise ValidationFailed(details=[ErrorDetail("id", "is already in use")])
            if id is not None and isinstance(self.id_generator, IdGenerator):
                # Ids made from here on must still sort after this one.
                self.id_generator.observe(id)
            record = self._new_record(
                workspace,
                cred_id=id or self._fresh_id(),
                name=name,
                type_=type,
                config=config,
                created_at=normalize(created_at),
                created_by=created_by,
                reserve=status == ACTIVE or self.policy.deleted_names_reserved,
            )
            record.status = status
            record.updated_at = normalize(updated_at)
            record.deleted_at = normalize(deleted_at) if deleted_at else None
            self._insert(record)
            return record.snapshot()

    def reset(self) -> None:
        """Forget every credential of every workspace."""
        with self._lock:
            self._records.clear()
            self._names.clear()
            self._indices.clear()

    # --- internals -------------------------------------------------------------

    def _now(self) -> datetime:
        return normalize(self.clock())

    def _fresh_id(self) -> str:
        # Loaded fixtures may hold any id; skip the (unlikely) collision.
        while True:
            cred_id = self.id_generator()
            if cred_id not in self._records:
                return cred_id

    def _find(self, workspace: str, cred_id: str) -> _Record:
        record = self._records.get(cred_id)
        # Another workspace's id answers exactly like a missing one.
        if record is None or record.workspace != workspace:
            raise CredentialNotFound()
        return record

    def _new_record(
        self,
        workspace: str,
        *,
        cred_id: str,
        name: str,
        type_: str,
        config: Mapping[str, Any],
        created_at: datetime,
        created_by: str | None,
        reserve: bool = True,
    ) -> _Record:
        if reserve and (workspace, name) in self._names:
            raise NameTaken()
        public, secrets = contracts.split_secrets(type_, _integral(type_, config))
        return _Record(
            id=cred_id,
            workspace=workspace,
            name=name,
            type=type_,
            status=ACTIVE,
            created_at=created_at,
            updated_at=created_at,
            deleted_at=None,
            created_by=created_by,
            public=public,
            secrets=SecretBox(secrets),
        )

    def _insert(self, record: _Record) -> None:
        self._records[record.id] = record
        if record.status == ACTIVE or self.policy.deleted_names_reserved:
            self._names[(record.workspace, record.name)] = record.id
        self._index(record, add=True)

    # A name is held by an active credential, and by a deleted one when the
    # profile reserves deleted names; `_names` maps each held name to its holder.

    def _holds_name(self, record: _Record) -> bool:
        return self._names.get((record.workspace, record.name)) == record.id

    def _release_name(self, record: _Record) -> None:
        if self._holds_name(record):
            del self._names[(record.workspace, record.name)]

    def _move(
        self, record: _Record, status: str, *, deleted_at: datetime | None, updated_at: datetime
    ) -> None:
        self._index(record, add=False)
        record.status, record.deleted_at, record.updated_at = status, deleted_at, updated_at
        self._index(record, add=True)

    def _index(self, record: _Record, *, add: bool) -> None:
        key = record.sort_key
        ws = record.workspace
        for status in (record.status, "all"):
            for type_ in (None, record.type):
                slot = (ws, status, type_)
                if add:
                    self._indices.setdefault(slot, SortedList()).add(key)
                else:
                    index = self._indices[slot]
                    index.remove(key)
                    if not index:
                        del self._indices[slot]


def list_param_errors(
    status: str, type_: str | None, limit: int, max_limit: int = MAX_LIMIT
) -> list[ErrorDetail]:
    errors = []
    if status not in STATUS_FILTERS:
        errors.append(ErrorDetail("status", "must be one of active, deleted, all"))
    if type_ is not None and type_ not in contracts.CREDENTIAL_TYPES:
        errors.append(
            ErrorDetail("type", "must be one of " + ", ".join(contracts.CREDENTIAL_TYPES))
        )
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= max_limit:
        errors.append(ErrorDetail("limit", f"must be an integer from 1 to {max_limit}"))
    return errors
