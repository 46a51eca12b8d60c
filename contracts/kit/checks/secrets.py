"""Secret non-echo where the first probes do not reach: nested and object-valued secrets.

- Invalid requests of every type carry a canary in *every* secret field, the
  nested ones included (``config.ssh_tunnel.private_key``, ``.passphrase``),
  and are wrong right next to them (an unknown ``config.ssh_tunnel`` field),
  so an error about a nested field cannot echo its neighbours unseen.
- A GCP ``service_account_json`` sent as an object (the published page: secret as a
  whole, every string inside it included) carries a canary in every string,
  nested objects and lists included, through create, get, list, update,
  delete, restore and purge.

Every answer is scanned by the client (any 6-character window of a canary,
raw, JSON- or URL-encoded, and longer pieces in hex or base64:
:mod:`contracts.kit.canaries`). What a
deployment answers to an invalid request is its own choice here (it may even
accept some of them); only what comes back is judged.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from contracts.kit.checks.common import (
    DRAWN_CONFIG_REFUSED,
    NAME_REFUSALS,
    bounded_walk,
    check_status,
    created_id,
    fill_canaries,
    password_body,
    present_secret_paths,
    probing,
    refused_or_taken,
    secret_configs,
    set_path,
    validation_refused,
)
from contracts.kit.context import KitContext
from contracts.kit.statuses import MADE_UP_ID, SUCCESS
from contracts.kit.violations import LIFECYCLE, NAMES, SECRET_NON_ECHO, VALIDATION
from contracts.registry import CREDENTIAL_TYPES, required_fields, secret_paths

JSON = Any

# A mistake right next to the secrets, per type: a field the schemas do not know. Only
# unknown fields, never wrong types: a deployment may accept (and echo) an unknown
# non-secret field (docs: behaviour, The credential), while an accepted wrong type
# would come back wrong.
_NESTED_MISTAKES: dict[str, tuple[tuple[str, ...], JSON]] = {
    "database": (("ssh_tunnel", "not_a_field"), "x"),
}


def check_secrets_everywhere(ctx: KitContext) -> None:
    with probing(ctx, "the secret probes through every call"):
        check_secret_non_echo(ctx)
    with probing(ctx, "the invalid requests carrying every secret"):
        _invalid_with_every_secret(ctx)
    with probing(ctx, "the object-valued secret's probes"):
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
        set_path(config, path, ctx.factory.fresh())
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
            set_path(config, path, value)
            body = {"name": f"{prefix}{type_}-{n}", "type": type_, "config": config}
            client.create(body)  # refused or not, the answer is scanned
        valid = next(secret_configs(ctx, type_))
        made = client.create({"name": f"{prefix}{type_}-ok", "type": type_, "config": valid})
        if not made.ok or not isinstance(made.data, dict):
            continue
        cred_id = str(made.data.get("id"))
        for path, value in mistakes:
            config = {**copy.deepcopy(valid), **_every_secret(ctx, type_)}
            set_path(config, path, value)
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
    what = "create with an object-valued secret"
    if not check_status(ctx, LIFECYCLE, made, set(SUCCESS["create"]), what):
        ctx.skipped("the object-valued secret's probes", f"{what} answered {made.status}")
        return
    cred_id = str((made.data or {}).get("id"))
    client.get(cred_id)
    bounded_walk(client, {"limit": 2}, {cred_id}, max_pages=30)
    config = {**config, "service_account_json": _object_json(ctx)}
    check_status(ctx, LIFECYCLE, client.update(cred_id, {"config": config}), {200}, "update")
    client.get(cred_id)
    check_status(ctx, LIFECYCLE, client.delete(cred_id), {200}, "soft delete")
    client.get(cred_id)
    client.list({"status": "deleted", "limit": 5})
    check_status(ctx, LIFECYCLE, client.restore(cred_id), {200}, "restore")
    client.get(cred_id)
    client.remove(cred_id)


# --- the first probes: every type, every call, every kind of answer ------------------


def _filler(ctx: KitContext, name: str) -> str:
    return created_id(ctx, ctx.client.create(password_body(ctx, name)), SECRET_NON_ECHO)


def check_secret_non_echo(ctx: KitContext) -> None:
    """Send canaries through every call and every kind of answer; the client scans them."""
    client = ctx.client
    prefix = ctx.sub_prefix("e")
    made: list[tuple[str, str, dict[str, JSON]]] = []  # (id, type, config)
    # Two password credentials made before the typed ones and two after: a page of two
    # holds fillers first, newest or oldest first, so every type's secrets are also
    # read on pages after the first.
    fillers = [_filler(ctx, f"{prefix}first-{n}") for n in range(2)]
    for type_ in CREDENTIAL_TYPES:
        for n, config in enumerate(secret_configs(ctx, type_)):
            body = {"name": f"{prefix}{type_}-{n}", "type": type_, "config": config}
            reply = client.create(body)  # scanned for the canaries whatever it answers
            if reply.status in (400, 422):
                # The kit's drawn settings (the fake's) may break formats the deployment
                # checks and the page does not give: this config's probes cannot run.
                ctx.skipped(f"the probes of {type_} config #{n}", DRAWN_CONFIG_REFUSED)
                continue
            made.append((created_id(ctx, reply, SECRET_NON_ECHO), type_, config))
    fillers += [_filler(ctx, f"{prefix}last-{n}") for n in range(2)]
    ids = {cred_id for cred_id, _, _ in made}
    for cred_id, _, _ in made:
        client.get(cred_id)
    # Small pages, so most of the credentials are on pages after the first.
    bounded_walk(client, {"limit": 2}, ids)
    for cred_id in fillers:
        client.remove(cred_id)
    for params in ({"status": "all", "limit": 3}, {"status": "deleted"}):
        client.list(params)  # F: the parameter may be refused; the answer is scanned anyway
    # Rotation: new canaries for every top-level secret.
    for cred_id, type_, config in made:
        patch = {
            path[0]: ctx.factory.fresh()
            for path in present_secret_paths(type_, config)
            if len(path) == 1
        }
        if patch:
            # The whole config with the secrets replaced: the same request whether a
            # deployment merges config key by key or replaces it (the docs say neither).
            reply = client.update(cred_id, {"config": {**config, **patch}})
            check_status(ctx, LIFECYCLE, reply, {200}, "update with a new secret")
            client.get(cred_id)
    _invalid_requests(ctx, prefix, made)
    # Views of soft-deleted credentials, restore, and purge.
    for cred_id, _, _ in made:
        check_status(ctx, LIFECYCLE, client.delete(cred_id), {200}, "soft delete")
        client.get(cred_id)
        client.delete(cred_id)
        client.update(cred_id, {"config": {}})
    bounded_walk(client, {"limit": 2}, set())
    client.list({"status": "deleted", "limit": 2})
    for cred_id, _, _ in made[:3]:
        check_status(ctx, LIFECYCLE, client.restore(cred_id), {200}, "restore")
        client.get(cred_id)
        client.restore(cred_id)
        client.delete(cred_id)
    for cred_id, _, _ in made:
        check_status(ctx, LIFECYCLE, client.purge(cred_id), {200}, "purge of a soft-deleted one")
        client.get(cred_id)


def _invalid_requests(
    ctx: KitContext, prefix: str, made: list[tuple[str, str, dict[str, JSON]]]
) -> None:
    """Invalid calls that carry canaries; the refusals must not echo them."""
    client = ctx.client
    cred_id, type_, config = made[0]
    taken = f"{prefix}{type_}-0"

    def secret_body(name: str) -> dict[str, JSON]:
        return {"name": name, "type": type_, "config": fill_canaries(ctx, type_, config)}

    # A duplicate name.
    reply = client.create(secret_body(taken))
    check_status(ctx, NAMES, reply, NAME_REFUSALS, "create with a taken name")
    # A config field the fake requires, missing, next to a secret. Which config fields
    # are required is the fake's choice (docs: behaviour): accepting it is as valid.
    body = secret_body(f"{prefix}invalid-1")
    body["config"].pop(required_fields(type_)[0], None)
    refused_or_taken(ctx, client.create(body), "create without a config field the fake requires")
    # An unknown config field next to a secret. Refusing it is the fake's choice
    # (docs: behaviour); ignoring it is as valid. Either way no secret may come back.
    body = secret_body(f"{prefix}invalid-2")
    body["config"]["not_a_field"] = "x"
    refused_or_taken(ctx, client.create(body), "create with an unknown config field")
    # A secret far over the schemas' maximum length: a limit the docs never set,
    # so it may be accepted, refused, or refused as too large.
    body = secret_body(f"{prefix}invalid-3")
    path = present_secret_paths(type_, body["config"])[0]
    long_canary = ctx.factory.fresh()
    node = body["config"]
    for part in path[:-1]:
        node = node[part]
    # Whole canaries only: a cut one would show its unmasked remainder in the record.
    node[path[-1]] = long_canary * (17000 // len(long_canary) + 1)
    refused_or_taken(ctx, client.create(body), "create with an over-long secret")
    # An unknown type.
    body = secret_body(f"{prefix}invalid-4")
    body["type"] = "not_a_type"
    validation_refused(ctx, client.create(body), "create with an unknown type")
    # A type change on update, with a new secret: refused on the fake (docs: behaviour, Updates,
    # its choice); a deployment may also ignore the field. Scanned either way.
    other = next(t for t in CREDENTIAL_TYPES if t != type_)
    reply = client.update(cred_id, {"type": other, "config": fill_canaries(ctx, type_, config)})
    refused_or_taken(ctx, reply, "update that changes the type", hold=False)
    # Broken JSON and a wrong content type, both carrying a canary.
    text = json.dumps(secret_body(f"{prefix}invalid-5"))
    reply = client.request(
        "POST",
        "/api/credentials",
        data=text[:-1] + ",}",
        headers={"Content-Type": "application/json"},
    )
    check_status(ctx, VALIDATION, reply, {400, 422}, "create with a body that is not JSON")
    reply = client.request(
        "POST",
        "/api/credentials",
        data=json.dumps(secret_body(f"{prefix}invalid-6")),
        headers={"Content-Type": "text/plain"},
    )
    check_status(ctx, VALIDATION, reply, {400, 415, 422}, "create sent as text/plain")
    # An unknown id, with a secret.
    missing = client.fabricate_id()
    reply = client.update(missing, {"config": fill_canaries(ctx, type_, config)})
    check_status(ctx, LIFECYCLE, reply, MADE_UP_ID, "update of an unknown id")
