"""The OpenAPI document, bundled into one self-contained dict.

``openapi.yaml`` references the schema files by relative path. Servers and
tools that fetch the document over HTTP cannot follow those paths, so
:func:`openapi_document` inlines every schema file under
``components/schemas/<file stem>`` and rewrites each ``$ref`` to point there.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import yaml

from contracts.registry import schema_documents

JSON = Any


def _component_name(file_name: str) -> str:
    return file_name.removesuffix(".json")


def _rewrite_ref(ref: str, current_file: str | None) -> str:
    """Map a file-relative ``$ref`` to a pointer into ``components/schemas``."""
    target, _, fragment = ref.partition("#")
    if target.startswith("schemas/"):
        target = target.removeprefix("schemas/")
    if not target:
        if current_file is None:
            return ref  # a local pointer of the OpenAPI document itself
        target = current_file
    if not target.endswith(".json"):
        return ref
    return f"#/components/schemas/{_component_name(target)}{fragment}"


def _rewrite(node: JSON, current_file: str | None) -> JSON:
    if isinstance(node, dict):
        out: dict[str, JSON] = {}
        for key, value in node.items():
            if key in ("$id", "$schema") and current_file is not None:
                continue
            if key == "$ref" and isinstance(value, str):
                out[key] = _rewrite_ref(value, current_file)
            else:
                out[key] = _rewrite(value, current_file)
        return out
    if isinstance(node, list):
        return [_rewrite(item, current_file) for item in node]
    return node


@cache
def _source_document() -> dict[str, JSON]:
    text = resources.files("contracts").joinpath("openapi.yaml").read_text(encoding="utf-8")
    loaded: dict[str, JSON] = yaml.safe_load(text)
    return loaded


def openapi_source() -> dict[str, JSON]:
    """``openapi.yaml`` as written, with its file references (a fresh copy)."""
    return copy.deepcopy(_source_document())


@cache
def _bundled() -> dict[str, JSON]:
    doc = _rewrite(_source_document(), None)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for file_name, schema in sorted(schema_documents().items()):
        schemas[_component_name(file_name)] = _rewrite(schema, file_name)
    bundled: dict[str, JSON] = doc
    return bundled


def openapi_document() -> dict[str, JSON]:
    """The whole OpenAPI 3.1 document with every schema inlined (a fresh copy)."""
    return copy.deepcopy(_bundled())
