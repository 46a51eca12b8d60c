"""API keys, workspaces and scopes (docs: behaviour, Keys and workspaces).

A key belongs to one workspace and one user and holds scopes. Lookups go
through a SHA-256 digest of the key followed by `hmac.compare_digest`, so the
time a lookup takes does not depend on how much of a guessed key is right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import Forbidden, Unauthorized

READ_SCOPE = "connections:read"
WRITE_SCOPE = "connections:write"
READ_WRITE: frozenset[str] = frozenset({READ_SCOPE, WRITE_SCOPE})
READ_ONLY: frozenset[str] = frozenset({READ_SCOPE})

DEV_KEY = "plnx_test_dev_key"
"""The documented development key, used when no key is configured."""
DEV_WORKSPACE = "ws_dev"
DEV_USER = "usr_dev"

# Keys are opaque to the fake, but they travel in headers: visible ASCII only.
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,512}$")
_WORKSPACE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_USER_RE = re.compile(r"^usr_[A-Za-z0-9_-]{1,64}$")
_BEARER_RE = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]+) *$")

API_KEY_HEADER = "X-Planasonix-Api-Key"


class HeaderLookup(Protocol):
    """What auth needs of a header collection (a dict or Werkzeug's Headers)."""

    def get(self, key: str, /) -> str | None: ...


@dataclass(frozen=True)
class Principal:
    """Who is calling: the workspace a key opens, its user, its scopes."""

    workspace: str
    user_id: str
    scopes: frozenset[str]

    def can(self, scope: str) -> bool:
        return scope in self.scopes


@dataclass(frozen=True)
class _Entry:
    key: bytes
    principal: Principal

    def __repr__(self) -> str:
        return f"_Entry(key=<hidden>, principal={self.principal!r})"


def valid_workspace(workspace: str) -> bool:
    return bool(_WORKSPACE_RE.fullmatch(workspace))


USER_ID_RULE = "must look like usr_ followed by 1-64 of A-Z a-z 0-9 _ -"


def valid_user_id(user_id: object) -> bool:
    """A user id as keys carry it and `created_by` shows it (`usr_...`)."""
    return isinstance(user_id, str) and bool(_USER_RE.fullmatch(user_id))


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


class Keyring:
    """The keys a fake accepts. Thread-safe; keys never appear in its repr."""

    def __init__(self) -> None:
        self._entries: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Keyring(keys={len(self._entries)})"

    def __len__(self) -> int:
        return len(self._entries)

    def add(
        self,
        key: str,
        workspace: str,
        *,
        user_id: str | None = None,
        scopes: frozenset[str] | set[str] = READ_WRITE,
    ) -> Principal:
        """Accept `key` for `workspace`; replaces an earlier entry for the same key."""
        if not _KEY_RE.fullmatch(key):
            raise ValueError("an API key must be 1-512 visible ASCII characters")
        if not valid_workspace(workspace):
            raise ValueError("a workspace id must be 1-64 of A-Z a-z 0-9 _ . -")
        unknown = set(scopes) - READ_WRITE
        if unknown:
            raise ValueError(
                f"{len(unknown)} unknown scope(s); known: {', '.join(sorted(READ_WRITE))}"
            )
        if user_id is None:
            # Derived from the workspace, never from the key: ids are shown
            # in created_by and must not hint at key material.
            user_id = "usr_" + hashlib.sha256(workspace.encode()).hexdigest()[:12]
        elif not valid_user_id(user_id):
            raise ValueError(f"a user id {USER_ID_RULE}")
        principal = Principal(workspace, user_id, frozenset(scopes))
        raw = key.encode("ascii")
        with self._lock:
            self._entries[_digest(raw)] = _Entry(raw, principal)
        return principal

    def revoke(self, key: str) -> bool:
        """Stop accepting `key`; True when it was known."""
        raw = key.encode("utf-8", "surrogatepass")
        with self._lock:
            return self._entries.pop(_digest(raw), None) is not None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def authenticate(self, key: str) -> Principal | None:
        """The principal for `key`, or None when the key is unknown."""
        raw = key.encode("utf-8", "surrogatepass")
        with self._lock:
            entry = self._entries.get(_digest(raw))
        if entry is None or not hmac.compare_digest(entry.key, raw):
            return None
        return entry.principal

    def items(self) -> Iterator[tuple[str, Principal]]:
        """Every (key, principal): for state files and fixtures. Holds key material."""
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            yield entry.key.decode("ascii"), entry.principal

    def workspaces(self) -> set[str]:
        with self._lock:
            return {entry.principal.workspace for entry in self._entries.values()}


def extract_key(headers: HeaderLookup) -> str:
    """The API key a request presents, or Unauthorized (missing or malformed).

    `Authorization: Bearer KEY` or the legacy `X-Planasonix-Api-Key: KEY`.
    Both at once must carry the same key: with two different ones the request
    is ambiguous, and picking either would let one header override the other
    (a proxy's key and a client's, a read-only key and a writer's).
    """
    bearer: str | None = None
    authorization = headers.get("Authorization")
    if authorization is not None:
        match = _BEARER_RE.fullmatch(authorization)
        if match is None:
            raise Unauthorized("The Authorization header must be 'Bearer <API key>'.")
        bearer = match.group(1)
    legacy = headers.get(API_KEY_HEADER)
    if legacy is not None:
        legacy = legacy.strip()
        if not _KEY_RE.fullmatch(legacy):
            raise Unauthorized(f"The {API_KEY_HEADER} header is malformed.")
        if bearer is not None and not hmac.compare_digest(bearer.encode(), legacy.encode()):
            raise Unauthorized(
                f"The Authorization and {API_KEY_HEADER} headers carry different keys."
            )
        return legacy
    if bearer is not None:
        return bearer
    raise Unauthorized("A valid API key is required.")


class EnvironHeaders:
    """The headers auth reads, straight from a WSGI environ (`HTTP_*` entries).

    Every API call asks for both key headers, and one is nearly always
    missing: Werkzeug's `request.headers.get` answers a miss by raising and
    catching a KeyError, a plain dict lookup does not.
    """

    __slots__ = ("_environ",)

    def __init__(self, environ: Mapping[str, Any]) -> None:
        self._environ = environ

    def get(self, key: str, /) -> str | None:
        value = self._environ.get("HTTP_" + key.upper().replace("-", "_"))
        return value if isinstance(value, str) else None


def authenticate(keyring: Keyring, headers: HeaderLookup) -> Principal:
    """The caller's principal, or Unauthorized. Never says whether a key exists."""
    principal = keyring.authenticate(extract_key(headers))
    if principal is None:
        raise Unauthorized("The API key is not valid.")
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.can(scope):
        raise Forbidden(f"This call needs the {scope} scope.")
