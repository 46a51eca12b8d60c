"""In process, what each HTTP client raises when it meets a fault on a real socket.

The exception types below were recorded by pointing `requests`, httpx (sync)
and httpx (async) at a socket server that misbehaves on purpose (the
`planasonix_server` fixture with the same fault rules: tests/testing/
test_client_faults.py runs every fault both ways and compares):

| event                  | requests                                | httpx                 |
|------------------------|-----------------------------------------|-----------------------|
| timeout before answer  | `ReadTimeout`                           | `ReadTimeout`         |
| `reset`                | `ConnectionError` (ConnectionResetError)| `ReadError`           |
| `empty`                | `ConnectionError` (RemoteDisconnected)  | `RemoteProtocolError` |
| `garbage`              | `ConnectionError` (BadStatusLine)       | `RemoteProtocolError` |
| `truncated`            | `ChunkedEncodingError` (IncompleteRead) | `RemoteProtocolError` |
| `drip`, pause > timeout| `ConnectionError` (ReadTimeoutError);   | `ReadTimeout`         |
|                        | `ReadTimeout` with `stream=True`        |                       |

When: a timeout, reset, empty answer or garbage before `send` returns; a
truncated or timed-out body while the body is read (inside `send` unless
the caller streams). A drip sleeps its pauses while the body is read.
A timeout is met after the client's read timeout, never after the delay.
"""

from __future__ import annotations

import functools
import http.client
import io
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError, ReadTimeoutError
from urllib3.response import HTTPResponse
from urllib3.util import Timeout

from ..standalone.wire import NO_ANSWER, WireFault, garbage, pieces

if TYPE_CHECKING:
    import httpx
    from requests.structures import CaseInsensitiveDict


class Answer(Protocol):
    """What the app answered (`transports.WSGIResult`), before the client meets the fault."""

    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def headers(self) -> list[tuple[str, str]]: ...
    @property
    def body(self) -> bytes: ...

    def header_dict(self) -> CaseInsensitiveDict[str]: ...


# --- the client's read timeout -------------------------------------------------------------------


def requests_read_timeout(timeout: object) -> float | None:
    """The read timeout in requests' `timeout=` (number, (connect, read), urllib3 Timeout)."""
    if isinstance(timeout, tuple):
        timeout = timeout[1] if len(timeout) == 2 else None
    if isinstance(timeout, Timeout):
        timeout = timeout.read_timeout
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return float(timeout)
    return None


def httpx_read_timeout(request: httpx.Request) -> float | None:
    """The read timeout httpx hands every transport in `request.extensions["timeout"]`."""
    timeouts = request.extensions.get("timeout") or {}
    read = timeouts.get("read")
    return float(read) if isinstance(read, int | float) else None


# --- the body as a socket would deliver it -------------------------------------------------------


def _delivery(fault: WireFault, body: bytes) -> tuple[list[bytes], float]:
    """The pieces of the body the client receives, and the pause before each."""
    if fault.kind == "truncated":
        return [body[: len(body) // 2]], 0.0
    if fault.kind == "drip":
        return pieces(body, fault.drip_chunks), fault.pause
    return [body], 0.0


class _WireBody(io.RawIOBase):
    """A response body read like a socket: pauses, a timeout, an early end.

    Handed to urllib3, which turns an early end under a Content-Length into
    `IncompleteRead` and a socket timeout into `ReadTimeoutError`, as it does
    for a real connection; `requests` then wraps them as it always does.
    """

    def __init__(
        self, fault: WireFault, body: bytes, sleep: Callable[[float], None] | None = None
    ) -> None:
        super().__init__()
        self._pieces, self._pause = _delivery(fault, body)
        self._timeout = fault.timeout
        self._sleep = sleep or time.sleep  # looked up per reader: tests may replace it
        self._held = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._held:
            if not self._pieces:
                return 0
            if self._pause:
                if self._timeout is not None and self._pause > self._timeout:
                    self._sleep(self._timeout)
                    raise TimeoutError("timed out")  # socket.timeout, as a socket raises it
                self._sleep(self._pause)
            self._held = self._pieces.pop(0)
        size = min(len(buffer), len(self._held))
        buffer[:size] = self._held[:size]
        self._held = self._held[size:]
        return size


def wire_body(fault: WireFault, body: bytes) -> io.BufferedReader:
    """The body of a `truncated` or `drip` answer, as a file urllib3 reads from."""
    return io.BufferedReader(_WireBody(fault, body))


# --- requests ------------------------------------------------------------------------------------


def _pool(url: str) -> str:
    # urllib3 names the connection pool in its messages; say the same of ours.
    parts = urlsplit(url)
    scheme = "HTTPS" if parts.scheme == "https" else "HTTP"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{scheme}ConnectionPool(host={parts.hostname!r}, port={port})"


def requests_failure(
    fault: WireFault | None, request: requests.PreparedRequest
) -> requests.RequestException | None:
    """What `requests` raises before any answer for `fault`; None when an answer arrives."""
    if fault is None:
        return None
    url = request.url or ""
    if fault.kind == "timeout":
        message = f"Read timed out. (read timeout={fault.timeout})"
        cause = ReadTimeoutError(_pool(url), url, message)  # type: ignore[arg-type]
        return requests.exceptions.ReadTimeout(cause, request=request)
    reason: Exception
    if fault.kind == "reset":
        reason = ConnectionResetError(104, "Connection reset by peer")
    elif fault.kind == "empty":
        reason = http.client.RemoteDisconnected("Remote end closed connection without response")
    elif fault.kind == "garbage":
        reason = http.client.BadStatusLine(garbage().decode("latin-1"))
    else:
        return None
    return requests.exceptions.ConnectionError(
        ProtocolError("Connection aborted.", reason), request=request
    )


def requests_response(
    request: requests.PreparedRequest, result: Answer, fault: WireFault
) -> requests.Response:
    """A `requests.Response` whose body is delivered as `fault` says (truncated, drip)."""
    raw = HTTPResponse(
        body=wire_body(fault, result.body),
        headers=result.header_dict(),
        status=result.status,
        reason=result.reason,
        preload_content=False,
        decode_content=False,
        enforce_content_length=True,
        request_method=request.method,
        request_url=request.url,
    )
    response: requests.Response = HTTPAdapter().build_response(request, raw)
    return response


def responses_body(fault: WireFault | None, body: bytes) -> bytes | io.BufferedReader:
    """The body a `responses` callback returns: a file that misbehaves, or the bytes."""
    if fault is not None and fault.kind in ("truncated", "drip"):
        return wire_body(fault, body)
    return body


# --- httpx ---------------------------------------------------------------------------------------


def httpx_failure(fault: WireFault | None, request: httpx.Request) -> httpx.TransportError | None:
    """What httpx (sync or async) raises before any answer for `fault`; None otherwise."""
    import httpx

    if fault is None:
        return None
    if fault.kind == "timeout":
        return httpx.ReadTimeout("timed out", request=request)
    if fault.kind == "reset":
        return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    if fault.kind in NO_ANSWER:
        return httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return None


class _WireStream:
    """An httpx response stream (sync and async) delivering the body as `fault` says."""

    def __init__(self, fault: WireFault, body: bytes, request: httpx.Request) -> None:
        self._pieces, self._pause = _delivery(fault, body)
        self._fault = fault
        self._length = len(body)
        self._request = request

    def _timed_out(self) -> bool:
        timeout = self._fault.timeout
        return bool(self._pause) and timeout is not None and self._pause > timeout

    def _error(self) -> httpx.TransportError:
        import httpx

        if self._timed_out():
            return httpx.ReadTimeout("timed out", request=self._request)
        received = len(self._pieces[0]) if self._pieces else 0
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {received} bytes, expected {self._length})",
            request=self._request,
        )

    def __iter__(self) -> Iterator[bytes]:
        if self._timed_out():
            time.sleep(self._fault.timeout or 0)
            raise self._error()
        for piece in self._pieces:
            if self._pause:
                time.sleep(self._pause)
            yield piece
        if self._fault.kind == "truncated":
            raise self._error()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import anyio

        if self._timed_out():
            await anyio.sleep(self._fault.timeout or 0)
            raise self._error()
        for piece in self._pieces:
            if self._pause:
                await anyio.sleep(self._pause)
            yield piece
        if self._fault.kind == "truncated":
            raise self._error()

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


@functools.cache
def _wire_stream_class() -> type[_WireStream]:
    # httpx checks a stream's base class (sync or async); httpx is optional, so built on use.
    import httpx

    return type("WireStream", (_WireStream, httpx.SyncByteStream, httpx.AsyncByteStream), {})


def httpx_response(
    request: httpx.Request, result: Answer, fault: WireFault | None
) -> httpx.Response:
    """The httpx response for `result`; its stream misbehaves for `truncated` and `drip`.

    Raises what httpx raises before any answer (timeout, reset, empty, garbage).
    """
    import httpx

    failure = httpx_failure(fault, request)
    if failure is not None:
        raise failure
    if fault is None or fault.kind not in ("truncated", "drip"):
        return httpx.Response(
            result.status, headers=result.headers, content=result.body, request=request
        )
    stream: Any = _wire_stream_class()(fault, result.body, request)
    return httpx.Response(result.status, headers=result.headers, stream=stream, request=request)
