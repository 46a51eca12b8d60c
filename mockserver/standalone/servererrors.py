"""waitress's own error answers in the fake's JSON error body.

waitress refuses some requests before the app sees them: a malformed request
line or header, bad chunking, a body over its limit, headers over its limit,
an unsupported `Transfer-Encoding`. Its answer is plain text, and its text can
quote the offending header line (which may hold a key). A channel class
with its own error task answers those with the standard body
`{"error": {code, message, request_id}}` and a fixed message instead.

What stays out of reach: a request that never becomes one (the client
closes the connection, or it is idle past waitress's `channel_timeout`)
gets no answer at all, and a response the app already started cannot be
replaced.

The same channel runs each request as a `wire.WaitressRawTask`, which lets a
connection fault (`reset`, `truncated`, ...) reach the socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from .wire import WaitressRawTask

# status: (code, message). Messages are fixed: waitress's texts quote input.
_ANSWERS: Final[dict[int, tuple[str, str]]] = {
    400: ("invalid_request", "The request could not be read (request line, headers or body)."),
    413: ("payload_too_large", "The request body is too large."),
    431: ("invalid_request", "The request headers are too large."),
    500: ("internal_error", "An unexpected error occurred."),
    501: ("not_implemented", "The request uses a transfer encoding this server does not support."),
}


def error_body(status: int, request_id: str) -> bytes:
    code, message = _ANSWERS.get(status, ("invalid_request", "The request could not be read."))
    body = {"error": {"code": code, "message": message, "request_id": request_id}}
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def json_error_channel(new_request_id: Callable[[], str]) -> type[HTTPChannel]:
    """An `HTTPChannel` whose server-level errors carry the JSON error body."""

    class JsonErrorTask(ErrorTask):  # type: ignore[misc]  # waitress ships no type hints
        def execute(self) -> None:
            error: Any = self.request.error
            status = int(getattr(error, "code", 400))
            reason = str(getattr(error, "reason", "Bad Request"))
            request_id = new_request_id()
            body = error_body(status, request_id)
            self.status = f"{status} {reason}"
            self.response_headers.extend(
                [("Content-Type", "application/json"), ("X-Request-Id", request_id)]
            )
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = JsonErrorTask
        # Its requests' environ carries the raw connection, for connection faults.
        task_class = WaitressRawTask

    return JsonErrorChannel
