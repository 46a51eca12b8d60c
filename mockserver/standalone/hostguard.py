"""The `Host` guard: only this machine's names reach the control plane (and the API on loopback).

A web page the developer visits can point its own domain at 127.0.0.1 (DNS
rebinding); its requests then reach the fake with `Host: evil.example` and a
matching `Origin`, so an origin check alone passes them. A browser cannot
forge `Host`, so the guard answers 403 unless `Host` names loopback
(`127.0.0.1` and the rest of 127/8, `localhost`, `[::1]`, any port: a
dev-server proxy that keeps its own `localhost:5173` still works), the
`--host` value, or a name added with `--allow-host`.

`/_mock/` is always guarded. The API is guarded when the fake listens on
loopback: there, only this machine's clients are expected, and a rebinding
page must not read credential metadata. On another interface the API
answers any `Host` (its keys guard it) while `/_mock/` keeps the rule.

A request without `Host` (HTTP/1.0 from a script) passes: browsers always
send one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Final

from flask import Flask

from ..errors import Forbidden
from ..httpio import current_request, is_api_path

CONTROL_PREFIX: Final = "/_mock"
_CONTROL_TREE: Final = CONTROL_PREFIX + "/"
_MAX_HOST_CHARS: Final = 300
_MEMO_LIMIT: Final = 256  # Host values are the client's to choose


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (brackets allowed around IPv6)."""
    name = host.lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str | None:
    """The name part of a `Host` value, lower case; None when it is malformed.

    `[::1]:8080` -> `[::1]`, `localhost:5173` -> `localhost`, `127.0.0.1` ->
    `127.0.0.1`. A port, when present, must be 1-5 digits.
    """
    if not header or len(header) > _MAX_HOST_CHARS or not header.isascii():
        return None
    text = header.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[: end + 1], text[end + 1 :]
    else:
        name, sep, port = text.partition(":")
        rest = sep + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and 1 <= len(rest) <= 6):
        return None
    if not name or any(c.isspace() or c in "/\\@?#" for c in name):
        return None
    return name


def normalize_name(name: str) -> str:
    """A name as `--allow-host` and `--host` give it, in the form `host_name` returns."""
    text = name.strip().lower()
    if ":" in text and not text.startswith("["):
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError("an allowed host is a name or address, without a port") from None
        return f"[{text}]"
    parsed = host_name(text)
    if parsed is None or parsed != text:
        raise ValueError("an allowed host is a name or address, without a port")
    return parsed


class HostGuard:
    """Decides which `Host` values may reach the control plane and the API."""

    def __init__(self, listen_host: str | None, allowed: Iterable[str] = ()) -> None:
        names = {normalize_name(name) for name in allowed}
        if listen_host:
            names.add(normalize_name(listen_host))
        self.names: frozenset[str] = frozenset(names)
        # No listen address (an app built in Python): the default, 127.0.0.1.
        self.guards_api = listen_host is None or is_loopback(listen_host.strip())

    def allows(self, header: str | None) -> bool:
        if header is None:
            return True
        name = host_name(header)
        return name is not None and (is_loopback(name) or name in self.names)

    def applies_to(self, path: str) -> bool:
        if path.startswith(_CONTROL_TREE) or path == CONTROL_PREFIX:
            return True
        return self.guards_api and is_api_path(path)


def install(app: Flask, guard: HostGuard) -> HostGuard:
    """Refuse (403) requests whose `Host` is not this machine's, before any other hook."""

    # Verdicts per `Host` value: a client sends the same few, and parsing one
    # (an IP literal through ipaddress) costs more than the rest of the hook.
    verdicts: dict[str | None, bool] = {}

    def check_host() -> None:
        current = current_request()  # one context lookup, not one per `request.x`
        if not guard.applies_to(current.path):
            return
        header = current.environ.get("HTTP_HOST")
        allowed = verdicts.get(header)
        if allowed is None:
            allowed = guard.allows(header)
            if len(verdicts) < _MEMO_LIMIT:
                verdicts[header] = allowed
        if not allowed:
            raise Forbidden(
                "This server answers only requests addressed to its own host name; "
                "add others with --allow-host."
            )

    app.before_request(check_host)
    return guard
