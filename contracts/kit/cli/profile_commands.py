"""The ``learn`` and ``diff`` subcommands of ``planasonix-contract``: their options and output."""

from __future__ import annotations

import os
import sys
from typing import Any

from contracts.kit.cli.limits import add_limit_arguments, base_url, unwritable
from contracts.kit.context import DEFAULT_SEED
from contracts.kit.profiles.diff import run_diff, write_junit, write_report
from contracts.kit.profiles.learn import run_learn
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, write_text_atomically
from contracts.kit.wire.keymask import KeyMask
from contracts.profile import ProfileError, dump_profile, load_profile


def add_diff_command(commands: Any) -> None:
    """``planasonix-contract diff``: the sub-command's options."""
    diff = commands.add_parser(
        "diff",
        help="run one call sequence against a deployment and the fake; report divergences",
        description="Exit codes: 0 no divergence, 1 divergences found, 2 could not run.",
    )
    add_sequence_arguments(diff)
    diff.add_argument("--profile", metavar="FILE", help="the fake's profile (default: its own)")
    diff.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report")
    diff.add_argument("--report", metavar="PATH", help="write a JSON report")


def add_sequence_arguments(parser: Any) -> None:
    """What `learn` and `diff` both take: the deployment, and the seeded call sequence."""
    parser.add_argument("--base-url", type=base_url, required=True, help="deployment root")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("PLANASONIX_API_KEY"),
        help="API key (default: the PLANASONIX_API_KEY environment variable)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sequence seed (replayable)")
    parser.add_argument("--max-requests", type=int, default=None, help="request budget")
    add_limit_arguments(parser)  # --timeout, --max-body


def diff_command(args: Any) -> int:
    if not args.api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        print(f"planasonix-contract: {exc}", file=sys.stderr)
        return EXIT_ERROR
    result = run_diff(
        args.base_url,
        args.api_key,
        profile=profile,
        profile_name=args.profile or "default",
        seed=args.seed,
        max_requests=args.max_requests,
        timeout=args.timeout,
        max_body=args.max_body,
    )
    print(result.text())
    if args.report:
        write_report(result, args.report)
    if args.junitxml:
        write_junit(result, args.junitxml)
    return result.exit_code


def add_learn_command(commands: Any) -> None:
    """``planasonix-contract learn``: the sub-command's options."""

    learn = commands.add_parser(
        "learn",
        help="probe a deployment and write its choices as a profile for the fake",
        description="Exit codes: 0 learned, 1 the deployment broke a documented rule "
        "(reported, and no profile is written: it would teach the fake the bug), "
        "2 could not run (an --output that cannot be written is refused before any request).",
    )
    add_sequence_arguments(learn)
    learn.add_argument("--output", metavar="PROFILE.json", help="write here (default: stdout)")


def learn_command(args: Any) -> int:
    """Probe, then write the profile; see :func:`add_learn_command` for the exit codes.

    A deployment that broke a documented rule (a secret echoed, a lifecycle
    invariant broken) gets no profile at all, not even to stdout: the settings
    read off its answers may be the bug itself, and a fake serving them would
    pass the same bug in a client's tests. Expectations not met do not count.
    """
    if not args.api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    problem = unwritable(args.output, "--output")
    if problem:  # before any request: the whole run would be lost at the end
        print(f"planasonix-contract: {problem}", file=sys.stderr)
        return EXIT_ERROR

    keys = KeyMask([args.api_key])

    def say(text: str) -> None:
        # A message may quote an answer: no piece of the key shows, whatever it echoed.
        print(keys.mask(f"planasonix-contract learn: {text}"), file=sys.stderr)

    result = run_learn(
        args.base_url,
        args.api_key,
        seed=args.seed,
        max_requests=args.max_requests,
        timeout=args.timeout,
        progress=say,
        max_body=args.max_body,
    )
    if result.error:
        say(f"could not run: {result.error}")
        return EXIT_ERROR
    broken = result.broken
    for violation in result.violations:
        label = "VIOLATION" if violation in broken else "EXPECTATION"
        say(f"{label} [{violation.check}] {violation.message}")
    if result.undetermined:
        say("could not determine (left at the fake's default): " + ", ".join(result.undetermined))
    if result.leftovers:
        say("could not remove: " + ", ".join(result.leftovers))
    if broken:
        say(
            "no profile written: the deployment broke a documented rule, and a profile "
            "learned from it would teach the fake the same bug"
        )
        return EXIT_VIOLATIONS
    text = dump_profile(result.profile())
    if args.output:
        write_text_atomically(args.output, text)
        say(f"wrote {args.output} ({result.requests} requests)")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def add_verify_consumer_command(commands: Any) -> None:
    """``planasonix-contract verify-consumer``: the sub-command's options."""
    verify = commands.add_parser(
        "verify-consumer",
        help="replay a consumer contract (pytest --planasonix-record-contract) against a "
        "deployment: does it answer what the consumer's code relies on?",
        description="Exit codes: 0 compatible, 1 an interaction differs, 2 could not run.",
    )
    verify.add_argument("contract", metavar="CONSUMER.json", help="the recorded contract")
    verify.add_argument("--base-url", type=base_url, required=True, help="deployment root")
    verify.add_argument(
        "--api-key",
        default=os.environ.get("PLANASONIX_API_KEY"),
        help="API key (default: the PLANASONIX_API_KEY environment variable)",
    )
    verify.add_argument("--max-requests", type=int, default=None, help="request budget")
    verify.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    verify.add_argument("--junitxml", metavar="PATH", help="write a JUnit XML report")
    verify.add_argument("--report", metavar="PATH", help="write a JSON report")
    verify.add_argument(
        "--html", metavar="PATH", help="write the report as one self-contained HTML page"
    )


def verify_consumer_command(args: Any) -> int:
    from contracts.kit.profiles.consumer import load_contract, verify_consumer, write_reports

    if not args.api_key:
        print("planasonix-contract: --api-key is required", file=sys.stderr)
        return EXIT_ERROR
    for path, flag in (
        (args.report, "--report"),
        (args.junitxml, "--junitxml"),
        (args.html, "--html"),
    ):
        problem = unwritable(path, flag)
        if problem:  # before any request: the replay must not end without its report
            print(f"planasonix-contract: {problem}", file=sys.stderr)
            return EXIT_ERROR
    interactions = load_contract(args.contract)  # a KitError: one line, exit 2
    result = verify_consumer(
        interactions,
        args.base_url,
        args.api_key,
        max_requests=args.max_requests,
        timeout=args.timeout,
    )
    print(result.text())
    write_reports(result, args.report, args.junitxml, args.html)
    return result.exit_code
