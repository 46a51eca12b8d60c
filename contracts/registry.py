"""The contract registry: everything the rest of the project knows about credentials.

It is built when imported, from the JSON Schema files in ``schemas/``. Which
fields are secret is read from their ``writeOnly`` marks and from nowhere else:
the fake's redaction, the kit's leak checks and the generated response schemas
all ask this module.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import compiled, views
from .errors import PlanasonixError

SCHEMA_BASE = "https://schemas.planasonix.dev/credentials/"

SecretPath = tuple[str, ...]
JSON = Any


@dataclass(frozen=True)
class FieldError:
    """One validation failure: where it is, and what is wrong, never the offending value."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(body)'}: {self.message}"


class SchemaViolation(PlanasonixError, ValueError):
    """Raised by :func:`check_response`; its text lists paths and rules, never values."""

    def __init__(self, kind: str, errors: list[FieldError]) -> None:
        self.kind = kind
        self.errors = errors
        super().__init__(f"{kind} does not match the contract: " + "; ".join(map(str, errors)))


def _schema_dir() -> Any:
    return resources.files("contracts").joinpath("schemas")


@cache
def schema_documents() -> dict[str, dict[str, JSON]]:
    """Every schema file by file name, as loaded from disk."""
    docs: dict[str, dict[str, JSON]] = {}
    for entry in _schema_dir().iterdir():
        if entry.name.endswith(".json"):
            docs[entry.name] = json.loads(entry.read_text(encoding="utf-8"))
    return docs


def _config_schema(type_: str) -> dict[str, JSON]:
    try:
        return schema_documents()[f"config-{type_}.json"]
    except KeyError:
        raise KeyError(f"unknown credential type {type_!r}") from None


CREDENTIAL_TYPES: tuple[str, ...] = tuple(
    schema_documents()["common.json"]["$defs"]["credential_type"]["enum"]
)


def _walk_secret_paths(schema: Mapping[str, JSON], prefix: SecretPath) -> Iterator[SecretPath]:
    for name, sub in schema.get("properties", {}).items():
        if not isinstance(sub, dict):
            continue
        if sub.get("writeOnly") is True:
            yield (*prefix, name)
        elif sub.get("type") == "object" and "properties" in sub:
            yield from _walk_secret_paths(sub, (*prefix, name))


@cache
def secret_paths(type_: str) -> tuple[SecretPath, ...]:
    """Paths inside ``config`` of every secret field of ``type_``, nested ones included."""
    return tuple(_walk_secret_paths(_config_schema(type_), ()))


@cache
def required_fields(type_: str) -> tuple[str, ...]:
    """Top-level config fields required on create for ``type_``."""
    return tuple(_config_schema(type_).get("required", ()))


@cache
def config_fields(type_: str) -> tuple[str, ...]:
    """Every top-level config field the contract names for ``type_``."""
    return tuple(_config_schema(type_).get("properties", {}))


def public_paths(type_: str) -> tuple[SecretPath, ...]:
    """Paths of the non-secret leaf fields of ``type_`` (nested objects expanded)."""
    secrets = set(secret_paths(type_))

    def walk(schema: Mapping[str, JSON], prefix: SecretPath) -> Iterator[SecretPath]:
        for name, sub in schema.get("properties", {}).items():
            path = (*prefix, name)
            if path in secrets:
                continue
            if isinstance(sub, dict) and sub.get("type") == "object" and "properties" in sub:
                yield from walk(sub, path)
            else:
                yield path

    return tuple(walk(_config_schema(type_), ()))


def split_secrets(
    type_: str, config: Mapping[str, JSON]
) -> tuple[dict[str, JSON], dict[str, JSON]]:
    """Split ``config`` into (public settings, secrets), both nested like the input.

    Anything that is not a known secret path stays public, so call this on a
    config that already passed validation.
    """
    public: dict[str, JSON] = copy.deepcopy(dict(config))
    secrets: dict[str, JSON] = {}
    for path in secret_paths(type_):
        parent: Any = public
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if not isinstance(parent, dict) or path[-1] not in parent:
            continue
        value = parent.pop(path[-1])
        target = secrets
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return public, secrets


def redact(type_: str, config: Mapping[str, JSON]) -> dict[str, JSON]:
    """A deep copy of ``config`` without any secret field of ``type_``."""
    return split_secrets(type_, config)[0]


def public_only(type_: str | None, config: Mapping[str, JSON], mask: JSON) -> dict[str, JSON]:
    """``config`` fit to show: its documented public fields, every other value ``mask``.

    An allowlist, unlike :func:`redact`: a misspelled or unknown field may hold
    a secret too. With ``type_`` None (not known), a field is kept only where it
    is public for some type and secret for none.
    """
    types = [type_] if type_ is not None else list(CREDENTIAL_TYPES)
    public = set().union(*(public_paths(t) for t in types))
    if type_ is None:
        public -= set().union(*(secret_paths(t) for t in types))
    prefixes = {path[:i] for path in public for i in range(1, len(path))}

    def keep(node: Mapping[str, JSON], prefix: SecretPath) -> dict[str, JSON]:
        kept: dict[str, JSON] = {}
        for key, value in node.items():
            path = (*prefix, key)
            if path in public:
                kept[key] = copy.deepcopy(value)
            elif path in prefixes and isinstance(value, dict):
                kept[key] = keep(value, path)
            elif path in prefixes and value is None:
                kept[key] = None
            else:
                kept[str(key)] = mask
        return kept

    return keep(config, ())


def merge_config(public: Mapping[str, JSON], secrets: Mapping[str, JSON]) -> dict[str, JSON]:
    """Inverse of :func:`split_secrets`."""
    merged: dict[str, JSON] = copy.deepcopy(dict(public))
    for key, value in secrets.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# --- generated response schemas -------------------------------------------------

RESPONSE_CONFIG_FILE = "credential-config-response.json"
# `not: {}` rather than `false`: jsonschema reports a `false` schema at the parent's path.
FORBIDDEN_SECRET: dict[str, JSON] = {
    "not": {},
    "description": "is a secret field and must never appear in a response",
}


def _response_config(schema: Mapping[str, JSON]) -> dict[str, JSON]:
    """The response view of a config schema: secrets are forbidden, rules are dropped.

    Responses are lenient: no required fields and no either/or rules, since a
    response only has to avoid secrets and keep the documented types.
    """
    props: dict[str, JSON] = {}
    for name, sub in schema.get("properties", {}).items():
        if sub.get("writeOnly") is True:
            props[name] = dict(FORBIDDEN_SECRET)
        elif sub.get("type") == "object" and "properties" in sub:
            props[name] = _response_config(sub)
        else:
            props[name] = copy.deepcopy(sub)
    return {"type": "object", "properties": props}


def generate_response_config_schema() -> dict[str, JSON]:
    """Content of ``schemas/credential-config-response.json``, derived from the config schemas."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_BASE + RESPONSE_CONFIG_FILE,
        "title": "Credential config as it may appear in a response",
        "description": (
            "GENERATED by `python -m contracts.generate` from config-*.json: every writeOnly "
            "field is forbidden (not: {}). Do not edit by hand."
        ),
        "$defs": {t: _response_config(_config_schema(t)) for t in CREDENTIAL_TYPES},
    }


# --- validation -----------------------------------------------------------------

RESPONSE_KINDS: dict[str, tuple[str, str]] = {
    # kind: (lenient schema URI, strict schema URI)
    "credential": ("credential.json", "credential.json"),
    "credential_envelope": ("credential-envelope.json", "credential-envelope.json"),
    "credential_list": ("credential-list.json", "credential-list.json"),
    "delete_result": ("delete-result.json", "delete-result.json"),
    "restore_result": ("restore-result.json", "restore-result.json"),
    "purge_result": ("purge-result.json", "purge-result.json"),
    "error": ("error.json", "error.json#/$defs/envelope"),
}


def _strictify(node: JSON) -> JSON:
    """Close every object schema to unknown properties (our own fake sends none)."""
    if isinstance(node, dict):
        out = {k: _strictify(v) for k, v in node.items()}
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
        ):
            out["unevaluatedProperties"] = False
        return out
    if isinstance(node, list):
        return [_strictify(v) for v in node]
    return node


def _view_documents(documented: bool) -> dict[str, dict[str, JSON]]:
    """The schema files as written, or their documented view (see contracts.views)."""
    if documented:
        return views.documented_documents(schema_documents())
    return schema_documents()


@cache
def _schema_registry(strict: bool, documented: bool = False) -> Registry[Any]:
    resources_: list[tuple[str, Resource[Any]]] = []
    for name, doc in _view_documents(documented).items():
        body = _strictify(doc) if strict else doc
        resources_.append((SCHEMA_BASE + name, DRAFT202012.create_resource(body)))
    return Registry().with_resources(resources_)


def _bounded_pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, JSON]
) -> Iterator[ValidationError]:
    """`pattern`, skipped for a text already over the schema's `maxLength`.

    jsonschema applies every keyword, so a 64 KiB name would still be fed to
    the regex after `maxLength` failed it; the length rule reports that text,
    and the pattern's work stays bounded by `maxLength`. The error text names
    the rule, never the value.
    """
    if not validator.is_type(instance, "string"):
        return
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(instance) > limit:
        return
    if re.search(pattern, instance) is None:
        yield ValidationError("does not match the pattern")


# fullmatch below: `$` alone would let a final newline through ("...Z\n").
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?Z"
)

# The one format the schemas use (`date-time`, on common.json's timestamp), checked by
# our own function: jsonschema's would need an optional package, and without it
# passes everything silently. A digit pattern alone accepts 2765-11-31.
FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date-time")
def is_utc_instant(value: object) -> bool:
    """An RFC 3339 UTC instant with the `Z` suffix that names a real day and time."""
    if not isinstance(value, str):
        return True  # `type` reports a non-string
    match = _INSTANT.fullmatch(value)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    try:
        datetime(year, month, day)
    except ValueError:
        return False
    leap_second = second == 60 and (hour, minute) == (23, 59)
    return hour <= 23 and minute <= 59 and (second <= 59 or leap_second)


_ZERO_OFFSET = re.compile(r"(.*T.*?)(?:[Zz]|[+-]00:00)")


@FORMAT_CHECKER.checks("utc-instant")
def is_zero_offset_instant(value: object) -> bool:
    """Any RFC 3339 instant in UTC: a `Z`, `z`, `+00:00` or `-00:00` offset, a `T` or `t`
    (the documented view of a timestamp; the page's examples happen to use `Z`)."""
    if not isinstance(value, str):
        return True
    match = _ZERO_OFFSET.fullmatch(value)
    return match is not None and is_utc_instant(match.group(1).replace("t", "T") + "Z")


# jsonschema ships no type hints for `extend`.
_Validator = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _bounded_pattern}
)


@cache
def _validator(uri: str, strict: bool, documented: bool = False) -> Any:
    return _Validator(
        {"$ref": SCHEMA_BASE + uri},
        registry=_schema_registry(strict, documented),
        format_checker=FORMAT_CHECKER,
    )


@cache
def _compiled_check(uri: str, strict: bool, documented: bool = False) -> compiled.Check:
    """The compiled yes/no for `uri` (see contracts.compiled); jsonschema only explains a no."""
    bodies = {
        SCHEMA_BASE + name: _strictify(doc) if strict else doc
        for name, doc in _view_documents(documented).items()
    }
    format_checker = getattr(_validator(uri, strict, documented), "format_checker", None)
    return compiled.compile_check(SCHEMA_BASE + uri, bodies, format_checker)


def _json_path(parts: Iterator[Any] | Any) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: ValidationError) -> FieldError:
    """Turn a jsonschema error into a FieldError that names the field and never the value."""
    path = _json_path(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    rule: Any = error.validator_value

    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    if kind == "required":
        missing = [n for n in rule if isinstance(error.instance, dict) and n not in error.instance]
        return FieldError(at(missing[0]) if missing else path, "is required")
    if kind == "dependentRequired" and isinstance(error.instance, dict):
        for field, needs in rule.items():
            if field in error.instance:
                for need in needs:
                    if need not in error.instance:
                        return FieldError(at(need), f"is required when {field} is given")
    if kind in ("additionalProperties", "unevaluatedProperties"):
        known = set(schema.get("properties", {}))
        extra = (
            sorted(str(k) for k in error.instance if k not in known)
            if isinstance(error.instance, dict)
            else []
        )
        field = extra[0] if extra and len(extra[0]) <= 64 and extra[0].isprintable() else None
        return FieldError(at(field) if field else path, "is not a known field")
    if kind == "type":
        expected = rule if isinstance(rule, str) else " or ".join(rule)
        return FieldError(path, f"must be of type {expected}")
    if kind == "enum":
        return FieldError(path, "must be one of " + ", ".join(json.dumps(v) for v in rule))
    if kind == "const":
        return FieldError(path, f"must be {json.dumps(rule)}")
    if kind in ("minLength", "maxLength"):
        word = "at least" if kind == "minLength" else "at most"
        return FieldError(path, f"must be {word} {rule} characters long")
    if kind in ("minimum", "maximum"):
        word = "at least" if kind == "minimum" else "at most"
        return FieldError(path, f"must be {word} {rule}")
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        word = "at least" if kind.startswith("min") else "at most"
        unit = "items" if kind.endswith("Items") else "fields"
        return FieldError(path, f"must have {word} {rule} {unit}")
    if kind == "pattern":
        description = schema.get("description")
        return FieldError(path, description or "has an invalid format")
    if kind == "propertyNames":
        return FieldError(path, "has an invalid field name")
    description = schema.get("description")
    if description:
        return FieldError(path, str(description))
    return FieldError(path, f"does not satisfy the {kind} rule")


def _errors(
    uri: str, body: JSON, strict: bool, prefix: str = "", documented: bool = False
) -> list[FieldError]:
    if _compiled_check(uri, strict, documented)(body):
        return []
    found = sorted(
        _validator(uri, strict, documented).iter_errors(body),
        # Per field, a wrong type is the error to report: the other rules follow from it.
        key=lambda e: (
            len(list(e.absolute_path)),
            [str(p) for p in e.absolute_path],
            e.validator != "type",
            str(e.validator),
        ),
    )
    # One error per field: a user fixes one thing at a time, and lists stay short.
    out: list[FieldError] = []
    seen: set[str] = set()
    for error in found:
        # allOf and if/then report their inner failures directly; anyOf/oneOf
        # failures are described by the rule's own description.
        described = _describe(error)
        if prefix:
            described = FieldError(
                f"{prefix}.{described.path}" if described.path else prefix, described.message
            )
        if described.path not in seen:
            seen.add(described.path)
            out.append(described)
    return out


def validate_create(body: JSON) -> list[FieldError]:
    """Errors of a create request body; empty when valid.

    The file expresses "config matches its type" as a ``oneOf`` over the types
    (the form schemathesis can generate from). A failed ``oneOf`` names no
    field, so the config of a known type is validated against its own schema
    instead, which reports each field by path.
    """
    errors = _errors("create-credential.json", body, strict=False)
    type_ = body.get("type") if isinstance(body, dict) else None
    config = body.get("config") if isinstance(body, dict) else None
    if type_ in CREDENTIAL_TYPES and isinstance(config, dict):
        errors = [e for e in errors if e.path != ""] + validate_config(type_, config)
    return errors


def validate_update(body: JSON) -> list[FieldError]:
    """Errors of an update request's top-level shape (merge, then use :func:`validate_config`)."""
    return _errors("update-credential.json", body, strict=False)


def validate_config(type_: str, config: JSON) -> list[FieldError]:
    """Errors of a whole config of ``type_`` under the create rules; paths start with ``config``."""
    if type_ not in CREDENTIAL_TYPES:
        return [FieldError("type", "must be one of " + ", ".join(CREDENTIAL_TYPES))]
    return _errors(f"config-{type_}.json", config, strict=False, prefix="config")


def validate_response(
    kind: str, body: JSON, strict: bool = False, *, documented: bool = False
) -> list[FieldError]:
    """Errors of a response body of ``kind``.

    Lenient (the default) accepts extra non-secret fields, as a real deployment
    may add them; ``strict`` also rejects unknown fields, for our own fake.
    ``documented`` judges only what the published docs state (names, types,
    secrets absent, envelopes; see :mod:`contracts.views`), as the contract kit
    does; it implies lenient. A secret field of the credential's type fails in
    every mode.
    """
    try:
        lenient, strict_uri = RESPONSE_KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown response kind {kind!r}; one of {sorted(RESPONSE_KINDS)}"
        ) from None
    if documented:
        return _errors(lenient, body, strict=False, documented=True)
    return _errors(strict_uri if strict else lenient, body, strict=strict)


def check_response(kind: str, body: JSON, strict: bool = False) -> None:
    """Like :func:`validate_response`, but raises :class:`SchemaViolation`."""
    errors = validate_response(kind, body, strict=strict)
    if errors:
        raise SchemaViolation(kind, errors)
