"""A scripted walk through the whole lifecycle, for every type, before the random one.

It meets every open situation of the lifecycle once, in a fixed order, so the
deployment's choices are learned early and the plain invariants are checked
on every run however few examples the state machine gets. Each type's walk
is one short sequence, reported as such when it fails.
"""

from __future__ import annotations

from typing import Any

from contracts.kit.checks.common import draw_one, secret_configs
from contracts.kit.checks.paging import walk
from contracts.kit.context import KitContext
from contracts.kit.model import Model
from contracts.kit.violations import ContractViolation
from contracts.registry import CREDENTIAL_TYPES
from contracts.strategies import config_patches

JSON = Any


def run_scenario(ctx: KitContext) -> None:
    for index, type_ in enumerate(CREDENTIAL_TYPES):
        ctx.recorder.start_sequence()
        try:
            _walk_type(ctx, type_, index)
        except ContractViolation as exc:
            if not exc.sequence:
                exc.sequence = [e.curl() for e in ctx.recorder.current]
            raise


def _walk_type(ctx: KitContext, type_: str, index: int) -> None:
    client = ctx.client
    model = Model(ctx.choices, prefix=ctx.sub_prefix("w"))
    config = next(secret_configs(ctx, type_))
    name = f"{model.prefix}{type_}"

    def listing() -> None:
        items, reply = walk(client)
        model.check_listing(items, reply)

    def create(new_name: str) -> str | None:
        body = {"name": new_name, "type": type_, "config": config}
        return model.on_create(body, client.create(body))

    first = create(name)
    assert first is not None
    cred = model.creds[first]
    model.on_get(cred, client.get(first))
    listing()
    # a second active credential with the same name must be refused
    create(name)
    patch = draw_one(config_patches(type_, ctx.factory.strategy()), seed=index)
    body: dict[str, JSON] = {"name": f"{name}-renamed", "config": cred.config_update(patch)}
    model.on_update(cred, body, client.update(first, body))
    model.on_get(cred, client.get(first))
    model.on_delete(cred, client.delete(first))
    model.on_get(cred, client.get(first))
    listing()
    model.on_delete(cred, client.delete(first))
    model.on_get(cred, client.get(first))
    patch = draw_one(config_patches(type_, ctx.factory.strategy()), seed=index + 100)
    body = {"config": cred.config_update(patch)}
    model.on_update(cred, body, client.update(first, body))
    listing()
    # the name of a soft-deleted one: reserved or freed
    second = create(cred.name)
    if second is not None:
        model.on_restore(cred, client.restore(first))  # must be refused: the name clashes
        model.on_delete(model.creds[second], client.delete(second))
        model.on_purge(model.creds[second], client.purge(second))
    model.on_restore(cred, client.restore(first))
    model.on_get(cred, client.get(first))
    listing()
    model.on_restore(cred, client.restore(first))
    model.on_purge(cred, client.purge(first))
    if not cred.purged:
        model.on_delete(cred, client.delete(first))
        model.on_purge(cred, client.purge(first))
    model.on_get(cred, client.get(first))
    model.on_update(cred, {"name": name}, client.update(first, {"name": name}))
    model.on_delete(cred, client.delete(first))
    model.on_restore(cred, client.restore(first))
    model.on_purge(cred, client.purge(first))
    listing()
    # the purged one's name is free again
    third = create(cred.name)
    if third is None:
        raise ContractViolation(
            "lifecycle", "invariant 3: the name of a purged credential is not free again"
        )
    listing()
    for leftover in model.live():
        client.remove(leftover.id)
