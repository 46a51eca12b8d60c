"""Runs the checks against one deployment and reports: the engine behind the CLI.

Phases run in order. A phase records what it finds and goes on to its next
probe (see :meth:`contracts.kit.context.KitContext.report`); only a finding it
raises, where going on would mean nothing, ends it, and the next phase goes
on. Every finding is a violation (fails the run) or an expectation (reported
apart; it fails the run only with ``--strict`` or when the profile declares
it): :mod:`contracts.kit.rules.sources` says which. Whatever happens (a
violation, an error, Ctrl-C, SIGTERM turned into :class:`Interrupted`), what
the run created is purged at the end.

The verdict comes from one place, :meth:`Runner._finish`: exit 0 (CONFORMANT)
only when every phase of the run ran to its end and nothing was found (probes
that did not apply to the deployment are listed as not run, and the verdict
line says "partly checked");
1 for violations; 2 (COULD NOT RUN) for anything that is not a finding (an
exception of any kind, in a phase, the client or the report itself; the
budget spent; a phase that stopped early with nothing to show for it). The
JSON report, the JUnit file and the terminal are all written from the same
:class:`RunResult`, masked with the run's keys and canaries first
(:meth:`Runner._mask_result`), so they cannot disagree or show a key.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from hypothesis.errors import Flaky

from contracts.kit.checks import PhaseFn, default_phases
from contracts.kit.context import KitContext
from contracts.kit.coverage.summary import Coverage, run_coverage
from contracts.kit.exchange import Exchange
from contracts.kit.report import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VIOLATIONS,
    Case,
    Failure,
    write_html,
    write_json,
)
from contracts.kit.report import write_junit as write_junit_cases
from contracts.kit.violations import (
    CHECKS,
    EXPECTATION,
    LIFECYCLE,
    VIOLATION,
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


EXPECTATIONS_SHOWN = 3
"""Expectations of one name the terminal shows in full; the rest are counted."""


def expectations_in_brief(
    expectations: list[Finding],
) -> tuple[list[Finding], dict[str, int]]:
    """The first :data:`EXPECTATIONS_SHOWN` findings of each expectation, and how many
    more of each there are: a deployment that reads one open rule its own way meets
    it on every route, and a terminal of near-identical lines hides the rest."""
    seen: dict[str, int] = {}
    shown: list[Finding] = []
    for finding in expectations:
        name = finding.source.name if finding.source else finding.check
        seen[name] = seen.get(name, 0) + 1
        if seen[name] <= EXPECTATIONS_SHOWN:
            shown.append(finding)
    more = {n: c - EXPECTATIONS_SHOWN for n, c in seen.items() if c > EXPECTATIONS_SHOWN}
    return shown, more


@dataclass
class PhaseResult:
    name: str
    status: str  # passed | failed | skipped (budget) | not run (nothing to check with) | error
    requests: int = 0
    seconds: float = 0.0
    note: str = ""
    first_request: int = 0  # how many requests the run had sent when the phase began
    # False when the phase ended before its last probe (a raised violation, an error,
    # the budget, a signal): its verdict covers only what ran.
    complete: bool = True

    def line(self) -> str:
        """The terminal line under the phase's name: what happened, in words."""
        took = f"{self.seconds:.1f}s"
        note = f": {self.note}" if self.note else ""
        if self.status == "passed":
            return f"passed ({self.requests} requests, {took}){note}"
        if self.status == "not run":
            return f"not run{note}"
        if self.complete:
            return f"{self.status} ({self.requests} requests, {took}){note}"
        return f"{self.status} after {self.requests} of its requests ({took}){note}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "first_request": self.first_request,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "note": self.note,
            "complete": self.complete,
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
    # Expectations the deployment did not meet (rules the published page does not state).
    expectations: list[Finding] = field(default_factory=list)
    # Probes that could not run, and why.
    not_run: list[str] = field(default_factory=list)
    # What the run proved (contracts.kit.coverage), and the --fail-under gaps it left.
    coverage: dict[str, Any] = field(default_factory=dict)
    coverage_gaps: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "prefix": self.prefix,
            "seed": self.seed,
            "exit_code": self.exit_code,
            "conformant": self.exit_code == EXIT_OK,
            "error": self.error,
            "findings": [f.as_json() for f in self.findings],
            "expectations": [f.as_json() for f in self.expectations],
            "not_run": self.not_run,
            "phases": [p.as_json() for p in self.phases],
            "learned_choices": self.choices,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "leftovers": self.leftovers,
            "coverage": self.coverage,
            "coverage_gaps": self.coverage_gaps,
            "exchanges": self.exchanges,
        }

    def checks_failed(self) -> set[str]:
        return {f.check for f in self.findings}


def _finding(exc: ContractViolation, phase: str) -> Finding:
    sequence = list(exc.sequence)
    if not sequence and exc.exchange is not None:
        sequence = [exc.exchange.curl()]
    return Finding(
        exc.check,
        exc.message,
        phase,
        sequence,
        list(exc.details),
        kind=exc.kind,
        source=exc.cited,
    )


# The note of a phase a raised finding ended: the probes after it did not run.
STOPPED = "stopped by a violation"

# Findings of one check with one message: the first few are shown, the rest counted.
MAX_ALIKE = 3


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
        fail_under: Mapping[str, float] | None = None,
    ) -> None:
        self.ctx = ctx
        # --fail-under KIND=PERCENT: a coverage kind under it fails the run (exit 1).
        self.fail_under = dict(fail_under or {})
        self.coverage: Coverage | None = None
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
        # Whatever a message quotes (an answer, an exception), no key shows (canaries
        # are masked where messages are made, and in the result by _mask_result).
        text = self.ctx.client.masked_keys.mask(text)
        if getattr(self.out, "isatty", lambda: False)():
            text = "\r\033[K" + text
        print(text, file=self.out, flush=True)

    def preflight(self) -> None:
        """The key must work before anything else runs; which prefixes it opens is learned."""
        from contracts.kit.checks.prefixes import discover

        discover(self.ctx)
        for client in self.ctx.clients():
            reply = client.list({"limit": 1})
            if reply.status in (401, 403):
                raise KitError(
                    f"the {client.label} API key was rejected ({reply.status}); "
                    "check --api-key / --second-api-key"
                )
            if reply.status != 200:
                raise KitError(f"listing credentials answered {reply.status}; cannot run")
            if not isinstance(reply.body, dict):
                # Nothing can be judged against a deployment whose listing the kit cannot
                # read (a body over --max-body, nested too deep, not JSON): a finding,
                # filed now, and no run.
                self._drain("preflight")
                why = [f.message for f in self.result.findings if f.phase == "preflight"]
                why.sort(key=lambda message: "did not read whole" not in message)
                raise KitError(
                    (why[-1] if why else "listing credentials answered 200 without a JSON object")
                    + "; cannot run"
                )

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
                    self._file(_finding(exc, "preflight"))
                self._drain("preflight")
                with hypothesis_isolated():
                    for index, (name, phase) in enumerate(self.phases, 1):
                        self._run_phase(index, total, name, phase)
                        if result.error:
                            break
            except KitError as exc:
                self._cleaning = True
                result.error = str(exc)
            except Exception as exc:
                # Not a finding and not the kit's own KitError: a RecursionError, a bug in
                # a check. The verdict is "could not run", never the findings so far.
                self._cleaning = True
                result.error = f"the run broke: {describe_exception(exc)}"
            except (KeyboardInterrupt, Interrupted) as exc:
                self._cleaning = True
                result.error = "interrupted" + (
                    " (SIGTERM)" if isinstance(exc, Interrupted) else ""
                )
                self.say(f"\n{result.error}: cleaning up")
            finally:
                self._cleaning = True
                self._unreached()
                self._cleanup(self._cleanup_signals)
                if self._cleanup_signals and not result.error:
                    result.error = "interrupted during the final cleanup"
                self._finish_safely(started)
                for report in self.reporters:
                    try:
                        report(result)
                    except OSError as exc:
                        # The other reports are still written; the exit code says it.
                        result.exit_code = EXIT_ERROR
                        self.say(f"could not write a report: {exc}")
        return result

    def _mask_result(self) -> None:
        """Every text of the result with the run's keys (any 8 characters of any key it
        sent) and canaries masked: the reports are written from it, whatever a check or
        an exception put into a message."""
        mask = self.ctx.client.mask
        result = self.result
        result.error = mask(result.error)
        for finding in [*result.findings, *getattr(result, "expectations", [])]:
            finding.message = mask(finding.message)
            finding.details = [mask(line) for line in finding.details]
            finding.sequence = [mask(line) for line in finding.sequence]
        for phase in result.phases:
            phase.note = mask(phase.note)
        if hasattr(result, "not_run"):
            result.not_run = [mask(line) for line in result.not_run]
        # Recorded masked already; a key first sent after an exchange was recorded is not.
        result.exchanges = _masked_json(result.exchanges, self.ctx.client.masked_keys.mask)
        result.coverage = _masked_json(result.coverage, mask)
        result.coverage_gaps = [mask(line) for line in result.coverage_gaps]

    def _unreached(self) -> None:
        """Phases the run never began (it stopped before them): listed as not run, why."""
        ran = {p.name for p in self.result.phases}
        why = self.result.error or "the run stopped"
        for name, _ in self.phases:
            if name not in ran:
                self.result.phases.append(
                    PhaseResult(
                        name,
                        "not run",
                        note=f"the run stopped before it: {why}",
                        first_request=self.ctx.budget.used,
                        complete=False,
                    )
                )

    def _finish_safely(self, started: float) -> None:
        """:meth:`_finish`, and if it breaks, still a verdict of "could not run"."""
        try:
            self._finish(started)
        except Exception as exc:
            result = self.result
            result.error = "; ".join(
                e for e in (result.error, f"the report broke: {describe_exception(exc)}") if e
            )
            result.exit_code = EXIT_ERROR
        self._mask_result()

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
        self._drain("cleanup")
        self._measure_coverage()
        skipped = [p.name for p in result.phases if p.status == "skipped"]
        if result.error:
            result.exit_code = EXIT_ERROR
        elif result.findings:
            result.exit_code = EXIT_VIOLATIONS
        elif skipped:
            # Nothing wrong seen, but not every check ran: not a verdict of conformance.
            result.error = "request budget spent before these checks ran: " + ", ".join(skipped)
            result.exit_code = EXIT_ERROR
        elif cut := [p for p in result.phases if not p.complete and p.status != "not run"]:
            # Ended early with no violation to show for it (an expectation raised, say).
            result.error = "these checks did not run all their probes: " + "; ".join(
                f"{p.name} ({p.status}: {p.note})" for p in cut
            )
            result.exit_code = EXIT_ERROR
        elif result.coverage_gaps:
            result.exit_code = EXIT_VIOLATIONS
        else:
            result.exit_code = EXIT_OK
        self._mask_result()
        self.summary()

    def _base_path(self) -> str:
        """The path of the base URL the run's requests went under (it may end in /v1)."""
        return urllib.parse.urlsplit(self.ctx.client.base_url).path.rstrip("/")

    def _measure_coverage(self) -> None:
        """What the run covered; a failure to measure it never costs the verdict, but a
        --fail-under that cannot be judged is a gap."""
        ctx, result = self.ctx, self.result
        try:
            self.coverage = run_coverage(
                ctx.recorder.exchanges, ctx.prefixes, ctx.legacy_header, self._base_path()
            )
            result.coverage = self.coverage.as_json()
            result.coverage_gaps = self.coverage.gaps(self.fail_under)
        except Exception as exc:
            self.coverage = None
            why = f"coverage could not be measured: {describe_exception(exc)}"
            result.coverage = {"error": why}
            result.coverage_gaps = [f"{kind}: {why}" for kind in self.fail_under]

    def _file(self, finding: Finding) -> None:
        """A finding into the result: an expectation apart, unless the user holds it."""
        settings = self.ctx.settings
        asked = finding.source is not None and (
            settings.strict or finding.source.name in settings.declared
        )
        if finding.kind == EXPECTATION and asked:
            finding.kind, finding.held = VIOLATION, True
        target = self.result.findings if finding.kind == VIOLATION else self.result.expectations
        alike = [f for f in target if (f.check, f.message) == (finding.check, finding.message)]
        if len(alike) < MAX_ALIKE:
            target.append(finding)

    def _drain(self, phase: str) -> bool:
        """File the findings recorded since the last drain; True if any is a violation."""
        sink = self.ctx.sink
        recorded, sink[:] = list(sink), []
        before = len(self.result.findings)
        for violation in recorded:
            self._file(_finding(violation, phase))
        return len(self.result.findings) > before

    def _run_phase(self, index: int, total: int, name: str, phase: PhaseFn) -> None:
        result = self.result
        self.say(f"[{index}/{total}] {name} ...")
        before = self.ctx.budget.used
        started = time.monotonic()
        outcome = PhaseResult(name, "passed", first_request=before)
        self.ctx.notes.clear()
        self._drain("before " + name)
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
            outcome.status, outcome.note = "failed", STOPPED
            self._file(_finding(exc, name))
        except KitError as exc:
            outcome.status, outcome.note = "error", f"could not run: {exc}"
            raise
        except Flaky as exc:
            violation = _unwrap(exc)
            outcome.status, outcome.note = "failed", STOPPED
            if violation is not None:
                finding = _finding(violation, name)
                if name == LIFECYCLE:
                    finding.details.append("the deployment answered inconsistently on replay")
            else:
                finding = Finding(name, f"inconsistent answers on replay: {exc}", name)
            self._file(finding)
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
                        outcome.status, outcome.note = "error", f"could not run: {kit}"
                        raise kit from None
                    described = describe_exception(inner)
                    outcome.status, outcome.note = "error", f"could not run: {described}"
                    result.error = f"{name} could not run: {described}"
            else:
                outcome.status, outcome.note = "failed", STOPPED
                self._file(_finding(violation, name))
        except BaseException:
            outcome.status, outcome.note = "error", "stopped by an interruption"
            raise
        finally:
            outcome.complete = outcome.status in ("passed", "failed") and outcome.note != STOPPED
            if self._drain(name):
                outcome.status = "failed" if outcome.status == "passed" else outcome.status
            if self.ctx.not_run:
                result.not_run.extend(f"{name}: {probe}" for probe in self.ctx.not_run)
                self.ctx.not_run.clear()
            found = [f for f in result.findings if f.phase == name]
            if found:
                # Which checks' rules this phase saw broken (a leak in an auth probe, say).
                checks = ", ".join(sorted({f.check for f in found}))
                tally = f"{len(found)} violation(s) [{checks}]"
                outcome.note = f"{tally}; {outcome.note}" if outcome.note else tally
            if self.ctx.notes:
                said = "; ".join(dict.fromkeys(self.ctx.notes))
                outcome.note = f"{outcome.note}; {said}" if outcome.note else said
            outcome.requests = self.ctx.budget.used - before
            outcome.seconds = time.monotonic() - started
            result.phases.append(outcome)
            self.say(f"      {outcome.line()}")

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

    def _say_body(self, finding: Finding) -> None:
        for line in _say_body_lines(finding, shortened=self.ctx.settings.shrink):
            self.say(line)

    def summary(self) -> None:
        result = self.result
        self.say("")
        for finding in result.findings:
            label = "VIOLATION (held expectation)" if finding.held else "VIOLATION"
            self.say(f"{label} [{finding.check}] (phase {finding.phase}): {finding.message}")
            self._say_body(finding)
        if result.expectations:
            self.say(
                "expectations not met (rules the published page does not state; they fail "
                "the run only with --strict or when the profile declares them):"
            )
            # A deployment that reads one open rule its own way meets it on every
            # route: the first few of each expectation in full, the rest counted
            # (the JSON report keeps them all).
            shown, more = expectations_in_brief(result.expectations)
            for finding in shown:
                where = f"[{finding.check}] (phase {finding.phase})"
                self.say(f"EXPECTATION {where}: {finding.message}")
                self._say_body(finding)
            for name, count in more.items():
                self.say(f"EXPECTATION {name}: {count} more like these (all in --report)")
        if result.not_run:
            self.say("probes that could not run:")
            for line in result.not_run:
                self.say(f"    {line}")
        if self.ctx.prefixes and not result.error:
            # A run that could not run checked no prefix, whatever it set out to check.
            base = self._base_path()
            served = ", ".join(f"{base}{p}/api" for p in self.ctx.prefixes)
            self.say(f"path prefixes served and checked: {served}")
        if result.choices:
            self.say("learned implementation choices:")
            for situation, answer in result.choices.items():
                self.say(f"    {situation}: {answer}")
        if self.coverage is not None:
            for line in self.coverage.table():
                self.say(line)
        for gap in result.coverage_gaps:
            self.say(f"COVERAGE GAP: {gap}")
        verdict = {EXIT_OK: "CONFORMANT", EXIT_VIOLATIONS: "VIOLATIONS FOUND"}.get(
            result.exit_code, "COULD NOT RUN"
        )
        if result.exit_code == EXIT_VIOLATIONS and not result.findings:
            verdict = "COVERAGE BELOW --fail-under"
        failed = ", ".join(sorted(result.checks_failed())) or "none"
        if result.error:
            verdict += f": {result.error}"
        elif not_run := [p.name for p in result.phases if p.status == "not run"]:
            verdict += f" (not run, nothing to check with: {', '.join(not_run)})"
        if result.not_run and not result.error:
            # A pass that left probes out says so on its last line, not only above it.
            verdict += (
                f" (partly checked: {len(result.not_run)} probe(s) could not run, listed above)"
            )
        self.say(
            f"{verdict}: {len(result.findings)} violation(s) [{failed}], "
            f"{len(result.expectations)} expectation(s) noted; "
            f"{self.ctx.budget.used} requests in {result.seconds:.1f}s; seed {result.seed} "
            f"(--seed {result.seed} replays this run)"
        )


def _say_body_lines(finding: Finding, *, shortened: bool = True) -> list[str]:
    lines = []
    if finding.source is not None:
        lines.append(f"    {finding.source_line()}")
    lines.extend(f"    {detail}" for detail in finding.details)
    if finding.sequence:
        kind = "shortest failing sequence" if shortened else "failing sequence, not shortened"
        lines.append(f"    {kind} (key and secrets masked):")
        lines.extend(f"      {line}" for line in finding.sequence)
    return lines


def _masked_json(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [_masked_json(item, mask) for item in value]
    if isinstance(value, dict):
        return {mask(str(k)): _masked_json(v, mask) for k, v in value.items()}
    return value


def describe_exception(exc: BaseException) -> str:
    """One line naming an unexpected exception: its type, its message, where it came from."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/contracts/" in f.filename.replace("\\", "/")]
    where = ours[-1] if ours else (frames[-1] if frames else None)
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    line = f"{type(exc).__name__}" + (f": {text}" if text else "")
    if where is not None:
        module = where.filename.replace("\\", "/").rsplit("/contracts/", 1)[-1]
        line += f" (at contracts/{module}:{where.lineno})" if ours else ""
    return line


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


def write_html_report(result: RunResult, path: str | Path) -> None:
    """The run as one self-contained HTML page, from the same masked result as the JSON."""
    write_html(path, "planasonix-contract run", result.as_json())


def junit_cases(result: RunResult) -> list[Case]:
    """The JUnit test cases of a run: nothing that did not run all its probes passes.

    One case per check, and one more per finding past a check's first, so that
    no case holds more than one ``<failure>``. A check whose phase ended early
    gets a case for the rest, ``<skipped>`` or ``<error>`` with the reason; a
    check that did not run is ``<skipped>`` (no key to check with, the budget,
    not selected, the run stopped before it) or ``<error>``; a check judged on
    every answer (the response schemas, say) is ``<skipped>`` when the run
    stopped early. The run's own error is a case of its own, ``<error>``.
    """
    phases = {p.name: p for p in result.phases}
    phase_checks = {name for name, _ in default_phases(read_only=False)}
    stopped = bool(result.error) or any(not p.complete for p in result.phases)
    cases: list[Case] = []
    for check, description in CHECKS.items():
        noted = [f for f in result.expectations if f.check == check]
        if noted:
            # Never a failure: shown beside the check's description.
            description = "\n".join(
                [description, "expectations not met (not failures):"]
                + [f"EXPECTATION: {f.message} ({f.source_line()})" for f in noted]
            )
        findings = [f for f in result.findings if f.check == check]
        for number, finding in enumerate(findings, 1):
            case = Case(
                name=check if number == 1 else f"{check} [{number}]",
                classname="contract",
                description=description,
            )
            text = "\n".join(
                line
                for line in [finding.source_line(), *finding.details, *finding.sequence]
                if line
            )
            case.failures = [Failure(finding.message, text)]
            cases.append(case)
        phase = phases.get(check)
        rest = Case(
            name=f"{check} (the rest)" if findings else check,
            classname="contract",
            description=description,
        )
        if phase is not None:
            if phase.status == "error":
                rest.error = phase.note or result.error or "error"
            elif phase.status == "not run":
                rest.skipped = phase.note or "not run"
            elif not phase.complete:
                rest.skipped = (
                    f"{phase.status} after {phase.requests} of its requests: "
                    f"{phase.note or 'its remaining probes did not run'}"
                )
            elif findings:
                rest.name = ""  # ran every probe: its findings are the whole story
        elif check in phase_checks:
            rest.skipped = "not part of this run (--check, --read-only)"
        elif stopped:
            ended = ", ".join(p.name for p in result.phases if not p.complete)
            why = (
                f"the run stopped early: {result.error}"
                if result.error
                else f"phases ended before their last probe ({ended})"
            )
            rest.skipped = f"judged on every answer; {why}, so not on all it would have sent"
        elif findings:
            rest.name = ""
        if rest.name:
            cases.append(rest)
        left_out = [
            line.partition(": ")[2] for line in result.not_run if line.startswith(f"{check}: ")
        ]
        if left_out:
            # Probes that did not apply or could not run: said, and never counted as passed.
            cases.append(
                Case(
                    name=f"{check} (probes not run)",
                    classname="contract",
                    skipped="; ".join(left_out),
                )
            )
    for gap in result.coverage_gaps:
        kind = gap.partition(" ")[0]
        failure = Failure(gap, kind="coverage")
        cases.append(Case(name=f"coverage: {kind}", classname="contract", failures=[failure]))
    if result.error:
        cases.append(Case(name="run", classname="contract", error=f"could not run: {result.error}"))
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
