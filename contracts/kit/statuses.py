"""Every answer's status judged by what the docs document and allow for its route.

Not by the fake's own OpenAPI document: a deployment may answer any status the
docs list for a route (its success codes, the lifecycle's open alternatives,
the documented error statuses; see docs: behaviour), and nothing else. A 500
(or any other server error of the deployment's own), a redirect (a login page
in front of the API), a 204 where the docs show a body, an undocumented 2xx:
each is reported, with the request.

This phase runs last and reads every exchange the run recorded, so it judges
the answers of every other phase too. Gateway errors (502, 503, 504) are not
the API's answer and are left alone; 429 is retried by the client.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from contracts.kit.client import operation_of
from contracts.kit.exchange import Exchange
from contracts.kit.rules import page
from contracts.kit.rules.sources import ROUTE_SOURCES, Source, expectation, from_page

# The error table (docs: behaviour, Errors): every status the docs give a meaning to
# (any route may refuse a request).
# 410: a soft-deleted (or purged) id answered as gone, an open point of the lifecycle.
DOCUMENTED_ERRORS = frozenset({400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 429})
# Not the deployment's answer but its infrastructure's (a proxy's timeout, a gateway),
# and 406 for an Accept header it cannot meet (schemathesis sends odd ones).
TOLERATED = frozenset({406, 408, 502, 503, 504})
# Another workspace's id: answered as an id that does not exist (404, or 410 as
# the lifecycle allows for ids a key cannot see), never 2xx, never a 409 that
# tells its state, never a 403 that tells it exists. Isolation between keys.
FOREIGN_ID = frozenset({404, 410})
# An id the kit made up (never issued by the deployment): not found, or refused as
# not an id at all (400, 422) by a deployment whose ids have another shape (a UUID
# or patterned path parameter). The page states no status for it; a real id of
# another workspace is still judged by FOREIGN_ID.
MADE_UP_ID = FOREIGN_ID | frozenset({400, 422})
# An operation on one of the run's own ids, refused for the state the id is in:
# a repeated delete (404, 409, 410), a get or update of a soft-deleted id (404,
# 410), a restore of an active one or a purge before the delete (409). The
# lifecycle's open points (docs: behaviour) allow each; the lifecycle model holds
# the deployment to one reading per situation.
ID_STATE_REFUSALS = FOREIGN_ID | frozenset({409})
# The endpoint table (create: "2xx with the new metadata"): each route's success codes.
SUCCESS: dict[str, frozenset[int]] = {
    "list": frozenset({200}),
    "create": frozenset({201, 200, 202, 203}),  # model.ALTERNATIVES: 2xx with a body
    "get": frozenset({200}),
    "update": frozenset({200}),
    "delete": frozenset({200}),
    "restore": frozenset({200}),
    "purge": frozenset({200}),
}


def allowed_statuses(op: str) -> frozenset[int]:
    return SUCCESS.get(op, frozenset()) | DOCUMENTED_ERRORS | TOLERATED


def status_problem(exchange: Exchange) -> str | None:
    """Why ``exchange``'s status is outside what the docs allow for its route, or None."""
    op, _ = operation_of(exchange.method, urlsplit(exchange.url).path)
    if op == "other" or exchange.status == 0:
        return None  # not a documented route: nothing documented to judge by
    if exchange.status in allowed_statuses(op):
        return None
    status = exchange.status
    if status == 204:
        why = "no content, where the docs show a body"
    elif 300 <= status < 400:
        location = exchange.response_headers.get("Location", "")
        why = "a redirect" + (f" to {location[:80]}" if location else "")
    elif status >= 500:
        why = "a server error"
    else:
        why = "a status the docs do not list for this route"
    expected = ", ".join(str(s) for s in sorted(SUCCESS[op]))
    allowed = f"the documentation allows {expected} or a documented error"
    return f"{op} answered {status} ({why}); {allowed}"


# Every route's section of the page shows what it answers: a server error, a redirect
# or an empty 204 is none of that. Any other status the page does not list (it lists
# none) breaks only an expectation.
_ROUTE_SOURCES = ROUTE_SOURCES
_REDIRECT_SOURCE = from_page(page.INTRO, "Authenticate every request with your API key:")


def status_source(exchange: Exchange) -> Source:
    """The source of the rule an undocumented status breaks (see :func:`status_problem`)."""
    op, _ = operation_of(exchange.method, urlsplit(exchange.url).path)
    status = exchange.status
    if 300 <= status < 400:
        return _REDIRECT_SOURCE
    if status == 204 and op in _ROUTE_SOURCES:
        return _ROUTE_SOURCES[op]
    if status >= 500 and op in _ROUTE_SOURCES:
        return _ROUTE_SOURCES[op]  # a server error is none of the answers the page shows
    return expectation("status_codes")
