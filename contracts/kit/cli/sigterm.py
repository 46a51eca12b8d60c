"""SIGTERM as an exception in the main thread, for the kit's commands.

`run`, `learn` and `diff` turn it into `runner.Interrupted` so their cleanup
runs; `proxy` into KeyboardInterrupt, which stops waitress as Ctrl-C does.
Elsewhere than in the main thread nothing is installed (signals go there only).

Only the first SIGTERM raises: later ones, while the command writes its
reports and ends, are ignored, so a supervisor that signals twice gets the
reports and the exit code the first one led to (SIGKILL still ends it at once);
after a first SIGTERM the process ignores the signal until it exits.
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

    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return  # already ending: a second signal must not cut the ending short
        fired = True
        raise exception()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        # Once signalled, the command is ending: a late signal must not turn its
        # exit code into -15 after the reports are written.
        signal.signal(signal.SIGTERM, signal.SIG_IGN if fired else previous)
