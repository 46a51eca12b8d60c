"""Credential ids read from a recorded answer, for every coverage kind alike.

A record keeps only the first few thousand characters of a body, so an answer
that no longer parses is read for the ids it still holds, by pattern.
"""

from __future__ import annotations

import json
import re
from typing import Any

from contracts.kit.exchange import Exchange

_ID = re.compile(r'"id":\s*"([^"]+)"')


def parsed(text: str | None) -> Any:
    """The JSON of ``text``, or None (a body nested too deep is none the kit reads)."""
    try:
        return json.loads(text or "")
    except (ValueError, RecursionError):
        return None


def created_id(exchange: Exchange) -> str | None:
    """The id a create answered with, or None."""
    data = parsed(exchange.response_body)
    data = data.get("data") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])
    match = _ID.search(exchange.response_body or "")
    return match.group(1) if match else None


def listed_ids(body: str | None) -> set[str]:
    """The ids a listing shows."""
    data = parsed(body)
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return set(_ID.findall(body or ""))
    return {str(i["id"]) for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}
