"""Options every command that reads answers shares: the limits on each read, and output
paths checked before any request.

``--max-body SIZE``: the largest body the kit reads, on the wire and after
decompression (a gzip bomb stops there); bytes, or with a ``KiB``/``MiB``
suffix (``k``/``m`` work too). Default 4 MiB. ``--timeout SECONDS``: the
deadline of each whole request, headers and body together, not of each read:
an answer that trickles in forever ends there. Either limit, when hit, is a
finding against the deployment (its answer could not be read whole), not a
crash.
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from pathlib import Path
from typing import Any

from contracts.kit.wire.limits import DEFAULT_MAX_BODY

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024}
_UNITS.update({"m": 1024 * 1024, "mb": 1024 * 1024, "mib": 1024 * 1024})


def byte_size(text: str) -> int:
    """``4194304``, ``512KiB``, ``4MiB``: a size in bytes, at least 1 KiB."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (bytes, or e.g. 512KiB, 4MiB)")
    size = int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
    if size < 1024:
        raise argparse.ArgumentTypeError("must be at least 1KiB")
    return size


def base_url(text: str) -> str:
    """A deployment's root: ``http(s)://host[:port][/path]``; anything else is a usage
    error (exit 2) before any request, not a run that "could not reach" it."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http:// or https:// URL (e.g. https://api.example.com)"
        )
    return text.strip()


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def add_limit_arguments(parser: Any) -> None:
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=30.0,
        help="deadline of each whole request, headers and body, in seconds (default 30)",
    )
    parser.add_argument(
        "--max-body",
        type=byte_size,
        default=DEFAULT_MAX_BODY,
        metavar="SIZE",
        help="largest answer body read, on the wire and decompressed (default 4MiB); "
        "a larger one is a finding",
    )


def unwritable(path: str | None, flag: str) -> str | None:
    """Why ``path`` cannot be written (one line naming ``flag``), or None.

    Asked before the first request, so a run never ends without its report.
    Nothing is created: the folder must exist and be writable, and the file, if
    it exists, writable and not a folder.
    """
    if not path:
        return None
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        return f"{flag} {path}: is a directory"
    if not folder.is_dir():
        return f"{flag} {path}: no such directory {folder}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{flag} {path}: directory {folder} is not writable"
    if target.exists() and not os.access(target, os.W_OK):
        return f"{flag} {path}: not writable"
    return None
