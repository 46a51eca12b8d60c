"""Secret non-echo where the first probes do not reach: nested and object-valued secrets.

- Invalid requests of every type carry a canary in *every* secret field, the
  nested ones included (``config.ssh_tunnel.private_key``, ``.passphrase``),
  and are wrong right next to them (an unknown ``config.ssh_tunnel`` field),
  so an error about a nested field cannot echo its neighbours unseen.
- A GCP ``service_account_json`` sent as an object (SPEC.md §2: secret as a
  whole, every string inside it included) carries a canary in every string,
  nested objects and lists included, through create, get, list, update,
  delete, restore and purge.

Every answer is scanned by the client (raw, encoded, 12-character fragments
and 6-character starts and ends: :mod:`contracts.kit.canaries`). What a
deployment answers to an invalid request is its own choice here (it may even
accept some of them); only what comes back is judged.
"""

from __future__ import annotations

import copy
from typing import Any

from contracts.kit.checks import (
    _bounded_walk,
    _expect,
    _set_path,
    check_secret_non_echo,
    secret_configs,
)
from contracts.kit.checks_status import SUCCESS
from contracts.kit.context import KitContext
from contracts.kit.violations import SECRET_NON_ECHO
from contracts.registry import CREDENTIAL_TYPES, secret_paths

JSON = Any

# A mistake right next to the secrets, per type: a field the schemas do not know. Only
# unknown fields, never wrong types: a deployment may accept (and echo) an unknown
# non-secret field (SPEC.md §2), while an accepted wrong type would come back wrong.
_NESTED_MISTAKES: dict[str, tuple[tuple[str, ...], JSON]] = {
    "database": (("ssh_tunnel", "not_a_field"), "x"),
}


def check_secrets_everywhere(ctx: KitContext) -> None:
    check_secret_non_echo(ctx)
    _invalid_with_every_secret(ctx)
    _object_valued_secret(ctx)


def _every_secret(ctx: KitContext, type_: str) -> dict[str, JSON]:
    """A config of ``type_`` (valid ones merged) with a canary in every secret field."""
    config: dict[str, JSON] = {}
    for part in secret_configs(ctx, type_):
        for key, value in part.items():
            if isinstance(value, dict) and isinstance(config.get(key), dict):
                config[key] = {**config[key], **value}
            else:
                config[key] = value
    if type_ == "database":
        config.setdefault("ssh_tunnel", {"host": "bastion.example.com", "username": "kit"})
    for path in secret_paths(type_):
        _set_path(config, path, ctx.factory.fresh())
    return config


def _invalid_with_every_secret(ctx: KitContext) -> None:
    client = ctx.client
    prefix = ctx.sub_prefix("n")
    for type_ in CREDENTIAL_TYPES:
        mistakes: list[tuple[tuple[str, ...], JSON]] = [(("not_a_field",), "x")]
        if type_ in _NESTED_MISTAKES:
            mistakes.append(_NESTED_MISTAKES[type_])
        for n, (path, value) in enumerate(mistakes):
            config = _every_secret(ctx, type_)
            _set_path(config, path, value)
            body = {"name": f"{prefix}{type_}-{n}", "type": type_, "config": config}
            client.create(body)  # refused or not, the answer is scanned
        valid = next(secret_configs(ctx, type_))
        made = client.create({"name": f"{prefix}{type_}-ok", "type": type_, "config": valid})
        if not made.ok or not isinstance(made.data, dict):
            continue
        cred_id = str(made.data.get("id"))
        for path, value in mistakes:
            config = {**copy.deepcopy(valid), **_every_secret(ctx, type_)}
            _set_path(config, path, value)
            client.update(cred_id, {"config": config})
        client.remove(cred_id)


def _object_json(ctx: KitContext) -> dict[str, JSON]:
    """A service-account key file as an object: every string in it a canary."""
    fresh = ctx.factory.fresh
    return {
        "type": fresh(),
        "project_id": fresh(),
        "private_key_id": fresh(),
        "private_key": fresh(),
        "client_email": fresh(),
        "client_id": fresh(),
        "auth": {"token_uri": fresh(), "auth_provider_x509_cert_url": fresh()},
        "scopes": [fresh(), fresh()],
    }


def _object_valued_secret(ctx: KitContext) -> None:
    client = ctx.client
    prefix = ctx.sub_prefix("o")
    config = {"project_id": "kit-project", "service_account_json": _object_json(ctx)}
    body = {"name": f"{prefix}gcp", "type": "gcp", "config": config}
    made = client.create(body)
    if made.status in (400, 422):
        return  # a deployment may take the key file only as a string: nothing to see
    _expect(SECRET_NON_ECHO, made, set(SUCCESS["create"]), "create with an object-valued secret")
    cred_id = str((made.data or {}).get("id"))
    client.get(cred_id)
    _bounded_walk(client, {"limit": 2}, {cred_id}, max_pages=30)
    config = {**config, "service_account_json": _object_json(ctx)}
    _expect(SECRET_NON_ECHO, client.update(cred_id, {"config": config}), {200}, "update")
    client.get(cred_id)
    _expect(SECRET_NON_ECHO, client.delete(cred_id), {200}, "soft delete")
    client.get(cred_id)
    client.list({"status": "deleted", "limit": 5})
    _expect(SECRET_NON_ECHO, client.restore(cred_id), {200}, "restore")
    client.get(cred_id)
    client.remove(cred_id)
