"""The status-codes phase: every answer the run saw, judged by what the docs allow for its route.

It runs last and reads every exchange the run recorded, so it judges the answers
of every other phase too (the rules themselves live in :mod:`contracts.kit.statuses`).
"""

from __future__ import annotations

from contracts.kit.context import KitContext
from contracts.kit.statuses import status_problem
from contracts.kit.violations import STATUS_CODES, ContractViolation


def check_status_codes(ctx: KitContext) -> None:
    """Report the first answer of the run whose status the docs do not allow."""
    problems = [
        (exchange, why)
        for exchange in list(ctx.recorder.exchanges)
        if (why := status_problem(exchange)) is not None
    ]
    if problems:
        exchange, why = problems[0]
        details = [f"{len(problems)} answer(s) of this run with an undocumented status"]
        raise ContractViolation(STATUS_CODES, why, exchange, details)
