"""`PlanasonixFake`: the in-process fake behind the `planasonix_fake` fixture.

Usable without pytest too (`PlanasonixFake()` in a unittest, a notebook, a
script). The pytest plugin (`mockserver.testing.pytest_plugin`) only decides *which*
of these a test gets and with which settings.

Why one shared Flask app per process: building a Flask app compiles every URL
rule (about 10 ms for this API), far too slow for a fresh fake per test. The
app reads all its state through `get_state()`, i.e. from
`app.extensions["planasonix"]`, so a single app whose extension entry is a
`_RoutedState` (a `FakeState` whose fields resolve to the state of the fake
serving the current request, held in a `ContextVar`) serves any number of
independent fakes. A fake then costs a store, a keyring and a journal: tens of
microseconds. Each fake's `.app` can still build a dedicated Flask app on
demand, sharing the same state object.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import os
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, overload

import requests

from ..app import create_app
from ..auth import DEV_KEY, DEV_USER, DEV_WORKSPACE, READ_WRITE, WRITE_SCOPE, Keyring
from ..clock import Clock, ManualClock, parse_timestamp, system_clock
from ..errors import CredentialNotFound
from ..journal import Journal
from ..seed import SeedSummary, load_fixtures
from ..state import EXTENSION_KEY, FakeConfig, FakeState, new_state
from ..store import Credential, CredentialStore
from .transports import WSGIAdapter

if TYPE_CHECKING:  # optional dependencies, imported only when used
    from types import TracebackType

    import httpx
    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from flask import Flask

JSON = Any
SeedSource = str | os.PathLike[str] | Mapping[str, Any]

IN_PROCESS_URL: Final = "http://planasonix.fake"
"""Base URL of an in-process fake: never resolvable, so nothing leaves the process."""
PUBLIC_HOST: Final = "api.planasonix.com"
PUBLIC_URL: Final = f"https://{PUBLIC_HOST}"

# --- one Flask app per process, routed to the fake of the current request -----------

_current_state: ContextVar[FakeState] = ContextVar("planasonix_current_state")


def _routed_field(name: str) -> property:
    def get(self: FakeState) -> Any:
        return getattr(_current_state.get(), name)

    def set_(self: FakeState, value: Any) -> None:
        setattr(_current_state.get(), name, value)

    return property(get, set_)


# Built from `dataclasses.fields`, so a field the fake adds later is routed too.
_RoutedState: type[FakeState] = type(
    "_RoutedState",
    (FakeState,),
    {
        "__doc__": "The state of whichever fake the current request is for.",
        "__repr__": lambda self: "_RoutedState()",
        **{f.name: _routed_field(f.name) for f in dataclasses.fields(FakeState)},
    },
)


@functools.cache
def _router_app() -> Flask:
    """The process-wide Flask app; stateless itself, built on first use."""
    app = create_app()
    # Not via __init__: every field is a property that routes, nothing to store.
    app.extensions[EXTENSION_KEY] = object.__new__(_RoutedState)
    return app


# --- the fake a test talks to -------------------------------------------------------


def _read_seed(source: SeedSource) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    path = Path(source)
    stat = path.stat()
    return _parse_seed_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _parse_seed_file(path: str, mtime_ns: int, size: int) -> Mapping[str, Any]:
    # Keyed on mtime and size: one parse per file per session, yet an edited
    # file is re-read. Callers never mutate the result (load_fixtures copies).
    from ..seed import SeedError

    try:
        data: Mapping[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SeedError(f"cannot read fixtures file {path}: {type(error).__name__}") from None
    return data


def _secret_path(path: str | Iterable[str]) -> tuple[str, ...]:
    return tuple(path.split(".")) if isinstance(path, str) else tuple(path)


class PlanasonixFake:
    """A fresh, in-process Credentials API: no sockets, ready in microseconds.

    `url` and `api_key` are what the code under test needs; `session`,
    `httpx_client()` and `httpx_transport()` reach this fake without a network;
    `store`, `journal`, `secret()` and `secrets()` let a test look inside.

    `seed` (a fixtures file path or its parsed data, see `mockserver.seed`)
    loads workspaces, keys and credentials; when it brings keys, `api_key` is
    its first read-write key, otherwise the development key of `ws_dev`.
    `id_seed` makes ids (and cursors) reproducible; `frozen_time` (RFC 3339
    text or an aware datetime) starts a `ManualClock` that only moves when told.
    """

    def __init__(
        self,
        *,
        seed: SeedSource | None = None,
        id_seed: int | None = None,
        frozen_time: str | datetime | None = None,
        url: str = IN_PROCESS_URL,
    ) -> None:
        self.url = url.rstrip("/")
        self.clock: Clock = system_clock
        if frozen_time is not None:
            start = parse_timestamp(frozen_time) if isinstance(frozen_time, str) else frozen_time
            self.clock = ManualClock(start)
        self.config = FakeConfig(seed=id_seed)
        self.store = CredentialStore(clock=self.clock, seed=id_seed)
        self.keyring = Keyring()
        self.journal = Journal(self.config.journal_size)
        self.state = new_state(
            store=self.store, keyring=self.keyring, journal=self.journal, config=self.config
        )
        self.api_key = DEV_KEY
        self.workspace = DEV_WORKSPACE
        if seed is not None:
            self.seed(seed)
            for key, principal in self.keyring.items():
                if principal.can(WRITE_SCOPE):
                    self.api_key, self.workspace = key, principal.workspace
                    break
        if len(self.keyring) == 0:
            # The fake's own rule (create_app): the dev key only when none is configured.
            self.keyring.add(DEV_KEY, DEV_WORKSPACE, user_id=DEV_USER)
        self._session: requests.Session | None = None
        self._app: Flask | None = None

    def __repr__(self) -> str:
        # Counts only: no key, no config, no secret.
        return (
            f"{type(self).__name__}(url={self.url!r}, workspace={self.workspace!r}, "
            f"credentials={len(self.store)})"
        )

    # --- reaching the fake ----------------------------------------------------

    def wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """This fake as a WSGI application (the shared app, routed to this state)."""
        token = _current_state.set(self.state)
        try:
            body = _router_app()(environ, start_response)
            try:
                # Drained while routed: nothing may read the state after the reset.
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        finally:
            _current_state.reset(token)

    @property
    def app(self) -> Flask:
        """A dedicated Flask app over this fake's state (built on first use, ~10 ms)."""
        if self._app is None:
            app = create_app()
            app.extensions[EXTENSION_KEY] = self.state
            self._app = app
        return self._app

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def session(self) -> requests.Session:
        """A `requests.Session` whose calls under `url` reach this fake in-process."""
        if self._session is None:
            session = requests.Session()
            # No proxy, netrc or CA-bundle lookups from the environment: none of
            # them applies in-process, and scanning os.environ per request was a
            # quarter of a request's cost.
            session.trust_env = False
            session.mount(self.url + "/", WSGIAdapter(self.wsgi))
            self._session = session
        return self._session

    def httpx_transport(self) -> httpx.WSGITransport:
        import httpx

        return httpx.WSGITransport(app=self.wsgi)

    def httpx_client(self, **kwargs: Any) -> httpx.Client:
        """An `httpx.Client` with `base_url=url`, reaching this fake in-process."""
        import httpx

        kwargs.setdefault("base_url", self.url)
        return httpx.Client(transport=self.httpx_transport(), **kwargs)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> PlanasonixFake:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- arranging state ------------------------------------------------------

    @overload
    def seed(self, source: SeedSource, /) -> SeedSummary: ...

    @overload
    def seed(
        self,
        *,
        name: str,
        type: str,
        config: Mapping[str, Any],
        workspace: str | None = None,
        status: str = ...,
        id: str | None = ...,
        created_at: str | datetime | None = ...,
        updated_at: str | datetime | None = ...,
        deleted_at: str | datetime | None = ...,
        created_by: str | None = ...,
    ) -> Credential: ...

    def seed(self, *source: SeedSource, **credential: Any) -> SeedSummary | Credential:
        """Load a fixtures file/dict, or create one credential from keyword arguments.

        Keyword form: `name`, `type`, `config` (secrets in plain text, as a
        client sends them), optional `workspace` (default: this fake's) and
        history fields `status`, `id`, `created_at`, `updated_at`,
        `deleted_at`, `created_by`. Returns the stored metadata.
        """
        # *source rather than one optional positional: mypy cannot match a
        # positional-only optional against the keyword-only overload.
        if len(source) > 1 or (source and credential):
            raise TypeError("seed() takes one fixtures source, or credential fields")
        if source:
            return load_fixtures(_read_seed(source[0]), self.store, self.keyring)
        workspace = credential.pop("workspace", None) or self.workspace
        for field in ("created_at", "updated_at", "deleted_at"):
            if isinstance(credential.get(field), str):
                credential[field] = parse_timestamp(credential[field])
        return self.store.load(workspace, **credential)

    def add_key(
        self,
        key: str,
        workspace: str,
        *,
        scopes: Iterable[str] = READ_WRITE,
        user_id: str | None = None,
    ) -> None:
        """Accept another API key, e.g. of a second workspace for isolation tests."""
        self.keyring.add(key, workspace, user_id=user_id, scopes=set(scopes))

    def reset(self) -> None:
        """Forget credentials and journal; keys and settings stay."""
        self.store.reset()
        self.journal.clear()

    # --- looking inside (test-only; none of this exists over HTTP) ------------

    def credentials(self, *, status: str = "all", workspace: str | None = None) -> list[Credential]:
        """Every credential of a workspace (default: this fake's), newest first."""
        workspace = workspace or self.workspace
        items: list[Credential] = []
        after = None
        while True:
            page = self.store.list(workspace, status=status, limit=200, after=after)
            items.extend(page.items)
            if page.next_key is None:
                return items
            after = page.next_key

    def secrets(self, cred_id: str, *, workspace: str | None = None) -> dict[str, Any]:
        """The stored secret fields of a credential, nested like its config."""
        return self.store.secrets_of(self._workspace_of(cred_id, workspace), cred_id).reveal()

    def secret(
        self, cred_id: str, path: str | Iterable[str], *, workspace: str | None = None
    ) -> Any:
        """One stored secret, e.g. `secret(id, "password")`, `secret(id, "ssh_tunnel.private_key")`.

        KeyError (naming the path, never a value) when that secret is not stored.
        """
        node: Any = self.secrets(cred_id, workspace=workspace)
        parts = _secret_path(path)
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(".".join(parts))
            node = node[part]
        return copy.deepcopy(node)

    def _workspace_of(self, cred_id: str, workspace: str | None) -> str:
        if workspace is not None:
            return workspace
        # Tests rarely care which workspace holds an id; seeded files may use several.
        for candidate in (self.workspace, *sorted(self.store.workspaces())):
            try:
                self.store.get(candidate, cred_id)
            except CredentialNotFound:
                continue
            return candidate
        return self.workspace  # the store raises its own not-found error
