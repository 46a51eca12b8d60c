"""The kit against our fake, against broken variants, and against allowed alternatives.

A kit never seen failing proves nothing: each broken variant must make the
kit exit 1 naming the right check, and each SPEC.md alternative must pass.
"""

from __future__ import annotations

import io
import json

import pytest
from broken_variants import (
    ALTERNATIVES,
    BROKEN,
    KEY_A,
    Middleware,
    fake_app,
    run_kit,
    served,
)
from werkzeug.wrappers import Request, Response

from contracts.kit.cli.runner import Runner
from contracts.kit.context import KitContext, Settings
from contracts.kit.report import EXIT_OK, EXIT_VIOLATIONS


def _describe(result: object) -> str:
    findings = getattr(result, "findings", [])
    return "; ".join(f"[{f.check}] {f.message}" for f in findings) or getattr(result, "error", "")


def test_the_fake_is_conformant() -> None:
    result = run_kit(fake_app(), max_examples=8)
    assert result.exit_code == EXIT_OK, _describe(result)
    assert [p.status for p in result.phases] == ["passed"] * len(result.phases)
    assert not result.leftovers
    assert result.choices["GET of a soft-deleted id"] == "200"
    assert result.choices["name of a soft-deleted credential"] == "reserved"
    assert result.choices["update with part of the config"] == "merged"
    assert result.expectations == [], "the fake meets every expectation"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_variant_fails_the_right_check(name: str) -> None:
    factory, check, only = BROKEN[name]
    # Not shortened: which check fails is the point here (see the test below for shrinking).
    result = run_kit(factory(), only=only, max_examples=8, shrink=False)
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert check in result.checks_failed(), _describe(result)
    finding = next(f for f in result.findings if f.check == check)
    assert finding.sequence, "a violation comes with a replayable sequence"
    assert all(line.startswith("curl ") for line in finding.sequence)
    assert not any("plnx_test_kit" in line for line in finding.sequence), "key not masked"


def test_the_state_machine_shortens_the_sequence_it_reports() -> None:
    factory, check, only = BROKEN["restore loses config"]
    found = {
        shrink: next(f for f in run_kit(factory(), only=only, shrink=shrink).findings)
        for shrink in (False, True)
    }
    assert found[True].check == found[False].check == check
    assert len(found[True].sequence) < len(found[False].sequence), found[True].sequence


@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_an_allowed_alternative_passes(name: str) -> None:
    result = run_kit(ALTERNATIVES[name](), max_examples=3)
    assert result.exit_code == EXIT_OK, _describe(result)


def test_the_kit_learns_each_alternative() -> None:
    result = run_kit(ALTERNATIVES["alt server, every alternative"](), max_examples=3)
    assert result.exit_code == EXIT_OK, _describe(result)
    assert result.choices == {
        "create status code": "200",
        "GET of a soft-deleted id": "404",
        "list without status": "deleted included",
        "delete of an already deleted one": "409",
        "restore of an active one": "409",
        "name of a soft-deleted credential": "freed",
        "purge of an active one": "409",
        "update of a soft-deleted one": "200",
        "deleted_at on get": "present",
        "deleted_at on list": "present",
        "deleted_at on list of a deleted one": "present",
        "validation failure status": "422",
        "page size over the maximum": "clamped",
        "update with part of the config": "replaced",
        "refusal of a taken name": "409",
    }


def test_the_kit_holds_a_deployment_to_its_first_choice() -> None:
    """A deployment that answers a repeated delete with 200, then 409, breaks invariant 6."""
    from broken_variants import Middleware, parts

    class Flipping(Middleware):
        deleted: set[str] = set()
        repeats = 0

        def after(self, request: Request, body: object, response: Response) -> Response:
            p = parts(request)
            if request.method == "DELETE" and len(p) == 1 and response.status_code == 200:
                if p[0] in Flipping.deleted:
                    Flipping.repeats += 1
                    if Flipping.repeats > 1:
                        return self.error(409, "conflict", "already deleted")
                Flipping.deleted.add(p[0])
            return response

    result = run_kit(Flipping(fake_app()), only={"lifecycle"}, max_examples=3)
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert any("invariant 6" in f.message for f in result.findings), _describe(result)


def test_the_schemathesis_phase_passes_the_fake_whatever_it_draws() -> None:
    # Negative cases that mutate the path id become valid once the kit swaps in an
    # id it owns; judging them as negative once made the kit fail our own fake.
    with served(fake_app()) as url:
        ctx = KitContext.build(url, KEY_A, settings=Settings(seed=7, schemathesis_examples=40))
        result = Runner(ctx, out=io.StringIO(), only={"schemathesis"}).run()
    assert result.exit_code == EXIT_OK, _describe(result)


class LeaksOthersSecrets(Middleware):
    """Lists show a credential the kit never made, with its real password."""

    REAL_SECRET = "real-prod-password-" + "7c1f0e9a2b4d"

    def after(self, request: Request, body: object, response: Response) -> Response:
        data = self.json_of(response)
        if request.method == "GET" and request.path.endswith("/credentials") and data:
            intruder = {
                "id": "cred_someoneelses0001", "name": "prod-db", "type": "password",
                "status": "active", "created_at": "2025-01-01T00:00:00Z",
                "updated_at": "2025-01-01T00:00:00Z", "deleted_at": None,
                "config": {"username": "admin", "password": self.REAL_SECRET},
            }  # fmt: skip
            data["data"].append(intruder)
            return self.with_json(response, data)
        return response


def test_a_report_never_carries_secrets_of_credentials_the_kit_did_not_make() -> None:
    result = run_kit(LeaksOthersSecrets(fake_app()), only={"pagination"})
    assert result.exit_code == EXIT_VIOLATIONS, _describe(result)
    assert "response-schema" in result.checks_failed()
    report = json.dumps(result.as_json()) + _describe(result)
    assert "admin" in report, "the intruder is recorded"
    assert LeaksOthersSecrets.REAL_SECRET not in report
