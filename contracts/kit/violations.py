"""What the kit reports: violations of the contract, and reasons it could not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.errors import PlanasonixError
from contracts.kit.exchange import Exchange

# The checks, by the names a user reads in the report.
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

CHECKS: dict[str, str] = {
    RESPONSE_SCHEMA: "every response validates against the contract schemas (lenient to extra "
    "non-secret fields)",
    SECRET_NON_ECHO: "no secret the kit sent appears in any response, in any encoding, as a "
    "fragment of 12+ characters, or as its first or last 6+ characters standing alone; nested "
    "and object-valued secrets included",
    LIFECYCLE: "create/get/list/update/delete/restore/purge in random order keep the invariants "
    "of the lifecycle (docs: behaviour), consistently with the deployment's own choices",
    PAGINATION: "paging with small limits while others create and delete never repeats an item, "
    "never skips one that existed for the whole walk, never exceeds the limit",
    AUTH_ISOLATION: "missing, unknown and near-miss keys get 401; another workspace's key gets 404 "
    "on every route and changes nothing; lists never cross; under /api and /v1/api, with "
    "Authorization: Bearer and X-Planasonix-Api-Key",
    VALIDATION: "invalid requests are refused with 4xx (400 or 422, consistently) and change "
    "nothing",
    SCOPES: "a read-only key (--read-only-api-key) reads, and every write route answers it 403 "
    "and changes nothing, under /api and /v1/api and with both header forms",
    LISTINGS: "after each change every listing (default, status=active/deleted/all, type=) "
    "matches the model, filters hold on every page, a purged credential is in none",
    NAMES: "renaming onto a soft-deleted credential's name then restoring it, and a burst of "
    "concurrent same-name creates, renames and restores, never leave two active with one name",
    TIMESTAMPS: "updated_at never goes backwards, seen across pauses of over a second "
    "(a restore must not put back an older value)",
    STATUS_CODES: "every answer's status is one the docs document or allow for its route "
    "(no 5xx, no redirect, no 204 where a body is documented)",
    SCHEMATHESIS: "schemathesis over contracts/openapi.yaml with its built-in checks and a "
    "secret-echo check",
}


class ContractViolation(PlanasonixError, AssertionError):
    """The deployment broke the contract. ``check`` names the check; no secret is quoted."""

    def __init__(
        self,
        check: str,
        message: str,
        exchange: Exchange | None = None,
        details: list[str] | None = None,
    ) -> None:
        self.check = check
        self.message = message
        self.exchange = exchange
        self.details = list(details or [])
        self.sequence: list[str] = []
        super().__init__(f"[{check}] {message}")


class NotRun(PlanasonixError):
    """A check that has nothing to check with (no --read-only-api-key, say): reported
    as "not run" with the reason, never as "passed", and no reason for exit code 2."""


class KitError(PlanasonixError):
    """The kit could not run (exit code 2): bad arguments, unreachable, key rejected, ..."""


class BudgetExhausted(KitError):
    """``--max-requests`` is spent; the remaining checks are skipped."""


class Unsafe(KitError):
    """The kit was about to touch something it did not create; a bug in the kit, stopped."""


@dataclass
class Finding:
    """One violation as reported: check, message, and the shortest sequence that shows it."""

    check: str
    message: str
    phase: str
    sequence: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "message": self.message,
            "phase": self.phase,
            "sequence": self.sequence,
            "details": self.details,
        }
