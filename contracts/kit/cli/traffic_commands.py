"""The ``proxy`` and ``check-har`` subcommands of ``planasonix-contract``.

Exit codes as for ``run``: 0 no violation seen, 1 violations seen, 2 could not
run (bad arguments, the port taken, an unreadable HAR).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from contracts.kit.cli.sigterm import sigterm_raises
from contracts.kit.report import EXIT_ERROR, write_html
from contracts.kit.traffic.judge import MIN_SECRET_LENGTH, Judge, Violation

DEFAULT_LISTEN = "127.0.0.1:8081"


def add_commands(commands: Any) -> None:
    """Register ``proxy`` and ``check-har`` on the CLI's subparsers."""
    proxy = commands.add_parser(
        "proxy",
        help="a validating proxy: forward real traffic unchanged and judge every exchange",
        description="Forwards every request unchanged to --upstream and judges each exchange "
        "(response schemas, undeclared statuses, secret echoes, soft delete and restore). "
        "Ctrl-C or SIGTERM ends it with a summary; exit 1 if any violation was seen. "
        f"Secret values shorter than {MIN_SECRET_LENGTH} characters are not scanned.",
    )
    proxy.add_argument(
        "--upstream",
        required=True,
        help="the API to forward to, e.g. "
        "http://127.0.0.1:8080 (the fake) or https://staging.example.com",
    )
    proxy.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"where the proxy listens (default {DEFAULT_LISTEN}; port 0 picks a free one)",
    )
    proxy.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host is NAME (loopback names always are); repeatable",
    )
    proxy.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --listen address other machines can reach (the proxy has no auth)",
    )
    proxy.add_argument("--report", metavar="PATH", help="write a JSON report on exit")
    proxy.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report on exit")
    proxy.add_argument("--html", metavar="PATH", help="write a self-contained HTML report on exit")
    proxy.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    proxy.add_argument("--timeout", type=float, default=60.0, help="seconds per upstream call")
    proxy.add_argument(
        "--allow-unjudged",
        action="store_true",
        help="exit by the verdicts even when some answers could not be decoded and judged",
    )
    proxy.add_argument(
        "--max-request-body",
        type=int,
        default=1024 * 1024,
        metavar="BYTES",
        help="refuse larger request bodies with 413, unread (default 1 MiB)",
    )
    har = commands.add_parser(
        "check-har",
        help="judge the exchanges of a saved HAR file, offline, as the proxy would",
    )
    har.add_argument(
        "har",
        metavar="FILE.har",
        help="a HAR 1.2 file (browser dev tools: Save all as HAR with content)",
    )
    har.add_argument("--report", metavar="PATH", help="write a JSON report")
    har.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report")
    har.add_argument("--html", metavar="PATH", help="write a self-contained HTML report")
    har.add_argument(
        "--allow-unjudged",
        action="store_true",
        help="exit by the verdicts even when some entries could not be judged",
    )


def _listen(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen must be HOST:PORT, got {text!r}")
    return host, int(port)


def _print(violation: Violation) -> None:
    print(violation.line(), flush=True)


def _finish(judge: Judge, args: argparse.Namespace) -> int:
    print(judge.summary(), flush=True)
    if args.report:
        judge.write_report(args.report)
    if args.junitxml:
        judge.write_junit(args.junitxml)
    code = judge.exit_code
    if judge.unjudged and not args.allow_unjudged:
        code = EXIT_ERROR
    if args.html:
        # The page from the JSON report's own document (masked by the judge).
        title = f"planasonix-contract {args.command}"
        write_html(args.html, title, {**judge.as_json(), "exit_code": code})
    if judge.unjudged:
        # An exchange that could not be judged (an answer not even scanned for
        # secrets) is not a pass: inconclusive (exit 2), as pytest treats a
        # collection error, unless the user accepts that.
        print(f"{judge.unjudged} exchange(s) not judged", flush=True)
        if not args.allow_unjudged:
            return EXIT_ERROR
    return judge.exit_code


def proxy(args: argparse.Namespace) -> int:
    from contracts.kit.traffic.proxy import JudgeWorker, ProxyApp, ProxyServer, is_loopback

    try:
        host, port = _listen(args.listen)
        if not is_loopback(host) and not args.allow_remote:
            # Anyone who can reach the proxy reaches the upstream with the caller's keys
            # and, for the fake, its /_mock/ control plane: opt in explicitly.
            raise ValueError(
                f"refusing to listen on {host}: other machines could reach the upstream "
                "through it; listen on 127.0.0.1 or pass --allow-remote"
            )
        judge = Judge()
        worker = JudgeWorker(judge)
        app = ProxyApp(
            args.upstream,
            worker.submit,
            pool=args.threads,
            timeout=args.timeout,
            allowed_hosts=[*args.allow_host, *([] if is_loopback(host) else [host])],
        )
        server = ProxyServer(
            app, host, port, threads=args.threads, max_request_body=args.max_request_body
        )
    except (ValueError, OSError) as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(f"Proxying {server.url} -> {app.upstream}{app.prefix}", flush=True)
    print("Judging every exchange; Ctrl-C ends with a summary.", flush=True)
    with sigterm_raises(KeyboardInterrupt):
        try:
            server.run()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM above)
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            worker.stop()
        # Inside the handler: a signal while the reports are written is ignored.
        return _finish(judge, args)


def check_har(args: argparse.Namespace) -> int:
    from contracts.kit.traffic.har import HarError, entries, load

    judge = Judge(on_violation=_print)
    unjudged: list[str] = []
    try:
        for observed in entries(load(args.har), unjudged):
            judge.judge(observed)
    except HarError as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for reason in unjudged:
        judge.not_judged(reason)
    return _finish(judge, args)
