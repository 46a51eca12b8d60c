"""The fake's policy: its answers to what the docs leave open, in one object.

A `Policy` is built from a `contracts.profile.Profile` (the JSON document a
user writes or `planasonix-contract learn` produces). The store asks it the
lifecycle questions (may a deleted credential be updated? does a deleted one
keep its name?), the routes and the app's error handler ask it the HTTP ones
(which status, which fields, which page size, which error body). Each
question is one method named after the situation, so no flag travels through
call chains. No Flask here: the store imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from contracts.profile import DEFAULT_PROFILE, Profile, ProfileError, load_profile

from .errors import (
    ApiError,
    CredentialGone,
    CredentialNotFound,
    ErrorDetail,
    InvalidRequest,
    NameTaken,
    StateConflict,
)

JSONObject = dict[str, Any]
STATUS_FIELDS: Final = ("id", "status", "deleted_at")


class InvalidQuery(InvalidRequest):
    """A bad query parameter: answered with the profile's query error status."""

    default_message = "The query string is invalid."


@dataclass(frozen=True)
class Policy:
    """What this fake answers where the docs allow more than one answer."""

    profile: Profile = field(default=DEFAULT_PROFILE)

    @classmethod
    def of(cls, source: Profile | Policy | Mapping[str, Any] | str | None) -> Policy:
        """A policy from a profile, a document, a file path, or None (the default)."""
        if isinstance(source, Policy):
            return source
        if isinstance(source, Mapping):
            source = dict(source)
        return cls(load_profile(source))

    # --- the lifecycle (asked by the store) --------------------------------------------

    @property
    def deleted_names_reserved(self) -> bool:
        return self.profile.deleted_names == "reserved"

    @property
    def update_replaces_config(self) -> bool:
        """A PUT with config replaces the stored config whole, instead of merging it."""
        return self.profile.update_replaces_config

    def repeat_delete(self) -> None:
        """A delete of a deleted credential: nothing happens, or a 409, 404 or 410."""
        if self.profile.delete_deleted == "conflict":
            raise StateConflict("The credential is already deleted.")
        _hidden(self.profile.delete_deleted)

    def restore_active(self) -> None:
        """A restore of an active credential: nothing happens, or a 409."""
        if self.profile.restore_active == "conflict":
            raise StateConflict("The credential is not deleted.")

    def purge_active(self) -> None:
        """A permanent delete of an active credential: allowed, or a 409."""
        if self.profile.purge_active == "conflict":
            raise StateConflict("Delete the credential before deleting it permanently.")

    def update_deleted(self) -> None:
        """An update of a soft-deleted credential: refused (409, 404 or 410), or allowed."""
        if self.profile.update_deleted == "conflict":
            raise StateConflict("A deleted credential cannot be updated; restore it first.")
        _hidden(self.profile.update_deleted)

    # --- reads ---------------------------------------------------------------------------

    def visible_by_id(self, status: str) -> None:
        """A GET of a credential with `status`: 404 or 410 when deleted ones are hidden."""
        if status == "deleted":
            _hidden(self.profile.get_deleted)

    @property
    def oldest_first(self) -> bool:
        """Lists run oldest first; newest first otherwise ("unspecified" serves that too)."""
        return self.profile.list_order == "oldest_first"

    def _deleted_at(self, where: str) -> str:
        profile = self.profile
        if where == "get":
            return profile.deleted_at_on_get
        return profile.deleted_at_on_list if where == "list" else "present"

    @cached_property
    def _as_stored(self) -> frozenset[str]:
        # Asked on every GET; the profile never changes, so it is worked out once.
        profile = self.profile
        if profile.created_by != "shown" or profile.extra_fields:
            return frozenset()
        return frozenset(w for w in ("get", "list", "write") if self._deleted_at(w) == "present")

    def renders_as_stored(self, where: str) -> bool:
        """True when `render(body, where)` is `body` itself: the fake's own shape."""
        return where in self._as_stored

    def render(self, body: JSONObject, where: str) -> JSONObject:
        """A credential as `where` (get, list, write) shows it."""
        if self.renders_as_stored(where):
            return body  # lists of 200 pay nothing
        profile = self.profile
        deleted_at = self._deleted_at(where)
        body = dict(body)
        if profile.created_by == "omitted":
            body.pop("created_by", None)
        if deleted_at == "absent" or (
            deleted_at == "when_deleted" and body.get("deleted_at") is None
        ):
            body.pop("deleted_at", None)
        for extra in self.profile.extra_fields:
            inside, _, name = extra.rpartition(".")
            if inside and isinstance(body.get("config"), dict):
                body["config"] = {**body["config"], name: None}
            elif not inside:
                body[name] = None
        return body

    def status_body(self, full: JSONObject) -> JSONObject:
        """The answer to a delete or restore: the documented fields, or everything."""
        if self.profile.status_bodies == "full":
            return self.render(full, "write")
        return {key: full[key] for key in STATUS_FIELDS}

    # --- lists -----------------------------------------------------------------------------

    @property
    def default_limit(self) -> int:
        return self.profile.page_size_default

    @property
    def max_limit(self) -> int:
        return self.profile.page_size_max

    def page_limit(self, limit: int) -> int:
        """A requested page size over the maximum: clamped, or left for the 400."""
        if limit > self.max_limit and self.profile.page_size_over_max == "clamp":
            return self.max_limit
        return limit

    def list_filters(self, params: Mapping[str, str]) -> tuple[str, str | None]:
        """(status, type) a list honours, given its query parameters."""
        filters = (("status", self.profile.status_filter), ("type", self.profile.type_filter))
        for name, setting in filters:
            if name in params and setting == "rejected":
                raise InvalidQuery(details=[ErrorDetail(name, "is not a supported filter")])
        default = "all" if self.profile.list_default_status == "all" else "active"
        status = params.get("status", default)
        if self.profile.status_filter == "ignored":
            status = default
        type_ = params.get("type") if self.profile.type_filter == "supported" else None
        return status, type_

    # --- answers ------------------------------------------------------------------------------

    @property
    def create_status(self) -> int:
        return self.profile.create_status

    @property
    def create_location(self) -> bool:
        return self.profile.create_location

    def error_status(self, error: ApiError) -> int:
        if isinstance(error, InvalidQuery):
            return self.profile.query_error_status
        if isinstance(error, NameTaken):
            return self.profile.name_taken_status
        if isinstance(error, InvalidRequest) and error.status == 400:
            return self.profile.validation_status
        return error.status

    @property
    def flat_errors(self) -> bool:
        return self.profile.error_body == "flat"

    def error_body(self, standard: JSONObject) -> JSONObject:
        """The standard error body `{"error": {...}}` as this deployment shapes it."""
        if self.profile.error_body == "envelope":
            return standard
        inner = standard.get("error", {})
        return {key: inner[key] for key in ("code", "message", "details") if key in inner}


def _hidden(setting: str) -> None:
    """A soft-deleted id answered as if gone: 404 for "not_found", 410 for "gone"."""
    if setting == "not_found":
        raise CredentialNotFound()
    if setting == "gone":
        raise CredentialGone()


DEFAULT_POLICY: Final = Policy()

__all__ = ["DEFAULT_POLICY", "InvalidQuery", "Policy", "Profile", "ProfileError"]
