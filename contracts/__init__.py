"""The Planasonix Credentials API contract: schemas, registry, OpenAPI document, strategies.

This package knows nothing of the fake in ``mockserver`` nor of the conformance
kit in ``contracts.kit``; both import it.
"""

from contracts.openapi import openapi_document
from contracts.registry import (
    CREDENTIAL_TYPES,
    FieldError,
    SchemaViolation,
    check_response,
    config_fields,
    merge_config,
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

__all__ = [
    "CREDENTIAL_TYPES",
    "FieldError",
    "SchemaViolation",
    "check_response",
    "config_fields",
    "merge_config",
    "openapi_document",
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
