"""The reference model of the lifecycle (docs: behaviour, Lifecycle): what a deployment
must answer, and why.

The model holds the credentials one test sequence created and checks every
answer against the lifecycle invariants:

1. soft delete sets ``status: deleted`` and ``deleted_at`` and loses nothing else;
2. restore brings back ``active``, ``deleted_at: null`` and the same metadata;
3. after purge the id answers 404 (or 410) everywhere and no list shows it; its
   name is free;
4. status changes only through delete and restore;
5. no two active credentials share a name (the page: "unique within the
   workspace"); a call that would make them is refused (409, 400 or 422: the
   page names no status, and the one seen first is held) and changes nothing;
6. a repeated or out-of-state call is answered the same way every time and
   changes nothing.

Where the published page leaves the answer to the implementation, :class:`Choices` learns
the deployment's choice the first time it sees the situation and holds the
deployment to it afterwards (that is invariant 6, across a whole run).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.kit.exchange import Exchange, Reply
from contracts.kit.rules.sources import CONSISTENT
from contracts.kit.violations import LIFECYCLE, ContractViolation
from contracts.registry import redact

JSON = Any
ACTIVE = "active"
DELETED = "deleted"

# Every situation the published page leaves open, with the answers the kit accepts.
ALTERNATIVES: dict[str, tuple[str, ...]] = {
    # The docs: "2xx with the new metadata". Every 2xx that carries a body for a
    # new resource: 204 and 205 carry none; 206, 207, 208 and 226 answer ranges,
    # WebDAV and delta encoding, not a create.
    "create status code": ("201", "200", "202", "203"),
    # 404 or 410: the deployment hides soft-deleted credentials by id.
    "GET of a soft-deleted id": ("200", "404", "410"),
    "list without status": ("active only", "deleted included"),
    "delete of an already deleted one": ("200", "404", "409", "410"),
    "restore of an active one": ("200", "409"),
    "name of a soft-deleted credential": ("reserved", "freed"),
    "purge of an active one": ("200", "409"),
    # 404 only where soft-deleted ids are invisible to GET too (see Model.on_update).
    "update of a soft-deleted one": ("409", "200", "404", "410"),
    # Per status: a deployment may leave out null fields, so `deleted_at` shows on
    # deleted credentials only; present or absent is then held for each status apart.
    "deleted_at on get": ("present", "absent"),
    "deleted_at on list": ("present", "absent"),
    "deleted_at on get of a deleted one": ("present", "absent"),
    "deleted_at on list of a deleted one": ("present", "absent"),
    "validation failure status": ("400", "422"),
    # The page says names are unique within the workspace, not how a clash is refused.
    "refusal of a taken name": ("409", "400", "422"),
    # A PUT whose config holds one new secret only: the other config fields stay
    # (the page's rule), or, where the deployment documents it, the config is replaced
    # whole (a refusal, for a config that then lacks a field it requires, is not held).
    "update with part of the config": ("merged", "replaced"),
    "page size over the maximum": ("400", "clamped"),
}


def _deleted_at_situation(where: str, cred: Cred) -> str:
    return f"deleted_at on {where}" + (" of a deleted one" if cred.status == DELETED else "")


@dataclass
class Learned:
    answer: str
    evidence: str  # a curl line, key and secrets masked


class Choices:
    """The deployment's answers to the open questions, learned once per run."""

    def __init__(self, check: str = LIFECYCLE) -> None:
        self.learned: dict[str, Learned] = {}
        self.check = check
        self._lock = threading.Lock()

    def get(self, situation: str) -> str | None:
        found = self.learned.get(situation)
        return found.answer if found else None

    def hold(
        self, situation: str, answer: str, exchange: Exchange | None, check: str | None = None
    ) -> None:
        """Learn ``answer`` for ``situation``, or fail if it differs from the learned one."""
        allowed = ALTERNATIVES[situation]
        if answer not in allowed:
            raise ContractViolation(
                check or self.check,
                f"{situation}: answered {answer}; the documentation allows only "
                + " or ".join(allowed),
                exchange,
            )
        with self._lock:
            known = self.learned.get(situation)
            if known is None:
                self.learned[situation] = Learned(answer, exchange.curl() if exchange else "")
                return
        if known.answer != answer:
            raise ContractViolation(
                check or self.check,
                f"invariant 6: {situation}: answered {answer} now but {known.answer} before",
                exchange,
                details=[f"learned from: {known.evidence}"],
                source=CONSISTENT,
            )

    def as_json(self) -> dict[str, str]:
        return {k: v.answer for k, v in sorted(self.learned.items())}


HIDDEN = ("404", "410")  # a soft-deleted id answered as gone


def _config_refused(body: Mapping[str, JSON], reply: Reply) -> bool:
    """A config the kit drew refused as invalid (400 or 422), nothing changed.

    The kit draws configs from the fake's schemas (a region "0", a tenant id "x"):
    the page gives no formats for any setting, so a deployment that checks them
    (a real region, a GUID) is right to refuse. The model then expects nothing to
    have changed, and the next read or listing holds the deployment to that.
    """
    return "config" in body and reply.status in (400, 422)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 instant (any offset, ``Z`` or ``z``, ``T`` or ``t``), or None."""
    if not isinstance(value, str) or len(value) < 11:
        return None
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(value[:10] + "T" + value[11:])
    except ValueError:
        return None


def same_setting(sent: JSON, answered: JSON) -> bool:
    """``answered`` is the value the kit sent, as a deployment may write it back.

    The docs say a credential keeps its non-secret settings, not that each is
    echoed byte for byte: a deployment may fold case (a host name) or write an
    instant with another offset (`+00:00` for `Z`). Those are the same setting;
    a different host or another instant is not.
    """
    if isinstance(sent, str) != isinstance(answered, str) and not isinstance(
        sent if isinstance(sent, str) else answered, dict | list
    ):
        # The page gives config fields no types: 5432 written back as "5432" is the setting.
        return json_text(sent) == json_text(answered)
    if isinstance(sent, str) and isinstance(answered, str):
        if sent.strip().casefold() == answered.strip().casefold():
            return True
        sent_time, answered_time = parse_time(sent), parse_time(answered)
        return sent_time is not None and answered_time is not None and sent_time == answered_time
    if isinstance(sent, list) and isinstance(answered, list):
        return len(sent) == len(answered) and all(map(same_setting, sent, answered))
    if isinstance(sent, dict) and isinstance(answered, dict):
        return sent.keys() == answered.keys() and all(
            same_setting(value, answered[key]) for key, value in sent.items()
        )
    return bool(sent == answered)


def json_text(value: JSON) -> str:
    """A scalar as text: a string as itself, anything else as JSON writes it."""
    import json

    return value if isinstance(value, str) else json.dumps(value)


def is_subset(expected: JSON, actual: JSON) -> bool:
    """Every key of ``expected`` is in ``actual`` with the same setting (deeply)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and is_subset(v, actual[k]) for k, v in expected.items()
        )
    return same_setting(expected, actual)


def shown_as_sent(sent: JSON, shown: JSON) -> list[str]:
    """The fields of ``sent`` that ``shown`` holds with another setting (deeply).

    A non-secret field may be left out of a response (the page promises
    "non-sensitive configuration hints", not every field); one that is shown
    must be the setting sent.
    """
    if not isinstance(shown, dict):
        return ["(whole config)"] if sent else []
    wrong: list[str] = []
    for key, value in sent.items():
        if key not in shown:
            continue
        if isinstance(value, dict) and isinstance(shown[key], dict):
            wrong.extend(f"{key}.{inner}" for inner in shown_as_sent(value, shown[key]))
        elif not same_setting(value, shown[key]):
            wrong.append(key)
    return wrong


@dataclass
class Cred:
    id: str
    name: str
    type: str
    status: str
    created_at: str
    created_by: Any
    config: dict[str, JSON]
    updated_at: str
    deleted_at: str | None = None
    purged: bool = False
    restored: bool = False
    # The whole config the kit last sent, secrets included: updates resend it with
    # their changes, so they mean the same whether a deployment merges the
    # config key by key or replaces it. Never shown: it holds canaries.
    sent_config: dict[str, JSON] = field(default_factory=dict, repr=False)

    def config_update(self, patch: Mapping[str, JSON]) -> dict[str, JSON]:
        """An update's config: everything sent so far with ``patch`` applied."""
        return {**copy.deepcopy(self.sent_config), **copy.deepcopy(dict(patch))}


@dataclass
class Model:
    """The state one test sequence expects; see the module docstring."""

    choices: Choices
    prefix: str = ""
    creds: dict[str, Cred] = field(default_factory=dict)

    # --- helpers -----------------------------------------------------------------

    def live(self) -> list[Cred]:
        return [c for c in self.creds.values() if not c.purged]

    def fail(self, message: str, reply: Reply | None, details: list[str] | None = None) -> None:
        raise ContractViolation(LIFECYCLE, message, reply.exchange if reply else None, details)

    def holder_of(self, name: str, exclude: str | None = None) -> Cred | None:
        """The live credential that holds ``name``: an active one first."""
        found = [c for c in self.live() if c.name == name and c.id != exclude]
        found.sort(key=lambda c: c.status != ACTIVE)
        return found[0] if found else None

    def _compare(
        self, cred: Cred, view: Mapping[str, JSON], reply: Reply | None, what: str
    ) -> None:
        """A view of ``cred`` (get, list, update, full delete/restore body) must match it."""
        problems: list[str] = []
        if view.get("id") != cred.id:
            problems.append("id differs")
        if "name" in view and view.get("name") != cred.name:
            problems.append("name changed")
        if "type" in view and view.get("type") != cred.type:
            problems.append("type changed")
        if "status" in view and view.get("status") != cred.status:
            problems.append(f"status is {view.get('status')!s:.20} but should be {cred.status}")
        if "created_at" in view and parse_time(view.get("created_at")) != parse_time(
            cred.created_at
        ):
            problems.append("created_at changed")
        if "created_by" in view and view.get("created_by") != cred.created_by:
            problems.append("created_by changed")
        if "config" in view and view.get("config") != cred.config:
            changed = sorted(
                set(cred.config) ^ set(view["config"])
                | {k for k in cred.config if view["config"].get(k) != cred.config[k]}
                if isinstance(view.get("config"), dict)
                else {"(whole config)"}
            )
            problems.append("config changed: " + ", ".join(changed[:8]))
        if "updated_at" in view:
            new, old = parse_time(view.get("updated_at")), parse_time(cred.updated_at)
            if new is not None and old is not None and new < old:
                problems.append("updated_at went backwards")
        if "deleted_at" in view:
            if cred.status == ACTIVE and view["deleted_at"] is not None:
                problems.append("deleted_at set on an active credential")
            if (
                cred.status == DELETED
                and cred.deleted_at is not None
                and parse_time(view["deleted_at"]) != parse_time(cred.deleted_at)
            ):
                problems.append("deleted_at changed")
        if problems:
            rule = _invariant_for(problems, cred)
            self.fail(
                f"{rule}: {what} of {_a(cred.status)} credential: " + "; ".join(problems), reply
            )
        updated = view.get("updated_at")
        if isinstance(updated, str):
            cred.updated_at = updated

    def _view(self, reply: Reply, what: str) -> dict[str, JSON]:
        data = reply.data
        if not isinstance(data, dict):
            self.fail(f"{what} answered {reply.status} without a data object", reply)
        assert isinstance(data, dict)
        return data

    def _unexpected(self, what: str, reply: Reply, expected: str) -> None:
        self.fail(f"{what}: answered {reply.status}, expected {expected}", reply)

    def _name_refused(self, reply: Reply) -> bool:
        """A refusal of a taken name (409, 400 or 422), held to one status for the run."""
        if str(reply.status) not in ALTERNATIVES["refusal of a taken name"]:
            return False
        self.choices.hold("refusal of a taken name", str(reply.status), reply.exchange)
        return True

    def _clash(self, what: str, reply: Reply) -> None:
        """A call that would give two active credentials one name must be refused."""
        if not self._name_refused(reply):
            self._unexpected(what, reply, "a refusal (409, 400 or 422)")

    # --- operations --------------------------------------------------------------

    def on_create(self, body: Mapping[str, JSON], reply: Reply) -> str | None:
        """Check a create answer; returns the new id when one was created."""
        name, type_ = body["name"], body["type"]
        holder = self.holder_of(name)
        what = "create"
        if holder is not None and holder.status == ACTIVE:
            if reply.ok:
                self.fail(
                    f"invariant 5: create made a second active credential named like {holder.id}",
                    reply,
                )
            self._clash("create with a name an active credential holds", reply)
            return None
        if holder is not None:  # held by a soft-deleted one: the deployment's choice
            if self._name_refused(reply):
                self.choices.hold("name of a soft-deleted credential", "reserved", reply.exchange)
                return None
            if reply.ok:
                self.choices.hold("name of a soft-deleted credential", "freed", reply.exchange)
            what = "create with the name of a soft-deleted credential"
        if _config_refused(body, reply):
            return None
        if not reply.ok:
            self._unexpected(what, reply, "2xx")
        self.choices.hold("create status code", str(reply.status), reply.exchange)
        data = self._view(reply, "create")
        cred_id = data.get("id")
        if not isinstance(cred_id, str):
            self.fail("create answered without an id", reply)
        assert isinstance(cred_id, str)
        if cred_id in self.creds:
            self.fail("create answered with the id of another credential", reply)
        problems = []
        if data.get("name") != name:
            problems.append("name differs from the one sent")
        if data.get("type") != type_:
            problems.append("type differs from the one sent")
        if data.get("status") != ACTIVE:
            problems.append("status is not active")
        if data.get("deleted_at") is not None:
            problems.append("deleted_at is set")
        config = data.get("config")
        expected = redact(type_, body.get("config", {}))
        changed = shown_as_sent(expected, config) if "config" in data else []
        if changed:
            problems.append("config shows other settings than sent: " + ", ".join(changed[:8]))
        if problems:
            self.fail(
                "create answered a credential unlike the one sent: " + "; ".join(problems), reply
            )
        self.creds[cred_id] = Cred(
            id=cred_id,
            name=name,
            type=type_,
            status=ACTIVE,
            created_at=str(data.get("created_at")),
            created_by=data.get("created_by"),
            config=copy.deepcopy(config) if isinstance(config, dict) else {},
            updated_at=str(data.get("updated_at")),
            sent_config=copy.deepcopy(dict(body.get("config", {}))),
        )
        return cred_id

    def _was_purged(self, cred: Cred, reply: Reply, what: str) -> bool:
        """Invariant 3: every call on a purged id answers 404. True when ``cred`` is purged."""
        if cred.purged and reply.status not in (404, 410):
            self.fail(
                f"invariant 3: {what} of a purged id answered {reply.status}, not 404 or 410",
                reply,
            )
        return cred.purged

    def on_get(self, cred: Cred, reply: Reply) -> None:
        if self._was_purged(cred, reply, "get"):
            return
        if cred.status == DELETED:
            if reply.status == 200 and self.choices.get("update of a soft-deleted one") in HIDDEN:
                self.fail(
                    "get of a soft-deleted credential answered 200, but an update of one "
                    "answered 404: the documentation allows that 404 only when GET hides them too",
                    reply,
                )
            self.choices.hold("GET of a soft-deleted id", str(reply.status), reply.exchange)
            if str(reply.status) in HIDDEN:
                return
        elif reply.status != 200:
            self._unexpected("get of an active credential", reply, "200")
        view = self._view(reply, "get")
        self.choices.hold(
            _deleted_at_situation("get", cred),
            "present" if "deleted_at" in view else "absent",
            reply.exchange,
        )
        self._compare(cred, view, reply, "get")

    def _hidden_when_deleted(self, what: str, reply: Reply) -> None:
        """A 404 for a soft-deleted id is allowed only if GET answers 404 for one too."""
        if self.choices.get("GET of a soft-deleted id") == "200":
            self.fail(
                f"{what} of a soft-deleted credential answered 404, but a get of one "
                "answered 200: the documentation allows that 404 only when GET hides them too",
                reply,
            )

    def on_update(self, cred: Cred, body: Mapping[str, JSON], reply: Reply) -> None:
        if self._was_purged(cred, reply, "update"):
            return
        new_name = body.get("name", cred.name)
        # A soft-deleted credential keeps a name an active one may have taken since
        # (where deleted names are freed): an update of it may be refused for that
        # clash, renamed or not, as a restore would be.
        renamed = new_name != cred.name or cred.status == DELETED
        holder = self.holder_of(new_name, exclude=cred.id) if renamed else None
        if cred.status == DELETED:
            known = self.choices.get("update of a soft-deleted one")
            if str(reply.status) in HIDDEN:
                self._hidden_when_deleted("update", reply)
                self.choices.hold("update of a soft-deleted one", str(reply.status), reply.exchange)
                return
            if reply.status == 409 and (holder is None or known == "409"):
                self.choices.hold("update of a soft-deleted one", "409", reply.exchange)
                return
            if reply.status == 409:
                return  # a name clash may be the reason; nothing to learn
            if not reply.ok:
                self._unexpected(
                    "update of a soft-deleted credential", reply, "200 or 409 (or 404 if hidden)"
                )
            self.choices.hold("update of a soft-deleted one", "200", reply.exchange)
            if (
                holder is not None
                and holder.status == ACTIVE
                and self.choices.get("name of a soft-deleted credential") == "reserved"
            ):
                self.fail(
                    "invariant 5: a soft-deleted credential was renamed to a name an "
                    "active one holds, though this deployment reserves deleted names",
                    reply,
                )
        elif holder is not None and holder.status == ACTIVE:
            if reply.ok:
                self.fail(
                    f"invariant 5: update gave an active credential the name of {holder.id}",
                    reply,
                )
            self._clash("rename to a name an active credential holds", reply)
            return
        elif holder is not None:
            if self._name_refused(reply):
                self.choices.hold("name of a soft-deleted credential", "reserved", reply.exchange)
                return
            if reply.ok:
                self.choices.hold("name of a soft-deleted credential", "freed", reply.exchange)
        if _config_refused(body, reply):
            return
        if not reply.ok:
            self._unexpected("update", reply, "200")
        view = self._view(reply, "update")
        cred.name = new_name
        if "config" in body:
            # The kit sends whole configs (see Cred.sent_config), so merge-by-key
            # and replace-whole deployments must both show every field it sent.
            expected = redact(cred.type, body["config"])
            config = view.get("config")
            if "config" in view and shown_as_sent(expected, config):
                self.fail(
                    "update did not apply the config it was sent: fields it sent are "
                    "shown with other settings",
                    reply,
                )
            if isinstance(config, dict):
                cred.config = copy.deepcopy(config)
            cred.sent_config = copy.deepcopy(dict(body["config"]))
        if view.get("status") != cred.status:
            self.fail(
                f"invariant 4: update moved the status of {_a(cred.status)} credential to "
                f"{view.get('status')!s:.20}",
                reply,
            )
        self._compare(cred, view, reply, "update")

    def on_delete(self, cred: Cred, reply: Reply) -> None:
        if self._was_purged(cred, reply, "delete"):
            return
        if cred.status == DELETED:
            self.choices.hold("delete of an already deleted one", str(reply.status), reply.exchange)
            if reply.ok:
                view = self._view(reply, "repeated delete")
                if cred.deleted_at and parse_time(view.get("deleted_at")) != parse_time(
                    cred.deleted_at
                ):
                    self.fail("invariant 6: a repeated delete changed deleted_at", reply)
            return
        if not reply.ok:
            self._unexpected("delete of an active credential", reply, "200")
        view = self._view(reply, "delete")
        if view.get("id") != cred.id or view.get("status") != DELETED:
            self.fail("invariant 1: delete did not answer the id with status deleted", reply)
        if not isinstance(view.get("deleted_at"), str):
            self.fail("invariant 1: delete did not set deleted_at", reply)
        cred.status = DELETED
        cred.deleted_at = str(view["deleted_at"])
        self._compare(cred, view, reply, "delete")

    def on_restore(self, cred: Cred, reply: Reply) -> None:
        if self._was_purged(cred, reply, "restore"):
            return
        if cred.status == ACTIVE:
            self.choices.hold("restore of an active one", str(reply.status), reply.exchange)
            if reply.ok:
                view = self._view(reply, "restore of an active credential")
                if view.get("status") != ACTIVE:
                    self.fail("invariant 6: restore of an active credential changed it", reply)
                self._compare(cred, view, reply, "restore")
            return
        holder = self.holder_of(cred.name, exclude=cred.id)
        if holder is not None and holder.status == ACTIVE:
            if reply.ok:
                self.fail(
                    f"invariant 5: restore made two active credentials share a name "
                    f"(with {holder.id})",
                    reply,
                )
            self._clash("restore that would clash with an active name", reply)
            return
        if not reply.ok:
            self._unexpected("restore of a soft-deleted credential", reply, "200")
        view = self._view(reply, "restore")
        if view.get("id") != cred.id or view.get("status") != ACTIVE:
            self.fail("invariant 2: restore did not answer the id with status active", reply)
        if view.get("deleted_at", None) is not None:
            self.fail("invariant 2: restore left deleted_at set", reply)
        cred.status = ACTIVE
        cred.deleted_at = None
        cred.restored = True
        self._compare(cred, view, reply, "restore")

    def on_purge(self, cred: Cred, reply: Reply) -> None:
        if self._was_purged(cred, reply, "purge"):
            return
        if cred.status == ACTIVE:
            self.choices.hold("purge of an active one", str(reply.status), reply.exchange)
            if reply.status == 409:
                return
        elif not reply.ok:
            self._unexpected("purge of a soft-deleted credential", reply, "200")
        view = self._view(reply, "purge")
        if view.get("id") != cred.id or view.get("purged") is not True:
            self.fail("purge did not answer the id with purged: true", reply)
        cred.purged = True

    def check_listing(self, items: list[JSON], reply: Reply | None) -> None:
        """A full walk of the default listing, against the model (invariants 1-5)."""
        seen: dict[str, dict[str, JSON]] = {}
        for item in items:
            if not isinstance(item, dict):
                continue
            cred_id = item.get("id")
            name = item.get("name")
            cred = self.creds.get(cred_id) if isinstance(cred_id, str) else None
            if cred is None:
                if isinstance(name, str) and self.prefix and name.startswith(self.prefix):
                    self.fail(
                        "invariant 5: the list shows a credential of this test that no "
                        "successful create made (a failed call changed state)",
                        reply,
                    )
                continue
            assert isinstance(cred_id, str)
            if cred.purged:
                self.fail("invariant 3: the list still shows a purged credential", reply)
            seen[cred_id] = item
        for cred in self.live():
            item = seen.get(cred.id)
            if cred.status == DELETED:
                self.choices.hold(
                    "list without status",
                    "active only" if item is None else "deleted included",
                    reply.exchange if reply else None,
                )
            elif item is None:
                rule = "invariant 2" if cred.restored else "lifecycle"
                self.fail(f"{rule}: the list does not show an active credential", reply)
            if item is None:
                continue
            self.choices.hold(
                _deleted_at_situation("list", cred),
                "present" if "deleted_at" in item else "absent",
                reply.exchange if reply else None,
            )
            self._compare(cred, item, reply, "list")
        active_names: dict[str, str] = {}
        for cred_id, item in seen.items():
            if item.get("status") == ACTIVE:
                other = active_names.setdefault(str(item.get("name")), cred_id)
                if other != cred_id:
                    self.fail("invariant 5: two active credentials share a name", reply)


def _a(status: str) -> str:
    """ "an active", "a deleted": the article of a status in a finding."""
    return ("an " if status[:1] in "aeiou" else "a ") + status


def _invariant_for(problems: list[str], cred: Cred) -> str:
    if any(p.startswith("status") for p in problems):
        return "invariant 4"
    if cred.status == DELETED:
        return "invariant 1"
    if cred.restored:
        return "invariant 2"
    return "lifecycle"
