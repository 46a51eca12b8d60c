"""The kit against the fake under profiles: a second family of valid implementations.

Every non-default value of every setting is a conformant deployment, so the
kit must pass the fake under each one (here, with the phases the setting can
reach, to keep `make test` quick), under all of them at once (every phase),
and under a pairwise sweep of their combinations (`make profiles`, every phase).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from broken_variants import KEYS, RO_KEYS, run_kit

from contracts.kit.cli.runner import RunResult
from contracts.kit.report import EXIT_OK
from contracts.profile import DEFAULT_PROFILE, Profile, allowed_values, setting_names

# Values for the settings that are not enumerations.
OTHER_VALUES: dict[str, list[Any]] = {
    "page_size_default": [7],
    "page_size_max": [20],
    "extra_fields": [("etag", "config.hint")],
}
# The phases that meet each setting's situation; the runs with every setting at
# once (here, and `make profiles`) run every phase.
LIFECYCLE, LISTINGS = {"lifecycle"}, {"listings", "pagination"}
PHASES: dict[str, set[str]] = {
    "create_status": {"pagination"},
    "create_location": {"pagination"},
    "validation_status": {"secret-non-echo"},
    "name_taken_status": {"names"},
    "query_error_status": LISTINGS,
    "get_deleted": LIFECYCLE,
    "list_default_status": LIFECYCLE,
    "list_order": LISTINGS,
    "delete_deleted": LIFECYCLE,
    "restore_active": LIFECYCLE,
    "deleted_names": {"names"},
    "purge_active": LIFECYCLE,
    "update_deleted": LIFECYCLE,
    "deleted_at_on_get": LIFECYCLE,
    "deleted_at_on_list": {"listings"},
    "created_by": LIFECYCLE,
    "status_bodies": LIFECYCLE,
    "page_size_default": LISTINGS,
    "page_size_max": LISTINGS,
    "page_size_over_max": {"pagination"},
    "type_filter": LISTINGS,
    "status_filter": LISTINGS,
    "error_body": {"auth-isolation", "scopes", "status-codes"},
    "extra_fields": LIFECYCLE,
    "update_replaces_config": LIFECYCLE,
}
# update_deleted not_found or gone is allowed only where GET hides deleted ones too.
HIDDEN = ("not_found", "gone")


def values_of(name: str) -> list[Any]:
    return list(allowed_values(name)) or [getattr(DEFAULT_PROFILE, name), *OTHER_VALUES[name]]


def valid(settings: dict[str, Any]) -> dict[str, Any]:
    if settings.get("update_deleted") in HIDDEN and settings.get("get_deleted") not in HIDDEN:
        settings["get_deleted"] = settings["update_deleted"]
    if settings.get("page_size_default", 50) > settings.get("page_size_max", 200):
        settings["page_size_default"] = settings["page_size_max"]
    return settings


def one_setting_cases() -> Iterator[tuple[str, Any]]:
    for name in setting_names():
        for value in values_of(name):
            if value != getattr(DEFAULT_PROFILE, name):
                yield name, value


def pair_ok(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Whether two setting values may stand in one profile (every rule is about two)."""
    settings = dict([a, b])
    fixed = valid(dict(settings))
    return all(fixed[name] == value for name, value in settings.items())


Pair = tuple[tuple[str, Any], tuple[str, Any]]


def _gain(uncovered: set[Pair], row: dict[str, Any], name: str, value: Any) -> int:
    """How many uncovered pairs setting ``name`` to ``value`` in ``row`` would cover."""
    return sum(
        ((m, row[m]), (name, value)) in uncovered or ((name, value), (m, row[m])) in uncovered
        for m in row
    )


def pairwise(factors: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Rows that together hold every allowed pair of values of every two factors.

    Greedy and deterministic: each row starts from an uncovered pair and fills
    the other factors with the allowed value that covers most uncovered pairs.
    """
    names = list(factors)
    uncovered: set[Pair] = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in factors[a]
        for vb in factors[b]
        if pair_ok((a, va), (b, vb))
    }
    rows: list[dict[str, Any]] = []
    while uncovered:
        (a, va), (b, vb) = min(uncovered, key=repr)
        row: dict[str, Any] = {a: va, b: vb}
        for name in names:
            if name not in row:
                allowed = [
                    v for v in factors[name] if all(pair_ok((m, row[m]), (name, v)) for m in row)
                ]
                row[name] = max(allowed, key=partial(_gain, uncovered, row, name))
        uncovered -= {((x, row[x]), (y, row[y])) for x, y in itertools.combinations(names, 2)}
        rows.append(row)
    return rows


def kit_under(settings: dict[str, Any], only: set[str] | None = None) -> RunResult:
    from mockserver.app import create_app

    profile = Profile().with_settings(**valid(dict(settings)))
    app = create_app(keys=KEYS, read_only_keys=RO_KEYS, profile=profile)
    return run_kit(app, only=only, max_examples=1)


def describe(result: RunResult) -> str:
    found = "; ".join(f"[{f.check}] {f.message}" for f in result.findings)
    return found or result.error


@pytest.mark.parametrize(("name", "value"), list(one_setting_cases()))
def test_the_kit_passes_the_fake_under_each_setting(name: str, value: Any) -> None:
    result = kit_under({name: value}, only=PHASES[name])
    assert result.exit_code == EXIT_OK, describe(result)
    assert {p.name for p in result.phases} == PHASES[name]


def test_every_setting_has_its_phases_and_another_value() -> None:
    assert set(PHASES) == set(setting_names())
    assert {name for name, _ in one_setting_cases()} == set(setting_names())


def test_the_kit_passes_the_fake_under_every_alternative_at_once() -> None:
    settings = {name: values_of(name)[-1] for name in setting_names()}
    result = kit_under(settings)
    assert result.exit_code == EXIT_OK, describe(result)
    assert result.choices["GET of a soft-deleted id"] == "410"
    assert result.choices["name of a soft-deleted credential"] == "freed"


def test_the_pairwise_rows_cover_every_pair() -> None:
    factors = {name: values_of(name) for name in setting_names()}
    rows = pairwise(factors)
    for a, b in itertools.combinations(factors, 2):
        seen = {(row[a], row[b]) for row in rows}
        wanted = {
            (va, vb)
            for va, vb in itertools.product(factors[a], factors[b])
            if pair_ok((a, va), (b, vb))
        }
        assert seen == wanted, (a, b)
    assert all(valid(dict(row)) == row for row in rows)
    assert len(rows) <= 32  # against millions of combinations


PAIRWISE_ROWS = pairwise({name: values_of(name) for name in setting_names()})


@pytest.mark.skipif(
    not os.environ.get("PLANASONIX_PAIRWISE"), reason="the pairwise sweep runs in `make profiles`"
)
@pytest.mark.parametrize("row", range(len(PAIRWISE_ROWS)))
def test_the_kit_passes_the_fake_under_pairwise_combinations(row: int) -> None:
    result = kit_under(PAIRWISE_ROWS[row])
    assert result.exit_code == EXIT_OK, describe(result) + f" under {PAIRWISE_ROWS[row]}"
