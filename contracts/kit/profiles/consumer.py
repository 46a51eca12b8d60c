"""``verify-consumer``: replay what a downstream suite relied on against a deployment.

A consumer contract (``pytest --planasonix-record-contract=consumer.json``) lists
every pattern of call the suite's code made on the fake: the operation, the
prefix and auth form, the credential's type and its state before the call, the
request's field names and query parameters, and the statuses and response
field names it received. For each pattern and each status class it received,
this module makes the same kind of call on a deployment, with fresh data of
its own (the run's name prefix, canaries in every secret field, cleanup at
the end, the request budget), and asks:

- does the deployment answer with the same status class (2xx, 4xx, 5xx)?
- on a success, does it answer at least the fields the consumer saw? (config
  fields are compared only where the kit sent that field too: its data is not
  the consumer's.)

A pattern the kit cannot set up faithfully (a credential of unknown state, a
refusal whose cause the contract does not keep, such as a 400 for a body the
kit cannot know) is reported as not replayed, never as passed. A secret the
kit sent coming back is a failure of the interaction that showed it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contracts.kit.checks.common import secret_configs
from contracts.kit.client import Client
from contracts.kit.context import KitContext
from contracts.kit.exchange import Reply
from contracts.kit.report import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_VIOLATIONS,
    Case,
    Failure,
    write_html,
    write_json,
    write_junit,
)
from contracts.kit.violations import ContractViolation, KitError

JSON = Any
CONTRACT_FORMAT = "planasonix-consumer-contract/1"
PASSED, FAILED, NOT_REPLAYED = "passed", "failed", "not replayed"


class ConsumerContractError(KitError):
    """The consumer contract file cannot be read (exit code 2)."""


def load_contract(path: str | Path) -> list[dict[str, Any]]:
    """The interactions of a consumer contract file; a one-line error otherwise."""
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(16 * 1024 * 1024 + 1)
    except OSError as exc:
        raise ConsumerContractError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > 16 * 1024 * 1024:
        raise ConsumerContractError(f"{path} is over 16 MiB; not a consumer contract")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ConsumerContractError(f"{path} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != CONTRACT_FORMAT:
        raise ConsumerContractError(
            f"{path} is not a consumer contract (expected format {CONTRACT_FORMAT!r}; "
            "record one with pytest --planasonix-record-contract=PATH)"
        )
    interactions = data.get("interactions")
    if not isinstance(interactions, list) or not all(isinstance(i, dict) for i in interactions):
        raise ConsumerContractError(f"{path}: 'interactions' must be a list of objects")
    return interactions


def field_paths(value: object) -> set[str]:
    """Dotted field names of a JSON value, list items as ``[]`` (the recorder's form)."""
    paths: set[str] = set()

    def walk(node: object, at: str) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                here = f"{at}.{key}" if at else str(key)
                paths.add(here)
                walk(child, here)
        elif isinstance(node, list):
            for item in node:
                walk(item, f"{at}[]")

    walk(value, "")
    return paths


@dataclass
class Outcome:
    """One interaction pattern at one status class, as replayed."""

    label: str
    expected: str
    verdict: str
    got: int | None = None
    why: str = ""
    curl: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "interaction": self.label,
            "expected": self.expected,
            "verdict": self.verdict,
            "status": self.got,
            "why": self.why,
            "sequence": self.curl,
        }


@dataclass
class ConsumerResult:
    base_url: str
    prefix: str
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""
    leftovers: list[str] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.error:
            return EXIT_ERROR
        return EXIT_VIOLATIONS if any(o.verdict == FAILED for o in self.outcomes) else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "prefix": self.prefix,
            "exit_code": self.exit_code,
            "compatible": self.exit_code == EXIT_OK,
            "error": self.error or None,
            "interactions": [o.as_json() for o in self.outcomes],
            "leftovers": self.leftovers,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
        }

    def text(self) -> str:
        lines = [f"verify-consumer against {self.base_url} (prefix {self.prefix})"]
        for o in self.outcomes:
            got = f" -> {o.got}" if o.got is not None else ""
            why = f": {o.why}" if o.why else ""
            lines.append(f"  {o.verdict.upper():<12} {o.label} [expects {o.expected}]{got}{why}")
        if self.leftovers:
            lines.append("could not remove: " + ", ".join(self.leftovers))
        failed = sum(1 for o in self.outcomes if o.verdict == FAILED)
        skipped = sum(1 for o in self.outcomes if o.verdict == NOT_REPLAYED)
        if self.error:
            verdict = f"COULD NOT RUN: {self.error}"
        elif failed:
            verdict = f"INCOMPATIBLE: {failed} interaction(s) the consumer relies on differ"
        else:
            verdict = "COMPATIBLE"
        lines.append(
            f"{verdict}; {len(self.outcomes)} checked, {skipped} not replayed; "
            f"{self.requests} requests in {self.seconds:.1f}s"
        )
        return "\n".join(lines)


def _label(item: Mapping[str, Any]) -> str:
    type_ = item.get("credential_type") or "-"
    query = ",".join(item.get("query") or []) or "-"
    return (
        f"{item.get('operation')} {item.get('prefix')} auth={item.get('auth')} "
        f"state={item.get('state_before')} type={type_} query={query}"
    )


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


class _Replayer:
    """Sets up each pattern's preconditions with fresh data, then makes its call."""

    def __init__(self, ctx: KitContext) -> None:
        self.ctx = ctx
        self.client: Client = ctx.client
        self.names = 0

    def name(self) -> str:
        self.names += 1
        return f"{self.ctx.prefix}c{self.names}"

    def config(self, type_: str) -> dict[str, JSON]:
        return next(secret_configs(self.ctx, type_))

    def create(self, type_: str, prefix: str) -> Reply:
        body = {"name": self.name(), "type": type_, "config": self.config(type_)}
        return self.client.request("POST", f"{prefix}/credentials", json_body=body, validate=False)

    def credential_in(self, state: str, type_: str, prefix: str) -> str | None:
        """The id of a fresh credential in ``state``, or None when it could not be made."""
        if state == "missing":
            return self.client.fabricate_id()
        made = self.create(type_, prefix)
        if not made.ok or not isinstance(made.data, dict) or "id" not in made.data:
            return None
        cred_id = str(made.data["id"])
        if state in ("deleted", "purged") and not self.client.delete(cred_id, validate=False).ok:
            return None
        if state == "purged" and not self.client.purge(cred_id, validate=False).ok:
            return None
        return cred_id

    def call(self, item: Mapping[str, Any], status: int) -> tuple[Reply | None, str, set[str]]:
        """(reply, why not replayed, config fields sent) for one pattern at ``status``."""
        op = str(item.get("operation"))
        prefix = str(item.get("prefix") or "/api")
        type_ = str(item.get("credential_type") or "password")
        state = str(item.get("state_before") or "none")
        fields = set(item.get("request_fields") or [])
        auth = str(item.get("auth") or "bearer")
        if status >= 400 and status not in (401, 404, 409):
            return None, f"the contract does not keep why the consumer met {status}", set()
        if auth == "none" and status != 401:
            return None, "a call without a key that the fake answered", set()
        if state == "unknown":
            return None, "the consumer met this credential in a state the fake did not show", set()
        headers: dict[str, str] = {}
        key: Any = {}
        if auth == "legacy":
            headers = {"X-Planasonix-Api-Key": self.client.api_key or ""}
            key = None
        if status == 401:
            key = None
            headers = {}
        # Judged by status class and fields only: the error body's shape is no concern
        # of a consumer contract (secrets are still scanned by the client).
        kw: dict[str, Any] = {"headers": headers, "validate": False}
        if key is None:
            kw["key"] = None
        sent: set[str] = set()
        if op == "list":
            params: dict[str, Any] = {}
            query = set(item.get("query") or [])
            if "cursor" in query:
                for _ in range(2):
                    self.create(type_, prefix)
                first = self.client.request(
                    "GET", f"{prefix}/credentials", params={"limit": 1}, validate=False
                )
                meta = first.body.get("meta") if isinstance(first.body, dict) else None
                page = meta.get("page") if isinstance(meta, dict) else None
                cursor = page.get("cursor") if isinstance(page, dict) else None
                if not cursor:
                    return None, "the deployment gave no cursor after a page of one", set()
                params.update({"limit": 1, "cursor": cursor})
            else:
                self.create(type_, prefix)
                if "limit" in query:
                    params["limit"] = 2
            if "type" in query:
                params["type"] = type_
            if "status" in query:
                params["status"] = "all"
            reply = self.client.request("GET", f"{prefix}/credentials", params=params, **kw)
            return reply, "", sent
        if op == "create":
            body: dict[str, JSON] = {
                "name": self.name(),
                "type": type_,
                "config": self.config(type_),
            }
            sent = set(body["config"])
            if status == 409:
                taken = self.create(type_, prefix)
                if not taken.ok:
                    return None, "could not create the credential whose name to reuse", set()
                body["name"] = str((taken.data or {}).get("name") or "")
            reply = self.client.request("POST", f"{prefix}/credentials", json_body=body, **kw)
            return reply, "", sent
        cred_id = self.credential_in("active" if status == 401 else state, type_, prefix)
        if cred_id is None:
            return None, f"could not make a credential in state {state!r}", set()
        path = f"{prefix}/credentials/{cred_id}"
        if op == "get":
            return self.client.request("GET", path, **kw), "", sent
        if op == "update":
            patch: dict[str, JSON] = {}
            if "name" in fields:
                patch["name"] = self.name()
            if any(f.startswith("config.") for f in fields):
                config = self.config(type_)
                wanted = {f.split(".")[1] for f in fields if f.startswith("config.")}
                patch["config"] = {k: v for k, v in config.items() if k in wanted} or config
                sent = set(patch["config"])
            if status == 409:
                other = self.create(type_, prefix)
                if not other.ok:
                    return None, "could not create the credential whose name to take", set()
                patch = {"name": str((other.data or {}).get("name") or "")}
            return self.client.request("PUT", path, json_body=patch, **kw), "", sent
        if op == "delete":
            return self.client.request("DELETE", path, **kw), "", sent
        if op == "restore":
            return self.client.request("POST", f"{path}/restore", **kw), "", sent
        if op == "purge":
            return self.client.request("DELETE", f"{path}/permanent", **kw), "", sent
        return None, f"unknown operation {op!r}", set()


def _missing_fields(expected: set[str], got: set[str], sent_config: set[str]) -> list[str]:
    missing = []
    for name in sorted(expected - got):
        parts = name.replace("[]", "").split(".")
        if "config" in parts:
            after = parts[parts.index("config") + 1 :]
            if not after or after[0] not in sent_config:
                continue  # a config field of the consumer's data, not of the kit's
        missing.append(name)
    return missing


def verify_consumer(
    interactions: list[dict[str, Any]],
    base_url: str,
    api_key: str,
    *,
    max_requests: int | None = None,
    timeout: float = 30.0,
    progress: Callable[[str], None] = lambda _: None,
) -> ConsumerResult:
    """Replay every interaction of a consumer contract; see the module docstring."""
    started = time.monotonic()
    ctx = KitContext.build(base_url, api_key, max_requests=max_requests, timeout=timeout)
    result = ConsumerResult(base_url=ctx.client.base_url, prefix=ctx.prefix)
    replayer = _Replayer(ctx)
    try:
        for item in interactions:
            statuses = sorted({int(s) for s in (item.get("statuses") or {})})
            by_class: dict[str, int] = {}
            for status in statuses:
                by_class.setdefault(_status_class(status), status)
            for klass, status in by_class.items():
                outcome = Outcome(_label(item), f"{klass} (the consumer met {status})", PASSED)
                ctx.recorder.start_sequence()
                try:
                    reply, why, sent = replayer.call(item, status)
                except ContractViolation as exc:
                    outcome.verdict, outcome.why = FAILED, exc.message
                    outcome.curl = [e.curl() for e in ctx.recorder.current]
                    result.outcomes.append(outcome)
                    continue
                if reply is None:
                    outcome.verdict, outcome.why = NOT_REPLAYED, why
                    result.outcomes.append(outcome)
                    continue
                outcome.got = reply.status
                outcome.curl = [reply.exchange.curl()]
                if _status_class(reply.status) != klass:
                    outcome.verdict = FAILED
                    outcome.why = f"answered {reply.status} where the consumer met {status}"
                elif klass == "2xx":
                    expected = set((item.get("response_fields") or {}).get(str(status), []))
                    missing = _missing_fields(expected, field_paths(reply.body), sent)
                    if missing:
                        outcome.verdict = FAILED
                        outcome.why = "answered without fields the consumer saw: " + ", ".join(
                            missing[:10]
                        )
                progress(f"{outcome.verdict}: {outcome.label}")
                result.outcomes.append(outcome)
    except KitError as exc:
        result.error = str(exc)
    finally:
        result.leftovers = ctx.cleanup()
        result.requests = ctx.budget.used
        result.seconds = time.monotonic() - started
    return result


def junit_cases(result: ConsumerResult) -> list[Case]:
    cases = []
    for o in result.outcomes:
        case = Case(name=f"{o.label} [{o.expected}]", classname="consumer")
        if o.verdict == FAILED:
            case.failures.append(Failure(o.why, "\n".join(o.curl)))
        elif o.verdict == NOT_REPLAYED:
            case.skipped = o.why
        cases.append(case)
    if result.error:
        cases.append(Case(name="run", classname="consumer", error=result.error))
    return cases


def html_document(result: ConsumerResult) -> dict[str, Any]:
    """The JSON report, with each failed interaction as a finding and each one not
    replayed as a probe that could not run, for the shared HTML page."""
    document = result.as_json()
    document["findings"] = [
        {
            "check": o.label,
            "message": f"expects {o.expected}; answered {o.got}: {o.why}",
            "sequence": o.curl,
        }
        for o in result.outcomes
        if o.verdict == FAILED
    ]
    document["not_run"] = [
        f"{o.label}: {o.why}" for o in result.outcomes if o.verdict == NOT_REPLAYED
    ]
    return document


def write_reports(
    result: ConsumerResult, report: str | None, junitxml: str | None, html: str | None = None
) -> None:
    if report:
        write_json(report, result.as_json())
    if html:
        write_html(html, "planasonix-contract verify-consumer", html_document(result))
    if junitxml:
        write_junit(
            junitxml,
            "planasonix-contract verify-consumer",
            junit_cases(result),
            properties={"prefix": result.prefix},
            seconds=result.seconds,
            error=result.error or None,
        )
