"""A run's whole coverage: every matrix, as JSON, as a terminal table, and as a gate.

``--fail-under KIND=PERCENT`` names a kind of :data:`KINDS`; a kind under its
threshold is a gap, named with its missing cells (the first :data:`SHOWN` of
them, and how many more), and fails the run (exit 1) as a violation would.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from contracts.kit.coverage.isolation import IsolationCoverage, isolation
from contracts.kit.coverage.operations import BEARER, LEGACY, OperationCoverage, operations
from contracts.kit.coverage.secrets import SecretCoverage, secrets
from contracts.kit.coverage.transitions import TransitionCoverage, transitions
from contracts.kit.exchange import Exchange

KINDS = ("transitions", "operations", "statuses", "secrets", "isolation")
# Kinds that only mean something for a run (the kit chose the keys and canaries); watched
# traffic (proxy, check-har, diff) reports the others.
TRAFFIC_KINDS = ("transitions", "operations", "statuses")
SHOWN = 8


@dataclass
class Coverage:
    operations: OperationCoverage
    transitions: TransitionCoverage
    secrets: SecretCoverage | None = None
    isolation: IsolationCoverage | None = None

    def percent(self, kind: str) -> float | None:
        """The percent of ``kind`` covered (None: not measured by this command)."""
        if kind == "transitions":
            return self.transitions.percent
        if kind == "operations":
            return self.operations.percent
        if kind == "statuses":
            return self.operations.statuses_percent
        part = self.secrets if kind == "secrets" else self.isolation
        return None if part is None else part.percent

    def missing(self, kind: str) -> list[str]:
        if kind == "transitions":
            return self.transitions.missing
        if kind == "operations":
            return self.operations.missing
        if kind == "statuses":
            return self.operations.statuses_missing
        part = self.secrets if kind == "secrets" else self.isolation
        return [] if part is None else part.missing

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "summary": {
                kind: round(p, 1) for kind in KINDS if (p := self.percent(kind)) is not None
            },
            "operations": self.operations.operations_json(),
            "statuses": self.operations.statuses_json(),
            "transitions": self.transitions.as_json(),
        }
        if self.secrets is not None:
            out["secrets"] = self.secrets.as_json()
        if self.isolation is not None:
            out["isolation"] = self.isolation.as_json()
        return out

    def table(self) -> list[str]:
        """The compact terminal table: one line per kind, with the first gaps."""
        lines = ["coverage:"]
        for kind in KINDS:
            percent = self.percent(kind)
            if percent is None:
                continue
            missing = self.missing(kind)
            shown = "; ".join(missing[:3]) + (
                f"; +{len(missing) - 3} more" if len(missing) > 3 else ""
            )
            tail = f"  missing: {shown}" if missing else ""
            lines.append(f"    {kind:<12} {percent:5.1f}%{tail}")
        return lines

    def gaps(self, fail_under: Mapping[str, float]) -> list[str]:
        """One line per kind under its ``--fail-under`` threshold, naming missing cells."""
        out: list[str] = []
        for kind, threshold in fail_under.items():
            percent = self.percent(kind)
            if percent is None:
                out.append(f"{kind} coverage not measured by this command (--fail-under {kind})")
                continue
            if percent + 1e-9 >= threshold:
                continue
            missing = self.missing(kind)
            named = "; ".join(missing[:SHOWN])
            more = f" (and {len(missing) - SHOWN} more)" if len(missing) > SHOWN else ""
            out.append(
                f"{kind} coverage {percent:.1f}% is under --fail-under {kind}={threshold:g}: "
                f"missing {named}{more}"
            )
        return out


def served_forms(
    prefixes: Sequence[str], legacy_header: bool | None, base_path: str = ""
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A run's served path prefixes and auth forms.

    ``prefixes`` are as discovered, under the base URL ("" and "/v1"); ``base_path``
    is the base URL's own path, which may already end in ``/v1`` (given so, or moved
    there because only ``/v1`` is served): the labels are those of the URLs sent.
    """
    forms = (BEARER, LEGACY) if legacy_header else (BEARER,)
    base = base_path.rstrip("/")
    labels = ("/v1/api" if (base + p).endswith("/v1") else "/api" for p in prefixes)
    return tuple(dict.fromkeys(labels)), forms


def run_coverage(
    exchanges: Iterable[Exchange],
    prefixes: Sequence[str],
    legacy_header: bool | None,
    base_path: str = "",
) -> Coverage:
    """Every matrix of a kit run (it knows the keys' roles and the canaries it sent)."""
    recorded = list(exchanges)
    served, forms = served_forms(prefixes, legacy_header, base_path)
    return Coverage(
        operations=operations(recorded, served, forms),
        transitions=transitions(recorded),
        secrets=secrets(recorded),
        isolation=isolation(recorded),
    )


def traffic_coverage(exchanges: Iterable[Exchange]) -> Coverage:
    """The matrices that watched traffic shows (operations, statuses, transitions)."""
    recorded = list(exchanges)
    return Coverage(operations=operations(recorded), transitions=transitions(recorded))


def fail_under_arg(text: str) -> tuple[str, float]:
    """``KIND=PERCENT`` of ``--fail-under``; an argparse type (a bad one is a usage error)."""
    kind, sep, number = text.partition("=")
    kind = kind.strip()
    if not sep or kind not in KINDS:
        raise argparse.ArgumentTypeError(
            f"expected KIND=PERCENT with KIND one of {', '.join(KINDS)}, got {text!r}"
        )
    try:
        percent = float(number)
    except ValueError:
        percent = -1.0
    if not 0.0 <= percent <= 100.0:
        raise argparse.ArgumentTypeError(
            f"the percent of {kind} must be a number from 0 to 100, got {number!r}"
        )
    return kind, percent
