"""What the kit reports: violations of the contract, and reasons it could not run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.errors import PlanasonixError
from contracts.kit.exchange import Exchange

# The checks, by the names a user reads in the report; their descriptions and the
# sources of their rules live in one registry (contracts.kit.rules.sources).
from contracts.kit.rules.sources import (
    AUTH_ISOLATION,
    EXPECTATION,
    LIFECYCLE,
    LISTINGS,
    NAMES,
    PAGINATION,
    RESPONSE_SCHEMA,
    SCHEMATHESIS,
    SCOPES,
    SECRET_NON_ECHO,
    STATUS_CODES,
    TIMESTAMPS,
    VALIDATION,
    VIOLATION,
    Source,
    expectation,
)
from contracts.kit.rules.sources import CHECKS as CHECK_RECORDS

CHECKS: dict[str, str] = {name: check.description for name, check in CHECK_RECORDS.items()}

__all__ = [
    "AUTH_ISOLATION",
    "CHECKS",
    "CHECK_RECORDS",
    "EXPECTATION",
    "LIFECYCLE",
    "LISTINGS",
    "NAMES",
    "PAGINATION",
    "RESPONSE_SCHEMA",
    "SCHEMATHESIS",
    "SCOPES",
    "SECRET_NON_ECHO",
    "STATUS_CODES",
    "TIMESTAMPS",
    "VALIDATION",
    "VIOLATION",
    "BudgetExhausted",
    "ContractViolation",
    "Finding",
    "KitError",
    "NotRun",
    "Source",
    "Unsafe",
    "expected",
]


class ContractViolation(PlanasonixError, AssertionError):
    """The deployment broke the contract. ``check`` names the check; no secret is quoted."""

    def __init__(
        self,
        check: str,
        message: str,
        exchange: Exchange | None = None,
        details: list[str] | None = None,
        *,
        source: Source | None = None,
    ) -> None:
        self.check = check
        self.message = message
        self.exchange = exchange
        self.details = list(details or [])
        self.sequence: list[str] = []
        # None: the check's own first source (see contracts.kit.rules.sources).
        self.source = source
        super().__init__(f"[{check}] {message}")

    @property
    def cited(self) -> Source:
        """The source this finding cites: its own, or its check's."""
        if self.source is not None:
            return self.source
        record = CHECK_RECORDS.get(self.check)
        return record.source if record is not None else CHECK_RECORDS[LIFECYCLE].source

    @property
    def kind(self) -> str:
        """``expectation`` when its source is one (reported apart; see the rules registry)."""
        return EXPECTATION if self.cited.kind == EXPECTATION else VIOLATION


def expected(
    name: str,
    check: str,
    message: str,
    exchange: Exchange | None = None,
    details: list[str] | None = None,
) -> ContractViolation:
    """A finding against the expectation ``name`` (a rule the published page does not state)."""
    return ContractViolation(check, message, exchange, details, source=expectation(name))


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
    """One finding as reported: check, message, the shortest sequence that shows it, its
    kind (``violation`` or ``expectation``) and the source of the rule it breaks."""

    check: str
    message: str
    phase: str
    sequence: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    kind: str = VIOLATION
    source: Source | None = None
    # An expectation the user asked to hold (--strict, or declared in the profile).
    held: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "kind": self.kind,
            "message": self.message,
            "phase": self.phase,
            "source": self.source.as_json() if self.source else None,
            "held": self.held,
            "sequence": self.sequence,
            "details": self.details,
        }

    def source_line(self) -> str:
        return f"source: {self.source}" if self.source else ""
