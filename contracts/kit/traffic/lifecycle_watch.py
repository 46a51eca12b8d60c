"""The lifecycle invariants (docs: behaviour, Lifecycle), judged from traffic the kit
did not send, as far as it shows.

The kit's own model (:mod:`contracts.kit.model`) knows every call it made; a
proxy sees only what passes, and others may change a deployment behind its
back. So a rule is judged only on evidence the traffic gives:

- invariant 3 (a purged id stays gone) for every id: once a purge answered
  2xx, any later call on the id answering 2xx, or a list showing it, is a
  violation, whoever made the credential;
- invariant 5 within one list page (two active items of one name) for every id;
- invariants 2, 4 and 5 across calls only for credentials created through
  the proxy: their whole life went through it, so a change the traffic does
  not explain is the deployment's doing. Restore must bring back the name,
  type, creation time, creator and every config field the credential had
  before its delete; a get, list or update must never move the status;
  a create, rename or restore must never give an active credential a name
  another active one of its workspace holds.

Every open alternative is accepted: GET of a deleted id 200, 404 or 410 (an
answer that is not 2xx is never evidence), lists
with or without deleted ones, minimal or full delete/restore bodies,
``deleted_at`` present or absent, 409 for out-of-state calls, names of deleted
credentials reserved or freed. Evidence is ordered by time: a view whose
request started before the last change to its credential finished may show
either side of that change and is not used.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from contracts.kit.model import is_subset
from contracts.registry import CREDENTIAL_TYPES, redact

JSON = Any
ACTIVE = "active"
DELETED = "deleted"
Report = Callable[[str, str | None], None]  # (message, credential id)


@dataclass
class Tracked:
    id: str
    workspace: str
    created_here: bool
    status: str | None = None
    name: Any = None
    type: Any = None
    view: dict[str, JSON] | None = None  # the last full view, config redacted
    changed: float = float("-inf")  # when the last change the traffic made finished
    purged: float | None = None
    before_delete: dict[str, JSON] | None = None
    await_restored: dict[str, JSON] | None = None  # compare the next active view with this


def _full_view(data: JSON) -> dict[str, JSON] | None:
    """``data`` when it is credential metadata (not a minimal delete/restore body)."""
    if isinstance(data, dict) and isinstance(data.get("id"), str) and "config" in data:
        return data
    return None


def _kept(view: dict[str, JSON]) -> dict[str, JSON]:
    """What of a view restore must bring back (config without any secret field)."""
    kept = {k: copy.deepcopy(view.get(k)) for k in ("name", "type", "created_at", "created_by")}
    kept = {k: v for k, v in kept.items() if v is not None}
    config = view.get("config")
    if isinstance(config, dict):
        type_ = view.get("type")
        kept["config"] = redact(type_, config) if type_ in CREDENTIAL_TYPES else config
    return kept


class LifecycleWatch:
    """Per credential id, what the traffic showed; reports what breaks the lifecycle invariants."""

    def __init__(self) -> None:
        self.tracked: dict[str, Tracked] = {}
        # (workspace, name) -> ids ever seen with it: a name check reads these few only.
        self._named: dict[tuple[str, str], set[str]] = {}

    def _get(self, cred_id: str, workspace: str, created_here: bool = False) -> Tracked:
        found = self.tracked.get(cred_id)
        if found is None:
            found = self.tracked[cred_id] = Tracked(cred_id, workspace, created_here)
        return found

    def type_of(self, cred_id: str | None) -> str | None:
        found = self.tracked.get(cred_id) if cred_id else None
        return found.type if found and found.type in CREDENTIAL_TYPES else None

    # --- the calls ------------------------------------------------------------------

    def on_exchange(
        self,
        op: str,
        cred_id: str | None,
        workspace: str,
        status: int,
        body: JSON,
        started: float,
        finished: float,
        report: Report,
    ) -> None:
        ok = 200 <= status < 300
        data = body.get("data") if isinstance(body, dict) else None
        if cred_id is not None:
            known = self.tracked.get(cred_id)
            if known is not None and known.purged is not None and started > known.purged and ok:
                report(f"invariant 3: {op} of a purged credential answered {status}", cred_id)
                return
        if not ok:
            return
        if op == "list" and isinstance(data, list):
            self._on_list(data, workspace, started, report)
        elif op == "create":
            self._on_create(data, workspace, finished, report)
        elif cred_id is None:
            return
        elif op == "get":
            self._on_view(_full_view(data), workspace, started, report)
        elif op == "update":
            self._on_update(cred_id, data, workspace, started, finished, report)
        elif op == "delete":
            self._on_delete(cred_id, data, workspace, finished)
        elif op == "restore":
            self._on_restore(cred_id, data, workspace, started, finished, report)
        elif op == "purge":
            found = self._get(cred_id, workspace)
            found.purged, found.status = finished, None

    def _on_list(self, items: list[JSON], workspace: str, started: float, report: Report) -> None:
        names: dict[Any, str] = {}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            known = self.tracked.get(item["id"])
            if known is not None and known.purged is not None and started > known.purged:
                report("invariant 3: a list shows a purged credential", item["id"])
                continue
            if item.get("status") == ACTIVE and isinstance(item.get("name"), str):
                other = names.setdefault(item["name"], item["id"])
                if other != item["id"]:
                    report(
                        f"invariant 5: one list page shows two active credentials of one "
                        f"name ({other} and {item['id']})",
                        item["id"],
                    )
            self._on_view(_full_view(item), workspace, started, report)

    def _on_view(
        self, view: dict[str, JSON] | None, workspace: str, started: float, report: Report
    ) -> None:
        if view is None:
            return
        found = self._get(view["id"], workspace)
        if started < found.changed:
            return  # raced with a change: may show either side of it
        status = view.get("status")
        if (
            found.created_here
            and found.status is not None
            and status in (ACTIVE, DELETED)
            and status != found.status
        ):
            report(
                f"invariant 4: status moved from {found.status} to {status} "
                "with no delete or restore in the traffic",
                found.id,
            )
        self._remember(found, view)
        if found.await_restored is not None and status == ACTIVE:
            self._compare_restored(found, view, report)

    def _remember(self, found: Tracked, view: dict[str, JSON]) -> None:
        found.view = _kept(view)
        if view.get("status") in (ACTIVE, DELETED):
            found.status = view["status"]
        found.name, found.type = view.get("name", found.name), view.get("type", found.type)
        if isinstance(found.name, str):
            self._named.setdefault((found.workspace, found.name), set()).add(found.id)

    def _on_create(self, data: JSON, workspace: str, finished: float, report: Report) -> None:
        view = _full_view(data)
        if view is None:
            return
        found = self._get(view["id"], workspace, created_here=True)
        found.created_here, found.changed = True, finished
        self._remember(found, view)
        found.status = ACTIVE
        self._check_unique_name(found, "create", report)

    def _on_update(
        self,
        cred_id: str,
        data: JSON,
        workspace: str,
        started: float,
        finished: float,
        report: Report,
    ) -> None:
        found = self._get(cred_id, workspace)
        view = _full_view(data)
        if view is None:
            # Changed, but not shown: what a restore must bring back is unknown now.
            found.changed, found.view = finished, None
            found.before_delete = found.await_restored = None
            return
        status = view.get("status")
        if (
            found.created_here
            and started > found.changed
            and found.status is not None
            and status in (ACTIVE, DELETED)
            and status != found.status
        ):
            report(f"invariant 4: update moved status from {found.status} to {status}", cred_id)
        self._remember(found, view)
        found.changed = finished
        # An open point: an update of a deleted credential may be allowed; restore then
        # brings back the updated config, not the one before the delete.
        if found.before_delete is not None:
            found.before_delete = found.view
        found.await_restored = None
        if found.status == ACTIVE:
            self._check_unique_name(found, "update", report)

    def _on_delete(self, cred_id: str, data: JSON, workspace: str, finished: float) -> None:
        found = self._get(cred_id, workspace)
        if found.status != DELETED:
            # Only a delete of an active one takes something restore must bring back.
            found.before_delete = found.view if found.status == ACTIVE else None
        found.status, found.changed, found.await_restored = DELETED, finished, None
        view = _full_view(data)
        if view is not None:
            found.view = _kept(view)

    def _on_restore(
        self,
        cred_id: str,
        data: JSON,
        workspace: str,
        started: float,
        finished: float,
        report: Report,
    ) -> None:
        found = self._get(cred_id, workspace)
        was_deleted = found.status == DELETED and started > found.changed
        found.status, found.changed = ACTIVE, finished
        if was_deleted and found.created_here and found.before_delete is not None:
            found.await_restored = found.before_delete
        found.before_delete = None
        view = _full_view(data)
        if view is not None:
            self._remember(found, view)
            if found.await_restored is not None:
                self._compare_restored(found, view, report)
        if was_deleted:
            self._check_unique_name(found, "restore", report)

    # --- the rules ------------------------------------------------------------------

    def _compare_restored(self, found: Tracked, view: dict[str, JSON], report: Report) -> None:
        before, found.await_restored = found.await_restored, None
        if not found.created_here or before is None:
            return
        after = _kept(view)
        lost = [
            key
            for key, value in before.items()
            if key != "config" and key in after and after[key] != value
        ]
        lost += [key for key in before if key != "config" and key not in after]
        if not is_subset(before.get("config", {}), after.get("config")):
            lost.append("config")
        if lost:
            report(
                "invariant 2: restore did not bring back what delete took: "
                + ", ".join(sorted(set(lost))),
                found.id,
            )

    def _active_named(self, workspace: str, name: str) -> Iterator[Tracked]:
        for cred_id in self._named.get((workspace, name), ()):
            found = self.tracked[cred_id]
            if found.status == ACTIVE and found.created_here and found.name == name:
                yield found

    def _check_unique_name(self, found: Tracked, what: str, report: Report) -> None:
        if not found.created_here or not isinstance(found.name, str):
            return
        for other in self._active_named(found.workspace, found.name):
            if other.id != found.id:
                report(
                    f"invariant 5: {what} made two active credentials share a name "
                    f"({other.id} and {found.id})",
                    found.id,
                )
                return
