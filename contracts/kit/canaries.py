"""Canary secrets and the detector that finds them in responses.

Every secret the kit sends is a canary: a fresh, high-entropy ASCII string
that nothing but a leak can put into a response. The detector looks for each
canary raw, JSON-escaped, URL-encoded, base64, base64url and hex encoded, and
for any fragment of :data:`FRAGMENT` or more characters of any of those forms.

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
_ALPHABET = string.ascii_letters + string.digits
CANARY_LENGTH = 32


@dataclass(frozen=True)
class Leak:
    """One canary found in a response: where, and in which encoding; never the value."""

    where: str
    encoding: str
    canary_index: int

    def __str__(self) -> str:
        return f"canary #{self.canary_index} found {self.encoding} in {self.where}"


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


class CanaryDetector:
    """Holds the canaries of one run and finds any of them in any text."""

    def __init__(self) -> None:
        self._canaries: list[str] = []
        self._known: set[str] = set()
        self._fragments: dict[str, tuple[int, str]] = {}
        self._probes: set[str] = set()
        self._lock = threading.Lock()

    @property
    def canaries(self) -> tuple[str, ...]:
        return tuple(self._canaries)

    def add(self, canary: str) -> str:
        """Register ``canary`` (idempotent) and return it."""
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
                        self._fragments.setdefault(fragment, (index, encoding))
                        for offset in range(FRAGMENT - PROBE + 1):
                            self._probes.add(fragment[offset : offset + PROBE])
        return canary

    def scan(self, haystack: str | bytes, where: str = "body") -> list[Leak]:
        """Every canary found in ``haystack``, at most one report per canary and encoding."""
        if isinstance(haystack, bytes):
            haystack = haystack.decode("latin-1")
        if not self._fragments or len(haystack) < FRAGMENT:
            return []
        found: dict[tuple[int, str], Leak] = {}
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
        return list(found.values())

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

    def derive(self, number: int) -> str:
        digest = hmac.new(self._key, str(number).encode(), hashlib.sha512).digest()
        value = int.from_bytes(digest, "big")
        chars = []
        for _ in range(CANARY_LENGTH):
            value, index = divmod(value, len(_ALPHABET))
            chars.append(_ALPHABET[index])
        return self.detector.add("".join(chars))

    def fresh(self) -> str:
        """A canary never handed out by :meth:`fresh` before in this run."""
        with self._lock:
            self._counter += 1
            number = -self._counter  # negative: never collides with drawn numbers
        return self.derive(number)

    def strategy(self) -> SearchStrategy[str]:
        """Canaries for Hypothesis: replayable within a run, distinct for distinct draws."""
        return st.integers(min_value=0, max_value=2**31).map(self.derive)
