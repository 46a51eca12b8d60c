"""One test per contract check, run by ``pytest --pyargs contracts --contract-base-url URL``."""

from __future__ import annotations

import pytest

from contracts.kit.cli.runner import RunResult
from contracts.kit.violations import CHECKS


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_contract(contract_result: RunResult, check: str) -> None:
    phase = next((p for p in contract_result.phases if p.name == check), None)
    if phase is not None and phase.status in ("skipped", "not run"):
        pytest.skip(phase.note or "skipped")
    found = [f for f in contract_result.findings if f.check == check]
    if found:
        lines = []
        for finding in found:
            lines.append(f"[{finding.check}] {finding.message}")
            lines.extend(f"    {d}" for d in finding.details)
            lines.extend(f"    {s}" for s in finding.sequence)
        pytest.fail("\n".join(lines), pytrace=False)
