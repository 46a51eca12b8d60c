"""The checks ``planasonix-contract run`` makes, one module per check, and their registry.

:func:`default_phases` is the registry: the runner runs it, in order; the
report and ``--list-checks`` name the same checks, with the sources of their
rules (:mod:`contracts.kit.rules.sources`). Which path prefixes and key
headers the deployment serves is found first (:mod:`contracts.kit.checks.prefixes`).
Helpers several checks share
(building valid bodies, holding an answer to the statuses allowed) live in
:mod:`contracts.kit.checks.common`; list walking in :mod:`contracts.kit.checks.paging`.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.kit.context import KitContext
from contracts.kit.violations import (
    AUTH_ISOLATION,
    LIFECYCLE,
    LISTINGS,
    NAMES,
    PAGINATION,
    SCHEMATHESIS,
    SCOPES,
    SECRET_NON_ECHO,
    STATUS_CODES,
    TIMESTAMPS,
)

PhaseFn = Callable[[KitContext], None]


def default_phases(read_only: bool) -> list[tuple[str, PhaseFn]]:
    from contracts.kit.checks.auth import check_auth_everywhere, check_scopes
    from contracts.kit.checks.listings import check_listings, check_timestamps
    from contracts.kit.checks.names import check_names
    from contracts.kit.checks.pagination import check_pagination
    from contracts.kit.checks.schemathesis_phase import run_schemathesis
    from contracts.kit.checks.secrets import check_secrets_everywhere
    from contracts.kit.checks.stateful import run_lifecycle
    from contracts.kit.checks.status_codes import check_status_codes

    phases: list[tuple[str, PhaseFn]] = [
        (AUTH_ISOLATION, check_auth_everywhere),
        (SCOPES, check_scopes),
        (SECRET_NON_ECHO, check_secrets_everywhere),
        (PAGINATION, check_pagination),
        (LISTINGS, check_listings),
        (NAMES, check_names),
        (TIMESTAMPS, check_timestamps),
        (LIFECYCLE, run_lifecycle),
        (SCHEMATHESIS, run_schemathesis),
        # Last: it judges the status of every answer the run has seen.
        (STATUS_CODES, check_status_codes),
    ]
    if read_only:
        skip = {SECRET_NON_ECHO, LIFECYCLE, SCOPES, LISTINGS, NAMES, TIMESTAMPS}
        phases = [(n, f) for n, f in phases if n not in skip]
    return phases
