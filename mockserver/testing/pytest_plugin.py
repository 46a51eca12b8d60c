"""pytest plugin (entry point `planasonix`): the fake inside any test suite.

Fixtures:
- `planasonix_fake`: a fresh in-process fake per test (`mockserver.testing.PlanasonixFake`).
- `planasonix_server`: a live HTTP server per session (per xdist worker),
  with a fresh fake swapped in for every test.
- `planasonix_intercept`: every `requests` call to https://api.planasonix.com
  (and configured tenant hosts) answered by a fresh fake, via `responses`.

Settings, most specific first: the `planasonix` marker, the command line,
ini options. This module is imported by every pytest run in an environment
that has the package installed, so the heavy imports (Flask, responses,
werkzeug's server) happen inside the fixtures, not here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fake import PlanasonixFake, SeedSource
    from .intercept import InterceptedFake
    from .live import LiveFake, LiveServer

MARKER = "planasonix"
_MARKER_HELP = (
    "planasonix(seed=None, frozen_time=None, id_seed=None, hosts=(), block_others=None): "
    "configure the planasonix_* fakes of one test. seed: fixtures file (relative to the "
    "test file) or dict, None for none; frozen_time: RFC 3339 start of a clock that only "
    "moves when told; id_seed: int for reproducible ids; hosts: extra hosts for "
    "planasonix_intercept; block_others: refuse requests to any other host."
)
_MARKER_KEYS = frozenset({"seed", "frozen_time", "id_seed", "hosts", "block_others"})
_UNSET: Any = object()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("planasonix", "Planasonix Credentials API fake")
    group.addoption(
        "--planasonix-seed",
        metavar="FILE",
        default=None,
        help="seed every planasonix fake from this fixtures file (mockserver.seed format)",
    )
    parser.addini(
        "planasonix_seed",
        "fixtures file for every planasonix fake (relative to the ini file)",
        default="",
    )
    parser.addini(
        "planasonix_hosts",
        "extra hosts planasonix_intercept answers besides api.planasonix.com",
        type="linelist",
        default=[],
    )
    parser.addini(
        "planasonix_intercept_block_others",
        "planasonix_intercept refuses requests to every other host",
        type="bool",
        default=False,
    )
    parser.addini("planasonix_id_seed", "integer seed for reproducible credential ids", default="")
    parser.addini(
        "planasonix_frozen_time",
        "RFC 3339 time at which every fake's clock starts, frozen",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)


@dataclass(frozen=True)
class FakeSettings:
    """What one test's fakes are built with, after marker > command line > ini."""

    seed: SeedSource | None = None
    id_seed: int | None = None
    frozen_time: str | None = None
    hosts: tuple[str, ...] = ()
    block_others: bool = False

    def fake_kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed, "id_seed": self.id_seed, "frozen_time": self.frozen_time}


def _ini_path(config: pytest.Config, value: str) -> Path:
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return base / value


def _int_or_none(value: object, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise pytest.UsageError(f"{where}: id_seed must be an integer")
    try:
        return int(value)
    except ValueError:
        raise pytest.UsageError(f"{where}: id_seed must be an integer") from None


def _marker_kwargs(node: pytest.Item) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    # iter_markers yields the closest first; apply farthest first so closest wins.
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        unknown = sorted(set(mark.kwargs) - _MARKER_KEYS)
        if unknown:
            raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown argument {unknown[0]!r}")
        merged.update(mark.kwargs)
    return merged


def _settings(request: pytest.FixtureRequest) -> FakeSettings:
    config = request.config
    seed: SeedSource | None = None
    cli_seed = config.getoption("planasonix_seed", None)
    ini_seed = str(config.getini("planasonix_seed") or "")
    if cli_seed:
        seed = Path(cli_seed).resolve()
    elif ini_seed:
        seed = _ini_path(config, ini_seed)
    id_seed = _int_or_none(config.getini("planasonix_id_seed"), "planasonix_id_seed")
    frozen_time = str(config.getini("planasonix_frozen_time") or "") or None
    hosts = tuple(str(h) for h in config.getini("planasonix_hosts"))
    block_others = bool(config.getini("planasonix_intercept_block_others"))

    marker = _marker_kwargs(request.node) if isinstance(request.node, pytest.Item) else {}
    marker_seed = marker.get("seed", _UNSET)
    if marker_seed is not _UNSET:
        if marker_seed is None or isinstance(marker_seed, Mapping):
            seed = marker_seed
        else:
            seed = Path(request.node.path).parent / str(marker_seed)
    if "id_seed" in marker:
        id_seed = _int_or_none(marker["id_seed"], f"@pytest.mark.{MARKER}")
    if "frozen_time" in marker:
        frozen_time = marker["frozen_time"]
    if "hosts" in marker:
        extra = marker["hosts"]
        hosts += (extra,) if isinstance(extra, str) else tuple(extra)
    if marker.get("block_others") is not None:
        block_others = bool(marker["block_others"])
    return FakeSettings(seed, id_seed, frozen_time, hosts, block_others)


@pytest.fixture
def planasonix_fake(request: pytest.FixtureRequest) -> Iterator[PlanasonixFake]:
    """A fresh in-process fake: `.url`, `.api_key`, `.session`, `.httpx_client()`, ..."""
    from .fake import PlanasonixFake

    with PlanasonixFake(**_settings(request).fake_kwargs()) as fake:
        yield fake


@pytest.fixture(scope="session")
def planasonix_live_server() -> Iterator[LiveServer]:
    """The session's HTTP server (one per xdist worker: each worker is its own session)."""
    from .live import LiveServer

    with LiveServer() as server:
        yield server


@pytest.fixture
def planasonix_server(
    planasonix_live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[LiveFake]:
    """A fresh fake behind the session's live server: `.url` is http://127.0.0.1:PORT."""
    fake = planasonix_live_server.new_fake(**_settings(request).fake_kwargs())
    try:
        yield fake
    finally:
        planasonix_live_server.release(fake)


@pytest.fixture
def planasonix_intercept(request: pytest.FixtureRequest) -> Iterator[InterceptedFake]:
    """A fresh fake answering `requests` calls to https://api.planasonix.com (and hosts)."""
    from .intercept import InterceptedFake

    settings = _settings(request)
    with InterceptedFake(
        hosts=settings.hosts, block_others=settings.block_others, **settings.fake_kwargs()
    ) as fake:
        yield fake
