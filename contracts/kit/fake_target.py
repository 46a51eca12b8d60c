"""``--target fake``: our own fake, served in this process on a free local port.

The only place the kit touches ``mockserver``, imported lazily so that
``contracts.kit`` stays importable without it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


@contextmanager
def serve_wsgi(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve a WSGI app on a free port in a daemon thread; yields its base URL."""
    server = make_server(host, 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="contract-fake", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_fake(
    keys: dict[str, str], read_only_keys: dict[str, str] | None = None, profile: Any = None
) -> Iterator[str]:
    """Our fake with ``keys`` and ``read_only_keys`` (API key -> workspace); yields its URL.

    ``profile``: a ``contracts.profile.Profile`` (or its document) the fake answers by.
    """
    from mockserver.app import create_app

    app = create_app(keys=keys, read_only_keys=read_only_keys or {}, profile=profile)
    with serve_wsgi(app) as url:
        yield url
