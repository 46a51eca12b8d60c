"""Reference pages generated at `mkdocs build` time (see tools/docs_hooks.py).

Each function returns the Markdown of one page, read from the source of
truth so that the page cannot drift from the code:

- `cli_reference()`: the command lines, from the argparse parsers behind the
  console scripts that pyproject.toml declares. The parser is caught as the
  script's `main` builds it, so the page follows the parser wherever its
  module moves.
- `config_fields_reference()`: the config fields of every credential type,
  from the JSON Schemas in contracts/schemas (through `contracts.registry`).
- `openapi_reference()` and `openapi_json()`: the OpenAPI document, its
  operations as a table, its source as a code block, and the bundled
  document as a file to download.

Nothing here touches the network; everything is read from this checkout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPTS = ("planasonix-mock", "planasonix-contract")


# --- command lines -------------------------------------------------------------


class _ParserCaught(Exception):
    """Raised in place of parsing, carrying the parser that was about to parse."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        super().__init__(parser.prog)
        self.parser = parser


def console_scripts() -> dict[str, str]:
    """`[project.scripts]` of pyproject.toml: script name -> "module:function"."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    scripts: dict[str, str] = project["scripts"]
    return scripts


def _entry_point(target: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), attribute)
    return function


@contextmanager
def _argv0(name: str) -> Iterator[None]:
    # argparse takes `prog` from sys.argv[0] when the parser does not set it.
    saved = sys.argv[:]
    sys.argv[:] = [name]
    try:
        yield
    finally:
        sys.argv[:] = saved


def script_parser(script: str) -> argparse.ArgumentParser:
    """The top-level parser the console script `script` builds.

    The script's `main(["--help"])` runs with parsing replaced by a raise that
    carries the parser, so nothing is parsed, printed or started.
    """
    main = _entry_point(console_scripts()[script])

    def catch(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> Any:
        raise _ParserCaught(self)

    with (
        _argv0(script),
        mock.patch.object(argparse.ArgumentParser, "parse_args", catch),
        mock.patch.object(argparse.ArgumentParser, "parse_known_args", catch),
        mock.patch.object(argparse.ArgumentParser, "parse_intermixed_args", catch),
    ):
        try:
            main(["--help"])
        except _ParserCaught as caught:
            return caught.parser
    # The kit's entry point returns early, with a hint on stderr, when the [kit]
    # extra is missing: the site needs it installed to document that command.
    raise RuntimeError(
        f"{script}: its main() returned without parsing its arguments "
        "(is every extra it needs installed? pip install -e '.[kit,docs]')"
    )


def _subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each subcommand, in declaration order."""
    found: list[tuple[str, str, argparse.ArgumentParser]] = []
    for action in parser._actions:  # argparse keeps no public list of its actions
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, helps.get(name, ""), sub))
    return found


def _escape(text: str) -> str:
    """Plain text safe inside a Markdown table cell."""
    # Backticks stay: help texts mark code with them. An underscore inside a word
    # is no emphasis in Python-Markdown, so `/_mock/` needs no escape.
    for char in ("\\", "|", "*", "[", "]"):
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _option_row(parser: argparse.ArgumentParser, action: argparse.Action) -> str:
    formatter = parser._get_formatter()
    if action.option_strings:
        metavar = ""
        if action.nargs != 0:
            metavar = " " + formatter._format_args(action, action.dest.upper())
        names = ", ".join(f"`{flag}{metavar}`" for flag in action.option_strings)
    else:
        names = f"`{formatter._format_args(action, action.dest)}`"
    help_text = _escape(formatter._expand_help(action)) if action.help else ""
    default = ""
    if (
        action.option_strings
        and action.default not in (None, False, argparse.SUPPRESS)
        and action.nargs != 0
        and not isinstance(action.default, list)
    ):
        default = f"`{action.default}`"
    return f"| {names} | {default} | {help_text} |"


def _parser_section(parser: argparse.ArgumentParser, level: int) -> list[str]:
    heading = "#" * level
    lines = [f"{heading} `{parser.prog}`", ""]
    if parser.description:
        lines += [_escape(parser.description), ""]
    usage = parser.format_usage().removeprefix("usage: ").strip()
    lines += ["```text", usage, "```", ""]
    rows = [
        _option_row(parser, action)
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        and not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
    ]
    if rows:
        lines += ["| argument | default | what it does |", "|---|---|---|", *rows, ""]
    subcommands = _subcommands(parser)
    if subcommands:
        lines += ["| command | what it does |", "|---|---|"]
        lines += [f"| `{name}` | {_escape(help_text)} |" for name, help_text, _ in subcommands]
        lines.append("")
        for _, _, sub in subcommands:
            lines += _parser_section(sub, level + 1)
    if parser.epilog:
        lines += [_escape(parser.epilog), ""]
    return lines


def cli_reference() -> str:
    lines = [
        "# Command line",
        "",
        "Generated from the argparse parsers of the console scripts when the site is",
        "built, so it lists exactly what the installed commands accept. `--help` on any",
        "command prints the same.",
        "",
    ]
    # argparse wraps usage lines to the terminal's width: fix it, for a stable page.
    with mock.patch.dict(os.environ, {"COLUMNS": "88"}):
        for script in CONSOLE_SCRIPTS:
            lines += _parser_section(script_parser(script), 2)
    return "\n".join(lines)


# --- config fields -------------------------------------------------------------


def _type_of(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(f"`{value}`" for value in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref.endswith("/timestamp"):
            return "string, RFC 3339 UTC timestamp (`...Z`)"
        return "see `" + ref + "`"
    kind = schema.get("type", "any")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds and isinstance(schema.get("items"), Mapping):
        return f"array of {_type_of(schema['items'])}"
    if "object" in kinds and isinstance(schema.get("additionalProperties"), Mapping):
        return f"object of {_type_of(schema['additionalProperties'])}"
    return " or ".join(kinds)


def _limits(schema: Mapping[str, Any]) -> str:
    parts: list[str] = []
    if "minimum" in schema or "maximum" in schema:
        parts.append(f"{schema.get('minimum', '')}-{schema.get('maximum', '')}")
    if "maxLength" in schema:
        if "minLength" in schema:
            parts.append(f"{schema['minLength']}-{schema['maxLength']} characters")
        else:
            parts.append(f"at most {schema['maxLength']} characters")
    if "pattern" in schema:
        parts.append(f"matches `{schema['pattern']}`")
    if "maxItems" in schema:
        parts.append(f"at most {schema['maxItems']} items")
    if "maxProperties" in schema:
        parts.append(f"at most {schema['maxProperties']} entries")
    return ", ".join(parts)


def _field_rows(schema: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    required = set(schema.get("required", ()))
    for name, sub in schema.get("properties", {}).items():
        path = prefix + name
        secret = "**secret** (write-only)" if sub.get("writeOnly") is True else ""
        needed = "yes" if name in required else ""
        description = sub.get("description", "")
        limits = _limits(sub)
        notes = "; ".join(part for part in (description, limits) if part)
        yield f"| `{path}` | {_type_of(sub)} | {needed} | {secret} | {notes} |"
        if sub.get("type") == "object" and "properties" in sub:
            yield from _field_rows(sub, path + ".")


def _rules(schema: Mapping[str, Any]) -> list[str]:
    rules = [
        str(part["description"])
        for part in schema.get("allOf", ())
        if isinstance(part, Mapping) and "description" in part
    ]
    for field, needs in schema.get("dependentRequired", {}).items():
        rules.append(f"`{field}` needs " + " and ".join(f"`{need}`" for need in needs))
    if schema.get("additionalProperties") is False:
        rules.append("any other field is refused (400 naming the field)")
    return rules


def config_fields_reference() -> str:
    from contracts import registry

    lines = [
        "# Config fields per credential type",
        "",
        "Generated from the JSON Schemas in `contracts/schemas/` when the site is built.",
        "A **secret** field (`writeOnly` in the schema) is accepted on create and",
        "update and never comes back: not in any response, header, error message,",
        "log or journal. Every other field comes back in `config` as stored.",
        "",
        "Which fields a type takes and which are secret is what the published page",
        "describes; the required fields, the either/or rules and the limits below are",
        "the fake's own choices (see [Behaviour](../behaviour.md)): a deployment may",
        "be looser or stricter, and the contract kit does not judge it on them.",
        "",
    ]
    documents = registry.schema_documents()
    for type_ in registry.CREDENTIAL_TYPES:
        schema = documents[f"config-{type_}.json"]
        secrets = ", ".join(f"`{'.'.join(path)}`" for path in registry.secret_paths(type_))
        lines += [f"## `{type_}`", ""]
        if schema.get("title"):
            lines += [f"{schema['title']}. Secret fields: {secrets}.", ""]
        lines += [
            "| field | type | required | secret | notes |",
            "|---|---|---|---|---|",
            *_field_rows(schema),
            "",
        ]
        rules = _rules(schema)
        if rules:
            lines += ["Rules:", "", *(f"- {rule}" for rule in rules), ""]
    return "\n".join(lines)


# --- the OpenAPI document ------------------------------------------------------


def openapi_json() -> str:
    """The bundled document the fake serves at /openapi.json, for download."""
    import json

    from contracts import openapi_document

    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def openapi_reference() -> str:
    from contracts import openapi_document

    document = openapi_document()
    lines = [
        "# OpenAPI document",
        "",
        f"**{document['info']['title']}**, version {document['info']['version']}, "
        f"OpenAPI {document['openapi']}. {document['info'].get('description', '')}",
        "",
        "- [openapi.json](openapi.json): the bundled, self-contained document, the one",
        "  the fake serves at `/openapi.json` (also `/openapi.yaml`) and",
        "  `contracts.openapi_document()` returns. Feed this one to your tools",
        "  ([The OpenAPI document and your tools](../guides/openapi-tools.md)).",
        "- `contracts/openapi.yaml` (below): the source, written once under `/api`,",
        "  referencing the schema files in `contracts/schemas/`.",
        "",
        "## Operations",
        "",
        "| method | path | summary | statuses |",
        "|---|---|---|---|",
    ]
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue  # the /v1/api copies are the same operations
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = ", ".join(sorted(operation["responses"]))
            summary = _escape(operation.get("summary", ""))
            lines.append(f"| `{method.upper()}` | `{path}` | {summary} | {statuses} |")
    source = (ROOT / "contracts" / "openapi.yaml").read_text(encoding="utf-8")
    lines += [
        "",
        "Every path is served under `/v1/api` as well.",
        "",
        "## Source: `contracts/openapi.yaml`",
        "",
        "```yaml",
        source.rstrip("\n"),
        "```",
        "",
    ]
    return "\n".join(lines)


PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": cli_reference,
    "reference/config-fields.md": config_fields_reference,
    "reference/openapi.md": openapi_reference,
    "reference/openapi.json": openapi_json,
}
