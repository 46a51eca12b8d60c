"""The fake's one JSON encoding of its answers: compact and ASCII-only.

ASCII-only (`ensure_ascii`): any string survives the encoding, a lone
surrogate included, so rendering never fails. Compact separators: the bytes
a client reads are the bytes a cached rendering holds (the store keeps each
credential's text, `CredentialStore.get_json`), and a cached text dropped
into an envelope reads exactly like the envelope encoded whole. No Flask
here: the store uses it as much as the HTTP layer does.
"""

from __future__ import annotations

import json
from typing import Any, Final

# One encoder for every answer: `json.dumps` with options builds a new one per call.
_ENCODER: Final = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"))


def encode(value: Any) -> str:
    """`value` as the fake writes JSON: `{"a":1,"b":[true,null]}`, `\\u` escapes beyond ASCII."""
    return _ENCODER.encode(value)
