"""The documented view of the schema files: only what the published docs state.

The schema files in ``schemas/`` are the fake's own, stricter contract: they
carry its lengths, ranges, patterns, enums, required config fields and
either/or rules, which the docs (behaviour) call the fake's choices. A deployment may
be looser or stricter on every one of them, so the contract kit must not
judge responses by them. This module derives, from the same files (there is
no second copy to drift), the view the kit judges by. It keeps:

- field names and JSON types, and which fields are secret (``writeOnly``, and
  the generated ``not: {}`` that forbids them in responses);
- the envelope shapes (``data``, ``meta.page.limit`` and ``cursor``; an error
  body's shape is left open and never judged), the required metadata fields,
  the credential ``type`` and ``status`` enums, the lifecycle results' constants;
- the two formats the docs do state: timestamps are RFC 3339 instants in UTC
  (any zero offset: ``Z``, ``+00:00``, ``-00:00``, with or without fractional
  seconds; the page's examples happen to use ``Z``), ids are strings that
  start with ``cred_``.

It drops every length, range, pattern, format and size limit, and inside a
config also ``required``, enums, constants, the either/or rules and the JSON
types of the fields (the page gives none: a deployment may store and echo a
setting as the client sent it).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

JSON = Any

# Limits the published page leaves to each deployment, wherever they appear.
LIMIT_KEYWORDS = frozenset(
    {
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "propertyNames",
    }
)
# Inside a config, even which fields are required and which values are allowed
# is the fake's choice: only names, types and secrecy are documented.
CONFIG_RULE_KEYWORDS = frozenset(
    {
        "required",
        "enum",
        "const",
        "oneOf",
        "anyOf",
        "allOf",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
    }
)
# The formats the docs state, by where they are defined: (file, $defs name) -> kept keywords.
# An RFC 3339 instant with a zero offset (UTC).
UTC_INSTANT = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:"
    r"([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]00:00)$"
)
# ``utc-instant`` is checked by contracts.registry's format checker.
DOCUMENTED_FORMATS: dict[tuple[str, str], dict[str, JSON]] = {
    ("common.json", "timestamp"): {
        "pattern": UTC_INSTANT,
        "format": "utc-instant",
        "description": "RFC 3339 instant in UTC (any zero offset)",
    },
    ("common.json", "credential_id"): {"pattern": "^cred_"},
}
COMMON_FILE = "common.json"
# Fields the page's examples show as null, by file: absent means the same.
NULL_MAY_BE_ABSENT: dict[str, tuple[str, ...]] = {"restore-result.json": ("deleted_at",)}


def is_config_file(file_name: str) -> bool:
    """Files that describe one type's config (request or response side)."""
    return file_name.startswith("config-") or file_name == "credential-config-response.json"


def _is_forbidden_secret(node: Mapping[str, JSON]) -> bool:
    return node.get("not") == {}


def _resolve_common(ref: str, documents: Mapping[str, Mapping[str, JSON]]) -> JSON | None:
    """The target of a ``common.json#/$defs/<name>`` reference, or None for any other."""
    target, _, fragment = ref.partition("#")
    if target != COMMON_FILE or not fragment.startswith("/$defs/"):
        return None
    return documents.get(COMMON_FILE, {}).get("$defs", {}).get(fragment.removeprefix("/$defs/"))


def _documented(
    node: JSON,
    *,
    in_config: bool,
    documents: Mapping[str, Mapping[str, JSON]],
    keep: Mapping[str, JSON] | None = None,
    field: bool = False,
) -> JSON:
    """``node`` as the docs state it; ``field``: inside one config field's schema."""
    if isinstance(node, list):
        return [_documented(v, in_config=in_config, documents=documents, field=field) for v in node]
    if not isinstance(node, dict):
        return node
    if in_config and _is_forbidden_secret(node):
        return copy.deepcopy(node)  # a secret must stay absent: that is documented
    if in_config and isinstance(node.get("$ref"), str):
        # A shared definition used inside a config (expires_at's timestamp): only its
        # type is documented there, so inline it under the config rules.
        target = _resolve_common(node["$ref"], documents)
        if target is not None:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return _documented({**target, **rest}, in_config=True, documents=documents, field=field)
    out: dict[str, JSON] = {}
    for key, value in node.items():
        if keep is not None and key in keep:
            out[key] = copy.deepcopy(value) if keep[key] is None else keep[key]
            continue
        if key in LIMIT_KEYWORDS:
            continue
        if key == "additionalProperties" and value is False:
            continue  # unknown fields: refusing or ignoring them is each deployment's choice
        if in_config and key in CONFIG_RULE_KEYWORDS:
            continue
        if field and key == "type":
            continue  # a config field's JSON type: not documented
        if key == "oneOf" and not in_config:
            # "exactly one" only matters under the fake's stricter branches; under the
            # documented ones several may match what the docs allow.
            out["anyOf"] = _documented(value, in_config=False, documents=documents)
            continue
        if key in ("properties", "$defs", "patternProperties", "dependentSchemas"):
            below = in_config and key in ("properties", "patternProperties")
            out[key] = {
                name: _documented(
                    sub, in_config=in_config, documents=documents, field=field or below
                )
                for name, sub in value.items()
            }
            continue
        out[key] = _documented(value, in_config=in_config, documents=documents, field=field)
    if keep is not None:
        for key, value in keep.items():
            if key not in out and value is not None:
                out[key] = value
    return out


def documented_document(
    file_name: str, documents: Mapping[str, Mapping[str, JSON]]
) -> dict[str, JSON]:
    """The documented view of one schema file (``documents`` maps file names to schemas)."""
    doc = documents[file_name]
    view: dict[str, JSON] = _documented(
        doc, in_config=is_config_file(file_name), documents=documents
    )
    data = view.get("properties", {}).get("data", {})
    for absent in NULL_MAY_BE_ABSENT.get(file_name, ()):
        # The page shows it as null; a deployment that leaves null fields out says the same.
        if absent in data.get("required", []):
            data["required"] = [f for f in data["required"] if f != absent]
    for (owner, name), keep in DOCUMENTED_FORMATS.items():
        if owner == file_name and name in doc.get("$defs", {}):
            view["$defs"][name] = _documented(
                doc["$defs"][name], in_config=False, documents=documents, keep=keep
            )
    return view


def documented_documents(
    documents: Mapping[str, Mapping[str, JSON]],
) -> dict[str, dict[str, JSON]]:
    """The documented view of every schema file, by file name."""
    return {name: documented_document(name, documents) for name in documents}
