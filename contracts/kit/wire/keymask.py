"""The kit's own secrets, the API keys it sends, masked wherever they turn up.

A key is a secret of the kit's own: every variant the kit sends (the key one
character longer or shorter, in another case, a prefix of it; the second and
the read-only keys) must stay out of every report, even when a deployment
echoes it ("invalid key: ..."). So the mask is not the key's exact text but
any :data:`PIECE` characters of it, compared without regard to ASCII case:
every run of text covered by such pieces is replaced by ``***``. The same
index tells whether an answer echoes a key (:meth:`KeyMask.found`).

Matching is linear in the text: the text is probed at a stride of
:data:`PROBE` characters with the ``PROBE``-character slices of every piece
(any piece-long match contains an aligned probe); only hits are checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

PIECE = 8
"""The shortest piece of a key that is masked (and that counts as an echo)."""
PROBE = PIECE // 2
MASK = "***"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    # ASCII only: keeps every index of ``text`` where it was (str.lower may not).
    return text.translate(_ASCII_LOWER)


class KeyMask:
    """The keys of one run; finds and masks any :data:`PIECE` characters of any of them."""

    def __init__(self, keys: Iterable[str | None] = ()) -> None:
        self._keys: set[str] = set()
        self._pieces: set[str] = set()
        self._probes: set[str] = set()
        self._short: set[str] = set()  # keys shorter than a piece: masked whole
        self._lock = threading.Lock()
        self._echoes: set[object] = set()
        self.update(keys)

    def first_echo(self, where: object) -> bool:
        """True the first time an echo at ``where`` is noted (one report per place)."""
        with self._lock:
            if where in self._echoes:
                return False
            self._echoes.add(where)
            return True

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._keys))

    def add(self, key: str | None) -> None:
        if not key:
            return
        with self._lock:
            if key in self._keys:
                return
            self._keys.add(key)
            low = _lower(key)
            if len(low) < PIECE:
                self._short.add(low)
                return
            for start in range(len(low) - PIECE + 1):
                piece = low[start : start + PIECE]
                self._pieces.add(piece)
                for offset in range(PIECE - PROBE + 1):
                    self._probes.add(piece[offset : offset + PROBE])

    def update(self, keys: Iterable[str | None]) -> None:
        for key in keys:
            self.add(key)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """The runs of ``text`` covered by pieces of a key, merged, in order."""
        if not text or not self._keys:
            return []
        low = _lower(text)
        covered: list[tuple[int, int]] = []
        pieces, probes = self._pieces, self._probes
        if pieces:
            last = len(low) - PROBE + 1
            for pos in range(0, max(0, last), PROBE):
                if low[pos : pos + PROBE] not in probes:
                    continue
                for start in range(max(0, pos - PIECE + PROBE), pos + 1):
                    if low[start : start + PIECE] in pieces:
                        covered.append((start, start + PIECE))
        for short in self._short:
            start = low.find(short)
            while start != -1:
                covered.append((start, start + len(short)))
                start = low.find(short, start + 1)
        covered.sort()
        merged: list[tuple[int, int]] = []
        for start, end in covered:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        return merged

    def found(self, text: str) -> bool:
        return bool(self.spans(text))

    def mask(self, text: str) -> str:
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        at = 0
        for start, end in spans:
            out.append(text[at:start])
            out.append(MASK)
            at = end
        out.append(text[at:])
        return "".join(out)
