"""The one registry of what the kit checks, and where each rule comes from.

Three kinds of source:

- ``page``: a sentence (or an example line) of the published Credentials API
  page, quoted with its section (:mod:`contracts.kit.rules.page`);
- ``invariant``: one of the invariants that follow from the page: no secret
  in any response; a deployment consistent with itself across the lifecycle;
  isolation between keys;
- ``expectation``: a fact of the wider documentation site, or a common
  convention, that the page does not state (the legacy key header, the shape
  of error bodies, a ``Z`` suffix, scope names, ...). An expectation is
  reported under its own heading and never fails a run, unless the user asks
  (``--strict``) or the deployment's profile declares it (``"expectations":
  [...]``); then it is held like any other rule.

``--list-checks``, the runner and every report read this module only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts.kit.rules import page
from contracts.kit.rules.page import quoted

PAGE, INVARIANT, EXPECTATION = "page", "invariant", "expectation"
VIOLATION = "violation"


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: a page sentence, an invariant, or an expectation."""

    kind: str
    name: str  # the page section, the invariant's or the expectation's name
    text: str  # the quoted sentence, or the rule in words

    def __str__(self) -> str:
        if self.kind == PAGE:
            return f'the published page, "{self.name}": "{self.text}"'
        return f"{self.kind} ({self.name}): {self.text}"

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "text": self.text}


def from_page(section: str, sentence: str) -> Source:
    return Source(PAGE, section, quoted(section, sentence))


# --- invariants that follow from the page ----------------------------------------------------

NO_SECRET = Source(
    INVARIANT,
    "no secret in any response",
    "no secret value the client sent comes back, whole or in part (6 or more characters), "
    "in any body, header or error of any endpoint",
)
CONSISTENT = Source(
    INVARIANT,
    "consistent across the lifecycle",
    "a deployment answers one situation the same way every time, a call that fails changes "
    "nothing, created_at never changes and updated_at never goes backwards",
)
ISOLATION = Source(
    INVARIANT,
    "isolation between keys",
    "a key sees and changes only its own workspace's credentials; another workspace's ids "
    "answer as if they did not exist",
)
INVARIANTS = (NO_SECRET, CONSISTENT, ISOLATION)

# --- expectations: not stated by the page ------------------------------------------------------

EXPECTATIONS: dict[str, Source] = {
    source.name: source
    for source in (
        Source(
            EXPECTATION,
            "legacy_header",
            "some integrations send the key as X-Planasonix-Api-Key instead of "
            "Authorization: Bearer, and it opens the same door",
        ),
        Source(
            EXPECTATION,
            "auth_401",
            "a request with a missing, malformed, unknown or revoked key is refused with 401",
        ),
        Source(
            EXPECTATION,
            "error_shape",
            "an error body is JSON carrying a machine-readable code and a human-readable "
            "message ({error: {code, message}} or {code, message})",
        ),
        Source(
            EXPECTATION,
            "z_suffix",
            "timestamps are written in UTC with a Z suffix, as the page's examples are",
        ),
        Source(
            EXPECTATION,
            "scopes",
            "a key holding only connections:read reads, and every write answers it 403 and "
            "changes nothing",
        ),
        Source(
            EXPECTATION,
            "validation",
            "an invalid request (wrong content type, unknown type, broken JSON) is refused "
            "with 400 or 422",
        ),
        Source(
            EXPECTATION,
            "status_codes",
            "every answer's status is one the documentation site lists (400, 401, 403, 404, "
            "405, 409, 410, 413, 415, 422, 429) or a route's success",
        ),
        Source(
            EXPECTATION,
            "rate_limit",
            "rate limiting answers 429 with Retry-After",
        ),
        Source(
            EXPECTATION,
            "key_echo",
            "no answer returns the caller's API key, whole or in part (8 or more characters), "
            "valid or not: not in a 401's message, not in any body or header",
        ),
    )
}


def expectation(name: str) -> Source:
    return EXPECTATIONS[name]


# Each route's section of the page, by what it shows the route answers: the source of
# a rule on that route's answer (its shape, a server error instead of it).
ROUTE_SOURCES: dict[str, Source] = {
    "list": from_page(page.LIST, "Returns credential records your key can access."),
    "create": from_page(page.CREATE, '"status": "active",'),
    "get": from_page(page.GET, "Path parameter `id` is the credential identifier"),
    "update": from_page(page.UPDATE, "Send the fields you want to change."),
    "delete": from_page(page.DELETE, '"status": "deleted",'),
    "restore": from_page(page.RESTORE, '"status": "active",'),
    "purge": from_page(page.PURGE, '"purged": true'),
}


# --- the checks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check of ``run``: its name, what it does, and the sources of its rules."""

    name: str
    description: str
    sources: tuple[Source, ...]

    @property
    def source(self) -> Source:
        """The source a finding of this check cites when it names none of its own."""
        return self.sources[0]

    @property
    def kind(self) -> str:
        """``expectation`` when every source of the check is one, else ``violation``."""
        return EXPECTATION if all(s.kind == EXPECTATION for s in self.sources) else VIOLATION

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "kind": self.kind,
            "sources": [s.as_json() for s in self.sources],
        }


RESPONSE_SCHEMA = "response-schema"
SECRET_NON_ECHO = "secret-non-echo"
LIFECYCLE = "lifecycle"
PAGINATION = "pagination"
AUTH_ISOLATION = "auth-isolation"
SCHEMATHESIS = "schemathesis"
VALIDATION = "validation"
SCOPES = "scopes"
LISTINGS = "listings"
NAMES = "names"
TIMESTAMPS = "timestamps"
STATUS_CODES = "status-codes"

_CHECKS: tuple[Check, ...] = (
    Check(
        RESPONSE_SCHEMA,
        "every answer has the shape the page's examples show (data envelopes, the "
        "credential's fields, types and statuses, list pages with limit and cursor), lenient "
        "to extra non-secret fields and to non-secret config fields left out; error bodies "
        "are not judged here (an expectation)",
        (
            from_page(page.LIST, '"page": { "limit": 50, "cursor": null }'),
            from_page(
                page.CREATE,
                "One of `aws`, `azure`, `gcp`, `database`, `api_key`, `oauth`, `password`",
            ),
            from_page(
                page.LIST,
                "Fields such as passwords, tokens, and private keys are omitted; you see names, "
                "types, status, and non-sensitive configuration hints.",
            ),
        ),
    ),
    Check(
        SECRET_NON_ECHO,
        "no secret the kit sent appears in any response, header or error, in any encoding, "
        "whole or as any fragment of 6 or more characters; nested and object-valued secrets "
        "included",
        (
            from_page(
                page.INTRO,
                "Responses return **metadata only**—secret values are never echoed back in "
                "list or get operations.",
            ),
            NO_SECRET,
        ),
    ),
    Check(
        LIFECYCLE,
        "create/get/list/update/delete/restore/purge in random order keep the lifecycle "
        "invariants, consistently with the deployment's own choices where the page is silent",
        (
            from_page(page.DELETE, "Marks the credential as deleted."),
            from_page(page.PURGE, "This action cannot be undone."),
            from_page(
                page.UPDATE,
                "Omitted fields are left unchanged unless the API documentation for your "
                "deployment states otherwise.",
            ),
            CONSISTENT,
        ),
    ),
    Check(
        PAGINATION,
        "paging with small limits over a list nobody changes never repeats an item, never "
        "skips one, never exceeds the limit",
        (from_page(page.LIST, '"page": { "limit": 50, "cursor": null }'), CONSISTENT),
    ),
    Check(
        AUTH_ISOLATION,
        "missing, unknown and near-miss keys are refused (with 401, an expectation); "
        "another workspace's key gets 404 on "
        "every route and changes nothing; lists never cross; under every path prefix the "
        "deployment serves, and with X-Planasonix-Api-Key too when the deployment accepts it",
        (
            from_page(page.INTRO, "Authenticate every request with your API key:"),
            from_page(page.LIST, "Returns credential records your key can access."),
            ISOLATION,
        ),
    ),
    Check(
        VALIDATION,
        "invalid requests are refused with 4xx (400 or 422, consistently) and change nothing",
        (expectation("validation"), CONSISTENT),
    ),
    Check(
        SCOPES,
        "a read-only key (--read-only-api-key) reads, and every write route answers it 403 "
        "and changes nothing",
        (expectation("scopes"),),
    ),
    Check(
        LISTINGS,
        "after each change every listing (default, status=, type=) matches what the "
        "deployment holds; a purged credential is in none",
        (
            from_page(page.LIST, "Returns credential records your key can access."),
            from_page(page.PURGE, "This action cannot be undone."),
            CONSISTENT,
        ),
    ),
    Check(
        NAMES,
        "renaming onto a soft-deleted credential's name then restoring it, and bursts of "
        "concurrent same-name creates, renames and restores, never leave two active with "
        "one name",
        (from_page(page.CREATE, "Human-readable label unique within the workspace"),),
    ),
    Check(
        TIMESTAMPS,
        "created_at never changes and updated_at never goes backwards, across update, "
        "delete and restore, seen across pauses of over a second",
        (CONSISTENT,),
    ),
    Check(
        STATUS_CODES,
        "no answer is a server error, a redirect or an empty 204 where the page shows a "
        "body; other statuses the documentation does not list are noted as an expectation",
        (
            from_page(page.LIST, "Returns credential records your key can access."),
            from_page(page.DELETE, '"status": "deleted",'),
            expectation("status_codes"),
        ),
    ),
    Check(
        SCHEMATHESIS,
        "schemathesis' generated requests over the routes the page documents: no server "
        "error, no secret echoed",
        (NO_SECRET, expectation("status_codes")),
    ),
)

CHECKS: dict[str, Check] = {c.name: c for c in _CHECKS}


def describe_checks() -> str:
    """The text of ``--list-checks``: every check, its kind and the sources of its rules."""
    lines: list[str] = []
    for check in _CHECKS:
        kinds = {s.kind == EXPECTATION for s in check.sources}
        # A check citing both kinds of source reports findings of both kinds.
        label = check.kind if len(kinds) == 1 else "violations and expectations"
        lines.append(f"{check.name}  [{label}]")
        lines.append(f"    {check.description}")
        for source in check.sources:
            lines.append(f"    source: {source}")
    lines.append("")
    lines.append(
        "expectations (reported apart; they fail a run only with --strict or when the "
        "deployment's profile declares them):"
    )
    for name, source in EXPECTATIONS.items():
        lines.append(f"    {name}: {source.text}")
    return "\n".join(lines)
