"""Regenerate the derived schema files: ``python -m contracts.generate``.

The response config schema is derived from the config schemas' ``writeOnly``
marks; a test fails when the file on disk differs from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from contracts.registry import RESPONSE_CONFIG_FILE, generate_response_config_schema

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render() -> str:
    return json.dumps(generate_response_config_schema(), indent=2) + "\n"


def main() -> None:
    target = SCHEMA_DIR / RESPONSE_CONFIG_FILE
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
