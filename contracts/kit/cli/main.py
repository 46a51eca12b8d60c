"""``planasonix-contract``: check a deployment against the contract, or clean up after a run.

Exit codes: 0 conformant, 1 violations found, 2 could not run.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, NoReturn

from contracts.kit.checks import default_phases
from contracts.kit.cli.cleanup import is_kit_prefix
from contracts.kit.cli.limits import add_limit_arguments, base_url, unwritable
from contracts.kit.cli.profile_commands import (
    add_diff_command,
    add_learn_command,
    add_verify_consumer_command,
    diff_command,
    learn_command,
    verify_consumer_command,
)
from contracts.kit.cli.runner import (
    Interrupted,
    Runner,
    RunResult,
    describe_exception,
    hypothesis_isolated,
    write_html_report,
    write_junit,
    write_report,
)
from contracts.kit.cli.sigterm import sigterm_raises
from contracts.kit.cli.traffic_commands import add_commands as add_traffic_commands
from contracts.kit.cli.traffic_commands import check_har, proxy
from contracts.kit.context import DEFAULT_SEED, KitContext, Settings
from contracts.kit.coverage.summary import KINDS as COVERAGE_KINDS
from contracts.kit.coverage.summary import fail_under_arg
from contracts.kit.report import EXIT_ERROR, EXIT_OK
from contracts.kit.violations import KitError
from contracts.kit.wire.keymask import KeyMask


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class OneLineErrors(argparse.ArgumentParser):
    """Usage errors as one line (``planasonix-contract run: --timeout: ...``) and exit 2,
    like every other start error of the kit; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_ERROR, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(
        prog="planasonix-contract",
        description="Check that a Planasonix Credentials API deployment honours the contract.",
        epilog="exit codes: 0 conformant, 1 violations found, 2 could not run",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the contract checks against a deployment")
    run.add_argument(
        "--base-url", type=base_url, help="deployment root, e.g. https://api.planasonix.com"
    )
    run.add_argument(
        "--api-key",
        default=os.environ.get("PLANASONIX_API_KEY"),
        help="API key (default: the PLANASONIX_API_KEY environment variable)",
    )
    run.add_argument("--second-api-key", help="a key of another workspace (isolation checks)")
    run.add_argument(
        "--read-only-api-key",
        help="a key of the same workspace holding only connections:read (scope checks)",
    )
    run.add_argument("--max-examples", type=_positive, default=25, help="state machine runs")
    run.add_argument("--steps", type=_positive, default=12, help="steps per state machine run")
    run.add_argument(
        "--no-shrink",
        dest="shrink",
        action="store_false",
        help="report the state machine's first failing sequence as found instead of "
        "shortening it (shortening can take thousands of requests)",
    )
    run.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"seed of every random choice (default {DEFAULT_SEED}); printed in every report, "
        "the same seed replays a run request for request",
    )
    run.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report")
    run.add_argument("--report", metavar="PATH", help="write a JSON report")
    run.add_argument(
        "--html",
        metavar="PATH",
        help="write a self-contained HTML report (verdict, coverage matrices, findings)",
    )
    run.add_argument(
        "--fail-under",
        action="append",
        type=fail_under_arg,
        default=[],
        metavar="KIND=PERCENT",
        help="exit 1 when a coverage kind is under PERCENT, naming what is missing; KIND is "
        f"one of {', '.join(COVERAGE_KINDS)} (repeatable)",
    )
    run.add_argument("--max-requests", type=_positive, default=None, help="request budget")
    run.add_argument("--read-only", action="store_true", help="only list and read")
    run.add_argument(
        "--strict",
        action="store_true",
        help="fail on expectations too (rules the published page does not state: the legacy "
        "key header, the shape of error bodies, ...); without it they are only reported",
    )
    run.add_argument(
        "--profile",
        metavar="FILE",
        help="the deployment's profile: its 'expectations' are held as rules, and "
        "'update_replaces_config' says how a PUT treats config",
    )
    run.add_argument(
        "--list-checks",
        action="store_true",
        help="list every check with the sources of its rules, and every expectation; then exit",
    )
    run.add_argument(
        "--check",
        action="append",
        # Phases only: response-schema and validation judge the answers of every
        # phase and have no probes of their own, so alone they would run nothing.
        choices=[name for name, _ in default_phases(read_only=False)],
        help="run only this check's phase (repeatable); response-schema and validation "
        "have no phase of their own: they judge the answers of whichever phases run",
    )
    add_limit_arguments(run)  # --timeout, --max-body
    run.add_argument(
        "--target",
        choices=["url", "fake"],
        default="url",
        help="'fake' serves our own fake in this process and checks it",
    )
    cleanup = commands.add_parser("cleanup", help="purge leftovers of an interrupted run")
    cleanup.add_argument("--base-url", type=base_url, required=True)
    cleanup.add_argument(
        "--api-key",
        default=os.environ.get("PLANASONIX_API_KEY"),
        help="API key (default: the PLANASONIX_API_KEY environment variable)",
    )
    cleanup.add_argument(
        "--prefix",
        required=True,
        help="the run's name prefix, exactly plnx-contract-<8 hex>- as `run` printed it",
    )
    cleanup.add_argument("--dry-run", action="store_true", help="only list what would go")
    add_traffic_commands(commands)  # proxy, check-har
    add_learn_command(commands)
    add_diff_command(commands)
    add_verify_consumer_command(commands)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.list_checks:
        from contracts.kit.rules.sources import describe_checks

        print(describe_checks())
        return EXIT_OK
    declared: frozenset[str] = frozenset()
    replaces: bool | None = None
    if args.profile:
        from contracts.profile import ProfileError, load_profile

        try:
            profile = load_profile(args.profile)
        except ProfileError as exc:
            print(f"planasonix-contract: {exc}", file=sys.stderr)
            return EXIT_ERROR
        declared = frozenset(profile.expectations)
        replaces = profile.update_replaces_config
    target: Any = nullcontext(args.base_url)
    api_key, second = args.api_key, args.second_api_key
    reader = args.read_only_api_key
    if args.target == "fake":
        from contracts.kit.fake_target import serve_fake

        api_key = api_key or "plnx_test_" + secrets.token_hex(12)
        second = second or "plnx_test_" + secrets.token_hex(12)
        reader = reader or "plnx_test_" + secrets.token_hex(12)
        target = serve_fake(
            {api_key: "ws_contract_a", second: "ws_contract_b"}, {reader: "ws_contract_a"}
        )
    elif not args.base_url:
        print("planasonix-contract: --base-url is required", file=sys.stderr)
        return EXIT_ERROR
    if not api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    for path, flag in (
        (args.report, "--report"),
        (args.junitxml, "--junitxml"),
        (args.html, "--html"),
    ):
        # Before any request: a run must not end without the report it was asked for.
        problem = unwritable(path, flag)
        if problem:
            print(f"planasonix-contract: {problem}", file=sys.stderr)
            return EXIT_ERROR
    settings = Settings(
        max_examples=args.max_examples,
        step_count=args.steps,
        shrink=args.shrink,
        seed=args.seed,
        read_only=args.read_only,
        strict=args.strict,
        declared=declared,
        update_replaces_config=replaces,
    )
    with sigterm_raises(Interrupted), target as base_url:
        ctx = KitContext.build(
            base_url,
            api_key,
            second_api_key=second,
            read_only_api_key=reader,
            max_requests=args.max_requests,
            settings=settings,
            timeout=args.timeout,
            max_body=args.max_body,
        )
        reporters: list[Callable[[RunResult], None]] = []
        if args.report:
            reporters.append(lambda result: write_report(result, args.report))
        if args.junitxml:
            reporters.append(lambda result: write_junit(result, args.junitxml))
        if args.html:
            reporters.append(lambda result: write_html_report(result, args.html))
        only = set(args.check) if args.check else None
        runner = Runner(ctx, only=only, reporters=reporters, fail_under=dict(args.fail_under))
        result = runner.run()
    return result.exit_code


def cleanup(args: argparse.Namespace) -> int:
    from contracts.kit.cli.cleanup import remove_prefixed

    if not args.api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    if not is_kit_prefix(args.prefix):
        # Checked before any request: only names this kit made may be deleted.
        print(
            "planasonix-contract: --prefix must be a run's own prefix, exactly "
            "plnx-contract-<8 hex digits>- (as printed by `run`); refusing",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        with sigterm_raises(Interrupted):
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
        if args.command == "proxy":
            return proxy(args)
        if args.command == "check-har":
            return check_har(args)
        if args.command == "verify-consumer":
            with sigterm_raises(Interrupted), hypothesis_isolated():
                return verify_consumer_command(args)
        if args.command in ("learn", "diff"):
            # Their sequences draw with Hypothesis too: nothing may land in ./.hypothesis.
            with sigterm_raises(Interrupted), hypothesis_isolated():
                return learn_command(args) if args.command == "learn" else diff_command(args)
        return run(args)
    except KitError as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except (KeyboardInterrupt, Interrupted):
        return EXIT_ERROR
    except Exception as exc:
        # Not a finding: whatever it is, the command could not do its job. One line, and
        # the exit code of "could not run", never a verdict.
        keys = KeyMask(getattr(args, n, None) for n in ("api_key", "second_api_key"))
        line = keys.mask(f"could not run: {describe_exception(exc)}")
        print(f"planasonix-contract: {line}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
