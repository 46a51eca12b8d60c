"""What the kit reports: violations of the contract, and reasons it could not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.kit.exchange import Exchange

# The checks, by the names a user reads in the report.
RESPONSE_SCHEMA = "response-schema"
SECRET_NON_ECHO = "secret-non-echo"
LIFECYCLE = "lifecycle"
PAGINATION = "pagination"
AUTH_ISOLATION = "auth-isolation"
SCHEMATHESIS = "schemathesis"
VALIDATION = "validation"

CHECKS: dict[str, str] = {
    RESPONSE_SCHEMA: "every response validates against the contract schemas (lenient to extra "
    "non-secret fields)",
    SECRET_NON_ECHO: "no secret the kit sent appears in any response, in any encoding or as a "
    "fragment of 12+ characters",
    LIFECYCLE: "create/get/list/update/delete/restore/purge in random order keep the invariants "
    "of SPEC section 4, consistently with the deployment's own choices",
    PAGINATION: "paging with small limits while others create and delete never repeats an item, "
    "never skips one that existed for the whole walk, never exceeds the limit",
    AUTH_ISOLATION: "missing and bad keys get 401; another workspace's ids are 404 and its lists "
    "never cross",
    VALIDATION: "invalid requests are refused with 4xx (400 or 422, consistently) and change "
    "nothing",
    SCHEMATHESIS: "schemathesis over contracts/openapi.yaml with its built-in checks and a "
    "secret-echo check",
}


class ContractViolation(AssertionError):
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


class KitError(Exception):
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
