"""pytest plugin (entry point `planasonix`): the fake inside any test suite.

Fixtures:
- `planasonix_fake`: a fresh in-process fake per test (`mockserver.testing.PlanasonixFake`).
- `planasonix_server`: a live HTTP server per session (per xdist worker),
  with a fresh fake swapped in for every test.
- `planasonix_intercept`: every `requests` and httpx (sync and async) call to
  https://api.planasonix.com (and configured tenant hosts) answered by a fresh
  fake, via `responses` and `respx`.

Every fake has `.faults` (`fake.faults.add(status=503, times=1)`), also
settable as `@pytest.mark.planasonix(faults=[{"status": 503, "times": 1}])`.
Connection faults (`{"connection": "reset"}`, `empty`, `truncated`,
`garbage`, `drip`) and client timeouts behave in every fixture as on a real
socket: over planasonix_server the socket itself is reset, cut or slowed; in
process each client raises what it raises on a socket
(`mockserver.testing.client_faults`), and a fault delay longer than the
client's read timeout raises its timeout error after the timeout.
planasonix_intercept fails closed: a call to an intercepted host that it
cannot answer raises `NotInterceptedError` (`mockserver.testing.guards`).

Settings, most specific first: the `planasonix` marker, the command line,
ini options. This module is imported by every pytest run in an environment
that has the package installed, so the heavy imports (Flask, responses,
werkzeug's server) happen inside the fixtures, not here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .fake import PlanasonixFake, SeedSource
    from .intercept import InterceptedFake
    from .live import LiveFake, LiveServer

MARKER = "planasonix"
_MARKER_HELP = (
    "planasonix(seed=None, frozen_time=None, id_seed=None, faults=(), hosts=(), "
    "block_others=None): configure the planasonix_* fakes of one test. seed: fixtures file "
    "(relative to the test file), 'demo' for the bundled demo data, or dict, None for none; "
    "frozen_time: RFC 3339 start of a clock that only moves when told; id_seed: int for "
    "reproducible ids; faults: fault rules as for POST /_mock/faults (path defaults to "
    "/api/**; connection: reset, empty, truncated, garbage or drip); "
    "hosts: extra hosts for planasonix_intercept; block_others: refuse requests "
    "to any other host; profile: a profile file (relative to the test file) or dict, the "
    "answers to what the docs leave open (planasonix-contract learn writes one)."
)
_MARKER_KEYS = frozenset(
    {"seed", "frozen_time", "id_seed", "faults", "hosts", "block_others", "profile"}
)
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
        "planasonix_profile",
        "profile file for every planasonix fake (relative to the ini file)",
        default="",
    )
    parser.addini(
        "planasonix_frozen_time",
        "RFC 3339 time at which every fake's clock starts, frozen",
        default="",
    )
    _add_observation_options(group, parser)


def _add_observation_options(group: Any, parser: pytest.Parser) -> None:
    group.addoption(
        "--planasonix-coverage",
        metavar="PATH",
        nargs="?",
        const=DEFAULT_COVERAGE_PATH,
        default=None,
        help="record what the suite's code met on every planasonix fake (operations, "
        "statuses, lifecycle transitions, faults, auth failures, cursors), print a table "
        f"at the end and write JSON to PATH (default {DEFAULT_COVERAGE_PATH})",
    )
    parser.addini(
        "planasonix_coverage",
        "write planasonix coverage JSON here (as --planasonix-coverage=PATH)",
        default="",
    )
    group.addoption(
        "--planasonix-record-contract",
        metavar="PATH",
        default=None,
        help="write a consumer contract: what the suite's code relied on (operations, "
        "request shapes, statuses and response fields); check a deployment against it with "
        "`planasonix-contract verify-consumer PATH`",
    )
    parser.addini(
        "planasonix_record_contract",
        "write the consumer contract here (as --planasonix-record-contract=PATH)",
        default="",
    )


DEFAULT_COVERAGE_PATH = "planasonix-coverage.json"
_OBSERVATIONS = pytest.StashKey[dict[str, Any]]()


def _observation_paths(config: pytest.Config) -> tuple[Path | None, Path | None]:
    coverage = config.getoption("--planasonix-coverage") or config.getini("planasonix_coverage")
    contract = config.getoption("--planasonix-record-contract") or config.getini(
        "planasonix_record_contract"
    )
    return (Path(coverage) if coverage else None, Path(contract) if contract else None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    coverage_path, contract_path = _observation_paths(config)
    if coverage_path is None and contract_path is None:
        return
    from . import observe  # imports Flask's helpers: only when asked for

    observe.start_session(capture_fields=contract_path is not None)
    config.stash[_OBSERVATIONS] = {"workers": []}


def pytest_unconfigure(config: pytest.Config) -> None:
    if _OBSERVATIONS in config.stash:
        from . import observe

        observe.stop_session()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller: keep what each worker observed."""
    observed = getattr(node, "workeroutput", {}).get("planasonix_observations")
    if observed is not None and _OBSERVATIONS in node.config.stash:
        node.config.stash[_OBSERVATIONS]["workers"].append(observed)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _OBSERVATIONS not in config.stash:
        return
    import json

    from . import observe

    state = observe.current_session()
    if state is None:
        return
    coverage, contract = state.merged()
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes
        config.workeroutput["planasonix_observations"] = {  # type: ignore[attr-defined]
            "coverage": coverage.as_json(),
            "contract": contract.as_json(),
        }
        return
    for observed in config.stash[_OBSERVATIONS]["workers"]:
        coverage.merge(observe.Coverage.from_json(observed["coverage"]))
        contract.merge(observe.ConsumerContract.from_json(observed["contract"]))
    coverage_path, contract_path = _observation_paths(config)
    summary: list[str] = []
    if coverage_path is not None:
        coverage_path.write_text(json.dumps(coverage.as_json(), indent=2) + "\n", "utf-8")
        summary = [coverage.table(), f"planasonix coverage written to {coverage_path}"]
    if contract_path is not None:
        contract_path.write_text(json.dumps(contract.as_json(), indent=2) + "\n", "utf-8")
        summary.append(
            f"planasonix consumer contract ({len(contract.interactions)} interaction(s)) "
            f"written to {contract_path}"
        )
    config.stash[_OBSERVATIONS]["summary"] = summary


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    summary = config.stash.get(_OBSERVATIONS, {}).get("summary")
    if summary:
        terminalreporter.write_sep("-", "planasonix")
        for block in summary:
            terminalreporter.write_line(block)


@dataclass(frozen=True)
class FakeSettings:
    """What one test's fakes are built with, after marker > command line > ini."""

    seed: SeedSource | None = None
    id_seed: int | None = None
    frozen_time: str | datetime | None = None
    hosts: tuple[str, ...] = ()
    block_others: bool = False
    faults: tuple[Mapping[str, Any], ...] = ()
    profile: Path | Mapping[str, Any] | None = None

    def fake_kwargs(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "id_seed": self.id_seed,
            "frozen_time": self.frozen_time,
            "faults": self.faults,
            "profile": self.profile,
        }


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


def _frozen_time(value: object, where: str) -> str | datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    from ..clock import parse_timestamp

    try:
        if not isinstance(value, str):
            raise ValueError
        parse_timestamp(value)
    except ValueError:
        raise pytest.UsageError(
            f"{where}: frozen_time must be an RFC 3339 timestamp such as 2025-01-01T00:00:00Z"
        ) from None
    return value


def _faults(value: object, where: str) -> tuple[Mapping[str, Any], ...]:
    rules = (value,) if isinstance(value, Mapping) else value
    if not isinstance(rules, list | tuple) or not all(isinstance(r, Mapping) for r in rules):
        raise pytest.UsageError(f"{where}: faults must be a list of rule dicts")
    from ..errors import ApiError
    from ..standalone.faults import parse_rule

    for index, rule in enumerate(rules):
        try:
            parse_rule(dict(rule), "check")
        except ApiError as error:  # name the fields, as the fake would
            listed = "; ".join(f"{d.path or '(rule)'}: {d.message}" for d in error.details)
            raise pytest.UsageError(f"{where}: faults[{index}]: {listed or error}") from None
    return tuple(rules)


def _seed_path(value: str, base: Path) -> Path:
    """`value` relative to `base`; a name of bundled data (`demo`) when no such file exists."""
    from ..seed import bundled_seed

    path = base / value
    bundled = None if path.exists() else bundled_seed(value)
    return bundled if bundled is not None else path


def _marker_kwargs(node: pytest.Item) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    # iter_markers yields the closest first; apply farthest first so closest wins.
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        unknown = sorted(set(mark.kwargs) - _MARKER_KEYS)
        if unknown:
            import difflib

            message = f"@pytest.mark.{MARKER}: unknown argument {unknown[0]!r}"
            close = difflib.get_close_matches(unknown[0], sorted(_MARKER_KEYS), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            raise pytest.UsageError(message)
        merged.update(mark.kwargs)
    return merged


def _settings(request: pytest.FixtureRequest) -> FakeSettings:
    config = request.config
    seed: SeedSource | None = None
    cli_seed = config.getoption("planasonix_seed", None)
    ini_seed = str(config.getini("planasonix_seed") or "")
    if cli_seed:
        seed = _seed_path(cli_seed, Path.cwd()).resolve()
    elif ini_seed:
        seed = _seed_path(ini_seed, _ini_path(config, "."))
    id_seed = _int_or_none(config.getini("planasonix_id_seed"), "planasonix_id_seed")
    frozen_time = _frozen_time(config.getini("planasonix_frozen_time"), "planasonix_frozen_time")
    hosts = tuple(str(h) for h in config.getini("planasonix_hosts"))
    block_others = bool(config.getini("planasonix_intercept_block_others"))

    marker = _marker_kwargs(request.node) if isinstance(request.node, pytest.Item) else {}
    marker_seed = marker.get("seed", _UNSET)
    if marker_seed is not _UNSET:
        if marker_seed is None or isinstance(marker_seed, Mapping):
            seed = marker_seed
        else:
            seed = _seed_path(str(marker_seed), Path(request.node.path).parent)
    if "id_seed" in marker:
        id_seed = _int_or_none(marker["id_seed"], f"@pytest.mark.{MARKER}")
    if "frozen_time" in marker:
        frozen_time = _frozen_time(marker["frozen_time"], f"@pytest.mark.{MARKER}")
    faults = _faults(marker.get("faults", ()), f"@pytest.mark.{MARKER}")
    if "hosts" in marker:
        extra = marker["hosts"]
        hosts += (extra,) if isinstance(extra, str) else tuple(extra)
    if marker.get("block_others") is not None:
        block_others = bool(marker["block_others"])
    ini_profile = str(config.getini("planasonix_profile") or "")
    profile: Path | Mapping[str, Any] | None = (
        _ini_path(config, ini_profile) if ini_profile else None
    )
    if "profile" in marker:
        given = marker["profile"]
        if given is None or isinstance(given, Mapping):
            profile = given
        else:
            profile = Path(request.node.path).parent / str(given)
    return FakeSettings(seed, id_seed, frozen_time, hosts, block_others, faults, profile)


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
    """A fresh fake answering `requests` and httpx calls to https://api.planasonix.com (+ hosts).

    Fails closed: any other call to those hosts (httpx without respx, urllib3
    used directly, aiohttp, a socket) raises `NotInterceptedError` naming the
    extra to install or the fixture to use, and never reaches the network.
    """
    from .intercept import InterceptedFake

    settings = _settings(request)
    with InterceptedFake(
        hosts=settings.hosts, block_others=settings.block_others, **settings.fake_kwargs()
    ) as fake:
        yield fake
