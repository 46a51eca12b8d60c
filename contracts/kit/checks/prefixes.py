"""Which path prefixes a deployment serves, and whether it takes the legacy key header.

The published page: "If your workspace uses URL versioning, insert `/v1` before
`/api` in the path". So a deployment may serve ``/api``, ``/v1/api`` or both,
and a ``--base-url`` may already end in ``/v1`` (then ``/v1/v1/api`` is never
probed). The kit asks each candidate once with the valid key and checks every
route under each prefix that answers; when only ``/v1/api`` answers, the run's
clients move under ``/v1``.

The ``X-Planasonix-Api-Key`` header is an expectation (the page documents only
``Authorization: Bearer``): a deployment that answers 401 to it is right, and
that is noted; one that accepts it is held to every auth rule under it too.
"""

from __future__ import annotations

from contracts.kit.context import KitContext
from contracts.kit.violations import AUTH_ISOLATION, expected

LEGACY_HEADER = "X-Planasonix-Api-Key"
# The note on each prefix probe. A probe answered with anything but 200 is of a
# prefix not served (the key refused everywhere aside, whose 401 or 403 the docs
# list): its answer (a 404 page, a redirect to a login page, whatever that server
# does) is not the API's, so the status-codes check leaves it alone.
PROBE_NOTE = "which prefixes are served"


def discover(ctx: KitContext) -> None:
    """Set ``ctx.prefixes`` (relative to the clients' base URL) and ``ctx.legacy_header``.

    The legacy header is only asked about with a key that works: with a rejected
    one its 401 says nothing about the header (the caller's first call says why).
    """
    if discover_prefixes(ctx):
        probe_legacy_header(ctx)


def discover_prefixes(ctx: KitContext) -> bool:
    """Set ``ctx.prefixes``, moving the clients under ``/v1`` when only it is served
    (``learn`` and ``diff`` ask this too); True when the key opened some prefix.
    Nothing opened: the prefixes that refused the key, else left as they were, for
    the caller's first call to say why."""
    base = ctx.client.base_url
    # Asked only which prefix answers, so no answer's body is judged here (a prefix
    # that is not served answers with whatever its server's 404 page is, not an
    # error of the API); the leak scan still reads each. The checks that follow
    # judge every answer under the prefixes served.
    answers = {
        prefix: ctx.client.sibling(base_url=base + prefix, session=ctx.client.session)
        .list({"limit": 1}, note=PROBE_NOTE, validate=False)
        .status
        for prefix in ctx.prefixes
    }
    served = [prefix for prefix, status in answers.items() if status == 200]
    opened = bool(served)
    if not served:
        # The key opens nothing: where it is refused (401, 403) is where the API is,
        # so the first call there says the key was rejected, not "404".
        served = [prefix for prefix, status in answers.items() if status in (401, 403)]
    if served and "" not in served:
        # Only under /v1: every client of the run goes there.
        for client in (ctx.client, ctx.second, ctx.reader):
            if client is not None:
                client.base_url += served[0]
        served = [p.removeprefix(served[0]) for p in served]
    if served:
        ctx.prefixes = tuple(served)
    return opened


def probe_legacy_header(ctx: KitContext) -> None:
    client = ctx.client
    reply = client.request(
        "GET",
        "/api/credentials",
        params={"limit": 1},
        headers={LEGACY_HEADER: client.api_key or ""},
        key=None,
        note="is the legacy key header accepted",
    )
    ctx.legacy_header = reply.status == 200
    if not ctx.legacy_header:
        ctx.report(
            expected(
                "legacy_header",
                AUTH_ISOLATION,
                f"a valid key in {LEGACY_HEADER} answered {reply.status}: the legacy header "
                "is not accepted (right by the published page, which documents only "
                "Authorization: Bearer); no auth check ran under it",
                reply.exchange,
            )
        )
