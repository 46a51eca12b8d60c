"""Profiles: one deployment's answers to the questions the docs leave open.

The lifecycle (docs: behaviour) has situations where every answer is conformant (GET of a
soft-deleted id: 200 or 404, ...), and the docs leave page sizes, status codes
and body shapes open as well. A profile names one answer to each, as a small
JSON document (`profile.schema.json` beside this module). The fake serves any
profile; the kit's ``learn`` writes the profile of a deployment and ``diff``
compares a deployment with the fake under one.

Only data and its rules live here: the fake turns a :class:`Profile` into its
policy (``mockserver.profile``), the kit reads it; neither is imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from contracts.errors import PlanasonixError
from contracts.registry import CREDENTIAL_TYPES, config_fields

JSON = Any
SCHEMA_FILE = "profile.schema.json"
# Fields of the documented credential resource: an extra field may not reuse one.
DOCUMENTED_FIELDS = frozenset(
    {"id", "name", "type", "status", "created_at", "updated_at", "created_by", "config"}
    | {"deleted_at"}
)
# Keys of a profile document that describe it rather than set anything the fake does:
# "expectations" declares which of the kit's expectations (rules the published page
# does not state) the deployment holds itself to, so the kit holds it to them too.
NOTES = ("description", "undetermined", "expectations")


class ProfileError(PlanasonixError, ValueError):
    """A profile document that breaks its schema or its cross-field rules."""


@dataclass(frozen=True)
class Profile:
    """The fake's choices by default; every field is one setting of the schema."""

    create_status: int = 201
    create_location: bool = True
    validation_status: int = 400
    name_taken_status: int = 409
    query_error_status: int = 400
    get_deleted: str = "found"
    list_default_status: str = "active"
    list_order: str = "newest_first"
    delete_deleted: str = "unchanged"
    restore_active: str = "unchanged"
    deleted_names: str = "reserved"
    purge_active: str = "allowed"
    update_deleted: str = "conflict"
    deleted_at_on_get: str = "present"
    deleted_at_on_list: str = "present"
    created_by: str = "shown"
    status_bodies: str = "minimal"
    page_size_default: int = 50
    page_size_max: int = 200
    page_size_over_max: str = "reject"
    type_filter: str = "supported"
    status_filter: str = "supported"
    error_body: str = "envelope"
    extra_fields: tuple[str, ...] = ()
    update_replaces_config: bool = False
    description: str = field(default="", compare=False)
    undetermined: tuple[str, ...] = field(default=(), compare=False)
    expectations: tuple[str, ...] = field(default=(), compare=False)

    def to_json(self, *, full: bool = True, notes: bool = True) -> dict[str, JSON]:
        """The document; with ``full=False`` only the settings that differ from the
        default, with ``notes=False`` without the description and undetermined list."""
        default = Profile()
        doc: dict[str, JSON] = {}
        if self.description and notes:
            doc["description"] = self.description
        for name in setting_names():
            value = getattr(self, name)
            if full or value != getattr(default, name):
                doc[name] = list(value) if isinstance(value, tuple) else value
        if self.undetermined and notes:
            doc["undetermined"] = list(self.undetermined)
        if self.expectations and notes:
            doc["expectations"] = list(self.expectations)
        return doc

    def differences(self, other: Profile) -> dict[str, tuple[JSON, JSON]]:
        """Setting -> (this value, the other's) for every setting that differs."""
        return {
            name: (getattr(self, name), getattr(other, name))
            for name in setting_names()
            if getattr(self, name) != getattr(other, name)
        }

    def with_settings(self, **settings: JSON) -> Profile:
        """A copy with ``settings`` changed, checked like a loaded document."""
        lists = {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
        return profile_from_json({**self.to_json(), **lists})


DEFAULT_PROFILE = Profile()


def setting_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Profile) if f.name not in NOTES)


@cache
def profile_schema() -> dict[str, JSON]:
    text = resources.files("contracts").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, JSON] = json.loads(text)
    return schema


def allowed_values(name: str) -> tuple[JSON, ...]:
    """Every value of an enumerated setting (empty for numbers and lists)."""
    prop = profile_schema()["properties"][name]
    if "enum" in prop:
        return tuple(prop["enum"])
    if prop.get("type") == "boolean":
        return (True, False)
    return ()


def describe(name: str) -> str:
    return str(profile_schema()["properties"][name].get("description", ""))


def profile_errors(doc: object) -> list[str]:
    """Why ``doc`` is not a valid profile document; empty when it is."""
    validator = jsonschema.Draft202012Validator(profile_schema())
    errors = [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(profile)'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]
    if errors or not isinstance(doc, dict):
        return errors or ["(profile): must be a JSON object"]
    default, maximum = doc.get("page_size_default", 50), doc.get("page_size_max", 200)
    if default > maximum:
        errors.append("page_size_default: must not exceed page_size_max")
    known_config = {f for t in CREDENTIAL_TYPES for f in config_fields(t)}
    for extra in doc.get("extra_fields", []):
        inside, _, name = extra.rpartition(".")
        if (inside and name in known_config) or (not inside and extra in DOCUMENTED_FIELDS):
            errors.append(f"extra_fields: {extra} is a documented field")
    return errors


def profile_from_json(doc: object) -> Profile:
    """A :class:`Profile` from a document; :class:`ProfileError` naming every problem."""
    errors = profile_errors(doc)
    if errors:
        raise ProfileError("invalid profile: " + "; ".join(errors))
    assert isinstance(doc, dict)
    values: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in doc.items()
        if k in setting_names() or k in NOTES
    }
    return replace(DEFAULT_PROFILE, **values)


def load_profile(source: str | Path | dict[str, JSON] | Profile | object) -> Profile:
    """A profile from a file path, a document, a :class:`Profile`, or None (the default)."""
    if source is None:
        return DEFAULT_PROFILE
    if isinstance(source, Profile):
        return source
    if not isinstance(source, str | Path):
        return profile_from_json(source)  # a document (or anything else: refused by name)
    path = Path(source)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror}") from None
    except (ValueError, RecursionError):
        # Nesting too deep for the parser is refused like any other bad JSON.
        raise ProfileError(f"profile {path} is not JSON (or nested too deeply)") from None
    return profile_from_json(doc)


def dump_profile(profile: Profile) -> str:
    return json.dumps(profile.to_json(), indent=2) + "\n"


def settings_reference() -> list[tuple[str, JSON, str]]:
    """(setting, default, description) for every setting, for docs and ``--help``."""
    return [(n, getattr(DEFAULT_PROFILE, n), describe(n)) for n in setting_names()]


__all__ = [
    "DEFAULT_PROFILE",
    "Profile",
    "ProfileError",
    "allowed_values",
    "dump_profile",
    "load_profile",
    "profile_errors",
    "profile_from_json",
    "setting_names",
    "settings_reference",
]
