"""The alternatives issue 10 added, seen from both sides: a deployment taking one
passes, and the same answer where it is not allowed still fails.

(The valid variants themselves run in test_variants.py and test_soak.py.)
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import Any

import pytest
from broken_variants import (
    ALTERNATIVES,
    KEY_A,
    KEY_B,
    KEYS,
    RO_KEYS,
    Middleware,
    fake_app,
    parts,
    run_kit,
    served,
)
from deployments import starlette_edge, v1_only
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.main import main
from contracts.kit.cli.runner import RunResult
from contracts.kit.profiles.diff import run_diff
from contracts.kit.profiles.learn import run_learn
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS


def _describe(result: RunResult) -> str:
    return "; ".join(f"[{f.check}] {f.message}" for f in result.findings) or result.error


class PutOnDeleted404(Middleware):
    """GET shows soft-deleted credentials (200), but PUT on one answers 404."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method == "PUT" and len(p) == 1:
            status, current = self.internal(request, "GET", request.path)
            if status == 200 and (current or {}).get("data", {}).get("status") == "deleted":
                return self.error(404, "not_found", "No such credential.")
        return None


def test_put_404_on_a_soft_deleted_id_passes_where_get_hides_them_too() -> None:
    result = run_kit(ALTERNATIVES["deleted ids invisible, PUT included"](), only={"lifecycle"})
    assert result.exit_code == EXIT_OK, _describe(result)
    assert result.choices["update of a soft-deleted one"] == "404"
    assert result.choices["GET of a soft-deleted id"] == "404"


def test_put_404_on_a_soft_deleted_id_fails_where_get_shows_them() -> None:
    result = run_kit(PutOnDeleted404(fake_app()), only={"lifecycle"}, max_examples=3)
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert any("only when GET hides them too" in f.message for f in result.findings), _describe(
        result
    )


def test_a_looser_implementation_is_not_accused_of_the_fakes_limits() -> None:
    """The loose variant takes what only the fake's own rules refuse; the kit saw it
    do so (a create without a config field the fake requires answered 201) and
    accused it of nothing."""
    result = run_kit(
        ALTERNATIVES["looser than the fake on every open rule"](),
        only={"secret-non-echo", "schemathesis"},
        max_examples=3,
    )
    assert result.exit_code == EXIT_OK, _describe(result)
    missing_field = [
        e
        for e in result.exchanges
        if e["method"] == "POST" and "invalid-1" in str(e["request_body"])
    ]
    assert [e["status"] for e in missing_field] == [201]


def _read_only_second_key_app() -> Any:
    from mockserver.app import create_app

    return create_app(keys={KEY_A: "ws_kit_a"}, read_only_keys={**RO_KEYS, KEY_B: "ws_kit_b"})


class PutLooksUpBeforeScope(Middleware):
    """The second key's PUT is 404 for ids nobody holds, 403 for this workspace's:
    the status tells which ids exist (SPEC.md §5), on one route only."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method != "PUT" or len(p) != 1:
            return None
        if request.headers.get("Authorization") != f"Bearer {KEY_B}":
            return None
        found = self.inner.get(
            "/api/credentials/" + p[0], headers={"Authorization": f"Bearer {KEY_A}"}
        )
        return None if found.status_code == 200 else self.error(404, "not_found", "No such id.")


def test_a_read_only_second_key_that_tells_ids_apart_on_one_route_is_caught() -> None:
    result = run_kit(PutLooksUpBeforeScope(_read_only_second_key_app()), only={"auth-isolation"})
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert "auth-isolation" in result.checks_failed()


def test_a_read_only_second_key_is_not_an_isolation_failure() -> None:
    # A key of another workspace holding only connections:read gets 403 on
    # every write, whatever the id: right (scope first, nothing leaks), so the
    # kit checks only that nothing changed, and says so.
    result = run_kit(_read_only_second_key_app(), only={"auth-isolation"})
    assert result.exit_code == EXIT_OK, _describe(result)
    phase = next(p for p in result.phases if p.name == "auth-isolation")
    assert "may not write" in (phase.note or "")


class IdsOfItsOwnShape(Middleware):
    """400 for any id it never issued: a deployment whose ids have another shape than
    the kit's made-up one (a UUID or patterned path parameter) refuses it as
    malformed before looking it up. ``per_workspace``: also an id issued to another
    workspace, a 400 that tells another workspace's ids apart from unknown ones."""

    def __init__(self, app: Any, *, per_workspace: bool = False) -> None:
        super().__init__(app)
        self.per_workspace = per_workspace
        self.issued: dict[str, str] = {}  # id -> the workspace that created it

    @staticmethod
    def workspace(request: Request) -> str | None:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        key = request.headers.get("X-Planasonix-Api-Key") or bearer
        return {**KEYS, **RO_KEYS}.get(key)

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        p, ws = parts(request), self.workspace(request)
        if not p or ws is None:
            return None  # a listing, a create, or a request the fake refuses with 401
        owner = self.issued.get(p[0])
        if owner is None or (self.per_workspace and owner != ws):
            return self.error(400, "invalid_id", "Not a credential id.")
        return None

    def after(self, request: Request, body: Any, response: Response) -> Response:
        data = (self.json_of(response) or {}).get("data") if response.status_code == 201 else None
        if request.method == "POST" and not parts(request) and isinstance(data, dict):
            self.issued[str(data["id"])] = self.workspace(request) or ""
        return response


ID_PROBES = {"auth-isolation", "secret-non-echo"}


def test_400_for_an_id_the_deployment_never_issued_passes() -> None:
    result = run_kit(IdsOfItsOwnShape(fake_app()), only=ID_PROBES, max_examples=3)
    assert result.exit_code == EXIT_OK, _describe(result)
    made_up = [e for e in result.exchanges if e["status"] == 400 and e["method"] in ("GET", "PUT")]
    assert made_up, "the kit's made-up ids were never refused: the test proves nothing"


def test_400_for_another_workspace_s_id_is_still_an_isolation_failure() -> None:
    result = run_kit(IdsOfItsOwnShape(fake_app(), per_workspace=True), only=ID_PROBES)
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert any(
        f.check == "auth-isolation" and "another workspace's id: answered 400" in f.message
        for f in result.findings
    ), _describe(result)


def test_400_for_an_id_the_deployment_never_issued_learns_and_diffs_clean() -> None:
    with served(IdsOfItsOwnShape(fake_app())) as url:
        learned = run_learn(url, KEY_A)
        assert learned.exit_code == EXIT_OK, [v.message for v in learned.violations]
        result = run_diff(url, KEY_A, profile=learned.profile())
    assert result.exit_code == EXIT_OK, result.text()


@pytest.mark.slow
def test_a_deployment_stricter_on_config_formats_than_the_fake_passes_run() -> None:
    """The kit draws configs from the fake's schemas (a region "oobkh8k", a tenant id
    "0"); a deployment that checks those formats (the page gives none) refuses them
    with 400. That is no violation: the probes that needed them are listed as not run."""
    out = io.StringIO()
    with starlette_edge.serve(None, strict_config=True) as url, redirect_stdout(out):
        code = main(
            ["run", "--base-url", url, "--api-key", "plnx_ind_a", "--second-api-key",
             "plnx_ind_b", "--read-only-api-key", "plnx_ind_ro", "--max-examples", "3",
             "--seed", "1"]
        )  # fmt: skip
    text = out.getvalue()
    assert code == EXIT_OK, text[-2000:]
    assert "secret-non-echo: the probes of azure config #0: the deployment refused" in text
    assert "lifecycle: the scripted azure walk: the deployment refused" in text
    assert "lifecycle: state machine credentials of type azure: the deployment refused" in text


class AppliesThenRefuses(Middleware):
    """Every update that carries a config is applied, then answered 400 as if refused."""

    def after(self, request: Request, body: Any, response: Response) -> Response:
        carries_config = isinstance(body, dict) and "config" in body
        if request.method == "PUT" and carries_config and response.status_code == 200:
            return self.error(400, "invalid_config", "A setting is not valid.")
        return response


@pytest.mark.slow
def test_a_config_refused_yet_applied_is_still_a_lifecycle_violation() -> None:
    """What the acceptance of a refused config keeps: the refusal must change nothing.

    --no-shrink: the state machine's sequence as found (shortening it costs thousands
    of requests here, and the finding is what this test is about)."""
    out = io.StringIO()
    with served(AppliesThenRefuses(fake_app())) as url, redirect_stdout(out):
        code = main(
            ["run", "--base-url", url, "--api-key", KEY_A, "--check", "lifecycle",
             "--max-examples", "3", "--seed", "0", "--no-shrink"]
        )  # fmt: skip
    text = out.getvalue()
    found = [line for line in text.splitlines() if line.startswith("VIOLATION [lifecycle]")]
    assert code == EXIT_VIOLATIONS, text[-2000:]
    assert any("config changed" in line for line in found), found
    assert "failing sequence, not shortened (key and secrets masked):" in text
    assert "shortest failing sequence" not in text


@pytest.mark.slow
def test_a_deployment_stricter_on_config_formats_than_the_fake_learns_and_diffs_clean() -> None:
    """learn and diff send a password credential instead of a drawn config the
    deployment refuses, to the deployment and the fake alike, and go on."""
    with starlette_edge.serve(None, strict_config=True) as url:
        learned = run_learn(url, "plnx_ind_a", seed=1)
        assert learned.exit_code == EXIT_OK, [v.message for v in learned.violations]
        result = run_diff(url, "plnx_ind_a", profile=learned.profile(), seed=1)
    assert result.exit_code == EXIT_OK, result.text()


class HintsForAzure(Middleware):
    """A non-secret config hint on azure credentials only: ``client_secret_set``."""

    def after(self, request: Request, body: Any, response: Response) -> Response:
        doc = self.json_of(response)
        data = doc.get("data") if isinstance(doc, dict) else None
        items = data if isinstance(data, list) else [data]
        hinted = False
        for item in items:
            config = item.get("config") if isinstance(item, dict) else None
            if isinstance(config, dict) and item.get("type") == "azure":
                config["client_secret_set"] = True
                hinted = True
        return self.with_json(response, doc) if hinted else response


def test_a_config_hint_on_some_credentials_only_learns_and_diffs_clean() -> None:
    """The fake shows a profile's extra fields on every credential; a deployment may
    show a hint only where it applies, and that is no drift."""
    # Seed 1 makes azure, api_key and database credentials: the hint shows on some.
    with served(HintsForAzure(fake_app())) as url:
        learned = run_learn(url, KEY_A, seed=1)
        assert "config.client_secret_set" in learned.profile().extra_fields
        result = run_diff(url, KEY_A, profile=learned.profile(), seed=1)
    assert result.exit_code == EXIT_OK, result.text()


@pytest.mark.slow
def test_a_v1_only_deployment_s_readings_are_no_held_expectation_under_strict() -> None:
    """A repeated delete answered 410 is an accepted reading, not schema-valid data
    rejected; the 404 of the /api prefix it does not serve is no error body to judge."""
    argv = ["run", "--strict", "--seed", "1", "--max-examples", "2", "--no-shrink"]
    argv += ["--api-key", "plnx_ind_a", "--second-api-key", "plnx_ind_b"]
    argv += ["--read-only-api-key", "plnx_ind_ro"]
    out = io.StringIO()
    with v1_only.serve(None) as url, redirect_stdout(out):
        main([*argv, "--base-url", url])
    text = out.getvalue()
    assert "path prefixes served and checked: /v1/api" in text  # it ran there
    assert "[schemathesis]" not in text, text[-3000:]
    assert "(phase preflight): list answered 404" not in text, text[-3000:]


class RefusesDeleteOfALiveId(Middleware):
    """Answers 400 to a soft delete of a credential that exists and is active."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        p = parts(request)
        if request.method == "DELETE" and len(p) == 1:
            status, current = self.internal(request, "GET", request.path)
            if status == 200 and (current or {}).get("data", {}).get("status") == "active":
                return self.error(400, "invalid_request", "Not today.")
        return None


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_schema_valid_data_refused_on_a_live_id_is_still_noted_once(suffix: str) -> None:
    """Named by the path requested, once however many ids and draws it took."""
    argv = ["run", "--check", "schemathesis", "--seed", "0", "--max-examples", "6"]
    argv += ["--api-key", KEY_A, "--second-api-key", KEY_B]
    out = io.StringIO()
    with served(RefusesDeleteOfALiveId(fake_app())) as url, redirect_stdout(out):
        main([*argv, "--base-url", url + suffix])
    rejected = [
        line
        for line in out.getvalue().splitlines()
        if line.startswith("EXPECTATION [schemathesis]") and "request rejected" in line
    ]
    assert rejected == [
        "EXPECTATION [schemathesis] (phase schemathesis): "
        f"DELETE {suffix}/api/credentials/{{id}} (positive data): Schema-valid request rejected"
    ], out.getvalue()[-3000:]


def test_schema_valid_data_on_a_made_up_id_refused_as_malformed_is_no_finding() -> None:
    result = run_kit(
        IdsOfItsOwnShape(fake_app()), only={"schemathesis"}, max_examples=6, strict=True
    )
    assert result.exit_code == EXIT_OK, _describe(result)
    made_up = [e for e in result.exchanges if e["status"] == 400 and e["method"] == "DELETE"]
    assert made_up, "the phase's made-up id was never refused: the test proves nothing"


class V1OnlyBehindALoginPage(Middleware):
    """Serves the API under /v1/api only; /api/... is a web app's login redirect.
    ``also_filtered``: a filtered listing under /v1/api redirects there too (a bug)."""

    def __init__(self, app: Any, also_filtered: bool = False) -> None:
        super().__init__(app)
        self.also_filtered = also_filtered

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        filtered = self.also_filtered and "status" in request.args
        if request.path.startswith("/api/") or filtered:
            return Response("", status=302, headers={"Location": "/login"})
        return None


def test_the_answer_of_a_prefix_not_served_is_not_judged() -> None:
    result = run_kit(V1OnlyBehindALoginPage(fake_app()), only={"listings", "status-codes"})
    assert (result.exit_code, result.expectations) == (EXIT_OK, []), _describe(result)
    assert any(e["status"] == 302 for e in result.exchanges), "/api was never probed"


def test_a_redirect_where_the_api_is_served_is_still_reported() -> None:
    app = V1OnlyBehindALoginPage(fake_app(), also_filtered=True)
    result = run_kit(app, only={"listings", "status-codes"})
    assert any(
        f.check == "status-codes" and "list answered 302" in f.message for f in result.findings
    ), _describe(result)


class V1OnlyWithA500UnderApi(Middleware):
    """Serves the API under /v1/api only; /api/... crashes with a 500."""

    def before(self, request: Request, body: Any, environ: dict[str, Any]) -> Response | None:
        if request.path.startswith("/api/"):
            return Response("Internal Server Error", status=500, mimetype="text/plain")
        return None


def test_a_server_error_on_the_probe_of_a_prefix_is_still_reported() -> None:
    """A 5xx is no way of saying a prefix is not served: discovery moves on to /v1,
    and the status check still names the crash."""
    result = run_kit(V1OnlyWithA500UnderApi(fake_app()), only={"listings", "status-codes"})
    assert any(
        f.check == "status-codes" and "list answered 500" in f.message for f in result.findings
    ), _describe(result)
