"""The schemathesis phase: generated requests over ``contracts/openapi.yaml``.

Every operation under ``/api`` (and the ``/v1/api`` reads) gets positive and
negative examples from schemathesis, sent through the kit's client (so the
budget, the record, the leak scan and the schema check apply) and judged by
schemathesis' built-in checks plus :func:`secret_echo`.

Adjusted for safety and for the choices the published page leaves open:

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
  which the published page leaves to each deployment, so accepting such a request is no
  violation (the ``validation`` check covers what the docs do require);
  ``positive_data_acceptance`` is off for create and update, whose schema-valid
  values (any Unicode host, say) a deployment may validate more strictly, and
  where an update is judged against the stored credential, and for the list,
  where a random cursor is rightly a 400; on an id it also accepts what the
  lifecycle's open points allow for the id's state
  (:data:`~contracts.kit.statuses.ID_STATE_REFUSALS`: a repeated delete may be
  404, 409 or 410), and for the id the kit made up, a refusal as malformed
  (:data:`~contracts.kit.statuses.MADE_UP_ID`);
- ``response_schema_conformance`` is off: ``openapi.yaml``'s response schemas
  carry the fake's own limits (lengths, formats, required config fields); the
  kit's client already judges every response by what the docs state
  (:func:`contracts.registry.validate_response` with ``documented=True``).

A finding names the path as requested (``/v1/api/...`` where the deployment
serves only ``/v1/api`` or the base URL ends in ``/v1``), and one the phase
already noted (the same operation, data and failure for another id) is not
noted again.

Reproducible and readable: the phase runs under the run's seed with an
explicit schemathesis configuration (a ``schemathesis.toml`` in the directory
the kit runs from changes nothing), writes no example database, and shrinks a
failing case (a bounded number of extra requests) so the reported request is
one a person can read.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from contracts.kit.canaries import CanaryDetector
from contracts.kit.client import Client, operation_of
from contracts.kit.context import KitContext
from contracts.kit.rules.sources import NO_SECRET, Source, expectation
from contracts.kit.statuses import ID_STATE_REFUSALS, MADE_UP_ID, status_source
from contracts.kit.violations import SCHEMATHESIS, BudgetExhausted, ContractViolation
from contracts.openapi import openapi_document
from contracts.registry import CREDENTIAL_TYPES, secret_paths

JSON = Any
_ACTIVE_DETECTOR: list[CanaryDetector] = []
# Requests one failing case may spend on shrinking; a few dozen usually get a
# 10 KB random case down to a field or two.
MAX_SHRINK_REQUESTS = 150
POOL_TYPE = "password"  # the type of the credentials the phase makes for its path ids
# schemathesis' own default for positive_data_acceptance (its configuration
# reference), widened on an id by the statuses the lifecycle allows there.
DEFAULT_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
ON_AN_ID = sorted({*DEFAULT_ACCEPTED, *(str(s) for s in ID_STATE_REFUSALS)})


def _config() -> SchemathesisConfig:
    """An explicit configuration (never a ``schemathesis.toml`` found in the working
    directory): schemathesis' defaults, but a schema-valid request on an id may be
    refused for the id's state (a repeated delete answered 410, say)."""
    return SchemathesisConfig.from_dict(
        {
            "operations": [
                {
                    "include-path-regex": r"\{id\}",
                    "checks": {"positive_data_acceptance": {"expected-statuses": ON_AN_ID}},
                }
            ]
        }
    )


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


def _source_of(titles: list[str], exchange: Any) -> Source:
    """What a schemathesis finding breaks: a secret echoed breaks the page's first
    promise; a server error where the page shows the answer breaks that section; the
    rest (statuses, headers the page never lists) are expectations."""
    if any("secret echoed" in t for t in titles):
        return NO_SECRET
    if exchange.status >= 500:
        return status_source(exchange)
    return expectation("status_codes")


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
        "response_schema_conformance",
        # An error body of any shape and type is right by the page (an HTML page from
        # a proxy included); its shape is an expectation the kit's client notes.
        "content_type_conformance",
        "response_headers_conformance",
    ]
    if op in ("list", "create", "update"):
        names.append("positive_data_acceptance")
    return [c for c in CHECKS.get_all() if getattr(c, "__name__", "") in names]


def _canaries(ctx: KitContext, config: JSON, credential_type: Any) -> None:
    """Replace every secret string in ``config`` by a fresh canary.

    Secret means secret for the credential's type: a field that is secret only
    for another type is an unknown field here, which a deployment may accept
    and echo like any extra non-secret field (docs: behaviour, The credential). Without a known type
    (an invalid request, or an id nobody holds) every type's secret fields get
    canaries: the refusal must echo none of them.
    """
    if not isinstance(config, dict):
        return
    known = credential_type in CREDENTIAL_TYPES
    for type_ in [credential_type] if known else CREDENTIAL_TYPES:
        for path in secret_paths(type_):
            node: Any = config
            for part in path[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get(path[-1]), str):
                node[path[-1]] = ctx.factory.fresh()


def _adjust(
    ctx: KitContext, case: Any, op: str, ids: list[str], missing: str, data: st.DataObject
) -> None:
    stored_type = None
    if "id" in (case.path_parameters or {}):
        pool = [i for i in ids if i in ctx.ids.live] or [missing]
        chosen = data.draw(st.sampled_from(pool), label="id")
        case.path_parameters = {**case.path_parameters, "id": chosen}
        stored_type = POOL_TYPE if chosen in ids else None
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("name"), str):
            body["name"] = (ctx.prefix + "sx-" + body["name"])[:255]
        elif op == "create":
            body["name"] = ctx.prefix + "sx-unnamed"
        # An update keeps the stored type whatever the body says (docs: behaviour, Updates).
        type_ = stored_type if op == "update" else body.get("type")
        _canaries(ctx, body.get("config"), type_)


def _case_key(client: Client, case: Any) -> str:
    """A request's text with canaries masked: the same case drawn again has the same key."""
    kwargs = case.as_transport_kwargs(base_url=client.base_url)
    return client.mask(json.dumps(kwargs, sort_keys=True, default=str))


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
    schema = schemathesis.openapi.from_dict(openapi_document(), config=_config())
    client = ctx.client
    ids: list[str] = []
    if not ctx.settings.read_only:
        from contracts.kit.checks.common import create_ok, password_body

        for n in range(3):
            ids.append(
                create_ok(ctx, client, password_body(ctx, f"{ctx.prefix}sx{n}"), SCHEMATHESIS)
            )
    missing = ctx.client.fabricate_id()  # one per phase: a replayed case names the same id
    noted: set[str] = set()  # the expectations already noted, by message
    _ACTIVE_DETECTOR.append(ctx.detector)
    try:
        for result in schema.get_all_operations():
            operation: Any = result.ok()  # type: ignore[union-attr]
            path: str = operation.path
            method = operation.method.upper()
            if path.startswith("/v1/") and (method != "GET" or "/v1" not in ctx.prefixes):
                continue  # /v1 reads only, and only where the deployment serves /v1/api
            if not path.startswith("/v1/") and "" not in ctx.prefixes:
                continue
            if ctx.settings.read_only and method != "GET":
                continue
            op, _ = operation_of(method, path.replace("{id}", "cred_x"))
            for mode in (
                schemathesis.GenerationMode.POSITIVE,
                schemathesis.GenerationMode.NEGATIVE,
            ):
                _run_operation(ctx, operation, op, mode, ids, missing, noted)
    finally:
        _ACTIVE_DETECTOR.remove(ctx.detector)


def _made_up_id_refused(case: Any, reply: Any, missing: str, failures: list[Any]) -> bool:
    """True when every failure is schemathesis' "valid data rejected" for the id the kit
    made up, refused as not found or as malformed (a deployment whose ids have another
    shape): no finding, as the auth check holds that id to the same statuses."""
    from schemathesis.openapi.checks import RejectedPositiveData

    return (
        (case.path_parameters or {}).get("id") == missing
        and reply.status in MADE_UP_ID
        and all(isinstance(f, RejectedPositiveData) for f in failures)
    )


def _run_operation(
    ctx: KitContext,
    operation: Any,
    op: str,
    mode: Any,
    ids: list[str],
    missing: str,
    noted: set[str],
) -> None:
    excluded = _excluded(op)
    # The path as requested: under the base URL's path and the prefix the run moved to.
    route = f"{operation.method.upper()} {urlsplit(ctx.client.base_url).path.rstrip('/')}"
    route += operation.path

    def label(case: Any) -> str:
        """The route and the data the case carries: a "negative" draw for a route with
        nothing to negate (a delete by id) is schema-valid, and schemathesis says so."""
        generation = getattr(getattr(case, "meta", None), "generation", None)
        drawn = getattr(getattr(generation, "mode", None), "value", mode.value)
        return f"{route} ({drawn} data)"

    strategy = operation.as_strategy(generation_mode=mode)
    # The verdict on every request sent, by its masked text: shrinking revisits
    # cases, and the final replay of the shrunk one must not need a new request.
    verdicts: dict[str, ContractViolation | None] = {}
    shrink_requests: list[int] = []  # requests sent since the first failure

    @seed(ctx.settings.seed)
    @settings(
        max_examples=ctx.settings.schemathesis_examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        report_multiple_bugs=False,
        print_blob=False,
        verbosity=Verbosity.quiet,  # the kit reports the case itself, masked
    )
    @given(data=st.data())
    def probe(data: st.DataObject) -> None:
        case = data.draw(strategy)
        _adjust(ctx, case, op, ids, missing, data)
        key = _case_key(ctx.client, case)
        if key in verdicts:
            known = verdicts[key]
            if known is not None:
                raise known
            return
        if shrink_requests:
            # Shrinking: a bounded number of requests, none out of the cleanup reserve.
            if shrink_requests[0] >= MAX_SHRINK_REQUESTS:
                reject()
            shrink_requests[0] += 1
        try:
            reply, kwargs = _send(ctx.client, case)
            _judge(case, reply, kwargs)
        except BudgetExhausted:
            if shrink_requests:
                reject()
            raise
        except ContractViolation as exc:
            held = ctx.settings.strict or exc.cited.name in ctx.settings.declared
            if exc.kind == "expectation" and not held:
                # Noted (once), never a reason to stop generating (nor to shrink).
                if exc.message not in noted:
                    noted.add(exc.message)
                    ctx.report(exc)
                verdicts[key] = None
                return
            verdicts[key] = exc
            shrink_requests[:] = shrink_requests or [0]
            raise
        verdicts[key] = None

    def _judge(case: Any, reply: Any, kwargs: Any) -> None:
        try:
            case.validate_response(
                reply.raw,
                excluded_checks=excluded,
                additional_checks=[secret_echo],
                transport_kwargs=kwargs,
            )
        except BaseExceptionGroup as group:
            if _made_up_id_refused(case, reply, missing, list(group.exceptions)):
                return
            titles = sorted({str(getattr(f, "title", type(f).__name__)) for f in group.exceptions})
            raise ContractViolation(
                SCHEMATHESIS,
                f"{label(case)}: " + "; ".join(titles),
                reply.exchange,
                source=_source_of(titles, reply.exchange),
            ) from None
        except AssertionError as exc:
            raise ContractViolation(
                SCHEMATHESIS,
                f"{label(case)}: {exc}",
                reply.exchange,
                source=_source_of([str(exc)], reply.exchange),
            ) from None

    probe()
