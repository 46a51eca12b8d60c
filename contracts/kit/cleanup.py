"""``planasonix-contract cleanup``: purge the leftovers of an interrupted run by name prefix."""

from __future__ import annotations

from typing import Any

from contracts.kit.canaries import CanaryDetector
from contracts.kit.client import Budget, Client, CreatedIds, Recorder

MAX_PAGES = 2000


def _listing(client: Client, params: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Every item of a listing, or None when the deployment refuses ``params``."""
    items: list[dict[str, Any]] = []
    params = dict(params)
    for _ in range(MAX_PAGES):
        reply = client.list(params, validate=False)
        if reply.status != 200:
            return items or None
        items.extend(i for i in (reply.data or []) if isinstance(i, dict))
        cursor = ((reply.body or {}).get("meta") or {}).get("page", {}).get("cursor")
        if not cursor:
            break
        params["cursor"] = cursor
    return items


def remove_prefixed(
    base_url: str, api_key: str, prefix: str, *, dry_run: bool = False
) -> tuple[list[str], list[str]]:
    """Soft-delete and purge every credential whose name starts with ``prefix``.

    Deleted credentials may be hidden from the default listing, so it also asks
    for ``status=all`` and ``status=deleted`` (the deployment may refuse both).
    Returns (removed ids, ids that could not be removed).
    """
    ids = CreatedIds()
    client = Client(
        base_url,
        api_key,
        detector=CanaryDetector(),
        budget=Budget(None),
        recorder=Recorder(keep=0),
        ids=ids,
        label="cleanup",
    )
    client.raise_violations = False
    found: dict[str, str] = {}
    for params in ({}, {"status": "all"}, {"status": "deleted"}):
        for item in _listing(client, params) or []:
            name, cred_id = item.get("name"), item.get("id")
            if isinstance(name, str) and isinstance(cred_id, str) and name.startswith(prefix):
                found[cred_id] = name
    if dry_run:
        return sorted(found), []
    removed: list[str] = []
    left: list[str] = []
    for cred_id in sorted(found):
        ids.add(cred_id, "cleanup")  # found under the run's prefix: this run made it
        (removed if client.remove(cred_id) else left).append(cred_id)
    return removed, left
