"""Keyset cursors: opaque to clients, signed so they cannot be forged.

A cursor names the sort key of the last item of a page: (created_at as epoch
seconds, id). The HMAC also covers the workspace and the list filter
(status, type), without carrying them, so a cursor replayed with another
filter or by another workspace's key fails verification, exactly like a
tampered one: every such cursor is a 400.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

from .errors import ErrorDetail, InvalidRequest

SortKey = tuple[int, str]
"""(created_at in epoch seconds, credential id): list order is this, descending."""

_VERSION = b"plnx-cursor-v1"
_MAC_BYTES = 16
_MAX_CURSOR_CHARS = 512
_EPOCH_SECONDS = re.compile(r"-?[0-9]{1,12}")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _bad_cursor() -> InvalidRequest:
    return InvalidRequest(
        "The cursor is invalid, or was issued for another query.",
        [ErrorDetail("cursor", "not a cursor issued for this query")],
    )


class CursorSigner:
    """Turns sort keys into cursors and back. One per app; key is per instance."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key if key is not None else os.urandom(32)

    def __repr__(self) -> str:
        return "CursorSigner(key=<hidden>)"

    def _mac(self, payload: bytes, workspace: str, status: str, type_: str | None) -> bytes:
        scope = "\0".join((workspace, status, type_ or "")).encode("utf-8", "surrogatepass")
        message = b"\0".join((_VERSION, scope, payload))
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, key: SortKey, *, workspace: str, status: str, type_: str | None) -> str:
        created, cred_id = key
        payload = f"{created}:{cred_id}".encode("ascii")
        mac = self._mac(payload, workspace, status, type_)
        return f"{_b64encode(payload)}.{_b64encode(mac)}"

    def decode(self, cursor: str, *, workspace: str, status: str, type_: str | None) -> SortKey:
        """The sort key inside `cursor`, or InvalidRequest for anything else."""
        if not cursor or len(cursor) > _MAX_CURSOR_CHARS or not cursor.isascii():
            raise _bad_cursor()
        payload_text, sep, mac_text = cursor.partition(".")
        if not sep:
            raise _bad_cursor()
        try:
            payload = _b64decode(payload_text)
            mac = _b64decode(mac_text)
        except (binascii.Error, ValueError):
            raise _bad_cursor() from None
        # Only the exact text we issued: no extra padding or alternate spellings.
        if _b64encode(payload) != payload_text or _b64encode(mac) != mac_text:
            raise _bad_cursor()
        expected = self._mac(payload, workspace, status, type_)
        if not hmac.compare_digest(mac, expected):
            raise _bad_cursor()
        # Signed by us, so the payload is well formed; still parse defensively.
        created_text, sep, cred_id = payload.decode("ascii", "replace").partition(":")
        # created_at may precede 1970 (fixtures and state files may say so): signed.
        if not sep or not _EPOCH_SECONDS.fullmatch(created_text) or not cred_id:
            raise _bad_cursor()
        return int(created_text), cred_id
