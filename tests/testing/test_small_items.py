"""fake.session's base URL and key, secret()'s error, the marker's "did you mean",
verify()'s traceback, and connection faults through the marker."""

from __future__ import annotations

import importlib.util
import secrets

import pytest

import contracts
from mockserver.testing import InterceptedFake, LiveServer, PlanasonixFake
from mockserver.testing.secret_lookup import SecretFieldError

BASE_ARGS: tuple[str, ...] = (
    ()
    if importlib.util.find_spec("contracts.kit.cli.pytest_plugin")
    else ("-p", "no:planasonix_contract")
)
TYPE = "password"
SECRET_FIELDS = [".".join(p) for p in contracts.secret_paths(TYPE)]
FIELD = SECRET_FIELDS[0]
REQUIRED = contracts.required_fields(TYPE)


def body(value: str) -> dict[str, object]:
    config = {name: value if name == FIELD else "x" for name in REQUIRED}
    return {"name": "db", "type": TYPE, "config": config}


def test_session_joins_relative_paths_and_sends_the_key() -> None:
    with PlanasonixFake() as fake:
        created = fake.session.post("/api/credentials", json=body("canary-1"))
        assert created.status_code == 201
        assert fake.session.get("api/credentials").json()["data"][0]["name"] == "db"
        # An absolute URL is used as given; a request can drop the key for a 401 test.
        assert fake.session.get(fake.url + "/api/credentials").status_code == 200
        refused = fake.session.get("/api/credentials", headers={"Authorization": None})
        assert refused.status_code == 401
        assert fake.api_key not in repr(fake.session)


def test_live_and_intercepted_sessions_have_their_base_url_and_key() -> None:
    with LiveServer() as server:
        fake = server.new_fake()
        assert fake.session.get("/api/credentials", timeout=5).status_code == 200
        server.release(fake)
    with InterceptedFake() as intercepted:
        assert intercepted.session.get("/api/credentials").status_code == 200
        assert intercepted.journal.records()[0].status == 200


def test_secret_typo_names_the_field_and_the_types_secret_fields() -> None:
    value = "canary-" + secrets.token_hex(8)
    with PlanasonixFake() as fake:
        cred = fake.seed(**body(value))  # type: ignore[call-overload]
        assert fake.secret(cred.id, FIELD) == value
        typo = FIELD[:2] + FIELD[3:]
        with pytest.raises(SecretFieldError) as raised:
            fake.secret(cred.id, typo)
        text = str(raised.value)
        assert repr(typo) in text and f"did you mean {FIELD!r}" in text
        assert all(name in text for name in SECRET_FIELDS)  # listed from the schemas
        assert value not in text
        assert isinstance(raised.value, KeyError)  # old `except KeyError` still works
        assert raised.value.known == tuple(SECRET_FIELDS)


def test_marker_typo_says_did_you_mean(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.planasonix(fault=[{"status": 503}])
        def test_x(planasonix_fake):
            pass
        """
    )
    result = pytester.runpytest(*BASE_ARGS)
    output = result.stdout.str() + result.stderr.str()
    assert "unknown argument 'fault'; did you mean 'faults'?" in output
    assert result.ret != 0


def test_verify_failure_hides_the_plugins_frames(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_x(planasonix_fake):
            planasonix_fake.verify("POST", "/api/credentials", times=1)
        """
    )
    result = pytester.runpytest(*BASE_ARGS, "--tb=long")
    output = result.stdout.str()
    assert "expected exactly 1 call(s) matching POST /api/credentials, got 0" in output
    assert "mockserver/testing/calls.py" not in output
    assert "mockserver/testing/fake.py" not in output
    result.assert_outcomes(failed=1)


def test_marker_connection_faults_reach_every_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest
        import requests

        RULES = [{"connection": "reset", "times": 1}]

        @pytest.mark.planasonix(faults=RULES)
        def test_fake(planasonix_fake):
            with pytest.raises(requests.ConnectionError):
                planasonix_fake.session.get("/api/credentials", timeout=5)
            assert planasonix_fake.session.get("/api/credentials").status_code == 200

        @pytest.mark.planasonix(faults=RULES)
        def test_server(planasonix_server):
            with pytest.raises(httpx.ReadError):
                httpx.get(planasonix_server.url + "/api/credentials", timeout=5)

        @pytest.mark.planasonix(faults=RULES)
        def test_intercept(planasonix_intercept):
            with pytest.raises(requests.ConnectionError):
                requests.get("https://api.planasonix.com/api/credentials", timeout=5)

        @pytest.mark.planasonix(faults=[{"connection": "resett"}])
        def test_bad_kind(planasonix_fake):
            pass
        """
    )
    result = pytester.runpytest(*BASE_ARGS, "-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert "faults[0]: connection: must be one of reset, empty, truncated, garbage, drip" in output
    result.assert_outcomes(passed=3, errors=1)
