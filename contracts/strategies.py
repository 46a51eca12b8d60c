"""Hypothesis strategies for valid requests, derived from the config schemas.

The values are deliberately conservative (short ASCII) so that a real
deployment, which may validate hosts or URLs more strictly than the schemas
say, still accepts them; the schemas' own rules (enums, ranges, patterns,
required fields, either/or rules, ``dependentRequired``) are read from the
files, never restated here. Tests prove every drawn body valid.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from contracts.registry import CREDENTIAL_TYPES, schema_documents, split_secrets, validate_config

JSON = Any
_SAFE = string.ascii_lowercase + string.digits + "-_."
_NAME_CHARS = string.ascii_letters + string.digits + "-_."


def safe_text(min_size: int = 1, max_size: int = 24) -> SearchStrategy[str]:
    """Short ASCII words: valid for every string field and unsurprising to any server."""
    return st.text(alphabet=_SAFE, min_size=max(min_size, 1), max_size=max(max_size, 1))


def default_secrets() -> SearchStrategy[str]:
    """Secret-looking values; the kit passes its own canary strategy instead."""
    return st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=40)


def names(prefix: str = "") -> SearchStrategy[str]:
    """Credential names that satisfy the name rule, all starting with ``prefix``."""
    room = max(1, min(40, 255 - len(prefix)))
    return st.text(alphabet=_NAME_CHARS, min_size=1, max_size=room).map(lambda s: prefix + s)


def _timestamps() -> SearchStrategy[str]:
    return st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)).map(
        lambda d: d.replace(microsecond=0).isoformat() + "Z"
    )


def _value(schema: Mapping[str, JSON], secrets: SearchStrategy[str]) -> SearchStrategy[JSON]:
    """A strategy for one field's value, from its schema."""
    if schema.get("writeOnly") is True:
        return secrets
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    ref = schema.get("$ref", "")
    if ref.endswith("#/$defs/timestamp"):
        return _timestamps()
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(schema.get("minimum", 0), schema.get("maximum", 10_000))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        item = _value(schema.get("items", {"type": "string"}), secrets)
        return st.lists(
            item, min_size=schema.get("minItems", 0), max_size=min(4, schema.get("maxItems", 4))
        )
    if kind == "object":
        if "properties" in schema:
            return _object(schema, secrets)
        values = _value(schema.get("additionalProperties", {"type": "string"}), secrets)
        keys = st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=16).map(
            lambda k: "X-" + k
        )
        return st.dictionaries(keys, values, max_size=3)
    if kind == "string":
        pattern = schema.get("pattern")
        if pattern == "^arn:":
            return safe_text(1, 20).map(lambda s: f"arn:aws:iam::123456789012:role/{s}")
        if pattern is not None:
            return st.from_regex(pattern, fullmatch=True)
        low = schema.get("minLength", 1)
        return safe_text(low, min(24, schema.get("maxLength", 24)))
    raise ValueError(f"no strategy for schema with keys {sorted(schema)}")


def _rules(schema: Mapping[str, JSON]) -> list[tuple[str, list[Mapping[str, JSON]]]]:
    """The either/or rules of an object schema: ("anyOf" | "oneOf", alternatives)."""
    found = []
    for part in [schema, *schema.get("allOf", [])]:
        for keyword in ("anyOf", "oneOf"):
            if keyword in part:
                found.append((keyword, list(part[keyword])))
    return found


def rule_fields(schema: Mapping[str, JSON]) -> frozenset[str]:
    """Fields that take part in an either/or or dependentRequired rule."""
    fields: set[str] = set()
    for _, alternatives in _rules(schema):
        for alt in alternatives:
            fields.update(alt.get("required", ()))
    for field, needs in schema.get("dependentRequired", {}).items():
        fields.add(field)
        fields.update(needs)
    return frozenset(fields)


def _satisfies(alt: Mapping[str, JSON], obj: Mapping[str, JSON]) -> bool:
    if not all(name in obj for name in alt.get("required", ())):
        return False
    return all(
        "const" not in sub or obj.get(name) == sub["const"]
        for name, sub in alt.get("properties", {}).items()
        if name in obj
    )


def _object(
    schema: Mapping[str, JSON], secrets: SearchStrategy[str]
) -> SearchStrategy[dict[str, JSON]]:
    props: Mapping[str, Mapping[str, JSON]] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    involved = rule_fields(schema)
    rules = _rules(schema)
    dependent: Mapping[str, Sequence[str]] = schema.get("dependentRequired", {})

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, JSON]:
        obj: dict[str, JSON] = {}
        for name, sub in props.items():
            # Fields in rules are added by the rule handling below, so each rule is met on purpose.
            if name in required or (name not in involved and draw(st.booleans())):
                obj[name] = draw(_value(sub, secrets))
        for keyword, alternatives in rules:
            chosen = draw(st.sampled_from(alternatives))
            for name in chosen.get("required", ()):
                forced = chosen.get("properties", {}).get(name, {})
                obj[name] = (
                    forced["const"] if "const" in forced else draw(_value(props[name], secrets))
                )
            if keyword == "oneOf":
                for other in alternatives:
                    if other is not chosen and _satisfies(other, obj):
                        for name in other.get("required", ()):
                            if name not in chosen.get("required", ()):
                                obj.pop(name, None)
        # A field whose partners the chosen alternative left out goes too.
        for field, needs in dependent.items():
            if field in obj and any(need not in obj for need in needs):
                obj.pop(field)
        return obj

    return build()


def _config_schema(type_: str) -> Mapping[str, JSON]:
    return schema_documents()[f"config-{type_}.json"]


def configs(
    type_: str, secrets: SearchStrategy[str] | None = None, *, with_secret: bool = False
) -> SearchStrategy[dict[str, JSON]]:
    """Valid configs of ``type_`` under the create rules.

    ``with_secret`` keeps only configs that carry at least one secret field, as
    the kit wants every credential it creates to hold a canary.
    """
    strategy = _object(_config_schema(type_), default_secrets() if secrets is None else secrets)
    valid = strategy.filter(lambda config: not validate_config(type_, config))
    if with_secret:
        return valid.filter(lambda config: split_secrets(type_, config)[1] != {})
    return valid


def create_bodies(
    types: Sequence[str] = CREDENTIAL_TYPES,
    name_prefix: str = "",
    secrets: SearchStrategy[str] | None = None,
    *,
    with_secret: bool = False,
) -> SearchStrategy[dict[str, JSON]]:
    """Valid create request bodies over ``types``."""
    return st.sampled_from(list(types)).flatmap(
        lambda t: st.fixed_dictionaries(
            {
                "name": names(name_prefix),
                "type": st.just(t),
                "config": configs(t, secrets, with_secret=with_secret),
            }
        )
    )


def config_patches(
    type_: str, secrets: SearchStrategy[str] | None = None
) -> SearchStrategy[dict[str, JSON]]:
    """Non-empty partial configs that keep any valid config of ``type_`` valid when merged in.

    Only top-level fields outside every either/or rule are changed, and nested
    objects are left alone, so the patch is valid whatever the stored config
    holds and whether the server merges shallowly or deeply. It never sends
    ``null``: removing a key by ``null`` is the fake's choice, not the docs'.
    """
    schema = _config_schema(type_)
    involved = rule_fields(schema)
    fields = {
        name: _value(sub, default_secrets() if secrets is None else secrets)
        for name, sub in schema.get("properties", {}).items()
        if name not in involved and sub.get("type") != "object"
    }
    if not fields:
        raise ValueError(f"type {type_} has no freely patchable field")
    return st.fixed_dictionaries({}, optional=fields).filter(bool)
