"""Every rule the kit enforces cites its source; expectations never fail a run unless asked.

- every quoted sentence is one of the published page (compared with the page
  itself when a copy is at hand);
- findings carry their kind and source into the text, JSON and JUnit reports;
  expectations are reported apart and change the exit code only with
  ``--strict`` or a profile that declares them;
- readings the page leaves open are accepted (error bodies of any shape, any
  zero-offset instant, 410 for a deleted id, a ``/v1``-only deployment), while
  a deployment that reads them so and has real bugs is still caught, every
  one of them, in one run.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from broken_variants import (
    BROKEN_EXPECTATIONS,
    KEY_A,
    KEY_B,
    KEYS,
    Middleware,
    NoLegacyHeader,
    _secret_values,
    fake_app,
    parts,
    run_kit,
    served,
)
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.cli.runner import Runner, RunResult, junit_cases, write_junit, write_report
from contracts.kit.context import KitContext, Settings
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS
from contracts.kit.rules import page
from contracts.kit.rules.sources import CHECKS, EXPECTATIONS, INVARIANTS, PAGE, describe_checks
from contracts.profile import profile_schema
from contracts.registry import validate_response

JSON = Any
PAGE_FILE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "credentials-api.md"


def _describe(result: RunResult) -> str:
    return "; ".join(f"[{f.check}] {f.message}" for f in result.findings) or result.error


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --- sources ------------------------------------------------------------------------------


@pytest.mark.skipif(not PAGE_FILE.exists(), reason="no copy of the published page beside the tree")
def test_every_quoted_sentence_is_on_the_published_page() -> None:
    text = PAGE_FILE.read_text(encoding="utf-8")
    sections = re.split(r"^#+ ", text, flags=re.MULTILINE)
    by_heading = {s.splitlines()[0].strip(): _flat(s) for s in sections if s.strip()}
    for section, sentences in page.SENTENCES.items():
        assert section in by_heading, section
        for sentence in sentences:
            assert _flat(sentence) in by_heading[section], (section, sentence)


def test_every_check_cites_a_shipped_sentence_an_invariant_or_an_expectation() -> None:
    for check in CHECKS.values():
        assert check.sources, check.name
        for source in check.sources:
            if source.kind == PAGE:
                assert source.text in page.SENTENCES[source.name]
            else:
                assert source in INVARIANTS or source in EXPECTATIONS.values()


def test_the_profile_declares_exactly_the_kits_expectations() -> None:
    items = profile_schema()["properties"]["expectations"]["items"]["enum"]
    assert sorted(items) == sorted(EXPECTATIONS)


def test_list_checks_prints_every_check_and_its_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--list-checks"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.strip() == describe_checks().strip()
    for check in CHECKS.values():
        kinds = {source.kind for source in check.sources}
        both = "expectation" in kinds and len(kinds) > 1
        label = "violations and expectations" if both else check.kind
        assert f"{check.name}  [{label}]" in out
        for source in check.sources:
            assert source.text in out
    for name in EXPECTATIONS:
        assert f"    {name}: " in out
    assert '"Get credential metadata"' in out or '"List credentials"' in out


# --- the documented view ----------------------------------------------------------------------


def _view(created_at: str, config: JSON) -> JSON:
    return {
        "data": {
            "id": "cred_x",
            "name": "n",
            "type": "database",
            "status": "active",
            "created_at": created_at,
            "updated_at": "2025-01-01T00:00:00Z",
            "config": config,
        }
    }


@pytest.mark.parametrize(
    "instant",
    ["2025-03-20T09:15:22Z", "2025-03-20T09:15:22+00:00", "2025-03-20T09:15:22.123456-00:00"],
)
def test_any_zero_offset_instant_is_valid(instant: str) -> None:
    assert validate_response("credential_envelope", _view(instant, {}), documented=True) == []


@pytest.mark.parametrize("instant", ["2025-03-20T09:15:22+01:00", "2025-02-30T09:15:22Z"])
def test_an_instant_off_utc_or_off_the_calendar_is_not(instant: str) -> None:
    assert validate_response("credential_envelope", _view(instant, {}), documented=True)


def test_config_field_types_are_not_judged_but_secrets_still_are() -> None:
    loose = {"port": "5432", "host": 7, "ssh_tunnel": "none"}
    when = "2025-01-01T00:00:00Z"
    assert validate_response("credential_envelope", _view(when, loose), documented=True) == []
    leaked = {"password": "x"}
    errors = validate_response("credential_envelope", _view(when, leaked), documented=True)
    assert [e.path for e in errors] == ["data.config.password"]


# --- deployments that read the page otherwise ----------------------------------------------------


def _problem(status: int, title: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status}
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


class ProblemDocuments(Middleware):
    """Valid by the page: RFC 7807 errors, `+00:00` instants, 410 for a deleted id, a
    repeated delete answered 410, no legacy header."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        environ.pop("HTTP_X_PLANASONIX_API_KEY", None)
        p = parts(request)
        if request.method in ("GET", "DELETE") and len(p) == 1:
            status, data = self.internal(request, "GET", request.path)
            if status == 200 and data["data"]["status"] == "deleted":
                return _problem(410, "Gone")
        return None

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if response.status_code >= 400:
            return self.problem_of(request, body, response)
        text = response.get_data(as_text=True)
        response.set_data(re.sub(r'(\d\d:\d\d:\d\d(?:\.\d+)?)Z"', r'\1+00:00"', text))
        return response

    def problem_of(self, request: Request, body: JSON, response: Response) -> Response:
        return _problem(response.status_code, "Request refused")


class ProblemsWithBugs(ProblemDocuments):
    """The same deployment with two bugs: another workspace's credential readable by id,
    and a 409 whose problem document echoes the secret it was sent."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method == "GET" and len(p) == 1:
            for key in KEYS:
                found = self.inner.get(request.path, headers={"Authorization": f"Bearer {key}"})
                if found.status_code == 200:
                    return Response(found.get_data(), 200, mimetype="application/json")
        return super().before(request, body, environ)

    def problem_of(self, request: Request, body: JSON, response: Response) -> Response:
        sent = _secret_values(body)
        if response.status_code == 409 and sent:
            problem = {"title": "Conflict", "status": 409, "detail": f"rejected {sent[0]}"}
            return Response(json.dumps(problem), 409, mimetype="application/problem+json")
        return super().problem_of(request, body, response)


class OnlyUnderV1(NoLegacyHeader):
    """Valid: serves /v1/api only (no /api), and knows only Authorization: Bearer."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if not request.path.startswith("/v1/"):
            return Response("<html><body>Not Found</body></html>", 404, mimetype="text/html")
        return super().before(request, body, environ)


PHASES = {"auth-isolation", "secret-non-echo", "lifecycle", "status-codes"}


def test_problem_documents_with_zero_offsets_and_410_pass_with_expectations_noted() -> None:
    result = run_kit(ProblemDocuments(fake_app()), only=PHASES, max_examples=2)
    assert result.exit_code == EXIT_OK, _describe(result)
    noted = {f.source.name for f in result.expectations if f.source}
    assert {"error_shape", "z_suffix", "legacy_header"} <= noted
    assert result.choices["GET of a soft-deleted id"] == "410"
    assert result.choices["delete of an already deleted one"] == "410"


def test_the_same_deployment_with_a_workspace_leak_and_an_echo_in_a_409_is_caught_twice() -> None:
    result = run_kit(ProblemsWithBugs(fake_app()), only=PHASES, max_examples=2)
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    leaks = [f for f in result.findings if f.check == "secret-non-echo"]
    crossed = [
        f
        for f in result.findings
        if f.check == "auth-isolation" and "another workspace" in f.message
    ]
    assert any("409" in f.message for f in leaks), _describe(result)
    assert crossed, _describe(result)
    assert all(f.kind == "violation" and f.source is not None for f in result.findings)
    assert {f.source.name for f in crossed if f.source} <= {
        "isolation between keys",
        page.INTRO,
        page.LIST,
    }


def _run_at(app: Any, suffix: str, only: set[str]) -> RunResult:
    with served(app) as url:
        ctx = KitContext.build(
            url + suffix, KEY_A, second_api_key=KEY_B, settings=Settings(max_examples=2, seed=1)
        )
        return Runner(ctx, out=io.StringIO(), only=only).run()


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_a_deployment_serving_only_v1_passes_from_either_base_url(suffix: str) -> None:
    result = _run_at(OnlyUnderV1(fake_app()), suffix, {"auth-isolation", "pagination"})
    assert result.exit_code == EXIT_OK, _describe(result)
    urls = [e["url"] for e in result.exchanges if e["note"] != "which prefixes are served"]
    assert urls and not any("/v1/v1/" in u for u in urls)
    assert all("/v1/api/" in u for u in urls)


def test_both_prefixes_are_checked_when_both_are_served() -> None:
    from broken_variants import NoAuthUnderV1

    result = _run_at(NoAuthUnderV1(fake_app()), "", {"auth-isolation"})
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)


# --- expectations: noted, held only when asked ---------------------------------------------


@pytest.mark.parametrize("name", sorted(BROKEN_EXPECTATIONS))
def test_an_expectation_is_noted_and_held_only_when_asked(name: str) -> None:
    factory, check, expectation, only = BROKEN_EXPECTATIONS[name]
    noted = run_kit(factory(), only=only, max_examples=2)
    assert noted.exit_code == EXIT_OK, _describe(noted)
    mine = [f for f in noted.expectations if f.source and f.source.name == expectation]
    assert mine and all(f.check == check and f.kind == "expectation" for f in mine)
    strict = run_kit(factory(), only=only, max_examples=2, strict=True)
    assert strict.exit_code == EXIT_VIOLATIONS
    assert any(f.held and f.check == check for f in strict.findings), _describe(strict)
    declared = run_kit(factory(), only=only, max_examples=2, declared=frozenset({expectation}))
    assert declared.exit_code == EXIT_VIOLATIONS
    other = run_kit(factory(), only=only, max_examples=2, declared=frozenset({"z_suffix"}))
    assert other.exit_code == EXIT_OK


def test_reports_keep_expectations_apart(tmp_path: Path) -> None:
    factory, check, expectation, only = BROKEN_EXPECTATIONS["no legacy key header"]
    result = run_kit(factory(), only=only, max_examples=2)
    write_report(result, tmp_path / "r.json")
    write_junit(result, tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["findings"] == [] and data["exit_code"] == EXIT_OK
    assert any(e["source"]["name"] == expectation for e in data["expectations"])
    assert all(e["kind"] == "expectation" for e in data["expectations"])
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert root.get("failures") == "0"
    case = next(c for c in root.iter("testcase") if c.get("name") == check)
    assert "EXPECTATION" in "".join(case.itertext())
    assert not [c for c in junit_cases(result) if c.failures]


def test_a_violation_shows_its_source_in_every_report(tmp_path: Path) -> None:
    from broken_variants import BROKEN

    factory, check, only = BROKEN["leak in error messages"]
    result = run_kit(factory(), only=only, max_examples=2)
    finding = next(f for f in result.findings if f.check == check)
    assert finding.source is not None and finding.source.kind in ("page", "invariant")
    write_junit(result, tmp_path / "r.xml")
    failure = next(ET.parse(tmp_path / "r.xml").getroot().iter("failure"))
    assert "source: " in (failure.text or "")
    data = result.as_json()
    assert data["findings"][0]["source"]["kind"] in ("page", "invariant")


# --- update_replaces_config ----------------------------------------------------------------


def test_a_put_that_replaces_config_fails_where_the_profile_says_it_merges() -> None:
    from broken_variants import alt

    app = alt(update_replaces_config=True)
    held = run_kit(app(), only={"lifecycle"}, max_examples=1, update_replaces_config=False)
    assert held.exit_code == EXIT_VIOLATIONS, _describe(held)
    assert any("Omitted fields are left unchanged" in str(f.source) for f in held.findings)
    declared = run_kit(app(), only={"lifecycle"}, max_examples=1, update_replaces_config=True)
    assert declared.exit_code == EXIT_OK, _describe(declared)
    merging = run_kit(fake_app(), only={"lifecycle"}, max_examples=1, update_replaces_config=True)
    assert merging.exit_code == EXIT_VIOLATIONS, _describe(merging)


class FastApiStyle(Middleware):
    """Valid by the page, in another framework's habits: 422 with pydantic's ``detail``
    list for a refused body, ``{"detail": "Not Found"}`` for other errors, an edge
    proxy's HTML page for a 401, timestamps with microseconds and ``+00:00``, config
    numbers stored and echoed as text, and ``username`` never shown in a config."""

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        status = response.status_code
        if status == 401:
            html = "<html><body><h1>401 Authorization Required</h1></body></html>"
            return Response(html, 401, mimetype="text/html")
        if status == 400:
            detail = [{"loc": ["body"], "msg": "value is not valid", "type": "value_error"}]
            return Response(json.dumps({"detail": detail}), 422, mimetype="application/json")
        if status >= 400:
            body = json.dumps({"detail": "Not Found"})
            return Response(body, status, mimetype="application/json")
        data = self.json_of(response)
        inner = data.get("data") if isinstance(data, dict) else None
        for item in inner if isinstance(inner, list) else [inner]:
            if not isinstance(item, dict):
                continue
            for name in ("created_at", "updated_at", "deleted_at"):
                if isinstance(item.get(name), str):
                    item[name] = item[name].replace("Z", ".000000+00:00")
            config = item.get("config")
            if isinstance(config, dict):
                config.pop("username", None)
                for key, value in list(config.items()):
                    if isinstance(value, int) and not isinstance(value, bool):
                        config[key] = str(value)
        return self.with_json(response, data) if inner is not None else response


class JsonApiHidesDeleted(Middleware):
    """Valid by the page: JSON:API error documents, and soft-deleted credentials hidden
    by id (GET, a repeated DELETE and PUT of one answer 404)."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method in ("GET", "DELETE", "PUT") and len(p) == 1:
            status, data = self.internal(request, "GET", request.path)
            if status == 200 and data["data"]["status"] == "deleted":
                return self.jsonapi(404, "Not Found")
        return None

    def after(self, request: Request, body: JSON, response: Response) -> Response:
        if response.status_code >= 400:
            return self.jsonapi(response.status_code, "Request refused")
        return response

    @staticmethod
    def jsonapi(status: int, title: str) -> Response:
        doc = {"errors": [{"status": str(status), "title": title}]}
        return Response(json.dumps(doc), status, mimetype="application/vnd.api+json")


@pytest.mark.parametrize(
    "deployment",
    [ProblemDocuments, FastApiStyle, OnlyUnderV1, JsonApiHidesDeleted],
    ids=lambda c: c.__name__,
)
def test_valid_deployments_in_other_styles_pass_every_phase(deployment: type[Middleware]) -> None:
    result = run_kit(deployment(fake_app()), max_examples=2)
    assert result.exit_code == EXIT_OK, _describe(result)
    assert all(f.kind == "expectation" for f in result.expectations)


def test_every_phase_is_a_registered_check() -> None:
    from contracts.kit.checks import default_phases

    assert {name for name, _ in default_phases(read_only=False)} <= set(CHECKS)


class NoKeyServedAndCrossRead(Middleware):
    """Two bugs in one phase: a list without a key served (an empty page: the first
    probe of the auth phase), and another workspace's credential readable by id
    (probes later)."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if "HTTP_AUTHORIZATION" not in environ and "HTTP_X_PLANASONIX_API_KEY" not in environ:
            empty = {"data": [], "meta": {"page": {"limit": 50, "cursor": None}}}
            return Response(json.dumps(empty), 200, mimetype="application/json")
        p = parts(request)
        if request.method == "GET" and len(p) == 1:
            for key in KEYS:
                found = self.inner.get(request.path, headers={"Authorization": f"Bearer {key}"})
                if found.status_code == 200:
                    return Response(found.get_data(), 200, mimetype="application/json")
        return None


def test_a_finding_on_the_first_probe_does_not_hide_one_three_probes_later() -> None:
    result = run_kit(NoKeyServedAndCrossRead(fake_app()), only={"auth-isolation"})
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    messages = [f.message for f in result.findings]
    assert any("without a key" in m and "was served" in m for m in messages), messages
    assert any("another workspace" in m for m in messages), messages


class NoKeyForbidden(Middleware):
    """Valid by the page: a request without a key is refused, with 403 rather than 401."""

    def before(self, request: Request, body: JSON, environ: dict[str, Any]) -> Response | None:
        if "HTTP_AUTHORIZATION" not in environ and "HTTP_X_PLANASONIX_API_KEY" not in environ:
            return _problem(403, "Forbidden")
        return None


def test_a_refusal_without_a_key_other_than_401_is_an_expectation() -> None:
    result = run_kit(NoKeyForbidden(fake_app()), only={"auth-isolation"}, max_examples=1)
    assert result.exit_code == EXIT_OK, _describe(result)
    assert any(f.source and f.source.name == "auth_401" for f in result.expectations)
    strict = run_kit(NoKeyForbidden(fake_app()), only={"auth-isolation"}, strict=True)
    assert strict.exit_code == EXIT_VIOLATIONS
