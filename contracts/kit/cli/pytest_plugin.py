"""pytest plugin: the contract checks as pytest tests.

``pytest --pyargs contracts --contract-base-url URL --contract-api-key KEY``
runs the same checks as ``planasonix-contract run``, one test per check.
Loaded for every pytest run through the ``pytest11`` entry point, it only
adds options and a fixture. Collecting the contract tests without
``--contract-base-url`` or a key (``--contract-api-key`` or
``PLANASONIX_API_KEY``) is a usage error (exit 4): a CI job whose secret is
missing must not go green. ``--contract-allow-skip`` makes them skip instead,
for a suite that runs them only where a deployment is configured.
Expectations the deployment does not meet (rules the published page does not
state) are not failures: the terminal summary lists them, as ``run`` does.
``--contract-strict`` holds them as violations; ``--contract-profile PATH``
takes the deployment's profile (its declared expectations and its
``update_replaces_config``), as ``run --profile`` does.
The kit itself (Hypothesis, schemathesis: the ``[kit]`` extra) is imported
only when the fixture runs, so a suite that never uses it pays nothing and
an install without the extra still collects.
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contracts.kit.cli.runner import RunResult


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("planasonix-contract", "Planasonix contract kit")
    group.addoption("--contract-base-url", default=None, help="deployment to check")
    group.addoption(
        "--contract-api-key",
        default=os.environ.get("PLANASONIX_API_KEY"),
        help="API key of the deployment",
    )
    group.addoption("--contract-second-api-key", default=None, help="a key of another workspace")
    group.addoption(
        "--contract-read-only-api-key",
        default=None,
        help="a key of the same workspace holding only connections:read",
    )
    group.addoption("--contract-max-examples", type=int, default=25)
    group.addoption("--contract-seed", type=int, default=None)
    group.addoption("--contract-max-requests", type=int, default=None)
    group.addoption("--contract-read-only", action="store_true", default=False)
    group.addoption(
        "--contract-strict",
        action="store_true",
        default=False,
        help="hold every expectation as a violation (as run --strict)",
    )
    group.addoption(
        "--contract-profile",
        default=None,
        metavar="PATH",
        help="the deployment's profile: its declared expectations are held (as run --profile)",
    )
    group.addoption(
        "--contract-allow-skip",
        action="store_true",
        default=False,
        help="skip the contract tests when no deployment or key is given "
        "(default: a usage error, exit 4)",
    )


def _missing(config: pytest.Config) -> str | None:
    """The option the contract tests need and do not have, or None."""
    if not config.getoption("--contract-base-url"):
        return "--contract-base-url"
    if not config.getoption("--contract-api-key"):
        return "--contract-api-key (or PLANASONIX_API_KEY)"
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Refuse to collect the contract tests without a deployment to run them against."""
    uses = [i for i in items if "contract_result" in getattr(i, "fixturenames", ())]
    missing = _missing(config)
    if uses and missing and not config.getoption("--contract-allow-skip"):
        raise pytest.UsageError(
            f"the contract tests need {missing}; pass --contract-allow-skip to skip them instead"
        )


@pytest.fixture(scope="session")
def contract_result(request: pytest.FixtureRequest) -> RunResult:
    """One run of every check against ``--contract-base-url``."""
    from contracts.kit.cli.runner import Runner
    from contracts.kit.context import DEFAULT_SEED, KitContext, Settings

    option: Any = request.config.getoption
    missing = _missing(request.config)
    if missing:  # only with --contract-allow-skip: collection refuses otherwise
        pytest.skip(f"no {missing} given (--contract-allow-skip)")
    declared: frozenset[str] = frozenset()
    replaces: bool | None = None
    if option("--contract-profile"):
        from contracts.profile import ProfileError, load_profile

        try:
            profile = load_profile(option("--contract-profile"))
        except ProfileError as exc:
            raise pytest.UsageError(f"--contract-profile: {exc}") from None
        declared = frozenset(profile.expectations)
        replaces = profile.update_replaces_config
    base_url = option("--contract-base-url")
    api_key = option("--contract-api-key")
    ctx = KitContext.build(
        base_url,
        api_key,
        second_api_key=option("--contract-second-api-key"),
        read_only_api_key=option("--contract-read-only-api-key"),
        max_requests=option("--contract-max-requests"),
        settings=Settings(
            max_examples=option("--contract-max-examples"),
            seed=DEFAULT_SEED if option("--contract-seed") is None else option("--contract-seed"),
            read_only=option("--contract-read-only"),
            strict=option("--contract-strict"),
            declared=declared,
            update_replaces_config=replaces,
        ),
    )
    out = io.StringIO()
    result = Runner(ctx, out=out).run()
    request.config.stash[_RESULT] = result
    if result.error:
        pytest.fail(f"the contract run could not complete: {result.error}\n{out.getvalue()}")
    return result


_RESULT = pytest.StashKey["RunResult"]()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The expectations the run noted: never failures, so shown here, a few of each."""
    result = config.stash.get(_RESULT, None)
    if result is None or not result.expectations:
        return
    terminalreporter.write_sep(
        "-", "contract expectations not met (not failures; --contract-strict holds them)"
    )
    from contracts.kit.cli.runner import expectations_in_brief

    shown, more = expectations_in_brief(result.expectations)
    for finding in shown:
        name = finding.source.name if finding.source else finding.check
        terminalreporter.write_line(f"EXPECTATION {name} [{finding.check}]: {finding.message}")
    for name, count in more.items():
        terminalreporter.write_line(f"EXPECTATION {name}: {count} more like these")
