"""`planasonix-mock serve`: the fake on a real WSGI server (waitress, threads).

Prints the address it listens on (also with `--port 0`, which picks a free
port), logs one line per request (method, path, status, duration; never a
body, a query string or a header) and stops cleanly on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from types import FrameType
from typing import Any, Final, TextIO

from waitress import create_server

from contracts.errors import PlanasonixError

from ..app import FakeConfig, create_app
from ..assembly import build_state, rebind_dev_key
from ..auth import DEV_KEY
from ..journal import JournalRecord
from ..profile import Policy, ProfileError
from ..seed import SeedError, bundled_seed
from ..state import get_state
from . import cors, install, persistence, ratelimit
from .handle import StandaloneOptions
from .hostguard import HostGuard, is_loopback
from .persistence import StateFileError
from .servererrors import json_error_channel

access_log = logging.getLogger("planasonix.access")


# --- the standalone flags ------------------------------------------------------------------------

ADMIN_TOKEN_ENV: Final = "PLANASONIX_ADMIN_TOKEN"


class SetupError(PlanasonixError):
    """A flag combination `serve` refuses; the message never quotes a token or key."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `serve` flags of the standalone features."""
    group = parser.add_argument_group("frontend development")
    group.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow only this origin (e.g. http://localhost:3000); repeatable; default: any",
    )
    group.add_argument("--no-cors", action="store_true", help="send no CORS headers at all")
    group.add_argument(
        "--admin-token",
        default=None,
        metavar="TOKEN",
        help=f"require TOKEN for /_mock/ (X-Mock-Admin-Token or Bearer); env {ADMIN_TOKEN_ENV}",
    )
    group.add_argument(
        "--no-control-plane", action="store_true", help="do not serve /_mock/ at all"
    )
    group.add_argument(
        "--rate-limit", default=None, metavar="N/min", help="limit each API key, e.g. 60/min"
    )
    group.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests with Host: NAME (behind a proxy, in a container); repeatable",
    )
    group.add_argument(
        "--state-file", default=None, metavar="PATH", help="keep state in PATH across restarts"
    )
    group.add_argument(
        "--state-key",
        default=None,
        metavar="PASSPHRASE",
        help=f"encrypt secrets in the state file; env {persistence.STATE_KEY_ENV} (preferred)",
    )


def options_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> StandaloneOptions:
    """Options from parsed `serve` flags (and the environment); SetupError when invalid."""
    env = os.environ if environ is None else environ
    try:
        origins = tuple(cors.normalize_origin(origin) for origin in args.cors_origin)
    except ValueError as error:
        raise SetupError(f"--cors-origin: {error}") from None
    try:
        rate = ratelimit.parse_rate_limit(args.rate_limit) if args.rate_limit else None
    except ValueError as error:
        raise SetupError(f"--rate-limit: {error}") from None
    token = args.admin_token or env.get(ADMIN_TOKEN_ENV) or None
    if token is not None and not 8 <= len(token) <= 512:
        raise SetupError("the admin token must be 8-512 characters")
    state_key = args.state_key or env.get(persistence.STATE_KEY_ENV) or None
    if args.state_file is None and args.state_key:
        raise SetupError("--state-key needs --state-file: without one nothing is persisted")
    if args.state_file is None and state_key is not None:
        # An environment variable may be set for every run; say it does nothing here.
        print(
            f"planasonix-mock: warning: {persistence.STATE_KEY_ENV} is set but there is no "
            "--state-file: nothing is persisted",
            file=sys.stderr,
        )
        state_key = None
    host = getattr(args, "host", None)
    try:
        guard = HostGuard(host, getattr(args, "allow_host", []))
    except ValueError as error:
        raise SetupError(f"--host/--allow-host: {error}") from None
    seed_data = None
    if args.seed:
        try:
            seed_data = json.loads(Path(args.seed).read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as error:
            raise SetupError(f"{args.seed}: cannot read: {type(error).__name__}") from None
        if seed_data is None:
            # A file holding `null` would read as "no seed": refused as the
            # seed loader refuses any other top level that is not an object.
            raise SetupError(f"{args.seed}: (file): must be a JSON object")
    return StandaloneOptions(
        control_plane=not args.no_control_plane,
        admin_token=token,
        cors=not args.no_cors,
        cors_origins=origins,
        rate_limit=rate,
        state_file=args.state_file,
        state_key=state_key,
        seed_data=seed_data,
        listen_host=host,
        allowed_hosts=tuple(sorted(guard.names - ({host} if host else set()))),
    )


def check_exposure(host: str, options: StandaloneOptions) -> None:
    """Refuse an open control plane on an address other machines can reach."""
    if options.control_plane and options.admin_token is None and not is_loopback(host):
        raise SetupError(
            f"refusing to listen on {host} with the /_mock/ control plane open: "
            f"set --admin-token (or {ADMIN_TOKEN_ENV}), pass --no-control-plane, "
            "or listen on 127.0.0.1"
        )


# --- serve ----------------------------------------------------------------------------


def _key_pair(text: str) -> tuple[str, str]:
    key, sep, workspace = text.partition("=")
    if not sep or not key or not workspace:
        # Never echo the argument: it is a key.
        raise argparse.ArgumentTypeError("expected KEY=WORKSPACE")
    return key, workspace


def _seed_file(text: str) -> str:
    """A fixtures path; a bundled name (`demo`) when no file of that name exists."""
    bundled = None if Path(text).exists() else bundled_seed(text)
    return str(bundled) if bundled is not None else text


def _port(text: str) -> int:
    """0 (a free port) or 1-65535; anything else is a usage error (exit 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be from 1 to 65535 (or 0): {port}")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planasonix-mock", description="In-memory fake of the Planasonix Credentials API."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the fake over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8080, help="port; 0 picks a free one")
    serve.add_argument(
        "--seed",
        metavar="FILE",
        type=_seed_file,
        help="fixtures file to load at start; `demo` for the demo data in the package",
    )
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        type=_key_pair,
        metavar="KEY=WORKSPACE",
        help="accept KEY (read and write) for WORKSPACE; repeatable",
    )
    serve.add_argument(
        "--read-only-key",
        action="append",
        default=[],
        type=_key_pair,
        metavar="KEY=WORKSPACE",
        help="accept KEY (connections:read only) for WORKSPACE; repeatable",
    )
    serve.add_argument("--id-seed", type=int, default=None, help="seed for reproducible ids")
    serve.add_argument(
        "--profile",
        metavar="FILE",
        default=None,
        help="answer what the docs leave open like this profile (planasonix-contract learn)",
    )
    serve.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    add_arguments(serve)
    return parser


class AccessLog:
    """The one line per request, written by a thread of its own, in batches.

    A request thread only queues the journal record: formatting and writing to
    a terminal or pipe (which may be slow, or full) never hold up an answer.
    The writer wakes every `interval` seconds rather than per line, so a
    request never has to wake it either, and writes each batch with one write
    and one flush: a write releases the GIL, and every release makes a request
    thread wait for it again. Lines look like the `logging` lines `main()`
    configures (`2025-03-27 10:00:00,123 GET /api/credentials 200 1.2ms`).
    Past `backlog` queued lines, new ones are counted instead of kept, and the
    count is logged, so a stalled output cannot grow memory without bound.
    `close()` writes what is still queued.
    """

    def __init__(
        self, stream: TextIO | None = None, backlog: int = 100_000, interval: float = 0.05
    ) -> None:
        self._stream = stream
        self._backlog = backlog
        self._interval = interval
        self._queue: queue.SimpleQueue[tuple[float, JournalRecord]] = queue.SimpleQueue()
        self._dropped = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def __call__(self, record: JournalRecord) -> None:
        if self._queue.qsize() < self._backlog:
            self._queue.put((time.time(), record))
        else:
            self._dropped += 1

    def _run(self) -> None:
        while not self._closed.wait(self._interval):
            self._write_queued()
        self._write_queued()

    def _write_queued(self) -> None:
        lines = []
        while True:
            try:
                logged_at, record = self._queue.get_nowait()
            except queue.Empty:
                break
            lines.append(
                f"{_log_time(logged_at)} {record.method} {record.path} {record.status} "
                f"{record.duration_ms:.1f}ms\n"
            )
        if lines:
            stream = self._stream or sys.stdout
            stream.write("".join(lines))
            stream.flush()
        if self._dropped:
            dropped, self._dropped = self._dropped, 0
            access_log.warning("%d request lines dropped: the log output is too slow", dropped)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=10)


def _log_time(moment: float) -> str:
    """`moment` as logging's default `asctime`: local time, milliseconds after a comma."""
    return _local_second(int(moment)) + f",{int(moment % 1 * 1000):03d}"


@lru_cache(maxsize=8)
def _local_second(second: int) -> str:
    # Lines come many per second: the local time of each second is formatted once.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


def _stop(signum: int, frame: FrameType | None) -> None:
    # waitress's run loop treats SystemExit as "close the sockets and return".
    raise SystemExit(0)


WAITRESS_MAX_BODY = 1024 * 1024


def serve(args: argparse.Namespace) -> int:
    try:
        options = options_from_args(args)
        check_exposure(args.host, options)
    except SetupError as error:
        print(f"planasonix-mock: {error}", file=sys.stderr)
        return 2
    try:
        policy = Policy.of(args.profile)
    except ProfileError as error:
        print(f"planasonix-mock: --profile: {error}", file=sys.stderr)
        return 2
    # Keys on the command line replace the development key; a seed's keys do
    # not, so the banner's curl line works with any seed.
    configured_keys = bool(args.api_key or args.read_only_key)
    try:
        built = build_state(
            config=FakeConfig(seed=args.id_seed),
            profile=policy,
            keys=args.api_key,
            read_only_keys=args.read_only_key,
            seed=options.seed_data,
            dev_key=not configured_keys,
        )
    except SeedError as error:
        print(f"planasonix-mock: {args.seed}: {error}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"planasonix-mock: invalid key option: {error}", file=sys.stderr)
        return 2
    state = built.state
    if built.seeded is not None:
        summary = built.seeded
        print(
            f"Loaded {summary.credentials} credentials and {summary.keys} keys "
            f"in {len(summary.workspaces)} workspaces from {args.seed}",
            flush=True,
        )
    try:
        app = create_app(state=state)
        install(app, options)
    except StateFileError as error:
        print(f"planasonix-mock: {args.state_file}: {error}", file=sys.stderr)
        return 2
    dev_workspace = built.dev_workspace
    if options.state_file is not None:
        print(f"State file {args.state_file}: {len(state.store)} credentials", flush=True)
        if dev_workspace is not None:
            dev_workspace = rebind_dev_key(state)
    access = AccessLog()
    get_state(app).journal.subscribe(access)
    # The app answers bodies over its limit with a JSON 413; waitress refuses
    # absurd ones (over 1 MiB) itself, before buffering them.
    try:
        server: Any = create_server(
            app,
            host=args.host,
            port=args.port,
            threads=args.threads,
            max_request_body_size=WAITRESS_MAX_BODY,
        )
    except OSError as error:
        # Port taken, address not on this machine, no permission: one line, like other bad starts.
        reason = error.strerror or type(error).__name__
        print(
            f"planasonix-mock: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr
        )
        access.close()
        return 2
    # waitress's own refusals (bad request line, bad chunking, a body over
    # its limit) in the standard JSON error body.
    server.channel_class = json_error_channel(get_state(app).new_request_id)
    host, port = (
        (server.effective_host, server.effective_port)
        if hasattr(server, "effective_port")
        else server.effective_listen[0]
    )
    display_host = f"[{host}]" if ":" in str(host) else host
    base = f"http://{display_host}:{port}"
    # Handlers go in before the address is printed: whoever reads it may
    # signal at once, and SystemExit before run() is still a clean exit.
    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        banner = [f"Listening on {base}"]
        if options.control_plane:
            banner.append(f"Dashboard: {base}/_mock/")
        if dev_workspace is not None:
            banner.append(f"Development key: {DEV_KEY} (workspace {dev_workspace})")
            banner.append(f"Try: curl -H 'Authorization: Bearer {DEV_KEY}' {base}/api/credentials")
        # One write: a reader that signals as soon as it sees the address
        # still gets the whole banner.
        print("\n".join(banner), flush=True)
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        access.close()
    print("Stopped.", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stdout, force=True
    )
    # waitress logs its own banner and queue warnings; keep them, at WARNING.
    logging.getLogger("waitress").setLevel(logging.WARNING)
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
