"""SIGTERM as an exception in the main thread, for the kit's commands.

`run`, `learn` and `diff` turn it into `runner.Interrupted` so their cleanup
runs; `proxy` into KeyboardInterrupt, which stops waitress as Ctrl-C does.
Elsewhere than in the main thread nothing is installed (signals go there only).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def sigterm_raises(exception: Callable[[], BaseException]) -> Iterator[None]:
    """While inside, SIGTERM raises ``exception()``; the previous handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise exception()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
