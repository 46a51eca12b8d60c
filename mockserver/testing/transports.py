"""Reaching a WSGI app without a socket: one call, and a `requests` transport adapter.

Both honour the client's read timeout and the fault rules' connection faults
the way a socket would (`client_faults`): the timeout goes to the app in the
environ (`READ_TIMEOUT_KEY`), and the fault the app chose comes back in it.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from ..standalone.wire import FAULT_KEY, READ_TIMEOUT_KEY, WireFault
from . import client_faults

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if isinstance(body, Iterable):  # requests sends generators chunk by chunk
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
    raise TypeError(f"unsupported request body type {type(body).__name__}")


@dataclasses.dataclass(frozen=True)
class WSGIResult:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    fault: WireFault | None = None
    """What the client meets instead of this answer (a timeout, a connection fault)."""

    def header_dict(self) -> CaseInsensitiveDict[str]:
        """Headers by name; a repeated header folds into one, as urllib3 does."""
        folded: CaseInsensitiveDict[str] = CaseInsensitiveDict()
        for name, value in self.headers:
            previous = folded.get(name)
            folded[name] = value if previous is None else f"{previous}, {value}"
        return folded


def call_wsgi(
    app: WSGIApplication,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: object = None,
    *,
    read_timeout: float | None = None,
) -> WSGIResult:
    """Run one request through `app` in this thread and return the whole response.

    `read_timeout`: how long the client waits for an answer; a fault delay
    longer than that ends after it, and `fault` says so.
    """
    from werkzeug.test import EnvironBuilder

    parts = urlsplit(url)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=list(headers.items()),
        data=_body_bytes(body),
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    if read_timeout is not None:
        environ[READ_TIMEOUT_KEY] = read_timeout
    # Called directly, not through werkzeug's run_wsgi_app: that copies the
    # environ, and the fault the app chose comes back in this one.
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return written.append

    app_iter = app(environ, start_response)
    try:
        content = b"".join([*written, *app_iter])
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    status, response_headers = started
    code, _, reason = status.partition(" ")
    fault = environ.get(FAULT_KEY)
    return WSGIResult(int(code), reason, list(response_headers), content, fault)


class WSGIAdapter(BaseAdapter):
    """A `requests` transport adapter that hands requests to a WSGI app, no socket.

    `timeout=` is honoured as on a socket: a fault delay longer than the read
    timeout raises `requests.exceptions.ReadTimeout` after the timeout.
    Connection faults raise what `requests` raises for them (`client_faults`).
    """

    def __init__(self, app: WSGIApplication) -> None:
        super().__init__()
        self.app = app

    def send(  # type: ignore[override]  # requests' signature is untyped kwargs
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        started = time.perf_counter()
        assert request.url is not None and request.method is not None
        read_timeout = client_faults.requests_read_timeout(kwargs.get("timeout"))
        result = call_wsgi(
            self.app,
            request.method,
            request.url,
            request.headers,
            request.body,
            read_timeout=read_timeout,
        )
        if result.fault is not None:
            failure = client_faults.requests_failure(result.fault, request)
            if failure is not None:
                raise failure
            faulty = client_faults.requests_response(request, result, result.fault)
            faulty.elapsed = timedelta(seconds=time.perf_counter() - started)
            return faulty
        response = requests.Response()
        response.status_code = result.status
        response.reason = result.reason
        response.headers = result.header_dict()
        response._content = result.body
        # iter_content() then replays _content instead of reading raw.
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw = io.BytesIO(result.body)
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.elapsed = timedelta(seconds=time.perf_counter() - started)
        return response

    def close(self) -> None:
        pass
