"""The pytest plugin as a downstream suite uses it: pytester runs small test files.

The inner files only rely on what an installed package offers (the `pytest11`
entry point, `requests`, `httpx`, `contracts`). Secret field names come from
the contract registry, never from this file; secret values are random canaries.
"""

from __future__ import annotations

import importlib.util
import json
import re
import secrets
from pathlib import Path

import pytest
import requests

import contracts
from mockserver.testing import InterceptedFake, PlanasonixFake, host_pattern

# The package declares a second pytest11 entry point (the contract kit's plugin); while
# that module is absent, an inner run would die loading it, which is not what we test.
BASE_ARGS: tuple[str, ...] = (
    ()
    if importlib.util.find_spec("contracts.kit.cli.pytest_plugin")
    else ("-p", "no:planasonix_contract")
)

TYPE = "password"
# The one required secret of the type: derived, so a renamed field breaks loudly here.
FIELD = next(p[0] for p in contracts.secret_paths(TYPE) if p[0] in contracts.required_fields(TYPE))

# Shared by every inner suite: a create body built from the registry.
CONFTEST = f"""
import contracts

TYPE = {TYPE!r}
FIELD = {FIELD!r}

def body(name, value):
    return {{"name": name, "type": TYPE, "config": {{FIELD: value}}}}
"""


def canary() -> str:
    return "canary-" + secrets.token_hex(12)


def fixtures_file(path: Path, *, key: str, workspace: str, names: list[str], value: str) -> Path:
    data = {
        "workspaces": [
            {
                "id": workspace,
                "keys": [{"key": key}],
                "credentials": [{"name": n, "type": TYPE, "config": {FIELD: value}} for n in names],
            }
        ]
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    return pytester


# --- planasonix_fake ------------------------------------------------------------------


def test_fake_session_httpx_secrets_journal_and_repr(suite: pytest.Pytester) -> None:
    secret = canary()
    suite.makepyfile(
        test_downstream=f"""
        import pytest
        from conftest import body, FIELD

        SECRET = {secret!r}

        def test_crud_through_session(planasonix_fake):
            fake = planasonix_fake
            assert fake.url.startswith("http") and fake.api_key
            headers = {{"Authorization": f"Bearer {{fake.api_key}}"}}
            created = fake.session.post(fake.url + "/api/credentials", json=body("db", SECRET),
                                        headers=headers)
            assert created.status_code == 201, created.text
            cred_id = created.json()["data"]["id"]
            assert fake.session.get(f"{{fake.url}}/v1/api/credentials/{{cred_id}}",
                                    headers=headers).json()["data"]["name"] == "db"
            assert fake.session.delete(f"{{fake.url}}/api/credentials/{{cred_id}}",
                                       headers=headers).json()["data"]["status"] == "deleted"
            # What the code stored, visible to the test only.
            assert fake.secret(cred_id, FIELD) == SECRET
            assert fake.secrets(cred_id) == {{FIELD: SECRET}}
            with pytest.raises(KeyError) as missing:
                fake.secret(cred_id, "no_such_field")
            assert SECRET not in str(missing.value)
            # Nothing a test prints or logs carries the secret.
            journal = [r.to_json() for r in fake.journal.records()]
            assert [r["method"] for r in journal] == ["POST", "GET", "DELETE"]
            assert SECRET not in repr(journal) and SECRET not in repr(fake)
            assert fake.api_key not in repr(fake)
            assert SECRET not in created.text

        def test_httpx_and_fresh_state(planasonix_fake):
            assert len(planasonix_fake.store) == 0 and len(planasonix_fake.journal) == 0
            with planasonix_fake.httpx_client(headers=planasonix_fake.auth_headers) as client:
                assert client.post("/api/credentials", json=body("x", SECRET)).status_code == 201
                assert [c["name"] for c in client.get("/api/credentials").json()["data"]] == ["x"]

        def test_seed_kwargs_and_dedicated_app(planasonix_fake):
            cred = planasonix_fake.seed(name="seeded", type="password", config={{FIELD: SECRET}})
            client = planasonix_fake.app.test_client()
            got = client.get(f"/api/credentials/{{cred.id}}", headers=planasonix_fake.auth_headers)
            assert got.json["data"]["name"] == "seeded"
            assert planasonix_fake.secret(cred.id, [FIELD]) == SECRET

        def test_two_fakes_never_share(planasonix_fake):
            from mockserver.testing import PlanasonixFake
            other = PlanasonixFake()
            planasonix_fake.seed(name="mine", type="password", config={{FIELD: SECRET}})
            assert other.session.get(other.url + "/api/credentials",
                                     headers=other.auth_headers).json()["data"] == []

        # Setup cost is measured in benchmarks/bench_plugin_vs_moto.py, never asserted here.
        """
    )
    result = suite.runpytest(*BASE_ARGS)
    result.assert_outcomes(passed=4)
    assert secret not in result.stdout.str()


def test_failure_report_does_not_show_secrets(suite: pytest.Pytester) -> None:
    secret = canary()
    suite.makepyfile(
        f"""
        from conftest import body

        def test_fails(planasonix_fake):
            planasonix_fake.session.post(planasonix_fake.url + "/api/credentials",
                                         json=body("db", {secret!r}),
                                         headers=planasonix_fake.auth_headers)
            assert planasonix_fake is None
        """
    )
    result = suite.runpytest(*BASE_ARGS, "-l")  # -l: show locals, where a fixture repr would leak
    result.assert_outcomes(failed=1)
    assert "PlanasonixFake(url=" in result.stdout.str()
    # The literal in the test's own source line is printed; that line is the only hit.
    hits = [line for line in result.stdout.lines if secret in line]
    assert all("json=body" in line for line in hits)


# --- options, markers, ini ------------------------------------------------------------


def test_seed_option_marker_ini_ids_and_clock(suite: pytest.Pytester) -> None:
    value = canary()
    fixtures_file(
        suite.path / "global.json", key="plnx_test_g", workspace="ws_g", names=["g1"], value=value
    )
    (suite.path / "data").mkdir()
    fixtures_file(
        suite.path / "data" / "one.json",
        key="plnx_test_m",
        workspace="ws_m",
        names=["m1", "m2"],
        value=value,
    )
    suite.makeini(
        """
        [pytest]
        planasonix_id_seed = 7
        """
    )
    suite.makepyfile(
        test_seeded=f"""
        import pytest
        from conftest import body, FIELD

        def names(fake):
            r = fake.session.get(fake.url + "/api/credentials", headers=fake.auth_headers)
            assert r.status_code == 200, r.text
            return sorted(c["name"] for c in r.json()["data"])

        def test_global_seed(planasonix_fake):
            assert planasonix_fake.workspace == "ws_g"
            assert names(planasonix_fake) == ["g1"]
            cred = planasonix_fake.credentials()[0]
            assert planasonix_fake.secret(cred.id, FIELD) == {value!r}

        @pytest.mark.planasonix(seed="data/one.json")
        def test_marker_seed_wins(planasonix_fake):
            assert names(planasonix_fake) == ["m1", "m2"]

        @pytest.mark.planasonix(seed=None, frozen_time="2030-05-06T07:08:09Z")
        def test_no_seed_and_frozen_clock(planasonix_fake):
            assert names(planasonix_fake) == []
            r = planasonix_fake.session.post(planasonix_fake.url + "/api/credentials",
                                             json=body("t", "v"),
                                             headers=planasonix_fake.auth_headers)
            assert r.json()["data"]["created_at"] == "2030-05-06T07:08:09Z"
            planasonix_fake.clock.advance(60)
            cred = planasonix_fake.seed(name="later", type="password", config={{FIELD: "v"}})
            assert cred.created_at.isoformat() == "2030-05-06T07:09:09+00:00"

        IDS = []

        @pytest.mark.planasonix(seed=None)
        @pytest.mark.parametrize("run", [1, 2])
        def test_ini_id_seed_reproducible(planasonix_fake, run):
            r = planasonix_fake.session.post(planasonix_fake.url + "/api/credentials",
                                             json=body("a", "v"),
                                             headers=planasonix_fake.auth_headers)
            IDS.append(r.json()["data"]["id"])
            if run == 2:
                assert IDS[0] == IDS[1]

        @pytest.mark.planasonix(seed=None, id_seed=8)
        def test_marker_id_seed_differs(planasonix_fake):
            r = planasonix_fake.session.post(planasonix_fake.url + "/api/credentials",
                                             json=body("a", "v"),
                                             headers=planasonix_fake.auth_headers)
            assert r.json()["data"]["id"] != IDS[0]
        """
    )
    result = suite.runpytest(*BASE_ARGS, "--planasonix-seed", "global.json")
    result.assert_outcomes(passed=6)


def test_bad_marker_is_a_usage_error(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        """
        import pytest

        @pytest.mark.planasonix(sede="typo.json")
        def test_x(planasonix_fake):
            pass
        """
    )
    result = suite.runpytest(*BASE_ARGS)
    assert "unknown argument 'sede'" in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


def test_marker_and_options_are_documented(suite: pytest.Pytester) -> None:
    result = suite.runpytest(*BASE_ARGS, "--markers")
    result.stdout.fnmatch_lines(["*planasonix(seed=None, frozen_time=None, id_seed=None*"])
    result = suite.runpytest(*BASE_ARGS, "--help")
    result.stdout.fnmatch_lines(["*--planasonix-seed=FILE*", "*planasonix_hosts*"])


# --- planasonix_intercept -------------------------------------------------------------


def test_intercept_hosts_passthrough_and_blocking(suite: pytest.Pytester) -> None:
    suite.makeini(
        """
        [pytest]
        planasonix_hosts =
            acme.planasonix.example
        """
    )
    suite.makepyfile(
        """
        import pytest
        import requests
        from conftest import body

        def test_public_host_with_and_without_v1(planasonix_intercept):
            h = {"Authorization": f"Bearer {planasonix_intercept.api_key}"}
            assert planasonix_intercept.url == "https://api.planasonix.com"
            r = requests.post("https://api.planasonix.com/v1/api/credentials",
                              json=body("db", "v"), headers=h)
            assert r.status_code == 201
            listed = requests.get("https://api.planasonix.com/api/credentials", headers=h)
            assert [c["name"] for c in listed.json()["data"]] == ["db"]
            assert requests.get("https://api.planasonix.com/api/credentials").status_code == 401
            assert [r.method for r in planasonix_intercept.journal.records()] == [
                "POST", "GET", "GET"]

        def test_ini_tenant_host(planasonix_intercept):
            r = requests.get("https://acme.planasonix.example/api/credentials",
                             headers=planasonix_intercept.auth_headers)
            assert r.status_code == 200 and r.json()["data"] == []

        @pytest.mark.planasonix(hosts=["*.tenants.example", "http://10.1.2.3:8443"])
        def test_marker_hosts(planasonix_intercept):
            for url in ("https://eu.tenants.example", "http://10.1.2.3:8443"):
                r = requests.get(url + "/api/credentials",
                                 headers=planasonix_intercept.auth_headers)
                assert r.status_code == 200, url

        def test_other_hosts_pass_through(planasonix_intercept, planasonix_server):
            # The live server is a real socket: reaching it proves passthrough.
            r = requests.get(planasonix_server.url + "/api/credentials",
                             headers=planasonix_server.auth_headers)
            assert r.status_code == 200

        @pytest.mark.planasonix(block_others=True)
        def test_block_others(planasonix_intercept, planasonix_server):
            with pytest.raises(requests.ConnectionError, match="Connection refused by Responses"):
                requests.get(planasonix_server.url + "/api/credentials")
            assert requests.get("https://api.planasonix.com/api/credentials",
                                headers=planasonix_intercept.auth_headers).status_code == 200

        def test_no_interception_after_the_test():
            # The previous test's mock is stopped: responses no longer patches requests.
            import responses
            from requests.adapters import HTTPAdapter
            assert HTTPAdapter.send.__module__ == "requests.adapters"
        """
    )
    result = suite.runpytest(*BASE_ARGS)
    result.assert_outcomes(passed=6)


# --- planasonix_server and the acceptance scenario, also under xdist -------------------

ACCEPTANCE = """
import os
import requests
from conftest import body


def test_in_process(planasonix_fake):
    r = planasonix_fake.session.get(planasonix_fake.url + "/api/credentials",
                                    headers={"Authorization": f"Bearer {planasonix_fake.api_key}"})
    assert r.status_code == 200


def test_live_server(planasonix_server):
    r = requests.get(planasonix_server.url + "/api/credentials",
                     headers={"Authorization": f"Bearer {planasonix_server.api_key}"})
    assert r.status_code == 200


def test_intercept(planasonix_intercept):
    r = requests.get("https://api.planasonix.com/api/credentials",
                     headers={"Authorization": f"Bearer {planasonix_intercept.api_key}"})
    assert r.status_code == 200
    assert r.json()["data"] == []


def test_all_three_together(planasonix_fake, planasonix_server, planasonix_intercept):
    for fake, get in ((planasonix_fake, planasonix_fake.session.get),
                      (planasonix_server, requests.get),
                      (planasonix_intercept, requests.get)):
        r = get(fake.url + "/api/credentials",
                headers={"Authorization": f"Bearer {fake.api_key}"})
        assert r.status_code == 200, fake
"""

SERVER_TESTS = """
import os
import pytest
import requests
from conftest import body


@pytest.mark.parametrize("n", range(6))
def test_server_is_reset_between_tests(planasonix_server, n):
    url, h = planasonix_server.url, planasonix_server.auth_headers
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(url + "/api/credentials", headers=h).json()["data"] == []
    r = requests.post(url + "/api/credentials", json=body(f"c{n}", "v"), headers=h)
    assert r.status_code == 201
    with open(f"ports-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.txt", "a") as out:
        out.write(url + "\\n")


@pytest.mark.parametrize("n", range(4))
def test_intercept_under_workers(planasonix_intercept, n):
    h = planasonix_intercept.auth_headers
    r = requests.post("https://api.planasonix.com/api/credentials",
                      json=body("same-name-every-test", "v"), headers=h)
    assert r.status_code == 201  # a fresh fake each test: never a 409
"""


def test_acceptance_and_server_under_xdist(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_acceptance=ACCEPTANCE, test_server=SERVER_TESTS)
    result = suite.runpytest_subprocess(*BASE_ARGS, "-n", "2")
    result.assert_outcomes(passed=14)
    port_files = sorted(suite.path.glob("ports-gw*.txt"))
    urls = {p.name: set(p.read_text().split()) for p in port_files}
    assert urls, "no server test ran on a worker"
    # Each worker that ran server tests used exactly one server, and no two share one.
    assert all(len(u) == 1 for u in urls.values())
    assert len(set().union(*urls.values())) == len(urls)


def test_acceptance_without_xdist(suite: pytest.Pytester) -> None:
    suite.makepyfile(test_acceptance=ACCEPTANCE)
    suite.runpytest(*BASE_ARGS).assert_outcomes(passed=4)


# --- the helpers behind the fixtures, directly ----------------------------------------


def test_host_pattern_matches_only_the_named_hosts() -> None:
    pattern = host_pattern(["api.planasonix.com", "*.tenants.example", "https://x.example:8443"])
    assert pattern.match("https://api.planasonix.com/v1/api/credentials?limit=1")
    assert pattern.match("https://API.planasonix.com")
    assert pattern.match("https://a.b.tenants.example/api")
    assert pattern.match("https://x.example:8443/api")
    assert not pattern.match("https://x.example/api")
    assert not pattern.match("https://api.planasonix.com.evil.example/api")
    assert not pattern.match("https://tenants.example/api")
    with pytest.raises(ValueError):
        host_pattern([" "])


def test_intercepted_fake_outside_pytest() -> None:
    value = canary()
    with InterceptedFake(id_seed=3) as fake:
        r = requests.post(
            "https://api.planasonix.com/api/credentials",
            json={"name": "n", "type": TYPE, "config": {FIELD: value}},
            headers=fake.auth_headers,
        )
        assert r.status_code == 201
        assert fake.secret(r.json()["data"]["id"], FIELD) == value
        assert value not in repr(fake) and value not in r.text
    assert re.fullmatch(r"cred_[0-9a-z]{16}", r.json()["data"]["id"])


def test_seeded_fake_uses_the_files_write_key(tmp_path: Path) -> None:
    path = fixtures_file(
        tmp_path / "f.json", key="plnx_test_file", workspace="ws_f", names=["a"], value=canary()
    )
    fake = PlanasonixFake(seed=path)
    assert (fake.api_key, fake.workspace) == ("plnx_test_file", "ws_f")
    assert "plnx_test_file" not in repr(fake)
    # The development key is only accepted when no key is configured (the fake's rule).
    assert fake.keyring.authenticate("plnx_test_dev_key") is None
