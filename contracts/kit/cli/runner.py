"""Runs the checks against one deployment and reports: the engine behind the CLI.

Phases run in order; each stops at its first violation and the next phase
goes on. Whatever happens (a violation, an error, Ctrl-C, SIGTERM turned into
:class:`Interrupted`), what the run created is purged at the end.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hypothesis.errors import Flaky

from contracts.kit.checks import PhaseFn, default_phases
from contracts.kit.context import KitContext
from contracts.kit.exchange import Exchange
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, Case, Failure, write_json
from contracts.kit.report import write_junit as write_junit_cases
from contracts.kit.violations import (
    CHECKS,
    LIFECYCLE,
    BudgetExhausted,
    ContractViolation,
    Finding,
    KitError,
    NotRun,
)


class Interrupted(BaseException):
    """SIGTERM, raised in the main thread so cleanup still runs."""


@contextmanager
def hypothesis_isolated() -> Iterator[None]:
    """Hypothesis as a replayable run needs it: nothing written, nothing read from before.

    Two of its habits would make a run depend on where and after what it runs:
    it keeps files under ``./.hypothesis`` (a constants cache, a Unicode table)
    even with ``database=None``, and it mixes constants it finds in the source
    of non-installed modules loaded so far into what it draws, so the same seed
    draws differently once more modules are loaded. For the run, its home is a
    temporary directory (removed after) and the pool of local constants is
    empty. Both hooks are private to Hypothesis: if a release moves them, the
    run still works, only less isolated.
    """
    import tempfile

    from hypothesis import configuration
    from hypothesis.internal.conjecture import providers

    previous_home = vars(configuration).get("__hypothesis_home_directory")
    previous_constants = getattr(providers, "_get_local_constants", None)
    cache = getattr(getattr(providers, "CONSTANTS_CACHE", None), "cache", None)
    with tempfile.TemporaryDirectory(prefix="plnx-contract-") as home:
        configuration.set_hypothesis_home_dir(home)
        if previous_constants is not None and hasattr(providers, "Constants"):
            empty = providers.Constants()
            providers._get_local_constants = lambda: empty
        if isinstance(cache, dict):
            cache.clear()
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous_home)
            if previous_constants is not None:
                providers._get_local_constants = previous_constants
            if isinstance(cache, dict):
                cache.clear()


@contextmanager
def signals_deferred(on_signal: Callable[[int], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call ``on_signal`` instead of raising, until the block ends.

    The kit's own cleanup and report run under it: an exception raised in the
    middle of them would leave credentials behind and no report saying which.
    Outside the main thread (no signal handlers there) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    watched = (signal.SIGINT, signal.SIGTERM)
    previous = {s: signal.getsignal(s) for s in watched}

    def handler(signum: int, frame: object) -> None:
        on_signal(signum)

    for s in watched:
        signal.signal(s, handler)
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@dataclass
class PhaseResult:
    name: str
    status: str  # passed | failed | skipped (budget) | not run (nothing to check with) | error
    requests: int = 0
    seconds: float = 0.0
    note: str = ""
    first_request: int = 0  # how many requests the run had sent when the phase began

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "first_request": self.first_request,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "note": self.note,
        }


@dataclass
class RunResult:
    base_url: str
    prefix: str
    seed: int | None = None
    exit_code: int = EXIT_OK
    error: str = ""
    findings: list[Finding] = field(default_factory=list)
    phases: list[PhaseResult] = field(default_factory=list)
    choices: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    leftovers: list[str] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "prefix": self.prefix,
            "seed": self.seed,
            "exit_code": self.exit_code,
            "conformant": self.exit_code == EXIT_OK,
            "error": self.error,
            "findings": [f.as_json() for f in self.findings],
            "phases": [p.as_json() for p in self.phases],
            "learned_choices": self.choices,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "leftovers": self.leftovers,
            "exchanges": self.exchanges,
        }

    def checks_failed(self) -> set[str]:
        return {f.check for f in self.findings}


def _finding(exc: ContractViolation, phase: str) -> Finding:
    sequence = list(exc.sequence)
    if not sequence and exc.exchange is not None:
        sequence = [exc.exchange.curl()]
    return Finding(exc.check, exc.message, phase, sequence, list(exc.details))


def _unwrap(exc: BaseException) -> ContractViolation | None:
    """The violation behind ``exc``: itself, its cause, or one in an exception group."""
    found = _find(exc, ContractViolation)
    return found if isinstance(found, ContractViolation) else None


class Runner:
    def __init__(
        self,
        ctx: KitContext,
        *,
        out: TextIO | None = None,
        phases: list[tuple[str, PhaseFn]] | None = None,
        only: set[str] | None = None,
        reporters: list[Callable[[RunResult], None]] | None = None,
    ) -> None:
        self.ctx = ctx
        # Called with the result while signals are still held back, so a signal
        # at the very end cannot cost the user the report.
        self.reporters = list(reporters or [])
        self.out = out if out is not None else sys.stdout
        self.phases = phases if phases is not None else default_phases(ctx.settings.read_only)
        if only:
            self.phases = [(n, f) for n, f in self.phases if n in only]
        self.result = RunResult(
            base_url=ctx.client.base_url, prefix=ctx.prefix, seed=ctx.settings.seed
        )
        if getattr(self.out, "isatty", lambda: False)():
            ctx.recorder.listeners.append(self._progress)

    def _progress(self, exchange: Exchange) -> None:
        if exchange.seq % 25 == 0:
            print(f"\r      {exchange.seq} requests ...", end="", file=self.out, flush=True)

    def say(self, text: str) -> None:
        if getattr(self.out, "isatty", lambda: False)():
            text = "\r\033[K" + text
        print(text, file=self.out, flush=True)

    def preflight(self) -> None:
        """The key must work before anything else runs."""
        for client in self.ctx.clients():
            reply = client.list({"limit": 1})
            if reply.status in (401, 403):
                raise KitError(
                    f"the {client.label} API key was rejected ({reply.status}); "
                    "check --api-key / --second-api-key"
                )
            if reply.status != 200:
                raise KitError(f"listing credentials answered {reply.status}; cannot run")

    def run(self) -> RunResult:
        started = time.monotonic()
        result = self.result
        total = len(self.phases)
        self.say(
            f"planasonix-contract: {self.ctx.client.base_url}  prefix {self.ctx.prefix}  "
            f"seed {self.ctx.settings.seed}  budget {self.ctx.budget.limit or 'unlimited'}"
        )
        # One handler for the whole run, so no moment is left uncovered: while the
        # checks run a signal stops them; from the final cleanup on it is noted.
        self._cleaning = False
        self._stop_signal: int | None = None
        self._cleanup_signals: list[int] = []
        self.ctx.budget.halt = self._halt_if_stopped
        with signals_deferred(self._on_signal):
            try:
                try:
                    self.preflight()
                except ContractViolation as exc:
                    result.findings.append(_finding(exc, "preflight"))
                with hypothesis_isolated():
                    for index, (name, phase) in enumerate(self.phases, 1):
                        self._run_phase(index, total, name, phase)
                        if result.error:
                            break
            except KitError as exc:
                self._cleaning = True
                result.error = str(exc)
            except (KeyboardInterrupt, Interrupted) as exc:
                self._cleaning = True
                result.error = "interrupted" + (
                    " (SIGTERM)" if isinstance(exc, Interrupted) else ""
                )
                self.say(f"\n{result.error}: cleaning up")
            finally:
                self._cleaning = True
                self._cleanup(self._cleanup_signals)
                if self._cleanup_signals and not result.error:
                    result.error = "interrupted during the final cleanup"
                self._finish(started)
                for report in self.reporters:
                    report(result)
        return result

    @staticmethod
    def _interruption(signum: int) -> BaseException:
        return Interrupted() if signum == signal.SIGTERM else KeyboardInterrupt()

    def _on_signal(self, signum: int) -> None:
        if self._cleaning:
            self._signal_in_cleanup(self._cleanup_signals, signum)
            return
        self._stop_signal = signum
        raise self._interruption(signum)

    def _halt_if_stopped(self) -> None:
        """Asked before every request but the final cleanup's: a signal whose
        exception was swallowed (Python drops one raised inside a garbage
        collector callback, where Hypothesis has one) still stops the checks."""
        if self._stop_signal is not None and not self._cleaning:
            raise self._interruption(self._stop_signal)

    def _finish(self, started: float) -> None:
        result = self.result
        result.seconds = time.monotonic() - started
        result.requests = self.ctx.budget.used
        result.choices = self.ctx.choices.as_json()
        result.exchanges = [e.as_json() for e in self.ctx.recorder.exchanges[-3000:]]
        for client in self.ctx.clients():
            for soft in client.soft_violations:
                result.findings.append(_finding(soft, "cleanup"))
        skipped = [p.name for p in result.phases if p.status == "skipped"]
        if result.error:
            result.exit_code = EXIT_ERROR
        elif result.findings:
            result.exit_code = EXIT_VIOLATIONS
        elif skipped:
            # Nothing wrong seen, but not every check ran: not a verdict of conformance.
            result.error = "request budget spent before these checks ran: " + ", ".join(skipped)
            result.exit_code = EXIT_ERROR
        else:
            result.exit_code = EXIT_OK
        self.summary()

    def _run_phase(self, index: int, total: int, name: str, phase: PhaseFn) -> None:
        result = self.result
        self.say(f"[{index}/{total}] {name} ...")
        before = self.ctx.budget.used
        started = time.monotonic()
        outcome = PhaseResult(name, "passed", first_request=before)
        self.ctx.notes.clear()
        try:
            try:
                phase(self.ctx)
            except Exception:
                # A signal already stopped the checks: whatever the phase raised after
                # it (an assertion on a half-read answer, say) is the interruption's
                # doing, not a verdict on the deployment, nor a reason to say "error".
                if self._stop_signal is not None:
                    raise self._interruption(self._stop_signal) from None
                raise
        except BudgetExhausted as exc:
            outcome.status, outcome.note = "skipped", str(exc)
        except NotRun as exc:
            outcome.status, outcome.note = "not run", str(exc)
        except ContractViolation as exc:
            outcome.status = "failed"
            result.findings.append(_finding(exc, name))
        except KitError:
            outcome.status = "error"
            raise
        except Flaky as exc:
            violation = _unwrap(exc)
            outcome.status = "failed"
            if violation is not None:
                finding = _finding(violation, name)
                if name == LIFECYCLE:
                    finding.details.append("the deployment answered inconsistently on replay")
            else:
                finding = Finding(name, f"inconsistent answers on replay: {exc}", name)
            result.findings.append(finding)
        except Exception as exc:
            violation = _unwrap(exc)
            if violation is None:
                inner = exc
                budget = isinstance(exc, BudgetExhausted) or _find(exc, BudgetExhausted)
                if budget:
                    outcome.status, outcome.note = "skipped", "request budget spent"
                else:
                    kit = _find(exc, KitError)
                    if kit is not None:
                        outcome.status = "error"
                        raise kit from None
                    outcome.status, outcome.note = "error", f"{type(inner).__name__}: {inner}"
                    result.error = f"{name} could not run: {type(inner).__name__}: {inner}"
            else:
                outcome.status = "failed"
                result.findings.append(_finding(violation, name))
        finally:
            if self.ctx.notes and not outcome.note:
                outcome.note = "; ".join(dict.fromkeys(self.ctx.notes))
            outcome.requests = self.ctx.budget.used - before
            outcome.seconds = time.monotonic() - started
            result.phases.append(outcome)
            self.say(
                f"      {outcome.status}  ({outcome.requests} requests, {outcome.seconds:.1f}s)"
                + (f"  {outcome.note}" if outcome.note else "")
            )

    def _signal_in_cleanup(self, signals: list[int], signum: int) -> None:
        signals.append(signum)
        if len(signals) == 1:
            self.say(
                "cleanup: still removing what this run created; signal again to stop "
                "and list what is left"
            )

    def _cleanup(self, signals: list[int]) -> None:
        """Remove what the run created; a second signal during it stops it, listing the rest.

        After an interruption or an error a create may have been answered
        without the kit reading the answer, so the run's prefix is also looked
        for in the listings.
        """

        def stop() -> bool:
            return len(signals) >= 2

        ctx = self.ctx
        if ctx.ids.live:
            self.say(f"cleanup: purging {len(ctx.ids.live)} credential(s) this run created")
        leftovers = ctx.cleanup(stop=stop)
        if self.result.error and not stop() and not ctx.settings.read_only:
            leftovers += self._sweep(stop)
        if stop() and not ctx.settings.read_only:
            leftovers = self._left_after_stop(leftovers)
        self.result.leftovers = sorted(set(leftovers))
        if self.result.leftovers:
            self.say(
                f"cleanup: {len(self.result.leftovers)} credential(s) left behind: "
                + ", ".join(self.result.leftovers)
            )
            self.say(
                f"cleanup: remove them with `planasonix-contract cleanup --base-url "
                f"{ctx.client.base_url} --prefix {ctx.prefix}` (and --api-key)"
            )

    def _left_after_stop(self, known: list[str]) -> list[str]:
        """What is really left when a signal cut the cleanup short, from the deployment.

        The kit's own list can be wrong both ways: a purge in flight when the
        signal came may still have finished, and a create interrupted earlier
        may have been made without the kit reading its answer. One look at the
        listings (reads only) settles it; an id the listings cannot show (a
        deployment that hides deleted ones) stays listed unless its GET is 404.
        """
        from contracts.kit.cli.cleanup import prefixed

        try:
            found: set[str] = set()
            for client in self.ctx.clients():
                found |= set(prefixed(client, self.ctx.prefix, final=True))
            hidden = [c for c in known if c not in found]
            for cred_id in hidden:
                if self.ctx.client.get(cred_id, final=True, note="cleanup").status != 404:
                    found.add(cred_id)
        except Exception:  # no answer (or no budget): what the kit knows is the best list
            return known
        return sorted(found)

    def _sweep(self, stop: Callable[[], bool]) -> list[str]:
        """Credentials named with the run's prefix that the kit did not see created."""
        from contracts.kit.cli.cleanup import prefixed

        left: list[str] = []
        for client in self.ctx.clients():
            if stop():
                break
            try:
                found = prefixed(client, self.ctx.prefix, final=True)
            except Exception:  # a listing that fails leaves nothing more to find
                continue
            for cred_id in sorted(found):
                if cred_id in self.ctx.ids.created and cred_id not in self.ctx.ids.live:
                    continue  # purged already; a lagging listing
                self.ctx.ids.add(cred_id, client.label)
                try:
                    gone = not stop() and client.remove(cred_id, final=True)
                except Exception:
                    gone = False
                if gone:
                    self.ctx.ids.purged(cred_id)
                else:
                    left.append(cred_id)
        return left

    def summary(self) -> None:
        result = self.result
        self.say("")
        for finding in result.findings:
            self.say(f"VIOLATION [{finding.check}] (phase {finding.phase}): {finding.message}")
            for detail in finding.details:
                self.say(f"    {detail}")
            if finding.sequence:
                self.say("    shortest failing sequence (key and secrets masked):")
                for line in finding.sequence:
                    self.say(f"      {line}")
        if result.choices:
            self.say("learned implementation choices:")
            for situation, answer in result.choices.items():
                self.say(f"    {situation}: {answer}")
        verdict = {EXIT_OK: "CONFORMANT", EXIT_VIOLATIONS: "VIOLATIONS FOUND"}.get(
            result.exit_code, "COULD NOT RUN"
        )
        failed = ", ".join(sorted(result.checks_failed())) or "none"
        self.say(
            f"{verdict}: {len(result.findings)} violation(s) [{failed}]; "
            f"{self.ctx.budget.used} requests in {result.seconds:.1f}s; seed {result.seed} "
            f"(--seed {result.seed} replays this run)"
            + (f"; error: {result.error}" if result.error else "")
        )


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first ``kind`` in ``exc``, its causes and contexts, or its exception groups."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(x for x in (current.__cause__, current.__context__) if x is not None)
    return None


def write_report(result: RunResult, path: str | Path) -> None:
    write_json(path, result.as_json())


def junit_cases(result: RunResult) -> list[Case]:
    """One test case per check: a failure per finding, the reason a check did not run."""
    phases = {p.name: p for p in result.phases}
    cases = []
    for check, description in CHECKS.items():
        case = Case(name=check, classname="contract", description=description)
        case.failures = [
            Failure(f.message, "\n".join([*f.details, *f.sequence]))
            for f in result.findings
            if f.check == check
        ]
        phase = phases.get(check)
        if phase is not None and phase.status == "error":
            case.error = phase.note or result.error or "error"
        elif phase is not None and phase.status in ("skipped", "not run") and not case.failures:
            case.skipped = phase.note or "skipped"
        cases.append(case)
    return cases


def write_junit(result: RunResult, path: str | Path) -> None:
    properties: dict[str, object] = {"seed": result.seed, "prefix": result.prefix}
    if result.leftovers:
        properties["leftovers"] = " ".join(result.leftovers)
    write_junit_cases(
        path,
        "planasonix-contract",
        junit_cases(result),
        properties=properties,
        seconds=result.seconds,
        error=result.error or None,
    )
