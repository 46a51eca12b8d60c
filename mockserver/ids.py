"""Credential ids: `cred_` + 16 lowercase base32 characters.

The first 8 characters encode a monotonic counter, so ids sort in creation
order (the list order breaks created_at ties by id). The last 8 come from a
`random.Random`, so a fixed seed reproduces the same ids run after run while
different fakes still hand out ids that do not look alike.
"""

from __future__ import annotations

import random
import threading

# Crockford's base32 alphabet, lowercase: its order matches ASCII order, so a
# string compare of two encoded counters compares the counters.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
PREFIX = "cred_"
_COUNTER_CHARS = 8
_RANDOM_CHARS = 8
_COUNTER_LIMIT = len(ALPHABET) ** _COUNTER_CHARS
# Crockford digit -> the digit int(..., 32) reads with the same value.
_DIGITS = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")


def encode_base32(value: int, width: int) -> str:
    """`value` as exactly `width` base32 characters, most significant first."""
    if value < 0 or value >= len(ALPHABET) ** width:
        raise ValueError("value does not fit the requested width")
    # 32 = 2**5: each character is the next 5 bits, most significant first.
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(5 * (width - 1), -1, -5))


def is_credential_id(text: str) -> bool:
    """True when `text` has the exact shape this fake generates."""
    body = text[len(PREFIX) :]
    return (
        text.startswith(PREFIX)
        and len(body) == _COUNTER_CHARS + _RANDOM_CHARS
        and all(c in ALPHABET for c in body)
    )


class IdGenerator:
    """Callable producing unique, creation-ordered credential ids.

    `seed=None` seeds the random part from the OS, so two unseeded fakes in one
    process do not collide when their data is later merged (e.g. by seeding).
    """

    def __init__(self, seed: int | None = None, *, start: int = 0) -> None:
        self._random = random.Random(seed)
        self._counter = start
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._counter >= _COUNTER_LIMIT:
                raise OverflowError("credential id counter exhausted")
            counter = self._counter
            self._counter += 1
            # One draw of 5 bits per character: a third of the cost of 8 choice() calls.
            suffix = encode_base32(self._random.getrandbits(5 * _RANDOM_CHARS), _RANDOM_CHARS)
        return PREFIX + encode_base32(counter, _COUNTER_CHARS) + suffix

    def observe(self, cred_id: str) -> None:
        """Note an id made elsewhere (a state file, fixtures): later ids sort after it.

        Ids of another shape say nothing about creation order and are ignored.
        """
        if not is_credential_id(cred_id):
            return
        counter = int(cred_id[len(PREFIX) : len(PREFIX) + _COUNTER_CHARS].translate(_DIGITS), 32)
        with self._lock:
            self._counter = max(self._counter, counter + 1)

    def __repr__(self) -> str:
        return f"IdGenerator(next={self._counter})"
