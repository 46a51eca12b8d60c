"""`pytest --pyargs contracts --contract-base-url URL` runs the checks; without a URL it skips."""

from __future__ import annotations

import pytest
from broken_variants import KEY_A, KEY_B, KEY_RO, fake_app, served

from contracts.kit.violations import CHECKS


def test_contract_tests_skip_without_a_base_url(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess("--pyargs", "contracts", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=len(CHECKS))


def test_contract_tests_run_against_a_deployment(pytester: pytest.Pytester) -> None:
    with served(fake_app()) as url:
        result = pytester.runpytest_inprocess(
            "--pyargs",
            "contracts",
            "-p",
            "no:cacheprovider",
            f"--contract-base-url={url}",
            f"--contract-api-key={KEY_A}",
            f"--contract-second-api-key={KEY_B}",
            f"--contract-read-only-api-key={KEY_RO}",
            "--contract-max-examples=2",
            "--contract-seed=1",
        )
    result.assert_outcomes(passed=len(CHECKS))
