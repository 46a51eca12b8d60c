"""A scripted walk through the whole lifecycle, for every type, before the random one.

It meets every open situation of the lifecycle once, in a fixed order, so the
deployment's choices are learned early and the plain invariants are checked
on every run however few examples the state machine gets. Each type's walk
is one short sequence, reported as such when it fails.
"""

from __future__ import annotations

from typing import Any

from contracts.kit.checks.common import DRAWN_CONFIG_REFUSED, draw_one, secret_configs
from contracts.kit.checks.paging import walk
from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.model import Cred, Model, shown_as_sent
from contracts.kit.rules import page
from contracts.kit.rules.sources import from_page
from contracts.kit.violations import LIFECYCLE, ContractViolation
from contracts.registry import CREDENTIAL_TYPES, secret_paths
from contracts.strategies import config_patches

OMITTED_UNCHANGED = from_page(
    page.UPDATE,
    "Omitted fields are left unchanged unless the API documentation for your deployment "
    "states otherwise.",
)

JSON = Any


def run_scenario(ctx: KitContext) -> None:
    """Every type's walk runs: a finding ends that type's walk only (the rest of it is
    listed as not run), and the next type's walk goes on."""
    for index, type_ in enumerate(CREDENTIAL_TYPES):
        ctx.recorder.start_sequence()
        try:
            _walk_type(ctx, type_, index)
        except ContractViolation as exc:
            if not exc.sequence:
                exc.sequence = [e.curl() for e in ctx.recorder.current]
            ctx.report(exc)
            ctx.skipped(f"the rest of the scripted {type_} walk", "stopped after a finding")


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
    if first is None:
        ctx.skipped(f"the scripted {type_} walk", DRAWN_CONFIG_REFUSED)
        return
    cred = model.creds[first]
    model.on_get(cred, client.get(first))
    listing()
    # a second active credential with the same name must be refused
    create(name)
    patch = draw_one(config_patches(type_, ctx.factory.strategy()), seed=index)
    body: dict[str, JSON] = {"name": f"{name}-renamed", "config": cred.config_update(patch)}
    model.on_update(cred, body, client.update(first, body))
    model.on_get(cred, client.get(first))
    _partial_update(ctx, model, cred, client)
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


def _partial_update(ctx: KitContext, model: Model, cred: Cred, client: Client) -> None:
    """A PUT whose config holds one new secret and nothing else: every other config field
    is omitted, so it must stay as it was (the page: "Omitted fields are left unchanged"),
    unless the deployment's profile says ``update_replaces_config``. Without a profile the
    deployment's answer is learned and held: the sentence reads two ways for a field
    inside ``config`` (an omitted config key left unchanged, or ``config`` sent and so
    replaced as a whole), and the kit never fails a reading the page allows. Omitted
    top-level fields (a PUT without ``config`` or without ``name``) are always held to
    the sentence: the model compares every view with what was last set.
    """
    paths = [p for p in secret_paths(cred.type) if len(p) == 1 and p[0] in cred.sent_config]
    if not paths or not cred.config:
        return  # no secret to send alone, or no shown field that could stay
    patch = {paths[0][0]: ctx.factory.fresh()}
    reply = client.update(cred.id, {"config": patch})
    replaces = ctx.settings.update_replaces_config
    view = reply.data if reply.ok and isinstance(reply.data, dict) else None
    if view is None or not isinstance(view.get("config"), dict):
        # Refused (a deployment that replaces the config may find required fields
        # missing), or nothing shown to tell merged from replaced: nothing to judge.
        return
    shown = view["config"]
    kept = not shown_as_sent(cred.config, shown) and all(k in shown for k in cred.config)
    answer = "merged" if kept else "replaced"
    if replaces is None:
        model.choices.hold("update with part of the config", answer, reply.exchange)
    elif kept == replaces:
        said = "replaces it whole" if replaces else "merges it, leaving omitted fields"
        raise ContractViolation(
            LIFECYCLE,
            f"a PUT with one new secret in config and nothing else: the config was {answer}, "
            f"but the deployment's profile says a PUT with config {said}",
            reply.exchange,
            source=OMITTED_UNCHANGED,
        )
    cred.sent_config = {**cred.sent_config, **patch} if answer == "merged" else dict(patch)
    cred.config = dict(shown)
    updated = view.get("updated_at")
    if isinstance(updated, str):
        cred.updated_at = updated


def probe_config_update(ctx: KitContext) -> None:
    """One password credential and a PUT with a new secret alone: what the deployment
    does with the omitted config fields, learned into the run's choices (for ``learn``)."""
    model = Model(ctx.choices, prefix=ctx.sub_prefix("u"))
    body = {
        "name": f"{model.prefix}config",
        "type": "password",
        "config": {"username": "contract-kit", "password": ctx.factory.fresh()},
    }
    new_id = model.on_create(body, ctx.client.create(body))
    if new_id is None:
        return
    _partial_update(ctx, model, model.creds[new_id], ctx.client)
    ctx.client.remove(new_id)
