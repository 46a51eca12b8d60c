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

import dataclasses
import functools
import json
import os
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final, overload

import requests

from ..app import create_app
from ..assembly import build_state, reset_state
from ..auth import READ_WRITE, Keyring
from ..clock import parse_timestamp, system_clock
from ..errors import ApiError, CredentialNotFound, ErrorDetail
from ..journal import Journal, JournalRecord
from ..profile import Profile
from ..seed import SeedError, SeedSummary, load_credential, load_fixtures
from ..standalone import faults as fault_hooks
from ..standalone.faults import FaultBook
from ..standalone.timecontrol import ControllableClock
from ..state import EXTENSION_KEY, FakeConfig, FakeState
from ..store import Credential, CredentialStore
from . import calls, observe, secret_lookup
from .faults import Faults
from .sessions import BaseURLSession
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
_current_faults: ContextVar[FaultBook] = ContextVar("planasonix_current_faults")


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
    fault_hooks.install_lookup(app, lambda: _current_faults.get(None))
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


def _frozen_clock(frozen_time: str | datetime) -> ControllableClock:
    try:
        start = parse_timestamp(frozen_time) if isinstance(frozen_time, str) else frozen_time
        if not isinstance(start, datetime):
            raise ValueError
        clock = ControllableClock()
        clock.freeze()
        clock.set(start)
    except ValueError:
        # Never the parser's own text: one sentence saying what is expected.
        raise ValueError(
            "frozen_time must be an RFC 3339 timestamp (e.g. 2025-01-01T00:00:00Z) "
            "or an aware datetime"
        ) from None
    return clock


def import_httpx() -> ModuleType:
    """httpx, or an ImportError that says which extra brings it (a base install has none)."""
    try:
        import httpx
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "httpx support needs the httpx extra: pip install 'planasonix-credentials-fake[httpx]'",
            name=error.name,
        ) from None
    return httpx


class PlanasonixFake:
    """A fresh, in-process Credentials API: no sockets, ready in microseconds.

    `url` and `api_key` are what the code under test needs; `session`,
    `httpx_client()` and `httpx_transport()` reach this fake without a network;
    `store`, `journal`, `secret()` and `secrets()` let a test look inside.

    `seed` (a fixtures file path or its parsed data, see `mockserver.seed`)
    loads workspaces, keys and credentials; when it brings keys, `api_key` is
    its first read-write key, otherwise the development key, for the seed's
    first workspace (as `planasonix-mock serve` does) or `ws_dev` without one.
    `id_seed` makes ids (and cursors) reproducible.

    `clock` (a `ControllableClock`, as on the standalone server) runs on the
    system time, or, with `frozen_time` (RFC 3339 text or an aware datetime),
    stands still there. `clock.set(...)` (datetime or text) jumps and
    `clock.advance(seconds)` moves ahead, frozen or not; a running clock keeps
    ticking from the new time. `clock.freeze()` / `clock.unfreeze()` switch.

    `faults` holds fault rules (`POST /_mock/faults`'s language, see
    `mockserver.testing.faults`); `faults=[{...}]` adds some at the start.
    Through `session` and the httpx helpers they behave as on a socket: a
    delay longer than the client's read timeout raises the client's timeout
    error after the timeout (the call itself still goes through, marked
    `fault: "timeout"` in the journal), and a connection fault (`reset`,
    `empty`, `truncated`, `garbage`, `drip`) raises what that client raises
    for it (`mockserver.testing.client_faults`).
    `calls(...)` and `verify(...)` filter and count the journal.

    `profile` (a `contracts.profile.Profile`, its JSON document, or a path to
    one) makes the fake answer what the docs leave open like a deployment
    does; `planasonix-contract learn` writes one.
    """

    def __init__(
        self,
        *,
        seed: SeedSource | None = None,
        id_seed: int | None = None,
        frozen_time: str | datetime | None = None,
        faults: Iterable[Mapping[str, Any]] = (),
        url: str = IN_PROCESS_URL,
        profile: Profile | Mapping[str, Any] | str | Path | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.clock: ControllableClock = (
            ControllableClock(system_clock) if frozen_time is None else _frozen_clock(frozen_time)
        )
        self.faults = Faults(self.clock)
        for rule in faults:
            self.faults.add(rule)
        # The one assembly (mockserver.assembly): the seed's keys, or the dev
        # key for its first workspace; `profile` answers what the docs leave open.
        built = build_state(
            config=FakeConfig(seed=id_seed),
            clock=self.clock,
            profile=profile,
            seed=_read_seed(seed) if seed is not None else None,
        )
        self.state: FakeState = built.state
        self.config: FakeConfig = self.state.config
        self.store: CredentialStore = self.state.store
        self.keyring: Keyring = self.state.keyring
        self.journal: Journal = self.state.journal
        # What this fake's callers met (`coverage()`), also fed to the pytest
        # session's coverage and consumer contract when those are on.
        self._observer = observe.Observer()
        self.journal.subscribe(self._observer)
        observe.register(self._observer, self.journal)
        self.api_key: str = built.api_key
        self.workspace: str = built.workspace
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
        faults_token = _current_faults.set(self.faults.book)
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
            _current_faults.reset(faults_token)
            _current_state.reset(token)

    @property
    def app(self) -> Flask:
        """A dedicated Flask app over this fake's state (built on first use, ~10 ms)."""
        if self._app is None:
            app = create_app(state=self.state)
            fault_hooks.install(app, self.faults.book)
            self._app = app
        return self._app

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    @property
    def session(self) -> requests.Session:
        """A `requests.Session` whose calls under `url` reach this fake in-process.

        Relative paths are joined to `url` and the fake's `api_key` is sent
        unless a request sets its own Authorization (`mockserver.testing.
        sessions`). `timeout=` works as on a socket: a fault delay longer than
        the read timeout raises `requests.exceptions.ReadTimeout` after the
        timeout; connection faults raise what requests raises for them.
        """
        if self._session is None:
            session = BaseURLSession(self.url, self.api_key)
            # No proxy, netrc or CA-bundle lookups from the environment: none of
            # them applies in-process, and scanning os.environ per request was a
            # quarter of a request's cost.
            session.trust_env = False
            session.mount(self.url + "/", WSGIAdapter(self.wsgi))
            self._session = session
        return self._session

    def httpx_transport(self) -> httpx.BaseTransport:
        """A sync httpx transport to this fake, for `httpx.Client(transport=...)`.

        Honours the client's read timeout and the connection faults as a
        socket would (`mockserver.testing.httpx_transports`).
        """
        import_httpx()  # the transport module needs it: say which extra brings it
        from .httpx_transports import WSGITransport

        return WSGITransport(self.wsgi)

    def httpx_client(self, **kwargs: Any) -> httpx.Client:
        """An `httpx.Client` with `base_url=url`, reaching this fake in-process."""
        kwargs.setdefault("base_url", self.url)
        client: httpx.Client = import_httpx().Client(transport=self.httpx_transport(), **kwargs)
        return client

    def httpx_async_transport(self) -> httpx.AsyncBaseTransport:
        """An async httpx transport to this fake, for `httpx.AsyncClient(transport=...)`.

        Each request runs in a worker thread, so a fault's delay does not
        block the event loop. Timeouts and connection faults as `httpx_transport`.
        """
        import_httpx()  # the transport module needs it: say which extra brings it
        from .httpx_transports import AsyncWSGITransport

        return AsyncWSGITransport(self.wsgi)

    def httpx_async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An `httpx.AsyncClient` with `base_url=url`, reaching this fake."""
        kwargs.setdefault("base_url", self.url)
        transport = self.httpx_async_transport()
        client: httpx.AsyncClient = import_httpx().AsyncClient(transport=transport, **kwargs)
        return client

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
                try:
                    credential[field] = parse_timestamp(credential[field])
                except ValueError:
                    raise SeedError.at(
                        [ErrorDetail(field, "must be an RFC 3339 timestamp")]
                    ) from None
        try:
            return load_credential(self.store, workspace, **credential)
        except ApiError as error:
            # The HTTP summary ("The request has invalid fields.") names nothing;
            # a test author needs the fields, as a fixtures file error gives them.
            raise SeedError.at(error.details or (ErrorDetail("", error.message),)) from None

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

    def coverage(self) -> observe.Coverage:
        """What this fake's callers met so far: operations x statuses, prefixes, auth
        forms, lifecycle transitions, faults, auth failures, cursors; `.gaps()` names
        what no call met, `.table()` prints it (`mockserver.testing.observe`)."""
        return self._observer.coverage

    def reset(self) -> None:
        """Forget credentials, journal and fault rules; keys and settings stay."""
        reset_state(self.state)
        self.faults.clear()

    # --- verifying calls --------------------------------------------------------

    def calls(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | Iterable[int] | None = None,
    ) -> list[JournalRecord]:
        """Journal records (oldest first) matching all that is given.

        `path` uses the fault rules' patterns (`*` one segment, `**` any depth);
        `/api/...` also matches the same call under `/v1/api/...`. `status` is
        one code or several (`range(500, 600)`).
        """
        return calls.matching(self.journal.records(), method=method, path=path, status=status)

    def verify(
        self,
        method: str | None = None,
        path: str | None = None,
        *,
        status: int | Iterable[int] | None = None,
        times: int | None = None,
        at_least: int | None = None,
        at_most: int | None = None,
    ) -> list[JournalRecord]:
        """Assert how often a matching call reached the fake (default: at least once).

        AssertionError listing every call made (bodies redacted, as the journal
        keeps them) otherwise; returns the matching records. pytest shows the
        failure at the test's line: this frame and the plugin's are hidden.
        """
        __tracebackhide__ = True
        return calls.verify(
            self.journal.records(),
            method=method,
            path=path,
            status=status,
            times=times,
            at_least=at_least,
            at_most=at_most,
        )

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

        `SecretFieldError` (a KeyError) when that secret is not stored: it
        names the path and the type's secret fields (from the schemas'
        `writeOnly`), with a close match for a typo; never a value.
        """
        workspace = self._workspace_of(cred_id, workspace)
        type_ = self.store.get(workspace, cred_id).type
        return secret_lookup.lookup(
            self.secrets(cred_id, workspace=workspace), type_, cred_id, path
        )

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
