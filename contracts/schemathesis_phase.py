"""Placeholder, replaced below."""

from __future__ import annotations

from contracts.context import KitContext


def run_schemathesis(ctx: KitContext) -> None:
    return None
