"""No input stalls the fake: every validation is linear in its input.

A pattern that backtracks (the old name rule took 32 s on a 65,000-character
name ending in U+0001) turns one request into a denial of service. These
properties send the largest body the fake accepts with the worst text we can
build (long runs of what a pattern's classes accept, then one character that
makes the match fail) into every string field of every schema, every place a
name or id is parsed (API paths and query, auth headers, control plane, seed
and state files), and bound the work of each with a generous wall-clock
limit: the fixed code answers in milliseconds, the old name rule takes
seconds already at 16k characters.

Not a speed measurement (that is `benchmarks/bench_hostile.py`): the bound is
tens of times what the work takes, and only catches super-linear behaviour.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_support import sample_config
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from standalone_support import DEV, make_app

import contracts
from contracts.registry import schema_documents
from mockserver.seed import SeedError, load_fixtures_file
from mockserver.standalone import StandaloneOptions
from mockserver.standalone.faults import compile_path
from mockserver.standalone.persistence import StateFile, StateFileError
from mockserver.store import CredentialStore

BOUND_SECONDS = 2.0
BODY_LIMIT = 64 * 1024  # FakeConfig.max_body_bytes: the largest body the API reads
# Runs of what the patterns' classes accept (letters, blanks, no-break space,
# digits, the id alphabet) and endings that make a match fail at the last step.
UNITS = ["a", " ", "\u00a0", "0", "a ", "cred_", "-", "é", "\t"]
ENDINGS = ["\u0001", "\n", " ", "\u0085", "", "!", "\u00a0"]

Path_ = tuple[str, ...]


def _string_fields(schema: dict[str, Any], prefix: Path_ = ()) -> Iterator[tuple[Path_, int]]:
    """Every place in a config where a string can go, and its maxLength, from the schema."""
    for name, sub in schema.get("properties", {}).items():
        if "properties" in sub:
            yield from _string_fields(sub, (*prefix, name))
        elif sub.get("type") in ("integer", "boolean"):
            continue
        elif sub.get("type") == "object":
            values = sub.get("additionalProperties", {})
            yield (*prefix, name, "X-Hostile"), values.get("maxLength", 64)  # a map's value
        else:
            # Strings, enums, timestamps; an array gets a string too.
            yield (*prefix, name), sub.get("maxLength", 64)


NAME_MAX = schema_documents()["common.json"]["$defs"]["name"]["maxLength"]


CONFIG_FIELDS = {
    t: list(_string_fields(schema_documents()[f"config-{t}.json"]))
    for t in contracts.CREDENTIAL_TYPES
}


def _set(body: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(body))
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value
    return out


def _fill(make: Callable[[str], Any], unit: str, ending: str, limit: int = BODY_LIMIT) -> Any:
    """`make(text)` with text = unit * n + ending, n as large as fits `limit` bytes of JSON."""
    overhead = len(json.dumps(make(ending), ensure_ascii=False).encode())
    per_unit = len(json.dumps(unit, ensure_ascii=False).encode()) - 2
    count = max(1, (limit - overhead) // per_unit)
    return make(unit * count + ending)


def _timed(label: str, call: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    assert elapsed < BOUND_SECONDS, f"{label}: {elapsed:.1f}s"
    return result


hostile = settings(max_examples=3, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@hostile
@given(unit=st.sampled_from(UNITS), ending=st.sampled_from(ENDINGS))
@example(unit="a", ending="\u0001")  # the case
@example(unit=" ", ending="\n")
def test_every_string_field_of_create_and_update_answers_in_bounded_time(
    unit: str, ending: str
) -> None:
    client = make_app().test_client()
    post = {"Content-Type": "application/json", **DEV}

    def send(method: str, url: str, body: Any) -> Any:
        data = json.dumps(body, ensure_ascii=False).encode()
        assert len(data) <= BODY_LIMIT
        return client.open(url, method=method, data=data, headers=post)

    for type_, fields in CONFIG_FIELDS.items():
        base = {"name": f"base-{type_}", "type": type_, "config": sample_config(type_)}
        created = send("POST", "/api/credentials", base)
        assert created.status_code == 201
        url = f"/api/credentials/{created.json['data']['id']}"
        targets: list[tuple[str, Path_, int, str, dict[str, Any]]] = [
            ("POST", ("name",), NAME_MAX, "/api/credentials", base),
            ("PUT", ("name",), NAME_MAX, url, {}),
        ]
        for field, longest in fields:
            targets.append(("POST", ("config", *field), longest, "/api/credentials", base))
            targets.append(("PUT", ("config", *field), longest, url, {}))
        for method, path, longest, target, body in targets:
            # The largest body the API reads, and a text of exactly the field's maxLength
            # (the most a pattern sees once lengths are checked first).
            whole = _fill(lambda text, b=body, p=path: _set(b, p, text), unit, ending)
            at_limit = (unit * longest)[: max(0, longest - len(ending))] + ending
            for sent in (whole, _set(body, path, at_limit)):
                response = _timed(
                    f"{method} {path}", lambda m=method, t=target, s=sent: send(m, t, s)
                )
                assert response.status_code in (200, 201, 400, 409), (path, response.status_code)


@hostile
@given(unit=st.sampled_from(UNITS), ending=st.sampled_from(ENDINGS))
@example(unit="a", ending="\u0001")
def test_ids_queries_and_auth_headers_answer_in_bounded_time(unit: str, ending: str) -> None:
    client = make_app().test_client()
    text = unit * (16 * 1024 // len(unit)) + ending  # URL and header sized

    def header(name: str, before: str = "") -> dict[str, str]:
        return {f"HTTP_{name}": before + text}

    calls: list[tuple[str, Callable[[], Any]]] = [
        ("GET id", lambda: client.get(f"/api/credentials/{text}", headers=DEV)),
        ("DELETE id", lambda: client.delete(f"/api/credentials/{text}", headers=DEV)),
        ("restore id", lambda: client.post(f"/api/credentials/{text}/restore", headers=DEV)),
        # Header values straight into the WSGI environ: Werkzeug's test client
        # refuses to build a line break into a header, a raw request may not.
        (
            "bearer",
            lambda: client.get("/api/credentials", environ_overrides=header("AUTHORIZATION")),
        ),
        (
            "bearer key",
            lambda: client.get(
                "/api/credentials", environ_overrides=header("AUTHORIZATION", "Bearer ")
            ),
        ),
        (
            "legacy key",
            lambda: client.get(
                "/api/credentials", environ_overrides=header("X_PLANASONIX_API_KEY")
            ),
        ),
        ("host", lambda: client.get("/_mock/clock", environ_overrides=header("HOST"))),
        ("origin", lambda: client.post("/_mock/reset", environ_overrides=header("ORIGIN"))),
    ]
    for param in ("status", "type", "cursor", "limit"):
        calls.append(
            (
                param,
                lambda p=param: client.get("/api/credentials", query_string={p: text}, headers=DEV),
            )
        )
    calls.append(
        ("journal limit", lambda: client.get("/_mock/journal", query_string={"limit": text}))
    )
    for label, call in calls:
        response = _timed(label, call)
        assert response.status_code < 500, label


SEED_FIELDS: list[tuple[Path_, ...]] = [
    ("id",),
    ("keys", 0, "key"),
    ("keys", 0, "user_id"),
    ("credentials", 0, "name"),
    ("credentials", 0, "id"),
    ("credentials", 0, "created_by"),
    ("credentials", 0, "status"),
    ("credentials", 0, "created_at"),
]


def _seed_doc() -> dict[str, Any]:
    cred = {"name": "n", "type": "password", "config": {"username": "u", "password": "p"}}
    return {"workspaces": [{"id": "ws_h", "keys": [{"key": "plnx_h"}], "credentials": [cred]}]}


def _at(doc: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    out = json.loads(json.dumps(doc))
    node = out["workspaces"][0]
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@hostile
@given(unit=st.sampled_from(UNITS), ending=st.sampled_from(ENDINGS))
@example(unit="a", ending="\u0001")
def test_control_plane_and_seed_files_answer_in_bounded_time(
    tmp_path_factory: pytest.TempPathFactory, unit: str, ending: str
) -> None:
    client = make_app().test_client()
    folder = tmp_path_factory.mktemp("seed")
    for path in SEED_FIELDS:
        doc = _fill(lambda text, p=path: _at(_seed_doc(), p, text), unit, ending)
        response = _timed(f"/_mock/seed {path}", lambda d=doc: client.post("/_mock/seed", json=d))
        assert response.status_code in (200, 400), path
        file = folder / "seed.json"
        file.write_text(json.dumps(doc), encoding="utf-8")

        def load(f: Path = file) -> None:
            with contextlib.suppress(SeedError):
                load_fixtures_file(f, CredentialStore())

        _timed(f"seed file {path}", load)
    for field in ("code", "path", "method", "message"):
        rule = _fill(
            lambda text, f=field: {"status": 503, "path": "/api/**", f: text}, unit, ending
        )
        response = _timed(f"fault {field}", lambda r=rule: client.post("/_mock/faults", json=r))
        assert response.status_code in (201, 400), field
    for body in (
        _fill(lambda text: {"set": text}, unit, ending),
        _fill(lambda text: {"to": text}, unit, ending),
    ):
        target = "/_mock/clock" if "set" in body else "/_mock/reset"
        response = _timed(target, lambda t=target, b=body: client.post(t, json=b))
        assert response.status_code == 400


STATE_FIELDS = ["name", "id", "workspace", "created_by", "status", "type", "created_at"]


@hostile
@given(unit=st.sampled_from(UNITS), ending=st.sampled_from(ENDINGS))
@example(unit="a", ending="\u0001")
def test_state_files_answer_in_bounded_time(
    tmp_path_factory: pytest.TempPathFactory, unit: str, ending: str
) -> None:
    path = tmp_path_factory.mktemp("state") / "state.json"
    make_app(StandaloneOptions(state_file=path)).test_client().post(
        "/api/credentials",
        json={"name": "n", "type": "password", "config": {"username": "u", "password": "p"}},
        headers=DEV,
    )
    document = json.loads(path.read_text())
    for field in STATE_FIELDS:

        def make(text: str, f: str = field) -> dict[str, Any]:
            out = json.loads(json.dumps(document))
            out["credentials"][0][f] = text
            return out

        path.write_text(json.dumps(_fill(make, unit, ending, limit=256 * 1024)))

        def load() -> None:
            with contextlib.suppress(StateFileError):
                StateFile(path).load_into(CredentialStore())

        _timed(f"state file {field}", load)


def _glob_as_regex(pattern: str) -> re.Pattern[str]:
    # The former implementation: right answers, polynomial backtracking.
    parts = re.split(r"(\*\*|\*)", pattern)
    body = "".join(".*" if p == "**" else "[^/]*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(body + r"\Z")


globs = (
    st.lists(st.sampled_from(["a", "b", "/", "*", "**"]), max_size=8)
    .map(lambda parts: "/" + "".join(parts))
    .filter(lambda p: "***" not in p)
)


@given(pattern=globs, path=st.text(alphabet="ab/", max_size=12).map(lambda s: "/" + s))
def test_fault_globs_match_exactly_what_their_regex_matches(pattern: str, path: str) -> None:
    assert compile_path(pattern).match(path) == bool(_glob_as_regex(pattern).match(path))


def test_a_fault_rule_with_many_stars_does_not_stall_requests() -> None:
    # As a regex this rule took seconds on a 400-character path, O(n^4).
    client = make_app().test_client()
    rule = {"path": "/api/**a**a**a**a**a**b", "status": 503}
    assert client.post("/_mock/faults", json=rule).status_code == 201
    long_path = "/api/credentials/" + "a" * 16_000
    response = _timed("faulted path", lambda: client.get(long_path, headers=DEV))
    assert response.status_code == 404
