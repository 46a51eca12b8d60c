"""``planasonix-contract check-har``: the proxy's judgement over a saved HAR file, offline.

A HAR (HTTP Archive 1.2) is what a browser's developer tools ("Save all as
HAR"), Chromium's DevTools protocol or a recording proxy write. Its entries
become :class:`~contracts.kit.traffic.Observed` exchanges, ordered by start
time, and go through the same :class:`~contracts.kit.traffic.judge.Judge` as live
traffic. An entry whose response text was not saved is still scanned in its
headers and counted in the summary; its body is not judged.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from contracts.errors import PlanasonixError
from contracts.kit.traffic.judge import Judge
from contracts.kit.traffic.observed import Observed

JSON = Any


class HarError(PlanasonixError, ValueError):
    """The file is not a HAR this command can read (the message names where, never a value)."""


def _headers(records: JSON, where: str) -> list[tuple[str, str]]:
    if records is None:
        return []
    if not isinstance(records, list):
        raise HarError(f"{where}: headers must be a list")
    out: list[tuple[str, str]] = []
    for record in records:
        # HTTP/2 pseudo-headers (":authority") are no headers of the exchange.
        name = record.get("name") if isinstance(record, dict) else None
        if isinstance(name, str) and not name.startswith(":"):
            out.append((name, str(record.get("value", ""))))
    return out


def _text(holder: JSON) -> bytes | None:
    if not isinstance(holder, dict) or not isinstance(holder.get("text"), str):
        return None
    text: str = holder["text"]
    if holder.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            return None
    return text.encode("utf-8")


def _started(value: JSON, where: str) -> float:
    if not isinstance(value, str):
        raise HarError(f"{where}: startedDateTime is missing")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HarError(f"{where}: startedDateTime is not an ISO 8601 time") from None


MAX_HAR_BYTES = 256 * 1024 * 1024


def entries(document: JSON, unjudged: list[str] | None = None) -> Iterator[Observed]:
    """The exchanges of a parsed HAR document, in the order they started.

    An entry whose status is not a whole number (`"201"`, `201.5`, `true`) cannot be
    judged: its place (`entry 3`) is added to ``unjudged`` instead."""
    log = document.get("log") if isinstance(document, dict) else None
    items = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(items, list):
        raise HarError("not a HAR file: log.entries is missing")
    observed: list[Observed] = []
    for n, entry in enumerate(items):
        where = f"entry {n}"
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            raise HarError(f"{where}: request or response is missing")
        status = response.get("status")
        if not isinstance(status, int) or isinstance(status, bool):
            if unjudged is not None:
                unjudged.append(f"{where}: status is not a whole number")
            continue
        if status <= 0:
            continue  # aborted or blocked in the browser: no answer to judge
        started = _started(entry.get("startedDateTime"), where)
        url = str(request.get("url", ""))
        try:
            urlsplit(url).port  # noqa: B018 - parsing the port is what raises
        except ValueError:
            raise HarError(f"{where}: request.url is not a URL") from None
        took = entry.get("time")
        duration = float(took) / 1000 if isinstance(took, int | float) and took > 0 else 0.0
        # Browsers write startedDateTime to the millisecond: keep 1 ms of slack, or the
        # next call of a sequence could seem to start before this one ended.
        duration = max(0.0, duration - 0.001)
        observed.append(
            Observed(
                method=str(request.get("method", "GET")).upper(),
                url=url,
                request_headers=_headers(request.get("headers"), where),
                request_body=_text(request.get("postData")),
                status=status,
                response_headers=_headers(response.get("headers"), where),
                response_body=_text(response.get("content")),
                started=started,
                finished=started + duration,
                seq=n + 1,
                decoded=True,
            )
        )
    observed.sort(key=lambda o: (o.started, o.seq))
    yield from observed


def load(path: str | Path, max_bytes: int = MAX_HAR_BYTES) -> JSON:
    """The parsed file; at most ``max_bytes`` are read (`/dev/zero` ends, it does not hang)."""
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as exc:
        raise HarError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > max_bytes:
        raise HarError(f"{path} is larger than {max_bytes} bytes")
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        raise HarError(f"{path} is not JSON (or nested too deeply)") from None


def check_har(path: str | Path, judge: Judge | None = None) -> Judge:
    """Judge every exchange of the HAR file at ``path``; returns the judge with its verdicts."""
    judge = judge or Judge()
    for observed in entries(load(path)):
        judge.judge(observed)
    return judge
