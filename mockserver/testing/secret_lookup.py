"""`fake.secret(id, "ssh_tunnel.private_key")`: one stored secret, or an error that helps.

Which fields of a type are secret is read from the contract's schemas (their
`writeOnly` marks, `contracts.secret_paths`), never listed here, so a new
secret field of the API is known the day its schema says so.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Mapping
from typing import Any

import contracts
from contracts.errors import PlanasonixError


class SecretFieldError(PlanasonixError, KeyError):
    """No such secret: the message names the path asked for and the type's secret fields.

    A KeyError (what a missing key of a mapping raises), whose text reads as
    a sentence rather than a quoted key. It never holds a secret's value.
    """

    def __init__(self, message: str, path: str, known: Iterable[str]) -> None:
        super().__init__(message)
        self.path = path
        self.known: tuple[str, ...] = tuple(known)

    def __str__(self) -> str:
        return str(self.args[0])


def secret_path(path: str | Iterable[str]) -> tuple[str, ...]:
    return tuple(path.split(".")) if isinstance(path, str) else tuple(path)


def known_paths(type_: str) -> list[str]:
    """The secret fields of `type_`, dotted (`password`, `ssh_tunnel.private_key`)."""
    try:
        return [".".join(parts) for parts in contracts.secret_paths(type_)]
    except KeyError:
        return []


def lookup(secrets: Mapping[str, Any], type_: str, cred_id: str, path: str | Iterable[str]) -> Any:
    """The secret at `path` in `secrets` (a copy), or SecretFieldError saying why not."""
    parts = secret_path(path)
    dotted = ".".join(parts)
    node: Any = secrets
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            raise _missing(type_, cred_id, dotted)
        node = node[part]
    return copy.deepcopy(node)


def _missing(type_: str, cred_id: str, dotted: str) -> SecretFieldError:
    known = known_paths(type_)
    listed = ", ".join(known) or "none"
    if dotted in known or any(dotted.startswith(k + ".") for k in known):
        message = (
            f"{cred_id} stores no secret {dotted!r}: the field is secret for a {type_} "
            "credential but was not sent (it is optional)"
        )
    else:
        message = f"{dotted!r} is not a secret field of a {type_} credential"
        close = difflib.get_close_matches(dotted, known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        message += f" (its secret fields: {listed})"
    return SecretFieldError(message, dotted, known)
