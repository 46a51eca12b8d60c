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
  ``positive_data_acceptance`` is off for the list, where a random cursor is
  rightly a 400, and for update, where a schema-valid patch can still make
  the merged config invalid (400 or 422).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contracts.canaries import CanaryDetector
from contracts.client import Client, operation_of
from contracts.context import KitContext
from contracts.openapi import openapi_document
from contracts.registry import CREDENTIAL_TYPES, secret_paths, validate_create, validate_update
from contracts.violations import SCHEMATHESIS, ContractViolation

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
    ]
    if op in ("list", "update"):
        names.append("positive_data_acceptance")
    return [c for c in CHECKS.get_all() if getattr(c, "__name__", "") in names]


def _by_name(name: str) -> list[Any]:
    from schemathesis.checks import CHECKS

    return [c for c in CHECKS.get_all() if getattr(c, "__name__", "") == name]


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


def _negative_at_path(case: Any) -> bool:
    """Whether schemathesis generated this case's path parameters as invalid."""
    from schemathesis.core.parameters import ParameterLocation

    meta = getattr(case, "meta", None)
    return (
        meta is not None
        and "id" in (case.path_parameters or {})
        and bool(meta.is_negative_at(ParameterLocation.PATH))
    )


def _valid_after_adjusting(op: str, body: JSON) -> bool:
    """A negative case the adjustments (prefix, canaries) may have made valid."""
    if op == "create":
        return not validate_create(body)
    if op == "update":
        return not validate_update(body)
    return False


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
        from contracts.checks import _create_ok, _password_body

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
        # The id is always replaced by one this run owns (safety), which undoes a
        # negative case's mutation when it was in the path: such a case is no
        # longer negative, so it must not be judged as one.
        mutated_path = _negative_at_path(case)
        _adjust(ctx, case, op, ids, data)
        skip = list(excluded)
        if mode == schemathesis.GenerationMode.NEGATIVE and (
            mutated_path or _valid_after_adjusting(op, case.body)
        ):
            skip.extend(_by_name("negative_data_rejection"))
        reply, kwargs = _send(ctx.client, case)
        try:
            case.validate_response(
                reply.raw,
                excluded_checks=skip,
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
