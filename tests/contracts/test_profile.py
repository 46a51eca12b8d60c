"""The profile document: its schema, its loader, and the dataclass they describe."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import jsonschema
import pytest

from contracts.profile import (
    DEFAULT_PROFILE,
    NOTES,
    Profile,
    ProfileError,
    allowed_values,
    load_profile,
    profile_errors,
    profile_schema,
    setting_names,
)


def test_the_schema_is_valid_and_names_exactly_the_dataclass_fields() -> None:
    jsonschema.Draft202012Validator.check_schema(profile_schema())
    assert set(profile_schema()["properties"]) == {f.name for f in fields(Profile)}
    assert set(NOTES) <= set(profile_schema()["properties"])


def test_the_defaults_are_allowed_values() -> None:
    assert profile_errors(DEFAULT_PROFILE.to_json()) == []
    for name in setting_names():
        values = allowed_values(name)
        assert not values or getattr(DEFAULT_PROFILE, name) in values, name


def test_a_document_round_trips_and_only_differences_are_written_short() -> None:
    profile = load_profile({"get_deleted": "not_found", "extra_fields": ["etag"]})
    assert profile.to_json(full=False) == {"get_deleted": "not_found", "extra_fields": ["etag"]}
    assert load_profile(profile.to_json()) == profile
    assert set(DEFAULT_PROFILE.to_json()) == set(setting_names())


def test_a_profile_loads_from_a_file(tmp_path: Any) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"create_status": 200}))
    assert load_profile(str(path)).create_status == 200
    path.write_text("{not json")
    with pytest.raises(ProfileError, match="not JSON"):
        load_profile(str(path))


@pytest.mark.parametrize(
    ("doc", "complaint"),
    [
        ({"create_status": 204}, "create_status"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"page_size_default": 300}, "page_size_default"),
        ({"update_deleted": "not_found"}, "get_deleted"),
        ({"extra_fields": ["name"]}, "documented field"),
        ({"extra_fields": ["config.password"]}, "documented field"),
        ([], "object"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_setting(doc: Any, complaint: str) -> None:
    assert any(complaint in error for error in profile_errors(doc)), profile_errors(doc)
    with pytest.raises(ProfileError):
        load_profile(doc)
