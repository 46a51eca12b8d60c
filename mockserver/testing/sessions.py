"""`fake.session`: a `requests.Session` that knows the fake's base URL and key.

Like the base-URL sessions of requests-toolbelt or httpx's `base_url`: a
relative path (`session.get("/api/credentials")`) is joined to the fake's
URL; an absolute URL is used as given (the code under test keeps its own).
Every request carries `Authorization: Bearer <the fake's key>` unless it
sets its own; `headers={"Authorization": None}` sends none (requests drops
a header set to None), for a test of the 401.
"""

from __future__ import annotations

from typing import Any

import requests


class BaseURLSession(requests.Session):
    """A session joining relative URLs to `base_url` and sending `api_key` by default."""

    def __init__(self, base_url: str, api_key: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if api_key is not None:
            self.headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"  # never the key

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        return super().request(method, self.absolute(url), *args, **kwargs)

    def absolute(self, url: str | bytes) -> str:
        """`url` under `base_url` when it is a path (`/api/...`, `api/...`), else as given."""
        text = url.decode() if isinstance(url, bytes) else str(url)
        if "://" in text:
            return text
        return f"{self.base_url}/{text.lstrip('/')}"
