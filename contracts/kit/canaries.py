"""Canary secrets and the detector that finds them in responses.

Every secret the kit sends is a canary: a fresh, high-entropy ASCII string
that nothing but a leak can put into a response. The detector looks for each
canary raw, JSON-escaped, URL-encoded, base64, base64url and hex encoded, and
for any fragment of :data:`FRAGMENT` or more characters of any of those forms.

Scanning is linear in the size of the haystack: every fragment of every
encoding is indexed once, and the haystack is probed at a stride of
:data:`PROBE` characters with shorter probes that any long enough match must
contain; only probe hits are checked against the full fragments.

Short edges. "Whole or in part" (the published page's rule for secrets) includes a hint that shows a
secret's first or last few characters (``****a1B2c3``). The detector also
reports any alphanumeric token of a response (a maximal run of
``[A-Za-z0-9]``) of :data:`EDGE` to ``FRAGMENT - 1`` characters that equals
the start or the end of a canary. A 6-character token can equal a random
6-character string by chance (62**-6, about 1.8e-11), and a run holds
thousands of canaries, so canaries are built to keep that chance small: each
is ``head + core + tail``, where ``head`` and ``tail`` (:data:`SHARED_EDGE`
= 8 characters each) are random per run and shared by all its canaries and
``core`` (24 characters) is unique to each. A token of 6 to 8 characters can
then only match the run's one head or one tail; a token of 9 to 11
characters matches one canary's edge. For a run that scans R tokens of 6-11
characters and holds N canaries, the chance of any false match is at most::

    R * (2 * (62**-6 + 62**-7 + 62**-8) + 2 * N * (62**-9 + 62**-10 + 62**-11))
      ~= R * (3.6e-11 + N * 1.5e-16)

For a large default run (R = 10**6 tokens, N = 10**4 canaries) that is below
4e-5, and for a run against the fake (R ~ 10**5) below 4e-6; tokens of real
responses (words, ids, timestamps) are far from uniform, which only lowers it.
Canaries stay 40 characters of which 24 random (143 bits): no response can
hold one, or a 12-character fragment of one, by chance.
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
"""The shortest start or end of a canary that counts as a leak when it stands alone."""
SHARED_EDGE = 8
"""Characters at each end of a canary shared by every canary of a run (see above)."""
_ALPHABET = string.ascii_letters + string.digits
CORE_LENGTH = 24
CANARY_LENGTH = CORE_LENGTH + 2 * SHARED_EDGE
_TOKEN = re.compile(f"[A-Za-z0-9]{{{EDGE},{FRAGMENT - 1}}}")
_ALNUM = frozenset(_ALPHABET)


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
        "url-encoded": {urllib.parse.quote(canary, safe=""), urllib.parse.quote_plus(canary)},
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
        self._edges: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(self._canaries)

    def add(self, canary: str, edges: bool = False) -> str:
        """Register ``canary`` (idempotent) and return it.

        With ``edges``, its starts and ends of :data:`EDGE` or more characters
        count as leaks when they stand alone (only for canaries built as the
        module docstring says: a plain string's edges could be ordinary words).
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
                for size in range(EDGE, FRAGMENT):
                    _register(self._edges, canary[:size], index, f"as its first {size} characters")
                    _register(self._edges, canary[-size:], index, f"as its last {size} characters")
        return canary

    def scan(self, haystack: str | bytes, where: str = "body") -> list[Leak]:
        """Every canary found in ``haystack``, at most one report per canary and encoding."""
        if isinstance(haystack, bytes):
            haystack = haystack.decode("latin-1")
        if not self._fragments or len(haystack) < EDGE:
            return []
        found: dict[tuple[int, str], Leak] = {}
        if self._edges:
            for match in _TOKEN.finditer(haystack):
                start, end = match.span()
                # Only a whole token: a run of letters and digits, not part of a longer one.
                if (start > 0 and haystack[start - 1] in _ALNUM) or (
                    end < len(haystack) and haystack[end] in _ALNUM
                ):
                    continue
                hit = self._edges.get(match.group())
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
        if any(leak.canary_index != SHARED for leak in leaks):
            # The run's shared head or tail inside a leak already named: no news.
            leaks = [leak for leak in leaks if leak.canary_index != SHARED]
        return leaks

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
        # The run's shared head and tail (see the module docstring).
        edges = self._chars(b"edges", 2 * SHARED_EDGE)
        self._head, self._tail = edges[:SHARED_EDGE], edges[SHARED_EDGE:]

    def _chars(self, message: bytes, count: int) -> str:
        digest = hmac.new(self._key, message, hashlib.sha512).digest()
        value = int.from_bytes(digest, "big")
        chars = []
        for _ in range(count):
            value, index = divmod(value, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return "".join(chars)

    def derive(self, number: int) -> str:
        core = self._chars(str(number).encode(), CORE_LENGTH)
        return self.detector.add(self._head + core + self._tail, edges=True)

    def fresh(self) -> str:
        """A canary never handed out by :meth:`fresh` before in this run."""
        with self._lock:
            self._counter += 1
            number = -self._counter  # negative: never collides with drawn numbers
        return self.derive(number)

    def strategy(self) -> SearchStrategy[str]:
        """Canaries for Hypothesis: replayable within a run, distinct for distinct draws."""
        return st.integers(min_value=0, max_value=2**31).map(self.derive)
