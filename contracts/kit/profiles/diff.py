"""``planasonix-contract diff``: one call sequence against a deployment and the fake.

The same seeded sequence (:func:`build_sequence`) runs against the deployment
and against our fake, served in this process under a profile. Every answer
pair is compared after normalising what must differ (ids, timestamps, the run's
name prefix, request ids, cursors): status codes, which fields are present,
field values, the contents and order of lists, the shape of error bodies and
their codes. Each divergence is then classified:

- **violation**: the deployment broke a documented rule on that step, as
  ``run`` would report it (the reference model, the response schemas and the
  canary scan judge every deployment answer);
- **drift**: the deployment only differs from the fake. When a profile setting
  explains it, the report names the setting (run ``learn``); otherwise the
  fake itself should change.

The deployment is handled with the kit's safety rules: only credentials this
run created, under its own prefix, within the request budget, removed at the
end whatever happens. :mod:`contracts.kit.profiles.learn` runs the same sequence
against the deployment alone and reads its choices off the answers.
"""

from __future__ import annotations

import copy
import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from contracts.kit.checks.common import NAME_REFUSALS, draw_one, secret_configs
from contracts.kit.checks.paging import page_limit, walk
from contracts.kit.checks.prefixes import discover_prefixes
from contracts.kit.client import Client
from contracts.kit.context import DEFAULT_SEED, KitContext
from contracts.kit.coverage.summary import traffic_coverage
from contracts.kit.exchange import Reply
from contracts.kit.model import Model, same_setting
from contracts.kit.report import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, Case, Failure, write_json
from contracts.kit.report import write_junit as write_junit_cases
from contracts.kit.statuses import MADE_UP_ID
from contracts.kit.violations import (
    EXPECTATION,
    LIFECYCLE,
    PAGINATION,
    VALIDATION,
    ContractViolation,
    KitError,
)
from contracts.kit.wire.limits import DEFAULT_MAX_BODY
from contracts.profile import DOCUMENTED_FIELDS, Profile
from contracts.registry import CREDENTIAL_TYPES, config_fields
from contracts.strategies import config_patches

JSON = Any
DEPLOYMENT, FAKE = "deployment", "fake"
TIME_FIELDS = ("created_at", "updated_at", "deleted_at")
STATUS_OPS = ("delete", "restore")
# A walk at limit 1 or 2 follows at most this many pages (the run's own credentials
# fit well within them on a workspace that holds little else).
PAGE_WALK_PAGES = 20
# The fields the published page's examples show in each answer: a field outside them
# that one side shows and the other does not is a difference only where a profile
# setting says which (created_by, deleted_at on get and list, extra fields, full
# bodies on delete and restore); otherwise the page leaves it open (deleted_at on a
# create, a non-secret config field left out) and diff does not report it.
PROMISED: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        ("create", "get", "update", "walk", "pages"),
        frozenset({"id", "name", "type", "status", "created_at", "updated_at"}),
    ),
    **dict.fromkeys(STATUS_OPS, frozenset({"id", "status", "deleted_at"})),
    "purge": frozenset({"id", "purged"}),
}


# --- the sequence ------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One call of the sequence, on a credential known by its handle (``a``, ``b``...)."""

    label: str
    op: str  # create get update delete restore purge walk pages list invalid unknown
    handle: str | None = None
    type: str | None = None
    name_of: str | None = None  # create with the (current) name of this handle
    rename: bool = False
    patch_seed: int | None = None  # update: a config patch drawn with this seed
    params: tuple[tuple[str, Any], ...] = ()
    setting: str | None = None  # the profile setting this step's status answers
    settle: str | None = None  # discard: remove what it made; gone: purge the handle anyway


def build_sequence(seed: int, *, page_size_max: int = 200) -> list[Step]:
    """The sequence for ``seed``: every open situation of the lifecycle, then a seeded tail.

    The same seed gives the same steps, types and config patches, so a run is
    replayed with ``--seed``. ``page_size_max`` is the profile's, for the probe
    just over it.
    """
    rng = random.Random(seed)
    first, second = rng.sample(list(CREDENTIAL_TYPES), 2)
    walk_limit = min(25, page_size_max)
    page = (("limit", walk_limit),)
    steps = [
        Step("create a", "create", "a", type=first, setting="create_status"),
        Step("create b", "create", "b", type=second, setting="create_status"),
        Step("create with the name of active a", "create", "dup", type=first, name_of="a",
             setting="name_taken_status", settle="discard"),
        Step("create with an unknown type", "invalid", setting="validation_status",
             settle="discard"),
        Step("create p", "create", "p", type=first, setting="create_status"),
        Step("list one per page", "pages", params=(("limit", 1),)),
        Step("list two per page", "pages", params=(("limit", 2),)),
        Step("get active a", "get", "a"),
        Step("rename and reconfigure a", "update", "a", rename=True,
             patch_seed=rng.randrange(1 << 30)),
        Step("list without status", "walk", params=page, setting="list_default_status"),
        Step("delete a", "delete", "a"),
        Step("get deleted a", "get", "a", setting="get_deleted"),
        Step("delete deleted a", "delete", "a", setting="delete_deleted"),
        Step("update deleted a (no change)", "update", "a", setting="update_deleted"),
        Step("list without status, a deleted", "walk", params=page,
             setting="list_default_status"),
        Step("list status=deleted", "walk", params=(*page, ("status", "deleted")),
             setting="status_filter"),
        Step("create with the name of deleted a", "create", "twin", type=first, name_of="a",
             setting="deleted_names", settle="discard"),
        Step("restore a", "restore", "a"),
        Step("restore active a", "restore", "a", setting="restore_active"),
        Step(f"list type={second}", "walk", params=(*page, ("type", second)),
             setting="type_filter"),
        Step("purge active b", "purge", "b", setting="purge_active", settle="gone"),
        Step("get purged b", "get", "b"),
        Step("list without limit", "list", setting="page_size_default"),
        Step("list over the maximum page size", "list",
             params=(("limit", page_size_max + 1),), setting="page_size_over_max"),
        Step("list with limit=0", "list", params=(("limit", 0),), setting="query_error_status"),
        Step("get an unknown id", "unknown"),
    ]  # fmt: skip
    third = rng.choice([t for t in CREDENTIAL_TYPES if t not in (first, second)])
    steps.append(Step("create c", "create", "c", type=third, setting="create_status"))
    for n in range(rng.randint(4, 8)):
        handle = rng.choice(["a", "c"])
        op = rng.choice(["get", "update", "delete", "restore", "get"])
        seed_ = rng.randrange(1 << 30) if op == "update" else None
        steps.append(Step(f"tail {n + 1}: {op} {handle}", op, handle, patch_seed=seed_))
    steps.append(Step("list at the end", "walk", params=page, setting="list_default_status"))
    return steps


def page_walk(client: Client, params: dict[str, JSON]) -> tuple[list[JSON], Reply, bool]:
    """A listing walked at a small page size, following each cursor: (items, last reply,
    whether it reached the end). At most :data:`PAGE_WALK_PAGES` pages, so a workspace
    full of other credentials costs a bounded number of calls; every page goes through
    the client, so each is scanned for a secret the kit sent like any other answer."""
    params = dict(params)
    items: list[JSON] = []
    cursors: set[str] = set()
    for _ in range(PAGE_WALK_PAGES):
        reply = client.list(params)
        if reply.status != 200:
            raise ContractViolation(
                PAGINATION,
                f"list with limit={params.get('limit')} answered {reply.status}",
                reply.exchange,
            )
        items.extend(reply.data if isinstance(reply.data, list) else [])
        meta = reply.body.get("meta") if isinstance(reply.body, dict) else None
        page = meta.get("page") if isinstance(meta, dict) else None
        cursor = page.get("cursor") if isinstance(page, dict) else None
        if not cursor:
            return items, reply, True
        if not isinstance(cursor, str) or cursor in cursors:
            raise ContractViolation(PAGINATION, "a listing's cursors loop", reply.exchange)
        cursors.add(cursor)
        params["cursor"] = cursor
    return items, reply, False


def list_order(positions: list[int]) -> str | None:
    """The :class:`~contracts.profile.Profile` ``list_order`` a walk shows, from the
    creation rank of each of the run's credentials in the order listed: None when it
    showed fewer than two, ``unspecified`` when it is neither one way nor the other."""
    if len(positions) < 2:
        return None
    pairs = list(pairwise(positions))
    if all(a < b for a, b in pairs):
        return "oldest_first"
    if all(a > b for a, b in pairs):
        return "newest_first"
    return "unspecified"


# --- one side: a deployment or the fake ------------------------------------------------------


@dataclass
class Side:
    """A target the sequence runs against, with what the run made there."""

    name: str
    ctx: KitContext
    ids: dict[str, str] = field(default_factory=dict)  # handle -> id
    status: dict[str, str] = field(default_factory=dict)  # handle -> active | deleted
    model: Model | None = None  # judges the deployment's answers

    @property
    def client(self) -> Client:
        return self.ctx.client

    def handle_of(self, cred_id: str) -> str | None:
        return next((h for h, i in self.ids.items() if i == cred_id), None)


@dataclass
class Outcome:
    """One side's answer to one step: the last reply, and the items of a walk."""

    reply: Reply | None
    items: list[JSON] | None = None
    violations: list[ContractViolation] = field(default_factory=list)
    skipped: bool = False
    complete: bool = True  # a page walk that reached the end of the listing


# What a create goes on as when the deployment refuses the config the kit drew.
PLAIN_TYPE = "password"


class Sequence:
    """Runs steps on sides, with the same bodies everywhere and the sides kept in step."""

    def __init__(self, steps: list[Step], sides: list[Side], prefix: str) -> None:
        self.steps = steps
        self.sides = sides
        self.prefix = prefix
        self.sent: dict[str, dict[str, JSON]] = {}  # handle -> whole config last sent
        self.names: dict[str, str] = {}  # handle -> current name
        self.types: dict[str, str] = {}
        self.secrets = sides[0].ctx  # makes the canaries; every side's detector knows them

    def run(self, on_step: Callable[[int, Step, dict[str, Outcome]], None]) -> None:
        deployment, others = self.sides[0], self.sides[1:]
        for index, step in enumerate(self.steps, 1):
            if step.setting is None:
                step = replace(step, setting=self.situation(step))
            body = self.body_of(step)
            first = self._run_on(deployment, step, body)
            instead = self._without_drawn_config(step, body, first)
            if instead is not None:
                body, first = instead, self._run_on(deployment, step, instead)
            outcomes = {deployment.name: first}
            outcomes.update({side.name: self._run_on(side, step, body) for side in others})
            on_step(index, step, outcomes)
            self._after(step, body, outcomes)

    def _without_drawn_config(self, step: Step, body: JSON, first: Outcome) -> JSON | None:
        """The body every side gets instead, when the deployment refused (400 or 422)
        the config the kit drew from the fake's schemas: the page gives no formats
        for any setting, so a deployment may check them. A create that should succeed
        goes on as a password credential (a username and a password), an update of an
        active one without its config; any other step keeps its body."""
        reply = first.reply
        if reply is None or reply.status not in (400, 422) or not isinstance(body, dict):
            return None
        handle = step.handle or ""
        drawn = self.types.get(handle) != PLAIN_TYPE
        if step.op == "create" and step.setting == "create_status" and drawn:
            self.sent[handle] = {
                "username": "contract-kit",
                "password": self.secrets.factory.fresh(),
            }
            self.types[handle] = PLAIN_TYPE
            self._share_canaries()
            return {**body, "type": PLAIN_TYPE, "config": copy.deepcopy(self.sent[handle])}
        if step.op == "update" and "config" in body and self._active_everywhere(handle):
            rest = {k: v for k, v in body.items() if k != "config"}
            return rest or {"name": self.names.get(handle, "")}
        return None

    def situation(self, step: Step) -> str | None:
        """The setting a step's status answers, from the state the fake holds it in."""
        status = self.sides[-1].status.get(step.handle or "")
        if status == "deleted":
            return {
                "get": "get_deleted",
                "update": "update_deleted",
                "delete": "delete_deleted",
            }.get(step.op)
        if status == "active":
            return {"restore": "restore_active", "purge": "purge_active"}.get(step.op)
        return None

    # --- bodies, the same for every side -----------------------------------------------

    def _share_canaries(self) -> None:
        for side in self.sides[1:]:
            for canary in self.secrets.detector.canaries:
                side.ctx.detector.add(canary)

    def body_of(self, step: Step) -> JSON:
        handle = step.handle or ""
        if step.op == "invalid":
            return {"name": f"{self.prefix}bad", "type": "not_a_type", "config": {}}
        if step.op == "create":
            assert step.type is not None
            # A create named like another goes as that one went (see _without_drawn_config).
            type_ = self.types.get(step.name_of or "", step.type)
            if handle not in self.sent:
                self.sent[handle] = next(secret_configs(self.secrets, type_))
                self.types[handle] = type_
                self._share_canaries()
            name = self.names.get(step.name_of or "", f"{self.prefix}{handle}")
            return {"name": name, "type": type_, "config": copy.deepcopy(self.sent[handle])}
        if step.op != "update":
            return None
        body: dict[str, JSON] = {}
        if step.rename:
            body["name"] = f"{self.prefix}{handle}-r"
        if step.patch_seed is not None and self._active_everywhere(handle):
            strategy = config_patches(self.types[handle], self.secrets.factory.strategy())
            patch = draw_one(strategy, step.patch_seed)
            self._share_canaries()
            body["config"] = {**self.sent[handle], **copy.deepcopy(patch)}
        if not body:
            body["name"] = self.names.get(handle, "")  # an update that changes nothing
        return body

    def _active_everywhere(self, handle: str) -> bool:
        # A deployment may allow updates of deleted ones; a change there would
        # put the sides out of step, so a deleted one only gets a no-op update.
        return all(side.status.get(handle) == "active" for side in self.sides)

    # --- running ------------------------------------------------------------------------

    def _run_on(self, side: Side, step: Step, body: JSON) -> Outcome:
        client = side.client
        client.raise_violations = False
        before = len(client.soft_violations)
        outcome = Outcome(reply=None)
        try:
            self._call(side, step, body, outcome)
        except ContractViolation as exc:
            outcome.violations.append(exc)
        outcome.violations[:0] = client.soft_violations[before:]
        del client.soft_violations[before:]
        return outcome

    def _call(self, side: Side, step: Step, body: JSON, outcome: Outcome) -> None:
        client, model = side.client, side.model
        params = dict(step.params)
        if step.op == "walk":
            filtered = bool({"status", "type"} & set(params))
            items, reply = walk(client, params, may_refuse=filtered)
            outcome.reply, outcome.items = reply, items
            if reply.status != 200:
                return  # a filter refused (400 or 422): the answer learn and diff compare
            if model is not None and "status" not in params and "type" not in params:
                model.check_listing(items, reply)
            return
        if step.op == "pages":
            items, reply, outcome.complete = page_walk(client, params)
            outcome.reply, outcome.items = reply, items
            if model is not None and outcome.complete:
                model.check_listing(items, reply)
            return
        if step.op == "list":
            outcome.reply = reply = client.list(params)
            if reply.status not in (200, 400, 422):
                raise ContractViolation(
                    PAGINATION, f"{step.label}: answered {reply.status}", reply.exchange
                )
            return
        if step.op == "unknown":
            outcome.reply = reply = client.get(client.fabricate_id())
            if reply.status not in MADE_UP_ID:
                raise ContractViolation(
                    LIFECYCLE,
                    f"get of an unknown id answered {reply.status}, not 404, 410, 400 or 422",
                    reply.exchange,
                )
            return
        if step.op == "invalid":
            outcome.reply = reply = client.create(body)
            if reply.ok or reply.status not in (400, 409, 422):
                raise ContractViolation(
                    VALIDATION,
                    f"create with an unknown type answered {reply.status}",
                    reply.exchange,
                )
            return
        if step.op == "create":
            outcome.reply = reply = client.create(body)
            new_id = reply.data.get("id") if reply.ok and isinstance(reply.data, dict) else None
            if isinstance(new_id, str) and step.settle != "discard":
                side.ids[step.handle or ""] = new_id
                side.status[step.handle or ""] = "active"
            if model is not None:
                model.on_create(body, reply)
            return
        cred_id = side.ids.get(step.handle or "")
        if cred_id is None:
            outcome.skipped = True  # its create failed on this side: reported there
            return
        cred = model.creds.get(cred_id) if model is not None else None
        if step.op == "get":
            outcome.reply = reply = client.get(cred_id)
            if model is not None and cred is not None:
                model.on_get(cred, reply)
        elif step.op == "update":
            outcome.reply = reply = client.update(cred_id, body)
            if model is not None and cred is not None:
                model.on_update(cred, body, reply)
        else:
            call = {"delete": client.delete, "restore": client.restore, "purge": client.purge}
            outcome.reply = reply = call[step.op](cred_id)
            if model is not None and cred is not None:
                judge = {"delete": model.on_delete, "restore": model.on_restore}
                judge.get(step.op, model.on_purge)(cred, reply)

    def _after(self, step: Step, body: JSON, outcomes: dict[str, Outcome]) -> None:
        """Keep the bookkeeping, and the sides in step, whatever each one answered."""
        handle = step.handle or ""
        replies = [o.reply for o in outcomes.values()]
        if step.op == "create" and step.settle != "discard":
            self.names.setdefault(handle, body["name"])
        if step.op == "update" and all(r is not None and r.ok for r in replies):
            self.names[handle] = body.get("name", self.names.get(handle, ""))
            if "config" in body:
                self.sent[handle] = copy.deepcopy(body["config"])
        for side in self.sides:
            reply = outcomes[side.name].reply
            if reply is None:
                continue
            if step.settle == "discard" and reply.ok and isinstance(reply.data, dict):
                self._remove(side, str(reply.data.get("id")))
            elif step.op in STATUS_OPS and reply.ok:
                side.status[handle] = "deleted" if step.op == "delete" else "active"
            elif step.op == "purge" and (reply.ok or step.settle == "gone"):
                if not reply.ok and handle in side.ids:
                    self._remove(side, side.ids[handle])
                side.ids.pop(handle, None)
                side.status.pop(handle, None)

    def _remove(self, side: Side, cred_id: str) -> None:
        if cred_id not in side.ctx.ids.live:
            return
        try:
            gone = side.client.remove(cred_id)
        except KitError:
            return
        if gone:
            side.ctx.ids.purged(cred_id)
            if side.model is not None and cred_id in side.model.creds:
                side.model.creds[cred_id].purged = True


# --- comparing two answers -------------------------------------------------------------------


@dataclass
class Divergence:
    """One difference between the deployment's answer and the fake's."""

    step: int
    label: str
    aspect: str  # status, field, value, list, error-body, error-code, header, page-size, rule
    detail: str
    deployment: JSON = None
    fake: JSON = None
    setting: str | None = None  # the profile setting that would explain it
    kind: str = "drift"  # drift | violation
    rule: str = ""  # the violation's check and message
    sequence: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, JSON]:
        return {
            "step": self.step,
            "label": self.label,
            "kind": self.kind,
            "aspect": self.aspect,
            "detail": self.detail,
            "deployment": self.deployment,
            "fake": self.fake,
            "setting": self.setting,
            "rule": self.rule,
            "sequence": self.sequence,
        }

    def line(self) -> str:
        where = f"step {self.step} ({self.label})"
        what = self.detail
        if self.aspect not in ("rule", "field", "list"):
            what += f": deployment {_short(self.deployment)}, fake {_short(self.fake)}"
        tag = "VIOLATION" if self.kind == "violation" else "drift"
        hint = f"  [profile setting: {self.setting}]" if self.setting else ""
        rule = f"\n        rule: {self.rule}" if self.rule else ""
        return f"  {tag:9} {where}: {what}{hint}{rule}"


def _short(value: JSON) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def field_setting(op: str, name: str, type_: str | None) -> str | None:
    """The profile setting that decides whether ``name`` appears in an answer to ``op``."""
    inside, _, leaf = name.rpartition(".")
    known = config_fields(type_) if type_ in CREDENTIAL_TYPES else ()
    if (inside == "config" and leaf not in known) or (not inside and name not in DOCUMENTED_FIELDS):
        return "extra_fields"
    if op in STATUS_OPS:
        return "status_bodies"
    if inside == "config":
        return None
    if name == "created_by":
        return "created_by"
    if name == "deleted_at":
        return {"get": "deleted_at_on_get", "walk": "deleted_at_on_list"}.get(op)
    return None


class Comparer:
    """Normalises both answers of a step and lists how they differ."""

    def __init__(
        self,
        deployment: Side,
        fake: Side,
        prefix: str,
        extras: tuple[str, ...],
        *,
        order: str = "newest_first",
        error_codes: bool = False,
    ):
        self.sides = {DEPLOYMENT: deployment, FAKE: fake}
        self.prefix = prefix
        self.extras = set(extras)
        # The profile's list_order: "unspecified" leaves the order of lists unjudged.
        self.order = order
        # Error codes are compared only for a deployment that declares the error_shape
        # expectation (the page has no error section, so no code is a rule of it).
        self.error_codes = error_codes

    def norm(self, value: JSON, side: str, key: str = "") -> JSON:
        if isinstance(value, dict):
            return {k: self.norm(v, side, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.norm(v, side) for v in value]
        if not isinstance(value, str):
            return value
        handle = self.sides[side].handle_of(value)
        if handle is not None:
            return f"<id {handle}>"
        if key in TIME_FIELDS:
            return "<time>"
        if key == "created_by":
            return "<user>"
        if value.startswith("cred_"):
            return "<id>"
        return value.replace(self.prefix, "<prefix>")

    def compare(self, index: int, step: Step, dep: Outcome, fake: Outcome) -> list[Divergence]:
        found: list[Divergence] = []

        def add(
            aspect: str, detail: str, d: JSON = None, f: JSON = None, s: str | None = None
        ) -> None:
            found.append(Divergence(index, step.label, aspect, detail, d, f, s))

        if dep.skipped or fake.skipped or dep.reply is None or fake.reply is None:
            return found
        d, f = dep.reply, fake.reply
        if step.op == "unknown" and {d.status, f.status} <= MADE_UP_ID:
            # The kit's made-up id may not have the deployment's id shape: not found
            # or refused as malformed are both right, and no profile setting names it.
            return found
        if d.status != f.status:
            add("status", "status code", d.status, f.status, _status_setting(step, d, f))
            if not (d.ok and f.ok):
                return found  # two successes (201 and 200) still compare their bodies
        if d.status >= 400:
            # The page has no error section: any body is right as long as the status is.
            # Two shapes a profile can name (error_body) are drift; any other is not judged.
            shapes = (_error_shape(d.body), _error_shape(f.body))
            if "other" in shapes:
                return found
            if shapes[0] != shapes[1]:
                add("error-body", "error body shape", shapes[0], shapes[1], "error_body")
                return found
            codes = (_error_code(d.body), _error_code(f.body))
            if self.error_codes and codes[0] != codes[1]:
                add("error-code", "error code", codes[0], codes[1])
            return found
        if step.op == "create":
            has = ("Location" in d.headers, "Location" in f.headers)
            if has[0] != has[1]:
                add("header", "Location header present", has[0], has[1], "create_location")
        if step.op == "list":
            limits = (page_limit(d.body), page_limit(f.body))
            if limits[0] != limits[1]:
                add("page-size", "meta.page.limit", limits[0], limits[1], step.setting)
            return found
        if step.op == "pages" and not (dep.complete and fake.complete):
            return found  # a workspace with more than the pages walked: only scanned
        if step.op in ("walk", "pages"):
            return found + self._compare_walks(index, step, dep.items or [], fake.items or [])
        found += self._compare_views(index, step, step.op, d.data, f.data)
        return found

    def _ours(self, items: list[JSON], side: str) -> tuple[list[str], dict[str, JSON]]:
        """The run's credentials in a listing: their handles in the order listed (a
        handle listed twice shows twice), and each one's item."""
        order: list[str] = []
        mine: dict[str, JSON] = {}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            handle = self.sides[side].handle_of(item["id"])
            if handle is not None:
                order.append(handle)
                mine[handle] = item
        return order, mine

    def _compare_walks(
        self, index: int, step: Step, dep: list[JSON], fake: list[JSON]
    ) -> list[Divergence]:
        (order_d, ours_d), (order_f, ours_f) = self._ours(dep, DEPLOYMENT), self._ours(fake, FAKE)
        found: list[Divergence] = []
        if sorted(order_d) != sorted(order_f):
            found.append(
                Divergence(
                    index,
                    step.label,
                    "list",
                    f"the run's credentials listed: deployment {order_d}, fake {order_f}",
                    order_d,
                    order_f,
                    step.setting,
                )
            )
        elif order_d != order_f and self.order != "unspecified":
            # The same credentials in another order: list_order, whatever the walk probed.
            found.append(
                Divergence(
                    index,
                    step.label,
                    "list-order",
                    "list order",
                    order_d,
                    order_f,
                    "list_order",
                )
            )
        for handle in ours_d.keys() & ours_f.keys():
            found += self._compare_views(index, step, "walk", ours_d[handle], ours_f[handle])
        return found

    def _compare_views(
        self, index: int, step: Step, op: str, dep: JSON, fake: JSON
    ) -> list[Divergence]:
        found: list[Divergence] = []
        if not isinstance(dep, dict) or not isinstance(fake, dict):
            if self.norm(dep, DEPLOYMENT) != self.norm(fake, FAKE):
                found.append(Divergence(index, step.label, "value", "data", dep, fake))
            return found
        type_ = fake.get("type") or dep.get("type")
        label = f"{step.label}, {self.norm(fake.get('id'), FAKE)}" if op == "walk" else step.label
        flat_d, flat_f = _flatten(dep), _flatten(fake)
        for name in sorted(flat_d.keys() | flat_f.keys()):
            if (name in flat_d) != (name in flat_f):
                if name in self.extras and name in flat_f:
                    # The fake shows a profile's extra fields on every credential; a
                    # deployment may show one only where it applies (a hint for the
                    # secrets a credential holds, say). One it newly shows is drift.
                    continue
                where = "deployment only" if name in flat_d else "fake only"
                setting = field_setting(op, name, type_ if isinstance(type_, str) else None)
                if setting is None and name not in PROMISED.get(op, frozenset()):
                    continue  # a field the page does not promise, and no setting names
                found.append(
                    Divergence(
                        index, label, "field", f"field {name} ({where})", None, None, setting
                    )
                )
                continue
            if name in self.extras or name.rpartition(".")[2] in TIME_FIELDS:
                continue  # extra fields: presence only; timestamps: presence and null-ness
            value_d = self.norm(flat_d[name], DEPLOYMENT, name)
            value_f = self.norm(flat_f[name], FAKE, name)
            if name.startswith("config.") and same_setting(value_f, value_d):
                continue  # one setting in another spelling (case, offset): as `run` judges
            if value_d != value_f:
                found.append(Divergence(index, label, "value", f"field {name}", value_d, value_f))
        for name in TIME_FIELDS:
            if (
                name in flat_d
                and name in flat_f
                and (flat_d[name] is None) != (flat_f[name] is None)
            ):
                found.append(
                    Divergence(
                        index,
                        label,
                        "value",
                        f"field {name} set",
                        flat_d[name] is not None,
                        flat_f[name] is not None,
                    )
                )
        return found


def _status_setting(step: Step, dep: Reply, fake: Reply) -> str | None:
    """The setting a status difference points at: a create with a taken name refused by
    both sides with different statuses is the name-taken status (the name is taken on
    both, reserved or not); both refused with 400 and 422 is the validation (or query
    error) status, whatever the step was probing."""
    if step.name_of and dep.status in NAME_REFUSALS and fake.status in NAME_REFUSALS:
        return "name_taken_status"
    if {dep.status, fake.status} == {400, 422}:
        return "query_error_status" if step.op in ("list", "walk") else "validation_status"
    return step.setting


def _flatten(view: dict[str, JSON]) -> dict[str, JSON]:
    """A credential view with its config keys as ``config.<key>``."""
    flat = {k: v for k, v in view.items() if k != "config" or not isinstance(v, dict)}
    if isinstance(view.get("config"), dict):
        flat.update({f"config.{k}": v for k, v in view["config"].items()})
    return flat


def _error_shape(body: JSON) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return "envelope"
    if isinstance(body, dict) and "code" in body and "message" in body:
        return "flat"
    return "other"


def _error_code(body: JSON) -> JSON:
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        return inner.get("code") if isinstance(inner, dict) else None
    return None


# --- the run ---------------------------------------------------------------------------------


@dataclass
class DiffResult:
    base_url: str
    prefix: str
    seed: int
    profile: str
    divergences: list[Divergence] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    # Expectations the deployment did not meet and its profile does not declare: noted
    # (each once), never a divergence and never the exit code.
    expectations: list[str] = field(default_factory=list)
    error: str = ""
    requests: int = 0
    seconds: float = 0.0
    leftovers: list[str] = field(default_factory=list)
    # What the deployment's side exercised: operations, statuses, transitions.
    coverage: dict[str, JSON] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_VIOLATIONS if self.divergences else EXIT_OK

    @property
    def violations(self) -> list[Divergence]:
        return [d for d in self.divergences if d.kind == "violation"]

    @property
    def drift(self) -> list[Divergence]:
        return [d for d in self.divergences if d.kind == "drift"]

    def settings(self) -> set[str]:
        """The profile settings that would explain some drift."""
        return {d.setting for d in self.drift if d.setting}

    def as_json(self) -> dict[str, JSON]:
        return {
            "base_url": self.base_url,
            "prefix": self.prefix,
            "seed": self.seed,
            "profile": self.profile,
            "exit_code": self.exit_code,
            "error": self.error,
            "divergences": [d.as_json() for d in self.divergences],
            "violations": len(self.violations),
            "drift": len(self.drift),
            "settings": sorted(self.settings()),
            "expectations": self.expectations,
            "steps": self.steps,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "leftovers": self.leftovers,
            "coverage": self.coverage,
        }

    def text(self) -> str:
        head = (
            f"planasonix-contract diff: {self.base_url} against the fake "
            f"(profile {self.profile}), seed {self.seed}, prefix {self.prefix}"
        )
        lines = [head, *(d.line() for d in self.divergences)]
        lines += [f"  expectation noted (not a divergence): {e}" for e in self.expectations]
        if self.error:
            lines.append(f"could not run: {self.error}")
        elif not self.divergences:
            lines.append(f"no divergence in {len(self.steps)} steps")
        else:
            lines.append(
                f"{len(self.divergences)} divergence(s): {len(self.violations)} violation(s), "
                f"{len(self.drift)} drift"
            )
            if self.settings():
                lines.append(
                    "profile settings that would explain drift: "
                    + ", ".join(sorted(self.settings()))
                    + " (run `planasonix-contract learn`)"
                )
        if self.leftovers:
            lines.append("could not remove: " + ", ".join(self.leftovers))
        lines.append(f"{self.requests} requests to the deployment in {self.seconds:.1f}s")
        return "\n".join(lines)


def write_report(result: DiffResult, path: str | Path) -> None:
    write_json(path, result.as_json())


def write_junit(result: DiffResult, path: str | Path) -> None:
    """One test case per step; each divergence is a failure of its step, each
    expectation noted a skipped case."""
    cases = [
        Case(
            name=f"{number:02d} {label}",
            classname="diff",
            failures=[
                Failure(d.line().strip(), "\n".join(d.sequence), d.kind)
                for d in result.divergences
                if d.step == number
            ],
        )
        for number, label in enumerate(result.steps, 1)
    ]
    # An expectation noted is no failure: a skipped case that says what was noted.
    cases += [
        Case(name=f"expectation {n}", classname="diff.expectations", skipped=noted)
        for n, noted in enumerate(result.expectations, 1)
    ]
    if result.error:
        cases.append(Case(name="run", classname="diff", error=result.error))
    write_junit_cases(
        path,
        "planasonix-contract diff",
        cases,
        properties={"seed": result.seed, "prefix": result.prefix, "profile": result.profile},
        seconds=result.seconds,
        error=result.error or None,
    )


def held(violation: ContractViolation, declared: tuple[str, ...]) -> bool:
    """A finding diff holds the deployment to: a rule of the page or an invariant, or an
    expectation its profile declares (its ``expectations`` list). Any other expectation
    (a ``+00:00`` offset, an error body of its own shape) is noted, never a divergence."""
    return violation.kind != EXPECTATION or violation.cited.name in declared


def _classify(
    index: int, step: Step, found: list[Divergence], outcome: Outcome, declared: tuple[str, ...]
) -> list[Divergence]:
    """Divergences of a step where the deployment broke a rule are violations; a rule
    broken where nothing diverged (a timestamp normalised away) is reported too."""
    broken = [v for v in outcome.violations if held(v, declared)]
    if not broken:
        return found
    first = broken[0]
    rule = f"[{first.check}] {first.message}"
    sequence = [first.exchange.curl()] if first.exchange is not None else []
    if not found:
        found = [Divergence(index, step.label, "rule", "the deployment broke a documented rule")]
    for d in found:
        d.kind, d.rule, d.sequence = "violation", rule, sequence
    return found


def _masked(client: Client, value: JSON) -> JSON:
    """``value`` with every canary and key masked, as the kit's records are; withheld
    whole when a canary shows in another form (encoded, a fragment), which a mask
    of the canaries as sent would let through."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = json.dumps(value)
    if client.detector.scan(text):
        return "<withheld: holds a secret the kit sent>"
    masked = client.mask(text)
    if masked == text:
        return value
    try:
        return json.loads(masked)
    except ValueError:
        return masked


@contextmanager
def _fake_side(profile: Profile, prefix: str) -> Iterator[Side]:
    from contracts.kit.fake_target import serve_fake

    key = "plnx_test_diff_" + prefix.rsplit("-", 2)[-2]
    with serve_fake({key: "ws_diff"}, profile=profile) as url:
        yield Side(FAKE, KitContext.build(url, key, prefix=prefix))


def preflight(client: Client) -> None:
    reply = client.list({"limit": 1})
    if reply.status in (401, 403):
        raise KitError(f"the API key was rejected ({reply.status}); check --api-key")
    if reply.status != 200:
        raise KitError(f"listing credentials answered {reply.status}; cannot run")
    if not isinstance(reply.body, dict):
        # An answer over --max-body or --timeout, nested too deep, or not JSON at all.
        unread = [v.message for v in client.soft_violations if v.exchange is reply.exchange]
        why = unread[0] if unread else "listing credentials answered 200 without a JSON object"
        raise KitError(f"{why}; cannot run")


def run_diff(
    base_url: str,
    api_key: str,
    *,
    profile: Profile,
    profile_name: str = "default",
    seed: int = DEFAULT_SEED,
    max_requests: int | None = None,
    timeout: float = 30.0,
    max_body: int = DEFAULT_MAX_BODY,
) -> DiffResult:
    """Run the sequence for ``seed`` on the deployment and the fake; see the module docstring."""
    started = time.monotonic()
    ctx = KitContext.build(
        base_url, api_key, max_requests=max_requests, timeout=timeout, max_body=max_body
    )
    result = DiffResult(
        base_url=ctx.client.base_url, prefix=ctx.prefix, seed=seed, profile=profile_name
    )
    steps = build_sequence(seed, page_size_max=profile.page_size_max)
    result.steps = [s.label for s in steps]
    deployment = Side(DEPLOYMENT, ctx, model=Model(ctx.choices, prefix=ctx.prefix))
    declared = profile.expectations
    try:
        discover_prefixes(ctx)  # /api, /v1/api or both, as `run` finds them
        result.base_url = ctx.client.base_url
        preflight(ctx.client)
        with _fake_side(profile, ctx.prefix) as fake:
            comparer = Comparer(
                deployment,
                fake,
                ctx.prefix,
                profile.extra_fields,
                order=profile.list_order,
                error_codes="error_shape" in declared,
            )

            def on_step(index: int, step: Step, outcomes: dict[str, Outcome]) -> None:
                dep, fk = outcomes[DEPLOYMENT], outcomes[FAKE]
                found = comparer.compare(index, step, dep, fk)
                for noted in dep.violations:
                    line = f"[{noted.check}] {noted.message}"
                    if not held(noted, declared) and line not in result.expectations:
                        result.expectations.append(str(_masked(ctx.client, line)))
                for divergence in _classify(index, step, found, dep, declared):
                    # A leaked canary in a value must not reach the report.
                    divergence.deployment = _masked(ctx.client, divergence.deployment)
                    divergence.fake = _masked(ctx.client, divergence.fake)
                    result.divergences.append(divergence)

            try:
                Sequence(steps, [deployment, fake], ctx.prefix).run(on_step)
            finally:
                fake.ctx.cleanup()
    except KitError as exc:
        result.error = str(exc)
    finally:
        result.leftovers = ctx.cleanup()
        result.coverage = traffic_coverage(ctx.recorder.exchanges).as_json()
        result.requests = ctx.budget.used
        result.seconds = time.monotonic() - started
    return result
