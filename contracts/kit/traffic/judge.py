"""The judgement of real traffic, shared by ``proxy`` and ``check-har``.

Feed it :class:`~contracts.kit.traffic.Observed` exchanges in the order they
happened; it reports each violation once, as it sees it:

- ``response-schema``: every answer of an API call validates against the
  documented view of the contract (``validate_response(..., documented=True)``:
  only what the published docs state, extra non-secret fields fine), as the
  kit's ``run`` judges; an error body may be of any shape (the page has none);
- ``request-schema``: the deployment accepted (2xx) a create that the
  published docs rule out (a body that is not a JSON object, an unknown
  ``type``); a request it refused is the client's business, not a violation;
- ``undeclared-status``: a status the contract does not declare for the call
  (where it declares 400 or 422, both: the docs let a validation failure be either);
- ``secret-non-echo``: a secret value some request carried appears in a later
  (or the same) answer, body or header, raw or encoded as the kit's canary
  scan looks for it (JSON-escaped, URL-encoded, base64, base64url, hex, or any
  fragment of :data:`MIN_SECRET_LENGTH`+ characters);
- ``lifecycle``: the lifecycle invariants as far as the traffic shows them
  (:mod:`contracts.kit.traffic.lifecycle_watch`).

Secrets live in memory only, in the canary detector; nothing this module
prints or writes quotes one: violations name the check, the credential id and
a curl line with the key and every secret masked.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from contracts.kit.canaries import FRAGMENT, CanaryDetector
from contracts.kit.client import SUCCESS_KIND, operation_of
from contracts.kit.coverage.watched import WatchedCoverage
from contracts.kit.report import Case, Failure, write_json, write_junit
from contracts.kit.statuses import allowed_statuses
from contracts.kit.traffic.lifecycle_watch import LifecycleWatch
from contracts.kit.traffic.observed import Observed, is_json
from contracts.kit.violations import LIFECYCLE, RESPONSE_SCHEMA, SECRET_NON_ECHO
from contracts.kit.wire.keymask import PIECE, KeyMask
from contracts.registry import (
    CREDENTIAL_TYPES,
    public_only,
    schema_documents,
    split_secrets,
    validate_response,
)

JSON = Any
REQUEST_SCHEMA = "request-schema"
UNDECLARED_STATUS = "undeclared-status"
TRAFFIC_CHECKS: dict[str, str] = {
    RESPONSE_SCHEMA: "every answer of an API call validates against the contract schemas "
    "(lenient to extra non-secret fields)",
    REQUEST_SCHEMA: "no create the published docs rule out is accepted",
    UNDECLARED_STATUS: "every status is one the docs allow for the call (the list `run` "
    "holds answers to: documented success codes and errors, gateway errors tolerated)",
    SECRET_NON_ECHO: "no secret value a request carried appears in any later answer, "
    "in any encoding the kit scans",
    LIFECYCLE: "soft delete, restore and purge keep the lifecycle invariants as far as the traffic "
    "shows them",
}

MIN_SECRET_LENGTH = FRAGMENT
"""Secret values shorter than this are not remembered: the scan looks for fragments of
this length, and a short secret ("admin", "pw-1") is too likely to turn up in an
honest answer; the summary counts how many were skipped."""
_PLAIN_URL = re.compile(r"^https?://[^\s?#@]*$")


@dataclass
class Violation:
    number: int
    check: str
    message: str
    credential: str | None
    exchange: int
    curl: str

    def line(self) -> str:
        return (
            f"VIOLATION #{self.number} [{self.check}] {self.credential or '-'}: {self.message}"
            f"\n    {self.curl}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "check": self.check,
            "message": self.message,
            "credential": self.credential,
            "exchange": self.exchange,
            "curl": self.curl,
        }


@cache
def _vocabulary() -> tuple[str, ...]:
    """Every property name and enum value of the schemas: text any answer may hold."""
    words: set[str] = set()

    def walk(node: JSON) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    words.update(value)
                if key == "enum" and isinstance(value, list):
                    words.update(v for v in value if isinstance(v, str))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema_documents())
    return tuple(sorted(w for w in words if len(w) >= MIN_SECRET_LENGTH))


def _strings(node: JSON) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


class SecretMemory:
    """The secret values requests carried, remembered for the scan, and the public ones.

    A value sent in a secret field is remembered when long enough and not a
    plain URL (a service-account JSON holds endpoint addresses anybody knows).
    A hit is confirmed on the answer with every public value blanked out:
    text the client itself sent in a non-secret field, or a schema's field
    name, is no leak even where it shares a fragment with a secret.
    """

    def __init__(self) -> None:
        self.detector = CanaryDetector()
        self.public: set[str] = set(_vocabulary())
        self.short_skipped = 0
        self.remembered = 0

    def learn(self, type_: str | None, body: JSON) -> None:
        if not isinstance(body, dict):
            return
        self._public(body.get("name"), body.get("type"))
        config = body.get("config")
        if not isinstance(config, dict):
            return
        known = type_ if type_ in CREDENTIAL_TYPES else None
        # Public: only what is public for the type, or, with the type unknown (an
        # update of a credential created elsewhere), public for some type and
        # secret for none: a value must never be blanked as "public" and its echo missed.
        self._public(*_strings(public_only(known, config, None)))
        secret_values: set[str] = set()
        for each in [known] if known is not None else list(CREDENTIAL_TYPES):
            secret_values.update(_strings(split_secrets(each, config)[1]))
        for value in secret_values:
            if len(value) < MIN_SECRET_LENGTH:
                self.short_skipped += 1
            elif not _PLAIN_URL.match(value):
                before = len(self.detector.canaries)
                self.detector.add(value)
                self.remembered += len(self.detector.canaries) - before

    def _public(self, *values: JSON) -> None:
        # Shorter text cannot hold a whole fragment, and blanking it would cut words apart.
        self.public.update(v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH)

    def leaks(self, text: str | None, headers: list[tuple[str, str]]) -> list[str]:
        """Where a remembered secret shows in an answer ("body", "header X"); never which."""
        found: list[str] = []
        if text and self.detector.scan(text) and self.detector.scan(self._blank(text)):
            found.append("body")
        for name, value in headers:
            line = f"{name}: {value}"
            if self.detector.scan(line) and self.detector.scan(self._blank(line)):
                found.append(f"header {name}")
        return found

    def _blank(self, text: str) -> str:
        for value in sorted(self.public, key=len, reverse=True):
            for form in (value, json.dumps(value)[1:-1]):
                if form in text:
                    text = text.replace(form, "\0")
        return text

    def mask(self, text: str) -> str:
        return self.detector.mask(text)


@dataclass
class Judge:
    """Judges exchanges one at a time (not thread-safe: the proxy feeds it from one thread)."""

    on_violation: Callable[[Violation], None] = lambda v: None
    secrets: SecretMemory = field(default_factory=SecretMemory)
    lifecycle: LifecycleWatch = field(default_factory=LifecycleWatch)
    violations: list[Violation] = field(default_factory=list)
    exchanges: int = 0
    api_calls: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    unjudged: int = 0  # answers with a body the judge could not decode
    # Answers that returned an API key a request carried: an expectation (the page
    # does not say it, but no deployment should), never a violation.
    key_echoes: int = 0
    _keys: KeyMask = field(default_factory=KeyMask)
    # What the calls seen exercised: operations, statuses, transitions (no secrets kept).
    coverage: WatchedCoverage = field(default_factory=WatchedCoverage)
    _workspaces: dict[str, str] = field(default_factory=dict)

    def _workspace(self, exchange: Observed) -> str:
        """An opaque label per API key (a digest is kept, never the key)."""
        key = exchange.api_key() or ""
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._workspaces.setdefault(digest, f"key{len(self._workspaces) + 1}")

    def judge(self, exchange: Observed) -> list[Violation]:
        self.exchanges += 1
        exchange.seq = exchange.seq or self.exchanges
        found: list[Violation] = []
        op, cred_id = operation_of(exchange.method.upper(), exchange.path)
        request = exchange.request_json()
        if op in ("create", "update"):
            sent_type = request.get("type") if isinstance(request, dict) else None
            type_ = sent_type if op == "create" else self.lifecycle.type_of(cred_id)
            self.secrets.learn(type_, request)

        def report(check: str, message: str, credential: str | None = cred_id) -> None:
            violation = Violation(
                len(self.violations) + 1,
                check,
                self.secrets.mask(message),
                credential,
                exchange.seq,
                exchange.curl(self.secrets.mask),
            )
            self.violations.append(violation)
            found.append(violation)
            self.on_violation(violation)

        text = exchange.response_text()
        key = exchange.api_key()
        if key and len(key) >= PIECE:  # a shorter one would match ordinary words
            self._keys.add(key)
        if self._keys.found(text or "") or any(
            self._keys.found(value) for _, value in exchange.response_headers
        ):
            self.key_echoes += 1
        for note in exchange.notes:
            self.notes[note] = self.notes.get(note, 0) + 1
        where = self.secrets.leaks(text, exchange.response_headers)
        if where:
            report(
                SECRET_NON_ECHO,
                f"{op} answered {exchange.status} with a secret a request carried, in "
                + ", ".join(where),
            )
        if op == "other":
            return found
        self.api_calls += 1
        # The statuses `run` allows the route (statuses.py): what the docs document
        # and allows, gateway errors tolerated, so both judges agree on every answer.
        if exchange.status not in allowed_statuses(op):
            report(UNDECLARED_STATUS, f"{op} answered {exchange.status}, not one the docs allow")
        ok = 200 <= exchange.status < 300
        if ok and op == "create":
            self._judge_request(op, request, report)
        body = exchange.response_json() if text is not None else None
        if text is None and exchange.response_body:
            # Not even scanned for secrets: the verdict cannot count it as judged.
            self.not_judged("an answer whose body could not be decoded (not scanned)")
        elif text is None:
            self._note("answers without a captured body (not schema-checked)")
        elif exchange.truncated:
            self._note("answers too long or broken off (not schema-checked)")
        else:
            self._judge_response(op, exchange.status, text, body, report)
        self.coverage.add(
            exchange.method,
            exchange.url,
            exchange.status,
            exchange.request_headers,
            body if text is not None and not exchange.truncated else None,
        )
        if text is not None and not exchange.truncated and is_json(body):
            self.lifecycle.on_exchange(
                op,
                cred_id,
                self._workspace(exchange),
                exchange.status,
                body,
                exchange.started,
                exchange.finished,
                lambda message, credential: report(LIFECYCLE, message, credential),
            )
        return found

    def not_judged(self, reason: str) -> None:
        """An exchange that could not be judged at all (an unreadable HAR entry, say)."""
        self.unjudged += 1
        self._note(f"not judged: {reason}")

    def _note(self, note: str) -> None:
        self.notes[note] = self.notes.get(note, 0) + 1

    @staticmethod
    def _judge_request(op: str, request: JSON, report: Callable[[str, str], None]) -> None:
        # Only what the docs rule out: a create is a JSON object whose type is one of
        # the seven. Updates are not judged: a deployment may ignore what it cannot use.
        if not isinstance(request, dict):
            report(REQUEST_SCHEMA, f"{op} with a body that is not a JSON object was accepted")
        elif "type" in request and request["type"] not in CREDENTIAL_TYPES:
            report(REQUEST_SCHEMA, f"{op} with an undocumented type was accepted")

    @staticmethod
    def _judge_response(
        op: str, status: int, text: str, body: JSON, report: Callable[[str, str], None]
    ) -> None:
        if 200 <= status < 300:
            kind = SUCCESS_KIND[op]
        else:
            # The published page has no error section: an error body of any shape (JSON
            # or not) is right, as long as no secret is in it (scanned apart).
            return
        if not is_json(body) or body is None:
            what = "no JSON body" if not text.strip() else "a body that is not JSON"
            report(RESPONSE_SCHEMA, f"{op} answered {status} with {what}")
            return
        errors = validate_response(kind, body, documented=True)
        if errors:
            report(
                RESPONSE_SCHEMA,
                f"{op} answered {status} with a body that is not a valid {kind}: "
                + "; ".join(str(e) for e in errors[:5]),
            )

    # --- reports ----------------------------------------------------------------------

    def summary(self) -> str:
        lines = [
            f"{self.exchanges} exchange(s) judged, {self.api_calls} API call(s), "
            f"{len(self.violations)} violation(s)"
        ]
        for check in TRAFFIC_CHECKS:
            count = sum(1 for v in self.violations if v.check == check)
            lines.append(f"  {check}: {'FAILED (' + str(count) + ')' if count else 'ok'}")
        lines.append(
            f"  secrets remembered: {self.secrets.remembered}; shorter than "
            f"{MIN_SECRET_LENGTH} characters, not scanned: {self.secrets.short_skipped}"
        )
        for note, count in sorted(self.notes.items()):
            lines.append(f"  note: {count} x {note}")
        if self.key_echoes:
            lines.append(f"  EXPECTATION key_echo: {self._key_echo_text()}")
        if self.coverage.exchanges:
            lines += [f"  {line}" for line in self.coverage.coverage().table()]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "exchanges": self.exchanges,
            "api_calls": self.api_calls,
            "checks": {
                check: "failed" if any(v.check == check for v in self.violations) else "passed"
                for check in TRAFFIC_CHECKS
            },
            "violations": [v.as_json() for v in self.violations],
            "secrets_remembered": self.secrets.remembered,
            "short_secrets_not_scanned": self.secrets.short_skipped,
            "min_secret_length": MIN_SECRET_LENGTH,
            "notes": dict(sorted(self.notes.items())),
            "unjudged": self.unjudged,
            "coverage": self.coverage.as_json(),
            "expectations": (
                [
                    {
                        "expectation": "key_echo",
                        "count": self.key_echoes,
                        "message": self._key_echo_text(),
                    }
                ]
                if self.key_echoes
                else []
            ),
        }

    def _key_echo_text(self) -> str:
        return (
            f"{self.key_echoes} answer(s) returned the API key their request carried (8 or "
            "more characters of it): a deployment should never return a caller's key "
            "(an expectation, not a violation)"
        )

    def write_report(self, path: str | Path) -> None:
        write_json(path, self.as_json())

    def write_junit(self, path: str | Path, suite: str = "planasonix-contract-traffic") -> None:
        """One test case per check; each violation is a failure with its curl line."""
        cases = [
            Case(
                name=check,
                classname="traffic",
                description=(
                    f"{description}\nEXPECTATION key_echo: {self._key_echo_text()}"
                    if check == SECRET_NON_ECHO and self.key_echoes
                    else description
                ),
                failures=[
                    Failure(v.message, f"{v.credential or '-'}\n{v.curl}")
                    for v in self.violations
                    if v.check == check
                ],
            )
            for check, description in TRAFFIC_CHECKS.items()
        ]
        write_junit(path, suite, cases)

    @property
    def exit_code(self) -> int:
        return 1 if self.violations else 0
