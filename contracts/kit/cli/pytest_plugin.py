"""pytest plugin: the contract checks as pytest tests.

``pytest --pyargs contracts --contract-base-url URL --contract-api-key KEY``
runs the same checks as ``planasonix-contract run``, one test per check.
Loaded for every pytest run through the ``pytest11`` entry point, it only
adds options and a fixture; without ``--contract-base-url`` those tests skip.
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


@pytest.fixture(scope="session")
def contract_result(request: pytest.FixtureRequest) -> RunResult:
    """One run of every check against ``--contract-base-url`` (skips without it)."""
    from contracts.kit.cli.runner import Runner
    from contracts.kit.context import DEFAULT_SEED, KitContext, Settings

    option: Any = request.config.getoption
    base_url = option("--contract-base-url")
    if not base_url:
        pytest.skip("no --contract-base-url given")
    api_key = option("--contract-api-key")
    if not api_key:
        pytest.skip("no --contract-api-key given")
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
        ),
    )
    out = io.StringIO()
    result = Runner(ctx, out=out).run()
    if result.error:
        pytest.fail(f"the contract run could not complete: {result.error}\n{out.getvalue()}")
    return result
