"""The registry: secret paths come from writeOnly, redaction and validation never leak values."""

from __future__ import annotations

import json
import secrets as pysecrets
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import contracts
from contracts import registry, strategies
from contracts.generate import render

SCHEMA_DIR = Path(contracts.__file__).parent / "schemas"


def _write_only_paths(node: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """An independent walk of the raw file: every property that says writeOnly."""
    found: set[tuple[str, ...]] = set()
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if isinstance(sub, dict) and sub.get("writeOnly") is True:
                found.add((*prefix, name))
            else:
                found |= _write_only_paths(sub, (*prefix, name))
    return found


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
def test_secret_paths_are_exactly_the_write_only_paths_of_the_files(type_: str) -> None:
    raw = json.loads((SCHEMA_DIR / f"config-{type_}.json").read_text())
    assert set(contracts.secret_paths(type_)) == _write_only_paths(raw)
    assert contracts.secret_paths(type_), "every type holds at least one secret"


def test_nested_ssh_tunnel_secrets_are_known() -> None:
    paths = contracts.secret_paths("database")
    assert ("ssh_tunnel", "private_key") in paths
    assert ("ssh_tunnel", "passphrase") in paths


def test_only_config_schemas_mark_fields_write_only() -> None:
    for path in SCHEMA_DIR.glob("*.json"):
        if not path.name.startswith("config-"):
            assert '"writeOnly"' not in path.read_text(), path.name


def test_types_come_from_the_common_schema() -> None:
    assert set(contracts.CREDENTIAL_TYPES) == {
        "aws", "azure", "gcp", "database", "api_key", "oauth", "password"
    }  # fmt: skip
    for type_ in contracts.CREDENTIAL_TYPES:
        assert (SCHEMA_DIR / f"config-{type_}.json").exists()


def test_required_fields_follow_the_schema() -> None:
    assert set(contracts.required_fields("database")) == {"host", "username"}
    assert set(contracts.required_fields("oauth")) == {"client_id", "client_secret"}
    assert contracts.required_fields("api_key") == ("key",)


def test_generated_response_schema_is_up_to_date() -> None:
    on_disk = (SCHEMA_DIR / registry.RESPONSE_CONFIG_FILE).read_text()
    assert on_disk == render(), "run `python -m contracts.generate`"


def test_unknown_type_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown credential type"):
        contracts.secret_paths("ftp")
    assert contracts.validate_config("ftp", {})[0].path == "type"


@given(st.data())
def test_redact_removes_every_secret_and_keeps_the_rest(data: st.DataObject) -> None:
    type_ = data.draw(st.sampled_from(contracts.CREDENTIAL_TYPES))
    config = data.draw(strategies.configs(type_))
    public, hidden = contracts.split_secrets(type_, config)
    assert contracts.redact(type_, config) == public
    for path in contracts.secret_paths(type_):
        node: Any = public
        for part in path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        assert path[-1] not in node
    assert contracts.merge_config(public, hidden) == config


def test_redact_does_not_modify_its_input() -> None:
    config = {"host": "h", "username": "u", "password": "pw", "ssh_tunnel": {"host": "b",
              "username": "u", "passphrase": "pp"}}  # fmt: skip
    before = json.loads(json.dumps(config))
    redacted = contracts.redact("database", config)
    assert config == before
    assert redacted == {"host": "h", "username": "u", "ssh_tunnel": {"host": "b", "username": "u"}}


@given(st.data())
def test_validation_messages_never_quote_a_value(data: st.DataObject) -> None:
    canary = "cnry" + pysecrets.token_hex(12)
    type_ = data.draw(st.sampled_from(contracts.CREDENTIAL_TYPES))
    config = dict(data.draw(strategies.configs(type_)))
    # Break the config in a way chosen by Hypothesis, always carrying the canary as a value.
    # (Field names are the client's vocabulary, not values: errors do name unknown fields.)
    field = data.draw(st.sampled_from([*contracts.config_fields(type_), "colour"]))
    config[field] = data.draw(st.sampled_from([[canary], {"v": canary}, 12345, canary * 700]))
    body = {"name": canary + "\x00", "type": type_, "config": config}
    errors = contracts.validate_create(body)
    assert errors
    for error in errors:
        assert canary not in str(error)
        assert "cnry" not in str(error)


def test_errors_name_the_field_path() -> None:
    body = {"name": "n", "type": "database",
            "config": {"host": "h", "username": "u", "port": "5432", "shoe": 1}}  # fmt: skip
    paths = {e.path for e in contracts.validate_create(body)}
    assert paths == {"config.port", "config.shoe"}


def test_missing_required_field_is_named() -> None:
    errors = contracts.validate_create({"type": "password", "config": {"password": "x"}})
    assert [(e.path, e.message) for e in errors] == [("name", "is required")]


def test_check_response_raises_with_paths_only() -> None:
    canary = "cnry" + pysecrets.token_hex(12)
    body = {"data": {"id": "cred_x", "name": "n", "type": "password", "status": "active",
                     "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
                     "config": {"password": canary}}}  # fmt: skip
    with pytest.raises(contracts.SchemaViolation) as caught:
        contracts.check_response("credential_envelope", body)
    assert "data.config.password" in str(caught.value)
    assert canary not in str(caught.value)
    assert canary not in repr(caught.value.errors)


def test_unknown_response_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown response kind"):
        contracts.validate_response("credentials", {})
