"""One report writer for every command of the kit: exit codes, JSON, JUnit XML and HTML.

``run``, ``learn``, ``diff``, ``proxy`` and ``check-har`` each describe their
outcome as a list of :class:`Case` (one test case per check, step or finding)
and hand it here, so every JUnit file the kit writes has the same shape:
a failure per finding, ``<skipped>`` with the reason for a check that did not
run all its probes, ``<error>`` when the run itself broke.

Files are written atomically (a temporary file renamed into place), so a
report is either whole or absent, even when the process is stopped halfway.
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The exit codes of every command: a verdict comes from one place.
EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_ERROR = 2


@dataclass
class Failure:
    """One finding inside a test case: a one-line message and the text that shows it."""

    message: str
    text: str = ""
    kind: str | None = None


@dataclass
class Case:
    """One JUnit test case. At most one of ``skipped`` and ``error`` is set."""

    name: str
    classname: str
    description: str = ""
    failures: list[Failure] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: Mapping[str, Any]) -> None:
    write_text_atomically(path, json.dumps(data, indent=2) + "\n")


def write_html(path: str | Path, title: str, document: Mapping[str, Any]) -> None:
    """``document`` (a command's JSON report, masked already) as one self-contained page."""
    from contracts.kit.coverage.html import html_text

    write_text_atomically(path, html_text(title, document))


def junit_text(
    suite: str,
    cases: Iterable[Case],
    *,
    properties: Mapping[str, object] | None = None,
    seconds: float | None = None,
    error: str | None = None,
) -> str:
    """The JUnit XML document of ``cases``; ``error`` is the run's own error, if any."""
    cases = list(cases)
    root = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(cases)),
        failures=str(sum(1 for c in cases if c.failures)),
        errors=str(sum(1 for c in cases if c.error is not None)),
        skipped=str(sum(1 for c in cases if c.skipped is not None and not c.failures)),
    )
    if seconds is not None:
        root.set("time", f"{seconds:.3f}")
    if properties:
        props = ET.SubElement(root, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", name=name, value=str(value))
    for case in cases:
        element = ET.SubElement(root, "testcase", classname=case.classname, name=case.name)
        if case.description:
            ET.SubElement(element, "system-out").text = case.description
        for failure in case.failures:
            node = ET.SubElement(element, "failure", message=failure.message)
            if failure.kind:
                node.set("type", failure.kind)
            node.text = failure.text
        if case.error is not None:
            ET.SubElement(element, "error", message=case.error or "error")
        elif case.skipped is not None and not case.failures:
            ET.SubElement(element, "skipped", message=case.skipped or "skipped")
    if error:
        ET.SubElement(root, "system-err").text = error
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(
    path: str | Path,
    suite: str,
    cases: Iterable[Case],
    *,
    properties: Mapping[str, object] | None = None,
    seconds: float | None = None,
    error: str | None = None,
) -> None:
    text = junit_text(suite, cases, properties=properties, seconds=seconds, error=error)
    write_text_atomically(path, text)
