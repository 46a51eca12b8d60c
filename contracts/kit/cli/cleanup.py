"""``planasonix-contract cleanup``: purge the leftovers of an interrupted run by name prefix."""

from __future__ import annotations

import re
from typing import Any

from contracts.kit.canaries import CanaryDetector
from contracts.kit.client import Budget, Client, CreatedIds, Recorder
from contracts.kit.violations import KitError

MAX_PAGES = 2000
# The only names cleanup may touch: a run's own prefix, exactly as runs make it
# (contracts.kit.context.run_prefix). Any other prefix could match someone's data.
KIT_PREFIX = re.compile(r"plnx-contract-[0-9a-f]{8}-")


def is_kit_prefix(prefix: str) -> bool:
    return KIT_PREFIX.fullmatch(prefix) is not None


def _listing(
    client: Client, params: dict[str, Any], final: bool = False
) -> list[dict[str, Any]] | None:
    """Every item of a listing, or None when the deployment refuses ``params``."""
    items: list[dict[str, Any]] = []
    params = dict(params)
    for _ in range(MAX_PAGES):
        reply = client.list(params, validate=False, cleanup=True, final=final)
        if reply.status != 200:
            return items or None
        items.extend(i for i in (reply.data or []) if isinstance(i, dict))
        cursor = ((reply.body or {}).get("meta") or {}).get("page", {}).get("cursor")
        if not cursor:
            break
        params["cursor"] = cursor
    return items


def prefixed(client: Client, prefix: str, final: bool = False) -> dict[str, str]:
    """Id -> name of every credential ``client`` can list whose name starts with ``prefix``.

    Deleted credentials may be hidden from the default listing, so it also asks
    for ``status=all`` and ``status=deleted`` (the deployment may refuse both).
    """
    if not is_kit_prefix(prefix):
        raise KitError(f"refusing to look for {prefix!r}: not a run's own prefix")
    found: dict[str, str] = {}
    for params in ({}, {"status": "all"}, {"status": "deleted"}):
        for item in _listing(client, params, final=final) or []:
            name, cred_id = item.get("name"), item.get("id")
            if isinstance(name, str) and isinstance(cred_id, str) and name.startswith(prefix):
                found[cred_id] = name
    return found


def remove_prefixed(
    base_url: str, api_key: str, prefix: str, *, dry_run: bool = False
) -> tuple[list[str], list[str]]:
    """Soft-delete and purge every credential whose name starts with ``prefix``.

    Deleted credentials may be hidden from the default listing, so it also asks
    for ``status=all`` and ``status=deleted`` (the deployment may refuse both).
    Returns (removed ids, ids that could not be removed).
    """
    if not is_kit_prefix(prefix):
        raise KitError(
            f"refusing to clean up {prefix!r}: only a run's own prefix, "
            "plnx-contract-<8 hex>-, may be cleaned up"
        )
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
    found = prefixed(client, prefix)
    if dry_run:
        return sorted(found), []
    removed: list[str] = []
    left: list[str] = []
    for cred_id in sorted(found):
        ids.add(cred_id, "cleanup")  # found under the run's prefix: this run made it
        (removed if client.remove(cred_id) else left).append(cred_id)
    return removed, left
