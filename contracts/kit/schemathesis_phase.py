"""The schemathesis phase: generated requests over ``contracts/openapi.yaml``.

Every operation under ``/api`` (and the ``/v1/api`` reads) gets positive and
negative examples from schemathesis, sent through the kit's client (so the
budget, the record, the leak scan and the schema check apply) and judged by
schemathesis' built-in checks plus :func:`secret_echo`.

Adjusted for safety and for SPEC.md's open choices:

- names get the run's prefix; ids in paths are ones this run created (or made
  up), so nothing of anyone else is read, changed or deleted;
- secret values are replaced by canaries, so an echo is detectable;
- ``use_after_free`` and ``ensure_resource_availability`` are off: GET of a
  soft-deleted id may be 200 by design and those checks assume otherwise;
  ``status_code_conformance`` is off because 200 on create and 422 on
  validation are allowed (the lifecycle check holds statuses to the
  deployment's own choices); ``ignored_auth`` is off because it sends
  requests outside the budget (the auth check covers it);
  ``negative_data_rejection`` is off: the request schemas carry the fake's
  own limits (unknown fields refused, name and length rules, page sizes),
  which SPEC.md leaves to each deployment, so accepting such a request is no
  violation (the ``validation`` check covers what the docs do require);
  ``positive_data_acceptance`` is off for create and update, whose schema-valid
  values (any Unicode host, say) a deployment may validate more strictly, and
  where an update is judged against the stored credential, and for the list,
  where a random cursor is rightly a 400.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contracts.kit.canaries import CanaryDetector
from contracts.kit.client import Client, operation_of
from contracts.kit.context import KitContext
from contracts.kit.violations import SCHEMATHESIS, ContractViolation
from contracts.openapi import openapi_document
from contracts.registry import CREDENTIAL_TYPES, secret_paths

JSON = Any
_ACTIVE_DETECTOR: list[CanaryDetector] = []


@schemathesis.check
def secret_echo(ctx: Any, response: Any, case: Any) -> bool | None:
    """No canary the kit sent appears in the response, in any encoding (headers included)."""
    for detector in _ACTIVE_DETECTOR:
        text = response.content if isinstance(response.content, bytes) else b""
        leaks = detector.scan(text) + detector.scan_headers(
            (k, ", ".join(v) if isinstance(v, list) else str(v))
            for k, v in dict(response.headers).items()
        )
        if leaks:
            raise AssertionError("secret echoed: " + "; ".join(sorted({str(x) for x in leaks})))
    return None


def _excluded(op: str) -> list[Any]:
    """The checks to leave out, by name: a module imported twice (pytester does that)
    registers new function objects, and schemathesis excludes by identity."""
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    names = [
        "use_after_free",
        "ensure_resource_availability",
        "status_code_conformance",
        "ignored_auth",
        "negative_data_rejection",
    ]
    if op in ("list", "create", "update"):
        names.append("positive_data_acceptance")
    return [c for c in CHECKS.get_all() if getattr(c, "__name__", "") in names]


def _canaries(ctx: KitContext, config: JSON) -> None:
    """Replace every secret string of any type in ``config`` by a fresh canary."""
    if not isinstance(config, dict):
        return
    for type_ in CREDENTIAL_TYPES:
        for path in secret_paths(type_):
            node: Any = config
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
                node[path[-1]] = ctx.factory.fresh()


def _adjust(ctx: KitContext, case: Any, op: str, ids: list[str], data: st.DataObject) -> None:
    if "id" in (case.path_parameters or {}):
        pool = [i for i in ids if i in ctx.ids.live] or [ctx.client.fabricate_id()]
        chosen = data.draw(st.sampled_from(pool), label="id")
        case.path_parameters = {**case.path_parameters, "id": chosen}
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("name"), str):
            body["name"] = (ctx.prefix + "sx-" + body["name"])[:255]
        elif op == "create":
            body["name"] = ctx.prefix + "sx-unnamed"
        _canaries(ctx, body.get("config"))


def _send(client: Client, case: Any) -> Any:
    kwargs = case.as_transport_kwargs(base_url=client.base_url)
    url: str = kwargs["url"]
    path = url[len(client.base_url) :] if url.startswith(client.base_url) else url
    headers = {
        k: str(v)
        for k, v in (kwargs.get("headers") or {}).items()
        if k.lower() not in ("authorization", "x-planasonix-api-key", "user-agent")
    }
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json_body"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["data"] = data if isinstance(data, bytes | str) else str(data)
    params = {k: v for k, v in (kwargs.get("params") or {}).items()}
    reply = client.request(case.method, path, params=params or None, headers=headers, **body)
    return reply, kwargs


def run_schemathesis(ctx: KitContext) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    client = ctx.client
    ids: list[str] = []
    if not ctx.settings.read_only:
        from contracts.kit.checks import _create_ok, _password_body

        for n in range(3):
            ids.append(
                _create_ok(ctx, client, _password_body(ctx, f"{ctx.prefix}sx{n}"), SCHEMATHESIS)
            )
    _ACTIVE_DETECTOR.append(ctx.detector)
    try:
        for result in schema.get_all_operations():
            operation: Any = result.ok()  # type: ignore[union-attr]
            path: str = operation.path
            method = operation.method.upper()
            if path.startswith("/v1/") and method != "GET":
                continue
            if ctx.settings.read_only and method != "GET":
                continue
            op, _ = operation_of(method, path.replace("{id}", "cred_x"))
            for mode in (
                schemathesis.GenerationMode.POSITIVE,
                schemathesis.GenerationMode.NEGATIVE,
            ):
                _run_operation(ctx, operation, op, mode, ids)
    finally:
        _ACTIVE_DETECTOR.remove(ctx.detector)


def _run_operation(ctx: KitContext, operation: Any, op: str, mode: Any, ids: list[str]) -> None:
    excluded = _excluded(op)
    strategy = operation.as_strategy(generation_mode=mode)

    @settings(
        max_examples=ctx.settings.schemathesis_examples,
        database=None,
        deadline=None,
        derandomize=ctx.settings.seed is not None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    @given(data=st.data())
    def probe(data: st.DataObject) -> None:
        case = data.draw(strategy)
        _adjust(ctx, case, op, ids, data)
        reply, kwargs = _send(ctx.client, case)
        try:
            case.validate_response(
                reply.raw,
                excluded_checks=excluded,
                additional_checks=[secret_echo],
                transport_kwargs=kwargs,
            )
        except BaseExceptionGroup as group:
            titles = sorted({str(getattr(f, "title", type(f).__name__)) for f in group.exceptions})
            raise ContractViolation(
                SCHEMATHESIS,
                f"{operation.method.upper()} {operation.path} ({mode.value} data): "
                + "; ".join(titles),
                reply.exchange,
            ) from None
        except AssertionError as exc:
            raise ContractViolation(
                SCHEMATHESIS,
                f"{operation.method.upper()} {operation.path} ({mode.value} data): {exc}",
                reply.exchange,
            ) from None

    probe()
