"""Helpers the checks share: valid bodies, holding answers to statuses, probes that go on.

A check records what it finds and goes on (:func:`check_status`,
:meth:`KitContext.report`); it raises :class:`ContractViolation` only where
going on means nothing (a create failed: nothing to probe), and then
:func:`probing` records the finding and the probes it stopped. Every request
goes through :class:`contracts.kit.client.Client`, so every answer of every
check is also scanned for canaries and validated against the response schemas.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from functools import cache
from typing import Any

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Reply
from contracts.kit.violations import (
    PAGINATION,
    VALIDATION,
    ContractViolation,
    Source,
)
from contracts.registry import secret_paths, validate_config
from contracts.strategies import configs

JSON = Any
_FIND_SETTINGS = settings(
    database=None,
    max_examples=500,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.generate],
)


# --- building valid bodies ----------------------------------------------------------


NAME_REFUSALS = frozenset({409, 400, 422})
"""How a deployment may refuse a name another active credential holds: the page
says names are unique within the workspace, not with which status."""


def get_path(config: JSON, path: tuple[str, ...]) -> JSON:
    node = config
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def present_secret_paths(type_: str, config: JSON) -> list[tuple[str, ...]]:
    return [p for p in secret_paths(type_) if get_path(config, p) is not None]


def set_path(config: dict[str, JSON], path: tuple[str, ...], value: JSON) -> None:
    node = config
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


@cache
def _config_template(type_: str, path: tuple[str, ...]) -> str | None:
    """A small valid config of ``type_`` that holds the secret at ``path`` (as JSON text).

    Some secrets only appear next to others (a certificate password needs its
    certificate), which the strategies may never draw together: those are
    added by hand to configs that hold their partners, and kept when valid.
    """
    placeholder = "x" * 24

    def found_with(target: tuple[str, ...]) -> dict[str, JSON] | None:
        try:
            return find(
                configs(type_, st.just(placeholder)),
                lambda c: get_path(c, target) is not None,
                settings=_FIND_SETTINGS,
                random=random.Random(0),
            )
        except NoSuchExample:
            return None

    direct = found_with(path)
    if direct is not None:
        return json.dumps(direct)
    for other in secret_paths(type_):
        base = found_with(other) if other != path else None
        if base is None:
            continue
        set_path(base, path, placeholder)
        if not validate_config(type_, base):
            return json.dumps(base)
    return None


def draw_one(strategy: st.SearchStrategy[Any], seed: int = 0) -> Any:
    """One value of ``strategy``, the same for the same seed, without shrinking."""
    return find(strategy, lambda _: True, settings=_FIND_SETTINGS, random=random.Random(seed))


def secret_configs(ctx: KitContext, type_: str) -> Iterator[dict[str, JSON]]:
    """Valid configs of ``type_`` that together carry every secret field, as fresh canaries."""
    covered: set[tuple[str, ...]] = set()
    for path in secret_paths(type_):
        if path in covered:
            continue
        template = _config_template(type_, path)
        if template is None:
            continue
        config = json.loads(template)
        present = present_secret_paths(type_, config)
        covered.update(present)
        yield fill_canaries(ctx, type_, config)


def fill_canaries(ctx: KitContext, type_: str, config: dict[str, JSON]) -> dict[str, JSON]:
    """``config`` with every secret value it holds replaced by a fresh canary."""
    config = copy.deepcopy(config)
    for path in present_secret_paths(type_, config):
        node = config
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = ctx.factory.fresh()
    return config


def _status_violation(
    check: str,
    reply: Reply,
    allowed: AbstractSet[int],
    what: str,
    source: Source | None = None,
) -> ContractViolation:
    expected = " or ".join(str(s) for s in sorted(allowed))
    return ContractViolation(
        check,
        f"{what}: answered {reply.status}, expected {expected}",
        reply.exchange,
        source=source,
    )


def expect(check: str, reply: Reply, allowed: set[int], what: str) -> None:
    """Raise unless ``reply``'s status is allowed: for a step the next ones need."""
    if reply.status not in allowed:
        raise _status_violation(check, reply, allowed, what)


def check_status(
    ctx: KitContext,
    check: str,
    reply: Reply,
    allowed: AbstractSet[int],
    what: str,
    source: Source | None = None,
) -> bool:
    """Record a finding unless ``reply``'s status is allowed, and go on; True when allowed."""
    if reply.status in allowed:
        return True
    ctx.report(_status_violation(check, reply, allowed, what, source))
    return False


@contextmanager
def probing(ctx: KitContext, probes: str) -> Iterator[None]:
    """Run ``probes``; a finding raised inside is recorded, and so are the probes it stopped."""
    try:
        yield
    except ContractViolation as exc:
        ctx.report(exc)
        ctx.skipped(probes, f"stopped after a finding ({exc.message[:120]})")


# Why a probe on a config the kit drew (from the fake's schemas: a region "0") did
# not run: the page gives no formats for any setting, so a deployment that checks
# them is right to refuse it.
DRAWN_CONFIG_REFUSED = (
    "the deployment refused the config the kit drew (400 or 422): its own formats "
    "for settings the page gives none for"
)


def create_ok(ctx: KitContext, client: Client, body: JSON, check: str) -> str:
    return created_id(ctx, client.create(body), check)


def created_id(ctx: KitContext, reply: Reply, check: str) -> str:
    """The id a create answered, its status held; a violation if it did not create."""
    if not reply.ok or not isinstance(reply.data, dict) or "id" not in reply.data:
        raise ContractViolation(
            check, f"create of a valid credential answered {reply.status}", reply.exchange
        )
    ctx.choices.hold("create status code", str(reply.status), reply.exchange, check=check)
    return str(reply.data["id"])


def validation_refused(ctx: KitContext, reply: Reply, what: str, *, hold: bool = True) -> None:
    """An invalid request must be refused with the deployment's validation status.

    ``hold=False``: a refusal the docs name apart from validation failures (a type
    change, "400" in the endpoint table), so 400 or 422 there need not match the validation status.
    """
    if reply.ok:
        ctx.report(
            ContractViolation(VALIDATION, f"{what} was accepted ({reply.status})", reply.exchange)
        )
        return
    if reply.status in (400, 422) and hold:
        with probing(ctx, f"the rest of: {what}"):
            ctx.choices.hold(
                "validation failure status", str(reply.status), reply.exchange, VALIDATION
            )
    elif reply.status != 409:
        check_status(ctx, VALIDATION, reply, {400, 422}, what)


def refused_or_taken(ctx: KitContext, reply: Reply, what: str, *, hold: bool = True) -> None:
    """A request the docs neither allow nor forbid: any success, or a refusal
    with the deployment's validation status (or 409, or 413 for size)."""
    if reply.ok or reply.status in (409, 413):
        return
    validation_refused(ctx, reply, what, hold=hold)


def bounded_walk(
    client: Client, params: dict[str, Any], wanted: set[str], max_pages: int = 60
) -> set[str]:
    """Page until every wanted id was seen (or the end); returns the ids seen."""
    params = dict(params)
    seen: set[str] = set()
    for _ in range(max_pages):
        reply = client.list(params)
        expect(PAGINATION, reply, {200}, "list")
        for item in reply.data or []:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                seen.add(item["id"])
        cursor = (reply.body.get("meta") or {}).get("page", {}).get("cursor")
        if not cursor or (wanted and wanted <= seen):
            break
        params["cursor"] = cursor
    return seen


def password_body(ctx: KitContext, name: str) -> dict[str, JSON]:
    return {
        "name": name,
        "type": "password",
        "config": {"username": "contract-kit", "password": ctx.factory.fresh()},
    }
