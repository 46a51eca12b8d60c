from __future__ import annotations

from mockserver import errors


def test_every_error_has_a_status_code_and_message() -> None:
    expected = {
        errors.InvalidRequest: (400, "invalid_request"),
        errors.Unauthorized: (401, "unauthorized"),
        errors.Forbidden: (403, "forbidden"),
        errors.NotFound: (404, "not_found"),
        errors.MethodNotAllowed: (405, "method_not_allowed"),
        errors.Conflict: (409, "conflict"),
        errors.PayloadTooLarge: (413, "payload_too_large"),
        errors.UnsupportedMediaType: (415, "unsupported_media_type"),
        errors.RateLimited: (429, "rate_limited"),
        errors.InternalError: (500, "internal_error"),
        errors.CredentialNotFound: (404, "not_found"),
        errors.NameTaken: (409, "conflict"),
        errors.StateConflict: (409, "conflict"),
        errors.ValidationFailed: (400, "invalid_request"),
    }
    for kind, (status, code) in expected.items():
        error = kind()
        assert (error.status, error.code) == (status, code)
        assert error.message
        assert code in repr(error)


def test_details_are_field_errors() -> None:
    error = errors.ValidationFailed(details=[errors.ErrorDetail("config.port", "must be int")])
    assert error.details[0].path == "config.port"
