"""The status-codes phase: every answer the run saw, judged by what the docs allow for its route.

It runs last and reads every exchange the run recorded, so it judges the answers
of every other phase too (the rules themselves live in :mod:`contracts.kit.statuses`).
"""

from __future__ import annotations

from contracts.kit.checks.prefixes import PROBE_NOTE
from contracts.kit.context import KitContext
from contracts.kit.exchange import Exchange
from contracts.kit.statuses import status_problem, status_source
from contracts.kit.violations import STATUS_CODES, ContractViolation


def _not_served(exchange: Exchange) -> bool:
    """The probe of a prefix the deployment does not serve (it did not answer 200).

    A 5xx is judged all the same: a server error is never how a prefix says it is
    not there, and discovery moving on to /v1 must not hide it."""
    return exchange.note == PROBE_NOTE and exchange.status != 200 and exchange.status < 500


def check_status_codes(ctx: KitContext) -> None:
    """Report every kind of answer of the run whose status the docs do not allow: the
    first of each (route, status), with how many more there were. The probe of a
    path prefix the deployment does not serve is no answer of the API."""
    problems = [
        (exchange, why)
        for exchange in list(ctx.recorder.exchanges)
        if not _not_served(exchange) and (why := status_problem(exchange)) is not None
    ]
    by_kind: dict[str, list[tuple[object, str]]] = {}
    for exchange, why in problems:
        by_kind.setdefault(why, []).append((exchange, why))
    for why, alike in by_kind.items():
        exchange = problems[[w for _, w in problems].index(why)][0]
        details = [f"{len(alike)} answer(s) of this run like this one"]
        ctx.report(
            ContractViolation(STATUS_CODES, why, exchange, details, source=status_source(exchange))
        )
