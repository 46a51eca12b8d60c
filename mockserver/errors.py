"""Errors are values with a code: the store and the HTTP layer raise these,
and the HTTP layer renders them once (see `api.render_error`).

Messages are fixed sentences written here or by the contract validators;
none of them ever interpolates a value taken from a request, so an error can
be logged, journaled or shown without leaking what the caller sent.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from contracts import FieldError
from contracts.errors import PlanasonixError

# One offending field: where (`config.port`) and what is wrong with it. The
# contract package owns the type, so validator output flows through unchanged.
ErrorDetail = FieldError

# The contract's rule (`contracts.registry._describe`): a field the caller
# named is echoed only when it is short and printable; otherwise the error
# names its parent. A surrogate or control character is never printable.
MAX_FIELD_LABEL = 64


def field_label(name: object) -> str | None:
    """`name` as an error may show it, or None when it must not be shown."""
    if isinstance(name, str) and 0 < len(name) <= MAX_FIELD_LABEL and name.isprintable():
        return name
    return None


def child_path(parent: str, name: object) -> str:
    """The path of field `name` under `parent` (`config` + `port`: `config.port`);
    just `parent` when `name` may not be shown."""
    label = field_label(name)
    if label is None:
        return parent
    return f"{parent}.{label}" if parent else label


class ApiError(PlanasonixError):
    """Base of every error the fake answers with on purpose."""

    status: int = 500
    code: str = "internal_error"
    default_message: str = "The server could not complete the request."

    def __init__(
        self,
        message: str | None = None,
        details: Iterable[ErrorDetail] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: tuple[ErrorDetail, ...] = tuple(details)
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidRequest(ApiError):
    status = 400
    code = "invalid_request"
    default_message = "The request is invalid."


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"
    default_message = "A valid API key is required."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="planasonix"'})


class Forbidden(ApiError):
    status = 403
    code = "forbidden"
    default_message = "The API key lacks the scope this call needs."


class NotFound(ApiError):
    status = 404
    code = "not_found"
    default_message = "No such resource."


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"
    default_message = "The method is not allowed for this resource."


class Conflict(ApiError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class Gone(ApiError):
    status = 410
    code = "gone"
    default_message = "The resource is gone."


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"
    default_message = "The request body is too large."


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"
    default_message = "Send the body as application/json."


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"
    default_message = "Too many requests."


class InternalError(ApiError):
    status = 500
    code = "internal_error"
    default_message = "The server could not complete the request."


# Store-level names, so callers of the store read as the domain, not HTTP.
class CredentialNotFound(NotFound):
    default_message = "No credential with this id exists in this workspace."


class CredentialGone(Gone):
    default_message = "The credential is deleted; restore it first."


class NameTaken(Conflict):
    default_message = "A credential with this name already exists in this workspace."


class StateConflict(Conflict):
    default_message = "The credential's status does not allow this call."


class ValidationFailed(InvalidRequest):
    default_message = "The request has invalid fields."


# --- "a JSON object with only these fields", for every body the fake parses -----------


def object_errors(value: object, allowed: Collection[str], where: str = "") -> list[ErrorDetail]:
    """Why `value` (at `where`) is not a JSON object holding only `allowed` fields;
    empty when it is. Each unknown field is named by `child_path`, once."""
    if not isinstance(value, dict):
        return [ErrorDetail(where, "must be a JSON object")]
    unknown = sorted((key for key in value if key not in allowed), key=str)
    paths = dict.fromkeys(child_path(where, key) for key in unknown)
    return [ErrorDetail(path, "is not a known field") for path in paths]


def require_object(
    value: object, allowed: Collection[str], where: str = "", summary: str | None = None
) -> dict[str, Any]:
    """`value` itself when `object_errors` finds nothing, else InvalidRequest(summary)."""
    errors = object_errors(value, allowed, where)
    if errors:
        raise InvalidRequest(summary, errors)
    assert isinstance(value, dict)
    return value
