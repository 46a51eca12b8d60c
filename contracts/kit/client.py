"""A thin HTTP client for the kit: one base URL, one key, a budget, a record.

Every exchange is recorded with the key and every canary masked, scanned for
leaked canaries (body and headers) and validated against the response schemas.
A leak or a schema violation raises :class:`ContractViolation` at once, so a
Hypothesis test sees it on the step that caused it. 429 is retried after
``Retry-After`` (or an exponential backoff); every try counts against the
request budget, part of which is kept back for cleanup.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests

from contracts.kit.canaries import CanaryDetector
from contracts.kit.exchange import Exchange, Reply
from contracts.kit.rules.sources import NO_SECRET, ROUTE_SOURCES
from contracts.kit.violations import (
    RESPONSE_SCHEMA,
    SECRET_NON_ECHO,
    STATUS_CODES,
    BudgetExhausted,
    ContractViolation,
    KitError,
    Unsafe,
    expected,
)
from contracts.kit.wire.keymask import PIECE as KEY_PIECE
from contracts.kit.wire.keymask import KeyMask
from contracts.kit.wire.limits import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BODY,
    NOT_JSON,
    parse_json,
    read_body,
)
from contracts.registry import CREDENTIAL_TYPES, public_only, validate_response

JSON = Any
MASK = "***"
_COLLECTION = re.compile(r"^(?:/v1)?/api/credentials/?$")
_ITEM = re.compile(r"^(?:/v1)?/api/credentials/(?P<id>[^/]+)(?P<rest>/restore|/permanent)?/?$")
_ABSENT: Any = object()
MAX_RECORDED_BODY = 4000
KEY_ECHO = "key_echo"  # the expectation an answer that returns a key breaks
RATE_LIMIT = "rate_limit"  # the expectation a 429 without Retry-After breaks
UNKNOWN_OWNER = "unknown"  # made with a key that is not the run's (a deployment ignored it)
# The key roles of an exchange (besides a client's label): see Client.key_role.
NO_KEY = "no key"
NEAR_MISS = "near-miss"
UNKNOWN_KEY = "unknown"


def operation_of(method: str, path: str) -> tuple[str, str | None]:
    """(operation name, credential id) of a request, or ("other", None)."""
    path = urllib.parse.urlsplit(path).path
    if _COLLECTION.match(path):
        return {"GET": "list", "POST": "create"}.get(method, "other"), None
    match = _ITEM.match(path)
    if match:
        rest = match.group("rest") or ""
        op = {
            ("GET", ""): "get",
            ("PUT", ""): "update",
            ("DELETE", ""): "delete",
            ("POST", "/restore"): "restore",
            ("DELETE", "/permanent"): "purge",
        }.get((method, rest), "other")
        return op, urllib.parse.unquote(match.group("id"))
    return "other", None


SUCCESS_KIND = {
    "list": "credential_list",
    "create": "credential_envelope",
    "get": "credential_envelope",
    "update": "credential_envelope",
    "delete": "delete_result",
    "restore": "restore_result",
    "purge": "purge_result",
}


class Budget:
    """``--max-requests``: shared by every client of a run, with a reserve for cleanup.

    The invariant that makes the reserve enough: before any request other than
    the final cleanup's, what is left after it covers the cleanup of every
    credential the run holds (``reserve``) plus the one this request may create
    (``create_cost``). Only the final cleanup spends the reserve, and it spends
    at most ``reserve`` (see :meth:`CreatedIds.cleanup_cost`).
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0
        self.reserve: Callable[[], int] = lambda: 0
        self.create_cost = 0
        # Raises when the run has been told to stop (see Runner._halt_if_stopped).
        self.halt: Callable[[], None] = lambda: None
        self._lock = threading.Lock()

    def spend(self, cleanup: bool = False, may_create: bool = False) -> None:
        """Count one request; ``cleanup``: the final cleanup, which may use the reserve."""
        if not cleanup:
            self.halt()
        with self._lock:
            if self.limit is not None:
                held = 0 if cleanup else self.reserve() + (self.create_cost if may_create else 0)
                if self.used + 1 + held > self.limit:
                    # The rest is held back to clean up what the run created.
                    raise BudgetExhausted(
                        f"request budget of {self.limit} reached: {self.used} used, "
                        f"{self.limit - self.used} kept for cleanup"
                    )
            self.used += 1

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


class Recorder:
    """Every exchange of a run, and the exchanges of the current Hypothesis example."""

    def __init__(self, keep: int = 20000) -> None:
        self.exchanges: list[Exchange] = []
        self.current: list[Exchange] = []
        self.keep = keep
        self.count = 0
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Exchange], None]] = []

    def next_seq(self) -> int:
        with self._lock:
            self.count += 1
            return self.count

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            if len(self.exchanges) < self.keep:
                self.exchanges.append(exchange)
            self.current.append(exchange)
        for listener in self.listeners:
            listener(exchange)

    def start_sequence(self) -> None:
        with self._lock:
            self.current = []


class CreatedIds:
    """Ids this run created (with any key), and ids it made up to probe 404s.

    The kit reads, changes and deletes by id only what is in here.
    """

    def __init__(self) -> None:
        # Set by the run: the labels of its clients. The final cleanup removes a
        # credential with its owner's client, or tries every client for one whose
        # owner is none of them.
        self.owners: set[str] = {"primary"}
        self.created: dict[str, str] = {}  # id -> key label of the creator
        self.live: dict[str, str] = {}  # not purged yet: id -> key label
        self.fabricated: set[str] = set()
        self._lock = threading.Lock()

    def allowed(self, cred_id: str) -> bool:
        return cred_id in self.created or cred_id in self.fabricated

    def add(self, cred_id: str, owner: str) -> None:
        with self._lock:
            self.created[cred_id] = owner
            self.live[cred_id] = owner

    def purged(self, cred_id: str) -> None:
        with self._lock:
            self.live.pop(cred_id, None)

    def cleanup_cost(self) -> int:
        """Requests the final cleanup may send: a delete and a purge per credential,
        with every key for one made with a key the run does not own."""
        per_key = 2
        return sum(
            per_key * (1 if owner in self.owners else len(self.owners))
            for owner in list(self.live.values())
        )


def _retry_after(value: str | None, attempt: int) -> float:
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0.0, float(when.timestamp()) - time.time())
    return min(8.0, 0.25 * 2.0**attempt)


class Client:
    """Bound to a base URL and an API key; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        detector: CanaryDetector,
        budget: Budget,
        recorder: Recorder,
        ids: CreatedIds,
        label: str = "primary",
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        masked_keys: Iterable[str] = (),
        sink: list[ContractViolation] | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        key_roles: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.detector = detector
        self.budget = budget
        self.recorder = recorder
        self.ids = ids
        self.label = label
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        # Shared by the clients of one run when given as a KeyMask: every key any of
        # them sends is added to it (see request), so reports never show a variant.
        self.masked_keys = masked_keys if isinstance(masked_keys, KeyMask) else KeyMask(masked_keys)
        self.masked_keys.add(api_key)
        # Shared by the clients of one run: each key a client holds, by its label.
        self.key_roles: dict[str, str] = key_roles if key_roles is not None else {}
        if api_key:
            self.key_roles.setdefault(api_key, label)
        self.max_body = max_body
        # True: a violation an answer shows is raised at once (a Hypothesis test sees
        # it on the step that caused it); False: it goes to the sink and the probe goes
        # on. Expectations always go to the sink: they never stop anything.
        self.raise_violations = True
        # Shared by the clients of one run (see sibling and KitContext.build).
        self.soft_violations: list[ContractViolation] = sink if sink is not None else []
        self.retries_429 = 0

    def sibling(
        self,
        cls: type[Client] | None = None,
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
    ) -> Client:
        """A client of the same run: this one's key, canaries, budget, record, ids and
        settings, reaching in at ``base_url`` (default: this one's), on ``session``
        (default: a new one; a Session is not thread-safe), as ``cls`` (default: the same)."""
        twin = (cls or type(self))(
            base_url or self.base_url,
            self.api_key,
            detector=self.detector,
            budget=self.budget,
            recorder=self.recorder,
            ids=self.ids,
            label=self.label,
            session=session,
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_retry_after=self.max_retry_after,
            sleep=self.sleep,
            masked_keys=self.masked_keys,
            sink=self.soft_violations,
            max_body=self.max_body,
            key_roles=self.key_roles,
        )
        twin.raise_violations = self.raise_violations
        return twin

    # --- masking -----------------------------------------------------------------

    def mask(self, text: str) -> str:
        """``text`` with any 8 characters of any key the run sent, and every canary, masked."""
        return self.detector.mask(self.masked_keys.mask(text))

    def _masked_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers.items():
            if name.lower() == "authorization":
                scheme, _, rest = value.partition(" ")
                out[name] = f"{scheme} {MASK}" if rest else MASK
            elif name.lower() == "x-planasonix-api-key":
                out[name] = MASK
            else:
                out[name] = self.mask(value)
        return out

    def key_role(self, headers: Mapping[str, str]) -> str:
        """Which key ``headers`` send: a run client's label, :data:`NO_KEY`,
        :data:`NEAR_MISS` (a run key one character longer or shorter, a prefix of it,
        or in another case) or :data:`UNKNOWN_KEY`."""
        sent = ""
        for name, value in headers.items():
            if name.lower() == "authorization":
                scheme, _, rest = value.partition(" ")
                sent = rest.strip() if scheme.lower() == "bearer" else value
            elif name.lower() == "x-planasonix-api-key":
                sent = value.strip()
        if not sent:
            return NO_KEY
        if sent in self.key_roles:
            return self.key_roles[sent]
        for known in self.key_roles:
            near = sent.lower() == known.lower() or sent.startswith(known) or known.startswith(sent)
            if near and abs(len(sent) - len(known)) <= 1:
                return NEAR_MISS
        return UNKNOWN_KEY

    # --- requests ----------------------------------------------------------------

    def auth_headers(self, key: str | None = _ABSENT) -> dict[str, str]:
        key = self.api_key if key is _ABSENT else key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def fabricate_id(self) -> str:
        """An id no deployment holds (for 404 probes), allowed for this run."""
        import secrets

        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        cred_id = "cred_" + "".join(secrets.choice(alphabet) for _ in range(16))
        self.ids.fabricated.add(cred_id)
        return cred_id

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: JSON = _ABSENT,
        data: bytes | str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = _ABSENT,
        cleanup: bool = False,
        final: bool = False,
        validate: bool = True,
        note: str = "",
    ) -> Reply:
        """Send one request (retrying 429s) and check its answer; see the module docstring."""
        method = method.upper()
        op, cred_id = operation_of(method, path)
        if cred_id is not None and not self.ids.allowed(cred_id):
            raise Unsafe(f"refusing to touch {cred_id}: this run did not create it")
        all_headers: dict[str, str] = {
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        all_headers.update(self.auth_headers(key))
        self._mask_sent_keys(key, headers)
        body_bytes: bytes | None
        if json_body is not _ABSENT:
            body_bytes = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        elif data is not None:
            body_bytes = data.encode() if isinstance(data, str) else data
        else:
            body_bytes = None
        all_headers.update(headers or {})
        role = self.key_role(all_headers)
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        attempt = 0
        while True:
            self.budget.spend(cleanup=final, may_create=op == "create")
            exchange = Exchange(
                seq=self.recorder.next_seq(),
                method=method,
                url=self.mask(url),
                request_headers=self._masked_headers(all_headers),
                request_body=self.mask(body_bytes.decode("utf-8", "replace"))
                if body_bytes is not None
                else None,
                note=note,
                key_role=role,
            )
            started = time.monotonic()
            try:
                # Redirects are answers to judge (a login page in front of the API), not
                # to follow: the status-codes check reports them.
                # Streamed: the body is read under the limits (see _reply).
                response = self.session.request(
                    method,
                    url,
                    data=body_bytes,
                    headers=all_headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except requests.Timeout:
                raise KitError(
                    f"no answer from {self.base_url} within {self.timeout:g}s (--timeout)"
                ) from None
            except requests.RequestException as exc:
                raise KitError(f"could not reach {self.base_url}: {type(exc).__name__}") from None
            exchange.elapsed = time.monotonic() - started
            if response.status_code == 429 and attempt < self.max_retries:
                wait = min(
                    self.max_retry_after,
                    _retry_after(response.headers.get("Retry-After"), attempt),
                )
                exchange.status = 429
                exchange.note = f"rate limited; retrying in {wait:.2f}s"
                self._note_rate_limit(op, response, exchange)
                response.close()  # its body is not read: nothing to hold
                self.recorder.add(exchange)
                self.retries_429 += 1
                attempt += 1
                self.sleep(wait)
                continue
            break
        if response.status_code == 429:
            response.close()
            raise KitError(f"still rate limited after {attempt} retries")
        reply, unread = self._reply(response, exchange, started)
        self.recorder.add(exchange)
        self._track(op, cred_id, reply, own_key=key is _ABSENT)
        # A body read only in part is judged once, as that (not also as "not JSON").
        problems = self._check(op, reply, validate and unread is None)
        if unread is not None:
            problems.insert(0, unread)
        violations = [p for p in problems if p.kind != "expectation"]
        self.soft_violations.extend(p for p in problems if p.kind == "expectation")
        if violations:
            if self.raise_violations and not cleanup:
                raise violations[0]
            self.soft_violations.extend(violations)
        return reply

    def _note_rate_limit(self, op: str, response: requests.Response, exchange: Exchange) -> None:
        """A 429 that does not say when to come back: the rate_limit expectation,
        noted once per run (the client then waits by its own backoff)."""
        if response.headers.get("Retry-After") is not None:
            return
        if any(getattr(p.source, "name", None) == RATE_LIMIT for p in self.soft_violations):
            return
        self.soft_violations.append(
            expected(
                RATE_LIMIT,
                STATUS_CODES,
                f"{op} answered 429 without Retry-After; the kit waited by its own backoff",
                exchange,
            )
        )

    def _mask_sent_keys(self, key: str | None, headers: Mapping[str, str] | None) -> None:
        """Every key a request sends (a near miss, another case, an unknown key) is
        masked in every report from now on, as the run's own keys are."""
        sent = [] if key is _ABSENT or key is None else [key]
        for name, value in (headers or {}).items():
            if name.lower() == "authorization":
                sent.append(value.partition(" ")[2] or value)
            elif name.lower() == "x-planasonix-api-key":
                sent.append(value)
        # A very short one would mask ordinary words; none the kit sends is that short.
        self.masked_keys.update(k for k in sent if len(k) >= KEY_PIECE)

    def _reply(
        self, response: requests.Response, exchange: Exchange, started: float
    ) -> tuple[Reply, ContractViolation | None]:
        """The answer, read under the limits, and the finding if a limit cut it short."""
        read = read_body(response, max_body=self.max_body, deadline=self.timeout, started=started)
        # What schemathesis and the checks read through reply.raw: the bounded bytes.
        response._content = read.content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.close()  # read to its end (or given up on): the connection goes back
        text = read.content.decode("utf-8", "replace")
        parsed, refused = parse_json(text)
        body = _ABSENT if parsed is NOT_JSON or refused else parsed
        if read.cut_short:
            refused = read.cut_short
        exchange.status = response.status_code
        headers = dict(response.headers)
        exchange.response_headers = {k: self.mask(v) for k, v in headers.items()}
        recorded = text if body is _ABSENT else json.dumps(_without_secret_fields(body))
        exchange.response_body = self.mask(recorded[:MAX_RECORDED_BODY])
        reply = Reply(
            status=response.status_code,
            headers=response.headers,
            text=text,
            body=None if body is _ABSENT else body,
            exchange=exchange,
            raw=response,
        )
        if refused is None:
            return reply, None
        op = operation_of(exchange.method, exchange.url)[0]
        # Judged like a body that is not a valid document (it is not one the kit can read).
        unread = ContractViolation(
            RESPONSE_SCHEMA,
            f"{op} answered {response.status_code} with a body the kit did not read whole: "
            + refused,
            exchange,
        )
        return reply, unread

    def _track(self, op: str, cred_id: str | None, reply: Reply, own_key: bool) -> None:
        if op == "create" and reply.ok and isinstance(reply.data, dict):
            new_id = reply.data.get("id")
            if isinstance(new_id, str):
                # Even a create with a foreign key made something this run must remove.
                self.ids.add(new_id, self.label if own_key else UNKNOWN_OWNER)
        elif op == "purge" and cred_id is not None and own_key:
            owner = self.ids.created.get(cred_id)
            if reply.ok or (reply.status == 404 and owner == self.label):
                self.ids.purged(cred_id)

    def _check(self, op: str, reply: Reply, validate: bool) -> list[ContractViolation]:
        problems: list[ContractViolation] = []
        leaks = self.detector.scan(reply.text, "body") + self.detector.scan_headers(
            reply.headers.items()
        )
        if leaks:
            reply.exchange.response_body = "<withheld: it contains a secret the kit sent>"
            reply.exchange.response_headers = {
                k: ("<withheld>" if any(leak.where == f"header {k}" for leak in leaks) else v)
                for k, v in reply.exchange.response_headers.items()
            }
            problems.append(
                ContractViolation(
                    SECRET_NON_ECHO,
                    f"{op} answered {reply.status} with a secret the kit sent: "
                    + "; ".join(sorted({str(leak) for leak in leaks})),
                    reply.exchange,
                )
            )
        problems.extend(self._key_echo(op, reply))
        if validate:
            problems.extend(self._schema_problems(op, reply))
        return problems

    def _key_echo(self, op: str, reply: Reply) -> list[ContractViolation]:
        """An answer that returns a key the run sent (8 characters of it or more): an
        expectation, reported once per route, status and place. The record is masked
        already; this says that the deployment does it."""
        places = ["the body"] if self.masked_keys.found(reply.text) else []
        places += [
            f"header {name}"
            for name, value in reply.headers.items()
            if self.masked_keys.found(value)
        ]
        fresh = [p for p in places if self.masked_keys.first_echo((op, reply.status, p))]
        if not fresh:
            return []
        return [
            expected(
                KEY_ECHO,
                SECRET_NON_ECHO,
                f"{op} answered {reply.status} with the API key it was sent (or 8 or more "
                f"characters of it) in {' and '.join(fresh)}",
                reply.exchange,
            )
        ]

    def _schema_problems(self, op: str, reply: Reply) -> list[ContractViolation]:
        if op == "other":
            return []
        if reply.status >= 400:
            # The page has no error section: any body is right as long as the status is
            # and nothing secret is in it (scanned above). Its shape is an expectation.
            return error_shape_problems(op, reply)
        if not reply.ok:
            return []
        kind = SUCCESS_KIND[op]
        if reply.body is None:
            what = "no JSON body" if not reply.text.strip() else "a body that is not JSON"
            return [
                ContractViolation(
                    RESPONSE_SCHEMA,
                    f"{op} answered {reply.status} with {what}",
                    reply.exchange,
                    source=ROUTE_SOURCES.get(op),
                )
            ]
        # Judged by what the docs state only: the fake's own limits (lengths, ranges,
        # formats, required config fields) are no rule for a deployment (docs: behaviour,
        # The credential).
        errors = validate_response(kind, reply.body, documented=True)
        if not errors:
            return timestamp_problems(op, reply)
        secret = any("secret" in e.message for e in errors)
        return [
            ContractViolation(
                RESPONSE_SCHEMA,
                f"{op} answered {reply.status} with a body that is not a valid {kind}: "
                + "; ".join(str(e) for e in errors[:5]),
                reply.exchange,
                # A secret field shown breaks the first promise; any other shape, the
                # route's section of the page.
                source=NO_SECRET if secret else ROUTE_SOURCES.get(op),
            )
        ]

    # --- the API -------------------------------------------------------------------

    def list(self, params: Mapping[str, Any] | None = None, **kw: Any) -> Reply:
        return self.request("GET", "/api/credentials", params=params, **kw)

    def create(self, body: JSON, **kw: Any) -> Reply:
        return self.request("POST", "/api/credentials", json_body=body, **kw)

    def get(self, cred_id: str, **kw: Any) -> Reply:
        return self.request("GET", f"/api/credentials/{cred_id}", **kw)

    def update(self, cred_id: str, body: JSON, **kw: Any) -> Reply:
        return self.request("PUT", f"/api/credentials/{cred_id}", json_body=body, **kw)

    def delete(self, cred_id: str, **kw: Any) -> Reply:
        return self.request("DELETE", f"/api/credentials/{cred_id}", **kw)

    def restore(self, cred_id: str, **kw: Any) -> Reply:
        return self.request("POST", f"/api/credentials/{cred_id}/restore", **kw)

    def purge(self, cred_id: str, **kw: Any) -> Reply:
        return self.request("DELETE", f"/api/credentials/{cred_id}/permanent", **kw)

    def remove(self, cred_id: str, final: bool = False) -> bool:
        """Soft-delete then purge ``cred_id`` for cleanup; True when it is gone.

        Only the run's final cleanup (``final``) may spend the budget's reserve;
        a check tidying up after itself leaves it for that.
        """
        kw: dict[str, Any] = {"cleanup": True, "final": final, "note": "cleanup"}
        self.request("DELETE", f"/api/credentials/{cred_id}", **kw)
        reply = self.request("DELETE", f"/api/credentials/{cred_id}/permanent", **kw)
        return reply.ok or reply.status == 404


ERROR_SHAPE = "error_shape"
Z_SUFFIX = "z_suffix"
TIMESTAMP_FIELDS = ("created_at", "updated_at", "deleted_at")


def _code_and_message(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("code"), str)
        and isinstance(node.get("message"), str)
    )


def error_shape_problems(op: str, reply: Reply) -> list[ContractViolation]:
    """The expectation on an error body: JSON with a code and a message, enveloped or flat.

    Never a violation: FastAPI's ``{"detail": ...}``, RFC 7807 problem documents,
    JSON:API ``{"errors": [...]}``, a proxy's HTML page are all right by the page.
    """
    body = reply.body
    if _code_and_message(body) or (isinstance(body, dict) and _code_and_message(body.get("error"))):
        return []
    what = (
        "a body that is not JSON"
        if body is None
        else 'a body without string "code" and "message" members (flat or under "error")'
    )
    return [
        expected(
            ERROR_SHAPE,
            RESPONSE_SCHEMA,
            f"{op} answered {reply.status} with {what}",
            reply.exchange,
        )
    ]


def timestamp_problems(op: str, reply: Reply) -> list[ContractViolation]:
    """The expectation that instants end in ``Z`` (the page's examples do; any zero
    offset is valid RFC 3339 UTC and passes the documented view)."""
    data = reply.data
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict):
            continue
        for name in TIMESTAMP_FIELDS:
            value = item.get(name)
            if isinstance(value, str) and not value.endswith("Z"):
                return [
                    expected(
                        Z_SUFFIX,
                        RESPONSE_SCHEMA,
                        f"{op} answered {name} with an offset other than Z",
                        reply.exchange,
                    )
                ]
    return []


def _without_secret_fields(body: Any) -> Any:
    """A response body as the record keeps it: every credential's config redacted.

    A deployment that echoes secrets may echo those of credentials the kit did
    not create, real ones, which its canary masking cannot know; the report
    must not carry them. Leak detection reads the untouched answer.
    """
    if isinstance(body, list):
        return [_without_secret_fields(item) for item in body]
    if isinstance(body, dict):
        out = {key: _without_secret_fields(value) for key, value in body.items()}
        type_, config = body.get("type"), body.get("config")
        if isinstance(config, dict):
            # Allowlist, and every type's secrets when the item names no known type.
            known = type_ if type_ in CREDENTIAL_TYPES else None
            out["config"] = public_only(known, config, "***")
        return out
    return body
