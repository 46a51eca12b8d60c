"""The Planasonix Credentials API contract: schemas, registry, OpenAPI document, strategies.

This package knows nothing of the fake in ``mockserver`` nor of the conformance
kit in ``contracts.kit``; both import it.

The names below load on first use: pytest imports ``contracts.kit.cli.pytest_plugin``
(and so this package) in every run of an environment that has it installed,
and building the registry (jsonschema, every schema file) is most of that
cost for runs that never use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contracts.openapi import openapi_document
    from contracts.profile import DEFAULT_PROFILE, Profile, ProfileError, load_profile
    from contracts.registry import (
        CREDENTIAL_TYPES,
        FieldError,
        SchemaViolation,
        check_response,
        config_fields,
        merge_config,
        public_only,
        public_paths,
        redact,
        required_fields,
        secret_paths,
        split_secrets,
        validate_config,
        validate_create,
        validate_response,
        validate_update,
    )

# Where each public name lives (kept in step with __all__ by a test).
_EXPORTS: dict[str, str] = {
    "openapi_document": "contracts.openapi",
    **dict.fromkeys(
        ("DEFAULT_PROFILE", "Profile", "ProfileError", "load_profile"), "contracts.profile"
    ),
    **dict.fromkeys(
        (
            "CREDENTIAL_TYPES",
            "FieldError",
            "SchemaViolation",
            "check_response",
            "config_fields",
            "merge_config",
            "public_only",
            "public_paths",
            "redact",
            "required_fields",
            "secret_paths",
            "split_secrets",
            "validate_config",
            "validate_create",
            "validate_response",
            "validate_update",
        ),
        "contracts.registry",
    ),
}

__all__ = [
    "CREDENTIAL_TYPES",
    "DEFAULT_PROFILE",
    "FieldError",
    "Profile",
    "ProfileError",
    "SchemaViolation",
    "check_response",
    "config_fields",
    "load_profile",
    "merge_config",
    "openapi_document",
    "public_only",
    "public_paths",
    "redact",
    "required_fields",
    "secret_paths",
    "split_secrets",
    "validate_config",
    "validate_create",
    "validate_response",
    "validate_update",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value
