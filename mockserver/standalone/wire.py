"""Connection faults on a real socket: reset, empty, garbage, truncated, drip.

The fault hook (`faults.FaultBook.apply`) only decides: it puts a `WireFault`
in the WSGI environ (`FAULT_KEY`). Breaking the connection is the server's
part, since WSGI has no word for "reset" or "send half": a server that can
do it puts a `RawConnection` in the environ (`RAW_KEY`), and `WireFaults`,
the WSGI middleware that `faults.install` puts around the app, hands it the
answer's bytes when a fault says so. The two servers that do:

- waitress (`planasonix-mock serve`): `WaitressRawTask`, the task class of
  the channel `servererrors.json_error_channel` builds.
- werkzeug's threaded server (the `planasonix_server` fixture,
  `mockserver.testing.live`): `SocketConnection` over the handler's socket.

Elsewhere (no `RAW_KEY`) the middleware passes the app's answer through:
a 502 for `reset`/`empty`/`garbage`, the whole answer for the others. The
in-process clients of `mockserver.testing` read `FAULT_KEY` themselves.

Every answer a fault breaks is sent with `Connection: close` and the
connection closed after it: a client never reuses a connection left in an
unknown state.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, NoReturn, Protocol

from waitress.channel import ClientDisconnected
from waitress.task import WSGITask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CONNECTION_FAULTS: Final = ("reset", "empty", "truncated", "garbage", "drip")
NO_ANSWER: Final = frozenset({"reset", "empty", "garbage"})
"""Connection faults that drop the request before the app answers it."""
DEFAULT_DRIP_MS: Final = 1000
DEFAULT_DRIP_CHUNKS: Final = 10

FAULT_KEY: Final = "planasonix.fault"
"""WSGI environ key: the `WireFault` this request's client is to meet."""
READ_TIMEOUT_KEY: Final = "planasonix.read_timeout"
"""WSGI environ key: the client's read timeout in seconds (in-process transports set it)."""


@dataclass(frozen=True)
class WireFault:
    """What the client of one request meets instead of a plain answer.

    `kind`: a connection fault (`CONNECTION_FAULTS`) or `timeout` (the client
    stops waiting `timeout` seconds into a fault's delay). A `drip` with
    `timeout` set is one whose pause between pieces is longer than the client
    waits: it times out after the first pause.
    """

    kind: str
    drip_ms: int = 0
    drip_chunks: int = 1
    timeout: float | None = None

    @property
    def pause(self) -> float:
        """Seconds between two pieces of a drip (one before each piece)."""
        return self.drip_ms / 1000 / max(self.drip_chunks, 1)


RAW_KEY: Final = "planasonix.raw_connection"
"""WSGI environ key: the request's `RawConnection`, set by a server that can break it."""
GARBAGE_SIZE: Final = 64


class RawConnection(Protocol):
    """The client connection of one request, below HTTP."""

    def send(self, data: bytes) -> None:
        """Write bytes as they are (the server has written nothing yet)."""

    def close(self) -> NoReturn:
        """Close (FIN) and end the request: raises what the server takes as a quiet drop."""

    def reset(self) -> NoReturn:
        """Reset (RST) and end the request, like `close`."""


def garbage(size: int = GARBAGE_SIZE) -> bytes:
    """Random bytes that no client reads as HTTP: no line break, no `HTTP/` start.

    Without a line break every client fails the same way whatever the bytes
    (no status line ever ends), so the exception a test meets is stable.
    """
    data = bytes(b for b in os.urandom(size * 2) if b not in b"\r\n")[:size]
    return b"\x00" + data[1:] if data.startswith(b"H") else data


def head_bytes(status: str, headers: Iterable[tuple[str, str]], length: int) -> bytes:
    """The status line and headers of a broken answer: full Content-Length, `Connection: close`."""
    skip = {"content-length", "connection", "transfer-encoding"}
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name}: {value}" for name, value in headers if name.lower() not in skip]
    lines += [f"Content-Length: {length}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def pieces(body: bytes, count: int) -> list[bytes]:
    """`body` in `count` pieces of near-equal size (fewer when the body is shorter)."""
    count = max(1, min(count, len(body)))
    size, extra = divmod(len(body), count)
    out, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        out.append(body[start:end])
        start = end
    return out


def perform(
    raw: RawConnection,
    fault: WireFault,
    status: str,
    headers: list[tuple[str, str]],
    body: bytes,
    sleep: Callable[[float], None] = time.sleep,
) -> NoReturn:
    """Meet `fault` on `raw` with this answer; always ends by closing or resetting."""
    if fault.kind == "reset":
        raw.reset()
    if fault.kind == "garbage":
        raw.send(garbage())
    elif fault.kind == "truncated":
        raw.send(head_bytes(status, headers, len(body)) + body[: len(body) // 2])
    elif fault.kind == "drip":
        raw.send(head_bytes(status, headers, len(body)))
        for piece in pieces(body, fault.drip_chunks):
            sleep(fault.pause)
            raw.send(piece)
    raw.close()


class WireFaults:
    """WSGI middleware: break the connection when the request's fault says so.

    Costs one environ lookup per request without a fault: the answer streams
    through untouched. With one, the answer is collected, the status and
    headers are not passed to the server, and `perform` writes what it wants.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raw: RawConnection | None = environ.get(RAW_KEY)
        if raw is None:
            return self.app(environ, start_response)
        held: list[Any] = []

        def hold(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            fault = environ.get(FAULT_KEY)
            if fault is None or fault.kind == "timeout":
                return start_response(status, headers, exc_info)
            held[:] = [status, headers]
            return lambda data: None  # never used by Flask; kept for the WSGI signature

        result = self.app(environ, hold)
        if not held:
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        perform(raw, environ[FAULT_KEY], held[0], held[1], body)


# --- werkzeug's server (planasonix_server) -------------------------------------------------------


_LINGER_NOW: Final = struct.pack("ii", 1, 0)


class SocketConnection:
    """A blocking socket of werkzeug's request handler.

    `close` and `reset` raise ConnectionResetError, which werkzeug's handler
    takes as a dropped client (no log line, no error answer). `on_end` is
    the server's part: stop reading further requests from this socket, and
    for a reset close it without the FIN socketserver sends first (a FIN
    before the RST would let the client see an empty answer instead).
    """

    def __init__(self, sock: socket.socket, on_end: Callable[[socket.socket, bool], None]) -> None:
        self.socket = sock
        self.on_end = on_end

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def close(self) -> NoReturn:
        self.on_end(self.socket, False)
        raise ConnectionResetError("connection fault: closed by the server")

    def reset(self) -> NoReturn:
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
        self.on_end(self.socket, True)
        raise ConnectionResetError("connection fault: reset by the server")


# --- waitress (planasonix-mock serve) ------------------------------------------------------------


class WaitressConnection:
    """A waitress channel's socket, written from the task thread.

    Nothing of the answer is in waitress's output buffers when a fault takes
    over (the middleware never called `start_response`), so writing to the
    non-blocking socket directly cannot interleave with waitress's own
    writes. `close`/`reset` raise `ClientDisconnected`: waitress then closes
    the channel (no shutdown first, so a zero linger makes it an RST) and
    logs only at INFO.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel

    def send(self, data: bytes) -> None:
        sock: socket.socket = self.channel.socket
        view = memoryview(data)
        while view:
            try:
                sent = sock.send(view)
            except BlockingIOError:
                select.select([], [sock], [], 1.0)
                continue
            view = view[sent:]

    def close(self) -> NoReturn:
        raise ClientDisconnected("connection fault: closed by the server")

    def reset(self) -> NoReturn:
        self.channel.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
        raise ClientDisconnected("connection fault: reset by the server")


class WaitressRawTask(WSGITask):  # type: ignore[misc]  # waitress ships no type hints
    """waitress's WSGI task, with the request's `RawConnection` in the environ."""

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ.setdefault(RAW_KEY, WaitressConnection(self.channel))
        return environ
