"""Compiled schema checks: the fast yes/no in front of jsonschema's explanations.

`registry` validates every request body the fake receives. Pure-Python
jsonschema spends most of a create in walking the schema; jsonschema-rs
compiles the same files (Draft 2020-12) once and answers "valid?" in a few
microseconds. Only a *no* goes on to jsonschema, which explains the failure:
error paths and messages come from one place and stay what they are.

Agreement is by construction where the two could differ:
- formats: jsonschema checks a format only with a format checker, and only
  the formats that checker knows. The compiled validator gets the very same
  checker functions for every format the schemas use (a format the checker
  does not know passes, as in jsonschema), and checks none without one.
- anything the compiled side cannot take (a non-string key, a lone
  surrogate, an integer beyond 64 bits, a type JSON does not have) is
  answered "not known valid", which hands the body to jsonschema.
The remaining difference is regex dialect: a pattern the compiled side reads
more strictly only sends a body the slow way, never changes the answer.
`tests/contracts/test_compiled.py` checks both agree on examples and on
generated valid and invalid bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any

from jsonschema import FormatChecker

JSON = Any
Check = Callable[[JSON], bool]


def used_formats(documents: Iterable[JSON]) -> frozenset[str]:
    """Every `format` value named anywhere in `documents`."""

    def walk(node: JSON) -> Iterator[str]:
        if isinstance(node, dict):
            value = node.get("format")
            if isinstance(value, str):
                yield value
            for child in node.values():
                yield from walk(child)
        elif isinstance(node, list):
            for child in node:
                yield from walk(child)

    return frozenset(name for doc in documents for name in walk(doc))


def _passes(_: str) -> bool:
    return True


def _format_functions(
    checker: FormatChecker, names: Iterable[str]
) -> dict[str, Callable[[str], bool]]:
    # jsonschema's own checker functions: the same verdict on every string.
    return {
        name: partial(_conforms, checker, name) if name in checker.checkers else _passes
        for name in names
    }


def _conforms(checker: FormatChecker, name: str, value: str) -> bool:
    return checker.conforms(value, name)


def compile_check(
    uri: str,
    resources: Mapping[str, JSON],
    format_checker: FormatChecker | None = None,
) -> Check:
    """A function telling whether a body is valid against the schema at `uri`.

    `resources` maps absolute URIs to schema documents (the ones `uri` may
    reference); `format_checker` is the one the jsonschema validator uses
    (None: formats are annotations only, as there).
    """
    # Imported on first use: a process that never validates never loads it.
    import jsonschema_rs

    registry = jsonschema_rs.Registry(list(resources.items()))
    if format_checker is None:
        validator = jsonschema_rs.Draft202012Validator(
            {"$ref": uri}, registry=registry, validate_formats=False, offline=True
        )
    else:
        validator = jsonschema_rs.Draft202012Validator(
            {"$ref": uri},
            registry=registry,
            offline=True,
            validate_formats=True,
            formats=_format_functions(format_checker, used_formats(resources.values())),
        )
    is_valid = validator.is_valid

    def check(body: JSON) -> bool:
        try:
            return is_valid(body)
        except Exception:
            # Not JSON the compiled side can read: let jsonschema decide.
            return False

    return check
