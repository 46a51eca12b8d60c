"""The OpenAPI document, bundled into one self-contained dict.

``openapi.yaml`` references the schema files by relative path and describes
each operation once, under ``/api``. Servers and tools that fetch the document
over HTTP cannot follow file paths, and most tools (client generators, Prism,
Dredd) only follow references to a whole ``#/components/schemas/<Name>``, never
into a component's ``$defs``. So :func:`openapi_document`:

- hoists every schema file and every entry of a file's ``$defs`` into its own
  named component (``config-aws.json`` is ``AwsConfig``, its response view
  ``AwsConfigResponse``, ``common.json#/$defs/timestamp`` is ``Timestamp``) and
  rewrites each ``$ref`` to point at the component, so no ``$defs`` is left;
  the inline ``config`` objects of the request and response bodies get names
  too, and each component's ``title`` becomes its name (generators name their
  models after titles; the file's title opens the description instead);
- copies every ``/api`` path under ``/v1/api`` too (the fake serves both), with
  ``V1``-suffixed operation ids, links and tag.

The schema files stay the single source: this is a pure restructuring, and
``tests/contracts/test_openapi_bundle.py`` proves the bundled components accept
exactly the instances the files accept.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

from contracts.registry import RESPONSE_CONFIG_FILE, schema_documents

JSON = Any

API_PREFIX = "/api"
V1_API_PREFIX = "/v1/api"
V1_TAG_SUFFIX = " (/v1/api)"

# Names a reader of a generated client sees; anything not listed gets a name
# derived from its file and definition (see `component_name`).
_DEF_NAMES: dict[tuple[str, str], str] = {
    ("common.json", "credential_type"): "CredentialType",
    ("common.json", "status"): "CredentialStatus",
    ("common.json", "timestamp"): "Timestamp",
    ("common.json", "credential_id"): "CredentialId",
    ("common.json", "name"): "CredentialName",
    ("credential.json", "metadata_fields"): "CredentialMetadata",
    ("error.json", "envelope"): "ErrorEnvelope",
    ("error.json", "code_and_message"): "ErrorCodeAndMessage",
}
_FILE_NAMES: dict[str, str] = {
    "create-credential.json": "CreateCredentialRequest",
    "update-credential.json": "UpdateCredentialRequest",
}
# Inline `config` objects, named too: a generator names an inline object after
# its parent, and two parents merged through `allOf` would yield two models of
# one name. (component, path to the inline schema) -> its own component.
_INLINE_NAMES: dict[tuple[str, tuple[str, ...]], str] = {
    ("CreateCredentialRequest", ("properties", "config")): "CreateCredentialConfig",
    ("UpdateCredentialRequest", ("properties", "config")): "UpdateCredentialConfig",
    ("CredentialMetadata", ("properties", "config")): "CredentialConfig",
}
_CONFIG_FILE = re.compile(r"^config-(?P<type>.+)\.json$")
_META_KEYS = frozenset({"$schema", "$id", "title", "description", "$defs", "$comment"})


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text))


def component_name(file_name: str, definition: str | None = None) -> str:
    """The component under ``#/components/schemas`` for a file or one of its ``$defs``."""
    if definition is None:
        config = _CONFIG_FILE.match(file_name)
        if config:
            return _pascal(config["type"]) + "Config"
        return _FILE_NAMES.get(file_name) or _pascal(file_name.removesuffix(".json"))
    if file_name == RESPONSE_CONFIG_FILE:
        return _pascal(definition) + "ConfigResponse"
    named = _DEF_NAMES.get((file_name, definition))
    return named or component_name(file_name) + _pascal(definition)


def _is_container(schema: dict[str, JSON]) -> bool:
    """A file that only holds ``$defs`` (common.json): its entries become components, not it."""
    return set(schema) <= _META_KEYS


def component_ref(ref: str, current_file: str | None) -> str:
    """Map a file-relative ``$ref`` (``common.json#/$defs/name``) to its component."""
    target, _, fragment = ref.partition("#")
    target = target.removeprefix("schemas/")
    if not target:
        if current_file is None:
            return ref  # a local pointer of the OpenAPI document itself
        target = current_file
    if not target.endswith(".json"):
        return ref
    parts = fragment.split("/")
    if len(parts) >= 3 and parts[:2] == ["", "$defs"]:
        rest = "/".join(parts[3:])
        name = component_name(target, parts[2])
        return f"#/components/schemas/{name}" + (f"/{rest}" if rest else "")
    return f"#/components/schemas/{component_name(target)}{fragment}"


def _rewrite(node: JSON, current_file: str | None) -> JSON:
    if isinstance(node, dict):
        out: dict[str, JSON] = {}
        for key, value in node.items():
            if current_file is not None and key in ("$id", "$schema", "$defs"):
                continue  # the document is the resource now; $defs are hoisted
            if key == "$ref" and isinstance(value, str):
                out[key] = component_ref(value, current_file)
            else:
                out[key] = _rewrite(value, current_file)
        return out
    if isinstance(node, list):
        return [_rewrite(item, current_file) for item in node]
    return node


def bundled_schemas() -> dict[str, JSON]:
    """Every schema file and every ``$defs`` entry, as named components."""
    components: dict[str, JSON] = {}

    def add(name: str, schema: JSON) -> None:
        if name in components:
            raise ValueError(f"two schemas would be the component {name!r}")
        if isinstance(schema, dict) and "title" in schema:
            # Generators name a model after its title: make it the component's name
            # and keep the file's wording as the description's first sentence.
            title = schema["title"]
            described = schema.get("description")
            schema["description"] = f"{title}. {described}" if described else title
            schema["title"] = name
        components[name] = schema

    for file_name, schema in sorted(schema_documents().items()):
        for definition, sub in schema.get("$defs", {}).items():
            if "$defs" in sub:
                raise ValueError(f"{file_name}#/$defs/{definition}: nested $defs are not hoisted")
            add(component_name(file_name, definition), _rewrite(sub, file_name))
        if not _is_container(schema):
            add(component_name(file_name), _rewrite(schema, file_name))
    for (parent, path), name in _INLINE_NAMES.items():
        node = components[parent]
        for key in path[:-1]:
            node = node[key]
        add(name, node[path[-1]])
        node[path[-1]] = {"$ref": f"#/components/schemas/{name}"}
    return components


@cache
def _source_document() -> dict[str, JSON]:
    text = resources.files("contracts").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, JSON] = yaml.safe_load(text)
    return loaded


def openapi_source() -> dict[str, JSON]:
    """``openapi.yaml`` as written, with its file references (a fresh copy)."""
    return copy.deepcopy(_source_document())


def _v1_operation(operation: dict[str, JSON]) -> dict[str, JSON]:
    """The ``/v1/api`` twin of an ``/api`` operation: its own id, links and tag."""
    twin = copy.deepcopy(operation)
    twin["operationId"] = operation["operationId"] + "V1"
    twin["tags"] = [tag + V1_TAG_SUFFIX for tag in operation.get("tags", [])]
    for response in twin.get("responses", {}).values():
        for link in response.get("links", {}).values():
            link["operationId"] += "V1"
    return twin


def _with_v1_paths(paths: dict[str, JSON]) -> dict[str, JSON]:
    out = dict(paths)
    for path, item in paths.items():
        if not path.startswith(API_PREFIX + "/"):
            continue
        twin = {
            key: _v1_operation(value) if isinstance(value, dict) and "responses" in value else value
            for key, value in item.items()
        }
        out[V1_API_PREFIX + path.removeprefix(API_PREFIX)] = copy.deepcopy(twin)
    return out


def _with_v1_tags(tags: list[JSON]) -> list[JSON]:
    twins = [
        {
            **tag,
            "name": tag["name"] + V1_TAG_SUFFIX,
            "description": tag.get("description", "") + " The same calls under /v1/api.",
        }
        for tag in tags
    ]
    return [*tags, *twins]


@cache
def _bundled() -> dict[str, JSON]:
    doc = _rewrite(_source_document(), None)
    doc["paths"] = _with_v1_paths(doc["paths"])
    doc["tags"] = _with_v1_tags(doc.get("tags", []))
    doc.setdefault("components", {})["schemas"] = bundled_schemas()
    bundled: dict[str, JSON] = doc
    return bundled


def openapi_document() -> dict[str, JSON]:
    """The whole OpenAPI 3.1 document with every schema inlined (a fresh copy)."""
    return copy.deepcopy(_bundled())
