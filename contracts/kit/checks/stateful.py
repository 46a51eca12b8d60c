"""The lifecycle check: a Hypothesis state machine against the reference model.

It creates, reads, lists, updates, soft-deletes, restores and purges
credentials of all seven types in random order, renames onto taken names and
creates with taken names, and after every step walks the listing and checks
it against :class:`contracts.kit.model.Model`. Every secret it sends is a canary.
Each test sequence works under its own name prefix and purges what it made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from contracts.kit.checks.common import DRAWN_CONFIG_REFUSED
from contracts.kit.checks.paging import walk
from contracts.kit.checks.scenario import run_scenario
from contracts.kit.context import KitContext
from contracts.kit.model import Model
from contracts.kit.violations import ContractViolation
from contracts.strategies import config_patches, create_bodies, names

JSON = Any
T = TypeVar("T")


def make_machine(ctx: KitContext) -> type[RuleBasedStateMachine]:
    """The state machine class bound to one run's context."""
    secrets = ctx.factory.strategy()
    bodies = create_bodies(secrets=secrets)
    suffixes = names("")
    client = ctx.client

    class LifecycleMachine(RuleBasedStateMachine):
        creds = Bundle("creds")

        def __init__(self) -> None:
            super().__init__()
            ctx.recorder.start_sequence()
            self.model = Model(ctx.choices, prefix=ctx.sub_prefix("s"))

        def _step(self, action: Callable[[], T]) -> T:
            try:
                return action()
            except ContractViolation as exc:
                if not exc.sequence:
                    exc.sequence = [e.curl() for e in ctx.recorder.current]
                raise

        def _create(self, body: dict[str, JSON]) -> Any:
            def act() -> Any:
                holder = self.model.holder_of(body["name"])
                reply = client.create(body)
                new_id = self.model.on_create(body, reply)
                if new_id is None and reply.status in (400, 422) and holder is None:
                    # A drawn config refused: no credential of that type to walk.
                    probe = f"state machine credentials of type {body['type']}"
                    if not any(line.startswith(probe) for line in ctx.not_run):
                        ctx.skipped(probe, DRAWN_CONFIG_REFUSED)
                return multiple() if new_id is None else new_id

            return self._step(act)

        @rule(target=creds, body=bodies)
        def create(self, body: dict[str, JSON]) -> Any:
            return self._create({**body, "name": self.model.prefix + body["name"]})

        @rule(target=creds, existing=creds, body=bodies)
        def create_with_taken_name(self, existing: str, body: dict[str, JSON]) -> Any:
            return self._create({**body, "name": self.model.creds[existing].name})

        @rule(cred=creds)
        def get(self, cred: str) -> None:
            self._step(lambda: self.model.on_get(self.model.creds[cred], client.get(cred)))

        @rule(cred=creds, data=st.data(), rename=st.booleans())
        def update(self, cred: str, data: st.DataObject, rename: bool) -> None:
            current = self.model.creds[cred]
            body: dict[str, JSON] = {}
            if rename:
                body["name"] = self.model.prefix + data.draw(suffixes, label="name")
            if not rename or data.draw(st.booleans(), label="with config"):
                patch = data.draw(config_patches(current.type, secrets), label="config patch")
                body["config"] = current.config_update(patch)
            self._step(lambda: self.model.on_update(current, body, client.update(cred, body)))

        @rule(cred=creds, other=creds)
        def rename_to_taken(self, cred: str, other: str) -> None:
            current = self.model.creds[cred]
            body = {"name": self.model.creds[other].name}
            self._step(lambda: self.model.on_update(current, body, client.update(cred, body)))

        @rule(cred=creds)
        def delete(self, cred: str) -> None:
            self._step(lambda: self.model.on_delete(self.model.creds[cred], client.delete(cred)))

        @rule(cred=creds)
        def restore(self, cred: str) -> None:
            self._step(lambda: self.model.on_restore(self.model.creds[cred], client.restore(cred)))

        @rule(cred=creds)
        def purge(self, cred: str) -> None:
            self._step(lambda: self.model.on_purge(self.model.creds[cred], client.purge(cred)))

        @invariant()
        def listing_matches_model(self) -> None:
            if not self.model.creds:
                return

            def act() -> None:
                items, reply = walk(client)
                self.model.check_listing(items, reply)

            self._step(act)

        def teardown(self) -> None:
            for cred in self.model.live():
                if cred.id in ctx.ids.live:
                    try:
                        client.remove(cred.id)
                    except Exception:  # the run's final cleanup retries what is left
                        continue
                    ctx.ids.purged(cred.id)

    return LifecycleMachine


def lifecycle_settings(ctx: KitContext) -> settings:
    return settings(
        max_examples=ctx.settings.max_examples,
        stateful_step_count=ctx.settings.step_count,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if ctx.settings.shrink else []),
        print_blob=False,
    )


def run_lifecycle(ctx: KitContext) -> None:
    """The scripted walk, then the state machine; raises the (shrunk) violation found."""
    run_scenario(ctx)
    machine = make_machine(ctx)
    if ctx.settings.seed is not None:
        machine = seed(ctx.settings.seed)(machine)
    run_state_machine_as_test(machine, settings=lifecycle_settings(ctx))
