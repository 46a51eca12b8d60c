"""``planasonix-contract learn``: a deployment's choices, written as a profile.

It runs the sequence ``diff`` runs (:func:`contracts.kit.profiles.diff.build_sequence`)
against the deployment alone, under the kit's safety rules (own prefix, own
key, budget, cleanup), judges every answer with the reference model like
``run`` does, and reads each setting of :class:`contracts.profile.Profile` off
the answers: the model's learned :class:`~contracts.kit.model.Choices` for the
lifecycle, the answers themselves for codes, headers, fields and page sizes.
A setting it could not observe keeps the fake's default and is listed under
``undetermined``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.kit.checks.paging import page_limit
from contracts.kit.checks.prefixes import discover_prefixes
from contracts.kit.checks.scenario import probe_config_update
from contracts.kit.client import Client
from contracts.kit.context import DEFAULT_SEED, KitContext
from contracts.kit.model import Model
from contracts.kit.profiles.diff import (
    DEPLOYMENT,
    Outcome,
    Sequence,
    Side,
    Step,
    build_sequence,
    list_order,
    preflight,
)
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS
from contracts.kit.violations import EXPECTATION, ContractViolation, KitError
from contracts.kit.wire.limits import DEFAULT_MAX_BODY
from contracts.profile import DOCUMENTED_FIELDS, Profile, setting_names
from contracts.registry import CREDENTIAL_TYPES, config_fields

JSON = Any
HUGE_LIMIT = 100000

# Model.choices situation -> (profile setting, {answer: value}).
FROM_CHOICES: dict[str, tuple[str, dict[str, JSON]]] = {
    "create status code": ("create_status", {"201": 201, "200": 200, "202": 202, "203": 203}),
    "GET of a soft-deleted id": (
        "get_deleted",
        {"200": "found", "404": "not_found", "410": "gone"},
    ),
    "list without status": (
        "list_default_status",
        {"active only": "active", "deleted included": "all"},
    ),
    "delete of an already deleted one": (
        "delete_deleted",
        {"200": "unchanged", "409": "conflict", "404": "not_found", "410": "gone"},
    ),
    "restore of an active one": ("restore_active", {"200": "unchanged", "409": "conflict"}),
    "name of a soft-deleted credential": (
        "deleted_names",
        {"reserved": "reserved", "freed": "freed"},
    ),
    "purge of an active one": ("purge_active", {"200": "allowed", "409": "conflict"}),
    "update of a soft-deleted one": (
        "update_deleted",
        {"409": "conflict", "200": "allowed", "404": "not_found", "410": "gone"},
    ),
    "deleted_at on get": ("deleted_at_on_get", {"present": "present", "absent": "absent"}),
    "deleted_at on list": ("deleted_at_on_list", {"present": "present", "absent": "absent"}),
    "refusal of a taken name": ("name_taken_status", {"409": 409, "400": 400, "422": 422}),
    "update with part of the config": (
        "update_replaces_config",
        {"merged": False, "replaced": True},
    ),
}


@dataclass
class LearnResult:
    base_url: str
    prefix: str
    seed: int
    settings: dict[str, JSON] = field(default_factory=dict)
    violations: list[ContractViolation] = field(default_factory=list)
    error: str = ""
    requests: int = 0
    seconds: float = 0.0
    leftovers: list[str] = field(default_factory=list)

    @property
    def undetermined(self) -> tuple[str, ...]:
        return tuple(n for n in setting_names() if n not in self.settings)

    @property
    def broken(self) -> list[ContractViolation]:
        """The findings against the page or its invariants; expectations not met (a
        ``+00:00`` offset, an error body of another shape) are not among them."""
        return [v for v in self.violations if v.kind != EXPECTATION]

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_VIOLATIONS if self.broken else EXIT_OK

    def profile(self) -> Profile:
        """The learned settings, the fake's defaults elsewhere (listed as undetermined)."""
        learned = Profile().with_settings(**self.settings)
        return replace(
            learned,
            description=f"learned from {self.base_url} by planasonix-contract learn "
            f"(seed {self.seed})",
            undetermined=self.undetermined,
        )


class Observer:
    """Reads settings off the deployment's answers, step by step."""

    def __init__(self, settings: dict[str, JSON], side: Side | None = None) -> None:
        self.settings = settings
        self.side = side
        self.violations: list[ContractViolation] = []
        self.extras: set[str] = set()
        self.error_shapes: set[str] = set()
        self.created: list[str] = []  # handles, in the order they were created
        self.orders: set[str] = set()  # list_order of every walk that showed two or more
        # "get"/"list" -> whether soft-deleted credentials shown there carry deleted_at
        self.deleted_at_when_deleted: dict[str, set[bool]] = {"get": set(), "list": set()}

    def on_step(self, index: int, step: Step, outcomes: dict[str, Outcome]) -> None:
        outcome = outcomes[DEPLOYMENT]
        self.violations.extend(outcome.violations)
        reply = outcome.reply
        if reply is None or outcome.skipped:
            return
        if reply.status >= 400 and isinstance(reply.body, dict):
            flat = "code" in reply.body and "message" in reply.body
            shape = "envelope" if isinstance(reply.body.get("error"), dict) else None
            self.error_shapes.add(shape or ("flat" if flat else "other"))
        views = outcome.items if outcome.items is not None else [reply.data]
        for view in views:
            if isinstance(view, dict) and "config" in view:
                self._extras(view)
            if isinstance(view, dict) and view.get("status") == "deleted" and step.op != "delete":
                where = "get" if step.op == "get" else "list"
                self.deleted_at_when_deleted[where].add("deleted_at" in view)
        setting = step.setting
        if step.op == "walk" and reply.status == 200:
            self._order(outcome.items or [])
        if step.op == "create" and reply.ok and step.settle is None:
            self.created.append(step.handle or "")
            self.settings.setdefault("create_location", "Location" in reply.headers)
            if isinstance(reply.data, dict):
                shown = "shown" if "created_by" in reply.data else "omitted"
                self.settings.setdefault("created_by", shown)
        elif step.op == "invalid" and reply.status in (400, 422):
            self.settings["validation_status"] = reply.status
        elif step.op == "delete" and reply.ok and isinstance(reply.data, dict):
            full = "name" in reply.data or "config" in reply.data
            self.settings.setdefault("status_bodies", "full" if full else "minimal")
        elif setting == "page_size_default" and reply.status == 200:
            limit = page_limit(reply.body)
            if isinstance(limit, int) and limit >= 1:
                self.settings["page_size_default"] = limit
        elif setting == "query_error_status" and reply.status in (400, 422):
            self.settings["query_error_status"] = reply.status
        elif setting in ("type_filter", "status_filter"):
            self._filter(setting, step, reply.status, outcome.items or [])

    def _order(self, items: list[JSON]) -> None:
        if self.side is None:
            return
        ids = [i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]
        handles = [self.side.handle_of(i) for i in ids]
        order = list_order([self.created.index(h) for h in handles if h in self.created])
        if order is not None:
            self.orders.add(order)

    def _extras(self, view: dict[str, JSON]) -> None:
        type_ = view.get("type")
        known = set(config_fields(type_)) if type_ in CREDENTIAL_TYPES else set()
        self.extras.update(k for k in view if k not in DOCUMENTED_FIELDS)
        if isinstance(view.get("config"), dict) and known:
            self.extras.update(f"config.{k}" for k in view["config"] if k not in known)

    def _filter(self, setting: str, step: Step, status: int, items: list[JSON]) -> None:
        if status in (400, 422):
            self.settings[setting] = "rejected"
            return
        if status != 200:
            return
        wanted = dict(step.params)
        key = "type" if setting == "type_filter" else "status"
        ours = [i for i in items if isinstance(i, dict) and isinstance(i.get(key), str)]
        if ours:
            honoured = all(i[key] == wanted[key] for i in ours)
            self.settings[setting] = "supported" if honoured else "ignored"

    def finish(self, choices: dict[str, str]) -> None:
        for situation, answer in choices.items():
            if situation in FROM_CHOICES:
                name, values = FROM_CHOICES[situation]
                if answer in values:
                    self.settings[name] = values[answer]
        for where in ("get", "list"):
            # None on the active one, one on the deleted one (as the page's examples).
            setting, once_set = f"deleted_at_on_{where}", f"deleted_at on {where} of a deleted one"
            shown = choices.get(once_set) == "present" or self.deleted_at_when_deleted[where] == {
                True
            }
            if self.settings.get(setting) == "absent" and shown:
                self.settings[setting] = "when_deleted"
        if len(self.error_shapes) == 1 and self.error_shapes <= {"envelope", "flat"}:
            self.settings["error_body"] = next(iter(self.error_shapes))
        self.settings["extra_fields"] = sorted(self.extras)[:50]
        if self.orders:
            # Walks that disagree: the deployment keeps no order diff could hold it to.
            self.settings["list_order"] = (
                next(iter(self.orders)) if len(self.orders) == 1 else "unspecified"
            )


def probe_page_size_max(client: Client, settings: dict[str, JSON]) -> None:
    """The largest page size, and whether a larger one is refused or clamped.

    A clamping deployment says its maximum in ``meta.page.limit``; a refusing
    one is bisected, one list call per halving.
    """
    reply = client.list({"limit": HUGE_LIMIT})
    if reply.status == 200:
        limit = page_limit(reply.body)
        if isinstance(limit, int) and 1 <= limit < HUGE_LIMIT:
            settings["page_size_over_max"] = "clamp"
            settings["page_size_max"] = limit
        return
    if reply.status not in (400, 422):
        return
    settings["page_size_over_max"] = "reject"
    low, high = 1, HUGE_LIMIT  # low is accepted, high refused
    if client.list({"limit": low}).status != 200:
        return
    while high - low > 1:
        middle = (low + high) // 2
        if client.list({"limit": middle}).status == 200:
            low = middle
        else:
            high = middle
    settings["page_size_max"] = low


def run_learn(
    base_url: str,
    api_key: str,
    *,
    seed: int = DEFAULT_SEED,
    max_requests: int | None = None,
    timeout: float = 30.0,
    progress: Callable[[str], None] | None = None,
    max_body: int = DEFAULT_MAX_BODY,
) -> LearnResult:
    """Probe the deployment at ``base_url``; see the module docstring."""
    started = time.monotonic()
    ctx = KitContext.build(
        base_url, api_key, max_requests=max_requests, timeout=timeout, max_body=max_body
    )
    result = LearnResult(base_url=ctx.client.base_url, prefix=ctx.prefix, seed=seed)
    side = Side(DEPLOYMENT, ctx, model=Model(ctx.choices, prefix=ctx.prefix))
    observer = Observer(result.settings, side)
    try:
        discover_prefixes(ctx)  # /api, /v1/api or both, as `run` finds them
        result.base_url = ctx.client.base_url
        preflight(ctx.client)
        if progress:
            progress(f"probing {result.base_url} with prefix {ctx.prefix}")
        Sequence(build_sequence(seed), [side], ctx.prefix).run(observer.on_step)
        ctx.client.raise_violations = True
        probe_page_size_max(ctx.client, result.settings)
        probe_config_update(ctx)  # update_replaces_config, through the run's choices
    except ContractViolation as exc:
        observer.violations.append(exc)
    except KitError as exc:
        result.error = str(exc)
    finally:
        result.leftovers = ctx.cleanup()
        result.requests = ctx.budget.used
        result.seconds = time.monotonic() - started
    observer.finish(ctx.choices.as_json())
    result.violations = observer.violations
    _consistent(result.settings)
    return result


def _consistent(settings: dict[str, JSON]) -> None:
    """Drop learned values a profile cannot hold together (they stay undetermined)."""
    maximum = settings.get("page_size_max", Profile().page_size_max)
    if settings.get("page_size_default", 0) > maximum:
        settings.pop("page_size_default")
    hidden = ("not_found", "gone")
    if settings.get("update_deleted") in hidden and settings.get("get_deleted") not in hidden:
        settings.pop("update_deleted")
