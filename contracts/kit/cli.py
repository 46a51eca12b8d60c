"""``planasonix-contract``: check a deployment against the contract, or clean up after a run.

Exit codes: 0 conformant, 1 violations found, 2 could not run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from types import FrameType
from typing import Any

from contracts.kit.context import KitContext, Settings
from contracts.kit.runner import (
    EXIT_ERROR,
    EXIT_OK,
    Interrupted,
    Runner,
    write_junit,
    write_report,
)
from contracts.kit.violations import CHECKS, KitError

MIN_PREFIX = 8


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planasonix-contract",
        description="Check that a Planasonix Credentials API deployment honours the contract.",
        epilog="exit codes: 0 conformant, 1 violations found, 2 could not run",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the contract checks against a deployment")
    run.add_argument("--base-url", help="deployment root, e.g. https://api.planasonix.com")
    run.add_argument("--api-key", default=os.environ.get("PLANASONIX_API_KEY"), help="API key")
    run.add_argument("--second-api-key", help="a key of another workspace (isolation checks)")
    run.add_argument("--max-examples", type=_positive, default=25, help="state machine runs")
    run.add_argument("--steps", type=_positive, default=12, help="steps per state machine run")
    run.add_argument("--seed", type=int, default=None, help="Hypothesis seed")
    run.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--report", metavar="PATH", help="write a JSON report")
    run.add_argument("--max-requests", type=_positive, default=None, help="request budget")
    run.add_argument("--read-only", action="store_true", help="only list and read")
    run.add_argument(
        "--check",
        action="append",
        choices=sorted(CHECKS),
        help="run only this check's phase (repeatable)",
    )
    run.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    run.add_argument(
        "--target",
        choices=["url", "fake"],
        default="url",
        help="'fake' serves our own fake in this process and checks it",
    )
    cleanup = commands.add_parser("cleanup", help="purge leftovers of an interrupted run")
    cleanup.add_argument("--base-url", required=True)
    cleanup.add_argument("--api-key", default=os.environ.get("PLANASONIX_API_KEY"))
    cleanup.add_argument("--prefix", required=True, help="the run's name prefix")
    cleanup.add_argument("--dry-run", action="store_true", help="only list what would go")
    return parser


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM becomes :class:`Interrupted` in the main thread, so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> int:
    target: Any = nullcontext(args.base_url)
    api_key, second = args.api_key, args.second_api_key
    if args.target == "fake":
        from contracts.kit.fake_target import serve_fake

        api_key = api_key or "plnx_test_" + secrets.token_hex(12)
        second = second or "plnx_test_" + secrets.token_hex(12)
        target = serve_fake({api_key: "ws_contract_a", second: "ws_contract_b"})
    elif not args.base_url:
        print("planasonix-contract: --base-url is required", file=sys.stderr)
        return EXIT_ERROR
    if not api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    settings = Settings(
        max_examples=args.max_examples,
        step_count=args.steps,
        seed=args.seed,
        read_only=args.read_only,
    )
    with _sigterm_raises(), target as base_url:
        ctx = KitContext.build(
            base_url,
            api_key,
            second_api_key=second,
            max_requests=args.max_requests,
            settings=settings,
            timeout=args.timeout,
        )
        result = Runner(ctx, only=set(args.check) if args.check else None).run()
    if args.report:
        write_report(result, args.report)
    if args.junitxml:
        write_junit(result, args.junitxml)
    return result.exit_code


def cleanup(args: argparse.Namespace) -> int:
    from contracts.kit.cleanup import remove_prefixed

    if not args.api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    if len(args.prefix) < MIN_PREFIX:
        print(
            f"planasonix-contract: --prefix must have at least {MIN_PREFIX} characters",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        with _sigterm_raises():
            removed, left = remove_prefixed(
                args.base_url, args.api_key, args.prefix, dry_run=args.dry_run
            )
    except KitError as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(removed)} credential(s) named {args.prefix}*")
    if left:
        print(f"could not remove {len(left)}: {', '.join(left)}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "cleanup":
            return cleanup(args)
        return run(args)
    except KitError as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (KeyboardInterrupt, Interrupted):
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
