"""Canary secrets and the detector that finds them in responses.

Every secret the kit sends is a canary: a fresh, high-entropy string that
nothing but a leak can put into a response. The detector looks for each
canary raw, JSON-escaped, URL-encoded, base64, base64url and hex encoded.

Any fragment of 6 or more characters is a leak. "Whole or in part" (the
published page's rule for secrets, and the invariant "no secret in any
response") includes a hint that shows a secret's first or last few
characters (``****x~a1B2``), so the detector reports any :data:`EDGE`-long
window of a canary's raw, JSON-escaped or URL-encoded form found anywhere in
a response. Encoded forms (hex, base64) are matched from :data:`FRAGMENT`
characters on: their windows are drawn from a small alphabet that ordinary
tokens use too.

Why a 6-character window cannot match by chance: a canary is 10 groups of 4
letters and digits joined by :data:`MARK` (``~``), so every 6-character
window of it holds a ``~``, a character the kit sends nowhere else and that
ids, timestamps, cursors, base64 and hex never hold. Only a response that
holds a ``~`` is probed for windows, and only around each ``~``. The first
two and the last two groups (:data:`SHARED_EDGE` letters and digits each) are
shared by every canary of a run; the 6 groups between are unique to each. A
canary holds 24 unique random letters and digits (143 bits): no response can
hold one, or a 12-character fragment of one, by chance. The factory also
refuses to hand out a canary one of whose windows occurs in a text it was
told the kit sends in the clear (keys, name prefixes: :meth:`CanaryFactory.reserve`).

Scanning is linear in the size of the haystack: every fragment of every
encoding is indexed once, and the haystack is probed at a stride of
:data:`PROBE` characters with shorter probes that any long enough match must
contain; only probe hits are checked against the full fragments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import string
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

FRAGMENT = 12
"""The shortest fragment of an encoded canary that counts as a leak."""
PROBE = FRAGMENT // 2
EDGE = 6
"""The shortest fragment of a canary's raw, JSON or URL form that counts as a leak."""
SHARED_EDGE = 8
"""Letters and digits at each end of a canary shared by every canary of a run."""
MARK = "~"
"""In every window of a canary (see above); URL-encoded by some encoders as %7E."""
GROUP = 4
_ALPHABET = string.ascii_letters + string.digits
CORE_LENGTH = 24
CANARY_LENGTH = (CORE_LENGTH + 2 * SHARED_EDGE) // GROUP * (GROUP + 1) - 1
_MARKS = re.compile(r"~|%7[Ee]")
_WINDOW_FORMS = ("raw", "json-escaped", "url-encoded")


@dataclass(frozen=True)
class Leak:
    """One canary found in a response: where, and in which encoding; never the value."""

    where: str
    encoding: str
    canary_index: int

    def __str__(self) -> str:
        which = f"canary #{self.canary_index}" if self.canary_index != SHARED else "a canary"
        return f"{which} found {self.encoding} in {self.where}"


def _encodings(canary: str) -> dict[str, set[str]]:
    """Every encoded form of ``canary`` the detector knows, by encoding name."""
    raw = canary.encode()
    forms: dict[str, set[str]] = {
        "raw": {canary},
        "json-escaped": {json.dumps(canary)[1:-1]},
        "url-encoded": {
            urllib.parse.quote(canary, safe=""),
            urllib.parse.quote_plus(canary),
            urllib.parse.quote(canary, safe="").replace(MARK, "%7E"),
        },
        "hex": {raw.hex(), raw.hex().upper()},
    }
    b64: set[str] = set()
    b64url: set[str] = set()
    # base64 of a longer text that contains the canary depends on its offset mod 3:
    # encode at every alignment and keep only the characters that depend on the canary alone.
    for pad in range(3):
        padded = b"\0" * pad + raw
        skip = ((pad + 2) // 3) * 4 if pad else 0
        full_groups = (len(padded) // 3) * 4
        for encoder, target in ((base64.b64encode, b64), (base64.urlsafe_b64encode, b64url)):
            text = encoder(padded).decode()
            target.add(text[skip:full_groups] if pad else text.rstrip("="))
    forms["base64"] = b64
    forms["base64url"] = b64url
    return forms


SHARED = -1
"""The canary index of a fragment several canaries hold (the run's shared head or tail)."""


def _register(index: dict[str, tuple[int, str]], piece: str, canary: int, encoding: str) -> None:
    """Index ``piece`` as ``canary``'s, or as :data:`SHARED` once another canary holds it."""
    known = index.get(piece)
    if known is None:
        index[piece] = (canary, encoding)
    elif known[0] != canary:
        index[piece] = (SHARED, known[1])


class CanaryDetector:
    """Holds the canaries of one run and finds any of them in any text."""

    def __init__(self) -> None:
        self._canaries: list[str] = []
        self._known: set[str] = set()
        self._fragments: dict[str, tuple[int, str]] = {}
        self._probes: set[str] = set()
        self._windows: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(self._canaries)

    def add(self, canary: str, edges: bool = False) -> str:
        """Register ``canary`` (idempotent) and return it.

        With ``edges``, every :data:`EDGE`-long window of its raw, JSON and URL
        forms counts as a leak (only for canaries built as the module docstring
        says, with a :data:`MARK` in every window: a plain string's windows
        could be ordinary words).
        """
        if len(canary) < FRAGMENT:
            raise ValueError(f"a canary needs at least {FRAGMENT} characters")
        with self._lock:
            if canary in self._known:
                return canary
            index = len(self._canaries)
            self._canaries.append(canary)
            self._known.add(canary)
            for encoding, forms in _encodings(canary).items():
                for form in forms:
                    for start in range(len(form) - FRAGMENT + 1):
                        fragment = form[start : start + FRAGMENT]
                        _register(self._fragments, fragment, index, encoding)
                        for offset in range(FRAGMENT - PROBE + 1):
                            self._probes.add(fragment[offset : offset + PROBE])
            if edges:
                for encoding, forms in _encodings(canary).items():
                    if encoding not in _WINDOW_FORMS:
                        continue
                    for form in forms:
                        for start in range(len(form) - EDGE + 1):
                            label = f"{encoding}, as a fragment of {EDGE}+ characters"
                            _register(self._windows, form[start : start + EDGE], index, label)
        return canary

    def scan(self, haystack: str | bytes, where: str = "body") -> list[Leak]:
        """Every canary found in ``haystack``, at most one report per canary and encoding."""
        if isinstance(haystack, bytes):
            haystack = haystack.decode("latin-1")
        if not self._fragments or len(haystack) < EDGE:
            return []
        found: dict[tuple[int, str], Leak] = {}
        if self._windows:
            windows = self._windows
            # Every window of a marked canary holds a mark: probe around each one only.
            for match in _MARKS.finditer(haystack):
                first = max(0, match.start() - EDGE + 1)
                for start in range(first, match.end()):
                    hit = windows.get(haystack[start : start + EDGE])
                    if hit is not None and hit not in found:
                        found[hit] = Leak(where, hit[1], hit[0])
        probes, fragments = self._probes, self._fragments
        end = len(haystack) - PROBE + 1
        # Any FRAGMENT-long match covers an aligned PROBE-long window: probe only those.
        for pos in range(0, end, PROBE):
            if haystack[pos : pos + PROBE] not in probes:
                continue
            for start in range(max(0, pos - FRAGMENT + PROBE), pos + 1):
                hit = fragments.get(haystack[start : start + FRAGMENT])
                if hit is not None and hit not in found:
                    found[hit] = Leak(where, hit[1], hit[0])
        leaks = list(found.values())
        whole = {leak.canary_index for leak in leaks if "fragment of" not in leak.encoding}
        # A longer match of a canary already names it: its short windows are no news.
        leaks = [
            leak
            for leak in leaks
            if "fragment of" not in leak.encoding or leak.canary_index not in whole
        ]
        if any(leak.canary_index != SHARED for leak in leaks):
            # The run's shared head or tail inside a leak already named: no news.
            leaks = [leak for leak in leaks if leak.canary_index != SHARED]
        # One report per canary: two encodings that share a piece name one leak.
        return list({leak.canary_index: leak for leak in reversed(leaks)}.values())[::-1]

    def scan_headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[Leak]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        leaks: list[Leak] = []
        for name, value in items:
            leaks.extend(self.scan(f"{name}: {value}", where=f"header {name}"))
        return leaks

    def mask(self, text: str) -> str:
        """``text`` with every canary (raw form) replaced by ``***``."""
        for canary in self._canaries:
            if canary in text:
                text = text.replace(canary, "***")
        return text


class CanaryFactory:
    """Makes canaries for one run and registers each with the detector.

    A canary is an HMAC of a per-run random key and a number, so a Hypothesis
    strategy can draw the number: replaying an example gives the same canary,
    and even the shrunk number 0 gives a high-entropy value.
    """

    def __init__(self, detector: CanaryDetector, key: bytes | None = None) -> None:
        self.detector = detector
        self._key = key if key is not None else os.urandom(32)
        self._counter = 0
        self._lock = threading.Lock()
        self._reserved: set[str] = set()
        # The run's shared head and tail (see the module docstring).
        edges = self._chars(b"edges", 2 * SHARED_EDGE)
        self._head, self._tail = edges[:SHARED_EDGE], edges[SHARED_EDGE:]

    def reserve(self, *texts: str) -> None:
        """Texts the kit sends in the clear (keys, name prefixes, config values): no
        canary handed out from now on has a window that occurs in one of them."""
        for text in texts:
            self._reserved.update(text[i : i + EDGE] for i in range(len(text) - EDGE + 1))

    def _clashes(self, canary: str) -> bool:
        return any(canary[i : i + EDGE] in self._reserved for i in range(len(canary) - EDGE + 1))

    def _chars(self, message: bytes, count: int) -> str:
        digest = hmac.new(self._key, message, hashlib.sha512).digest()
        value = int.from_bytes(digest, "big")
        chars = []
        for _ in range(count):
            value, index = divmod(value, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def derive(self, number: int) -> str:
        """The canary of ``number``: the same for the same number in one run."""
        for attempt in range(1000):
            salt = f"{number}" if attempt == 0 else f"{number}/{attempt}"
            core = self._chars(salt.encode(), CORE_LENGTH)
            plain = self._head + core + self._tail
            canary = MARK.join(plain[i : i + GROUP] for i in range(0, len(plain), GROUP))
            if not self._clashes(canary):
                return self.detector.add(canary, edges=True)
        raise RuntimeError("every canary drawn clashes with a reserved text")

    def fresh(self) -> str:
        """A canary never handed out by :meth:`fresh` before in this run."""
        with self._lock:
            self._counter += 1
            number = -self._counter  # negative: never collides with drawn numbers
        return self.derive(number)

    def strategy(self) -> SearchStrategy[str]:
        """Canaries for Hypothesis: replayable within a run, distinct for distinct draws."""
        return st.integers(min_value=0, max_value=2**31).map(self.derive)
