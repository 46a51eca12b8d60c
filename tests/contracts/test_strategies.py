"""The strategies draw valid requests: proven here, so the kit never sends a bad one by mistake."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import contracts
from contracts import strategies


@given(strategies.create_bodies())
def test_create_bodies_are_valid(body: dict[str, object]) -> None:
    assert contracts.validate_create(body) == []


@pytest.mark.parametrize("type_", contracts.CREDENTIAL_TYPES)
@settings(max_examples=25)
@given(data=st.data())
def test_configs_of_each_type_are_valid_and_carry_a_secret(type_: str, data: st.DataObject) -> None:
    config = data.draw(strategies.configs(type_, st.just("S3CRETvalue"), with_secret=True))
    assert contracts.validate_config(type_, config) == []
    public, hidden = contracts.split_secrets(type_, config)
    assert hidden and "S3CRETvalue" not in str(public)


@given(st.data())
def test_patches_keep_any_valid_config_valid(data: st.DataObject) -> None:
    type_ = data.draw(st.sampled_from(contracts.CREDENTIAL_TYPES))
    config = data.draw(strategies.configs(type_))
    patch = data.draw(strategies.config_patches(type_))
    assert patch and None not in patch.values()
    assert contracts.validate_config(type_, {**config, **patch}) == []
    assert contracts.validate_update({"config": patch}) == []


@given(strategies.names("kit-1234-"))
def test_names_keep_their_prefix_and_the_name_rule(name: str) -> None:
    assert name.startswith("kit-1234-")
    body = {"name": name, "type": "password", "config": {"password": "p"}}
    assert contracts.validate_create(body) == []


def test_every_rule_alternative_is_reached() -> None:
    seen: set[str] = set()

    @settings(max_examples=200, derandomize=True, database=None)
    @given(strategies.configs("azure"))
    def collect(config: dict[str, object]) -> None:
        for field in ("client_secret", "certificate", "use_managed_identity"):
            if config.get(field) not in (None, False):
                seen.add(field)

    collect()
    assert seen == {"client_secret", "certificate", "use_managed_identity"}
