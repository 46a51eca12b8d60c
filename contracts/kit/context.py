"""What every check of one run shares: clients, canaries, learned choices, settings."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.kit.canaries import CanaryDetector, CanaryFactory
from contracts.kit.client import Budget, Client, CreatedIds, Recorder
from contracts.kit.model import Choices
from contracts.kit.violations import ContractViolation
from contracts.kit.wire.keymask import KeyMask
from contracts.kit.wire.limits import DEFAULT_MAX_BODY


def run_prefix() -> str:
    """A name prefix unique to one run: every credential the run creates starts with it."""
    return "plnx-contract-" + secrets.token_hex(4) + "-"


# The seed of a run when none is given: every run is replayable, and the same
# command against the same implementation sends the same requests.
DEFAULT_SEED = 20250101


@dataclass
class Settings:
    max_examples: int = 25
    step_count: int = 12
    seed: int = DEFAULT_SEED
    read_only: bool = False
    schemathesis_examples: int = 5
    # --no-shrink: the state machine reports the first failing sequence as found,
    # without the (many) further requests Hypothesis spends shortening it.
    shrink: bool = True
    # --strict: every expectation is held like a rule of the page.
    strict: bool = False
    # Expectations the deployment's profile declares (its "expectations" list): held too.
    declared: frozenset[str] = frozenset()
    # The profile's update_replaces_config (None: no profile says; learned and held).
    update_replaces_config: bool | None = None


@dataclass
class KitContext:
    client: Client
    prefix: str
    factory: CanaryFactory
    recorder: Recorder
    budget: Budget
    ids: CreatedIds
    settings: Settings = field(default_factory=Settings)
    second: Client | None = None
    # --read-only-api-key: a key of the same workspace holding only connections:read.
    reader: Client | None = None
    choices: Choices = field(default_factory=Choices)
    # What the current phase could not check (a missing key, say): shown beside its verdict.
    notes: list[str] = field(default_factory=list)
    # The path prefixes the deployment serves ("" for /api, "/v1" for /v1/api), as
    # discovered before the checks run (see contracts.kit.checks.prefixes).
    prefixes: tuple[str, ...] = ("", "/v1")
    # Whether the deployment takes the key in X-Planasonix-Api-Key (None: not probed yet).
    legacy_header: bool | None = None
    # Probes the current phase could not run, with why: listed in the report.
    not_run: list[str] = field(default_factory=list)
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def detector(self) -> CanaryDetector:
        return self.factory.detector

    def sub_prefix(self, tag: str) -> str:
        """A fresh prefix under the run's one, for one test sequence or check."""
        return f"{self.prefix}{tag}{next(self._counter)}-"

    @property
    def sink(self) -> list[ContractViolation]:
        """Where every finding of the run goes before the runner reads it."""
        return self.client.soft_violations

    def report(self, violation: ContractViolation) -> None:
        """Record ``violation`` and go on: the next probe of the phase still runs."""
        self.sink.append(violation)

    def skipped(self, probe: str, why: str) -> None:
        """A probe that could not run, and why: listed in the report."""
        self.not_run.append(f"{probe}: {why}")

    def clients(self) -> list[Client]:
        return [c for c in (self.client, self.second) if c is not None]

    @classmethod
    def build(
        cls,
        base_url: str,
        api_key: str,
        *,
        second_api_key: str | None = None,
        read_only_api_key: str | None = None,
        max_requests: int | None = None,
        settings: Settings | None = None,
        prefix: str | None = None,
        timeout: float = 30.0,
        max_retry_after: float = 30.0,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> KitContext:
        detector = CanaryDetector()
        factory = CanaryFactory(detector)
        budget = Budget(max_requests)
        recorder = Recorder()
        ids = CreatedIds()
        budget.reserve = ids.cleanup_cost
        # One mask for the run: a key any client sends is masked in every report.
        keys = KeyMask([api_key, second_api_key, read_only_api_key])
        sink: list[ContractViolation] = []
        roles: dict[str, str] = {}

        def make(key: str, label: str) -> Client:
            client = Client(
                base_url,
                key,
                detector=detector,
                budget=budget,
                recorder=recorder,
                ids=ids,
                label=label,
                timeout=timeout,
                max_retry_after=max_retry_after,
                masked_keys=keys,
                max_body=max_body,
                sink=sink,
                key_roles=roles,
            )
            # A finding an answer shows is recorded and the probe goes on.
            client.raise_violations = False
            return client

        ctx_prefix = prefix or run_prefix()
        # What the kit sends in the clear: no canary window may occur in it.
        factory.reserve(*keys, ctx_prefix)
        ctx = cls(
            client=make(api_key, "primary"),
            second=make(second_api_key, "second") if second_api_key else None,
            reader=make(read_only_api_key, "read-only") if read_only_api_key else None,
            prefix=ctx_prefix,
            factory=factory,
            recorder=recorder,
            budget=budget,
            ids=ids,
            settings=settings or Settings(),
        )
        if base_url.rstrip("/").endswith("/v1"):
            ctx.prefixes = ("",)  # the base already holds the version: never /v1/v1/api
        labels = [c.label for c in ctx.clients()]
        ids.owners = set(labels)
        # A create may be made with a key the deployment maps elsewhere: the worst case.
        budget.create_cost = 2 * len(labels)
        return ctx

    def cleanup(self, stop: Callable[[], bool] = lambda: False) -> list[str]:
        """Purge every credential this run created and has not purged; returns leftovers.

        A credential made with a foreign key (a deployment that ignored it) has
        no known owner: every client of the run tries it. ``stop`` is asked
        before each credential; once it says so, the rest are left (and returned).
        """
        leftovers: list[str] = []
        by_label = {c.label: c for c in self.clients()}
        for cred_id, owner in list(self.ids.live.items()):
            if stop():
                leftovers.append(cred_id)
                continue
            owner_client = by_label.get(owner)
            candidates = [owner_client] if owner_client else self.clients()
            gone = False
            for client in candidates:
                try:
                    gone = client.remove(cred_id, final=True)
                except Exception:  # cleanup goes on whatever one call does
                    gone = False
                if gone and owner_client is not None:
                    break
            if gone:
                self.ids.purged(cred_id)
            else:
                leftovers.append(cred_id)
        return leftovers
