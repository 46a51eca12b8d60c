"""One self-contained HTML page from a command's JSON report: verdict, coverage, findings.

The page is rendered from the very document the JSON report holds (already
masked: no key piece and no canary is in it), so the two cannot disagree. It
loads nothing: inline CSS, no script, no image, no link to anything outside the
file; it reads the same offline. Every text taken from the report is escaped.
Matrices (operations by prefix and key form, statuses, isolation, secret
fields by channel) are tables whose cells are coloured by state; the
transitions and the findings (violations and expectations apart, each with
the source of its rule) are lists.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#1b1f24}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccd}
.verdict{padding:.6em 1em;border-radius:6px;font-weight:600;display:inline-block}
.ok{background:#d8f5dd}.fail{background:#fbd9d6}.error{background:#fde9c4}
table.matrix{border-collapse:collapse;margin:.5em 0}
.matrix th,.matrix td{border:1px solid #b8bfc8;padding:.25em .55em;text-align:center}
.matrix th{background:#eef1f5}.matrix th.row{text-align:left}
.seen,.proven,.exercised{background:#bfe8c6}
.missing,.broken,.unexercised{background:#f6b9b3}
.undocumented{background:#fbe2a6}.untried{background:#e6e6e6}
.na,.unserved{background:#fafafa;color:#8a929c}
.finding{border-left:4px solid #d0463b;padding:.3em .8em;margin:.7em 0;background:#fff6f5}
.finding.expectation{border-color:#d69a1c;background:#fffaf0}
pre{white-space:pre-wrap;word-break:break-all;background:#f4f6f8;padding:.4em;margin:.3em 0}
.legend span{display:inline-block;padding:0 .5em;margin-right:.4em;border:1px solid #b8bfc8}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _list(items: Iterable[object], cls: str = "") -> str:
    rows = "".join(f"<li>{_e(item)}</li>" for item in items)
    attr = f' class="{cls}"' if cls else ""
    return f"<ul{attr}>{rows}</ul>" if rows else "<p>none</p>"


# verify-consumer's verdicts, coloured as the coverage cells are.
_VERDICT_CLASS = {"passed": "exercised", "failed": "missing", "not replayed": "untried"}


def _table(
    title: str, columns: Sequence[str], rows: Sequence[tuple[str, Sequence[tuple[str, str]]]]
) -> str:
    """A matrix: ``rows`` of (row header, [(cell class, cell text), ...])."""
    head = "".join(f'<th scope="col">{_e(c)}</th>' for c in columns)
    body = "".join(
        f'<tr><th scope="row" class="row">{_e(name)}</th>'
        + "".join(f'<td class="{_e(cls)}">{_e(text)}</td>' for cls, text in cells)
        + "</tr>"
        for name, cells in rows
    )
    return (
        f'<table class="matrix" aria-label="{_e(title)}"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _operations(cov: Mapping[str, Any]) -> str:
    cells = cov.get("cells") or []
    columns: list[tuple[str, str]] = []
    for cell in cells:
        pair = (str(cell.get("prefix")), str(cell.get("auth")))
        if pair not in columns:
            columns.append(pair)
    ops: list[str] = []
    for cell in cells:
        if cell.get("operation") not in ops:
            ops.append(str(cell.get("operation")))
    by = {(c.get("operation"), c.get("prefix"), c.get("auth")): c for c in cells}
    rows = []
    for op in ops:
        row = []
        for prefix, auth in columns:
            cell = by.get((op, prefix, auth))
            if cell is None:
                row.append(("na", ""))
                continue
            statuses = ", ".join(f"{s}: {n}" for s, n in (cell.get("statuses") or {}).items())
            if cell.get("exercised"):
                cls = "exercised"
            elif cell.get("served"):
                cls, statuses = "unexercised", statuses or "not exercised"
            else:
                cls = "unserved"
            row.append((cls, statuses))
        rows.append((op, row))
    return _table("operations", [f"{p} with {a}" for p, a in columns], rows)


def _statuses(cov: Mapping[str, Any]) -> str:
    per_op: Mapping[str, Any] = cov.get("operations") or {}
    columns: list[str] = []
    for data in per_op.values():
        for cell in [*data.get("documented", []), *data.get("seen", {})]:
            if cell not in columns:
                columns.append(cell)
    columns.sort(key=lambda c: int(c.split("|")[0]) if c.split("|")[0].isdigit() else 999)
    rows = []
    for op, data in per_op.items():
        documented, seen = set(data.get("documented", [])), data.get("seen", {})
        row = []
        for cell in columns:
            count = seen.get(cell, 0)
            if cell in documented:
                row.append(("seen", str(count)) if count else ("missing", "never seen"))
            else:
                row.append(("undocumented", f"{count} (undocumented)") if count else ("na", ""))
        rows.append((op, row))
    return _table("statuses", columns, rows)


def _isolation(cov: Mapping[str, Any]) -> str:
    roles: Mapping[str, str] = cov.get("roles") or {}
    routes: Mapping[str, Any] = cov.get("routes") or {}
    rows = []
    for route, by_role in routes.items():
        row = []
        for role in roles:
            cell = by_role.get(role)
            if cell is None:
                row.append(("na", "n/a"))
            else:
                row.append((str(cell.get("state")), f"{cell.get('state')} ({cell.get('count')})"))
        rows.append((route, row))
    return _table("isolation", list(roles.values()), rows)


def _secrets(cov: Mapping[str, Any]) -> str:
    channels = [str(c) for c in cov.get("channels") or []]
    rows = []
    for type_, fields in (cov.get("types") or {}).items():
        for name, data in fields.items():
            proven = set(data.get("proven") or [])
            row = [
                ("proven", "proven") if c in proven else ("missing", "not proven") for c in channels
            ]
            rows.append((f"{type_}.{name}", row))
    return _table("secrets", channels, rows)


def _transitions(cov: Mapping[str, Any]) -> str:
    parts = ["<ul>"]
    for name, data in (cov.get("transitions") or {}).items():
        count = int(data.get("count") or 0)
        cls = "proven" if count else "missing"
        parts.append(f'<li><span class="{cls}">{_e(name)}</span>: {count} request(s)')
        for line in data.get("requests") or []:
            parts.append(f"<pre>{_e(line)}</pre>")
        parts.append("</li>")
    parts.append("</ul>")
    return "".join(parts)


def _source(source: Any) -> str:
    if not isinstance(source, Mapping):
        return ""
    # Worded as the terminal words it (contracts.kit.rules.sources.Source).
    if source.get("kind") == "page":
        text = f'the published page, "{source.get("name")}": "{source.get("text")}"'
    else:
        text = f"{source.get('kind')} ({source.get('name')}): {source.get('text')}"
    return f"<p><strong>source:</strong> {_e(text)}</p>"


def _findings(findings: Sequence[Mapping[str, Any]], cls: str) -> str:
    if not findings:
        return "<p>none</p>"
    parts = []
    for finding in findings:
        check = finding.get("check") or finding.get("expectation") or ""
        phase = f" (phase {finding['phase']})" if finding.get("phase") else ""
        parts.append(f'<div class="finding {cls}"><p><strong>[{_e(check)}]</strong>{_e(phase)} ')
        parts.append(f"{_e(finding.get('message', ''))}</p>{_source(finding.get('source'))}")
        details = finding.get("details") or []
        if details:
            parts.append(_list(details))
        sequence = finding.get("sequence") or ([finding["curl"]] if finding.get("curl") else [])
        if sequence:
            parts.append("<pre>" + _e("\n".join(str(line) for line in sequence)) + "</pre>")
        parts.append("</div>")
    return "".join(parts)


def _verdict(document: Mapping[str, Any]) -> str:
    code = document.get("exit_code")
    error = document.get("error") or ""
    if code == 0:
        cls, word = "ok", "CONFORMANT"
    elif code == 1:
        cls, word = "fail", "VIOLATIONS FOUND"
        if not document.get("findings") and document.get("coverage_gaps"):
            word = "COVERAGE BELOW --fail-under"
    else:
        cls, word = "error", "COULD NOT RUN"
    tail = f": {error}" if error else ""
    not_run = document.get("not_run") or []
    if not_run and not error:
        tail += f" (partly checked: {len(not_run)} probe(s) could not run)"
    return f'<p class="verdict {cls}" id="verdict">{_e(word)}{_e(tail)} (exit {_e(code)})</p>'


def html_text(title: str, document: Mapping[str, Any]) -> str:
    """The page of ``document`` (a command's JSON report) under ``title``."""
    coverage: Mapping[str, Any] = document.get("coverage") or {}
    body = [f"<h1>{_e(title)}</h1>", _verdict(document)]
    facts = [
        f"{name}: {document[key]}"
        for key, name in (("base_url", "deployment"), ("prefix", "name prefix"), ("seed", "seed"))
        if document.get(key) not in (None, "")
    ]
    if facts:
        body.append(_list(facts))
    if document.get("coverage_gaps"):
        body.append("<h2>Coverage gaps (--fail-under)</h2>")
        body.append(_list(document["coverage_gaps"], "gaps"))
    if coverage:
        summary = coverage.get("summary") or {}
        body.append('<h2 id="coverage">Coverage</h2>')
        body.append(_list(f"{kind}: {value}%" for kind, value in summary.items()))
        body.append(
            '<p class="legend"><span class="exercised">seen / proven</span>'
            '<span class="missing">documented, never seen / not proven</span>'
            '<span class="undocumented">undocumented</span>'
            '<span class="untried">untried</span></p>'
        )
        sections = (
            ("operations", "Operations by path prefix and key form (statuses seen)", _operations),
            ("statuses", "Documented statuses by operation", _statuses),
            ("isolation", "Isolation: routes by key", _isolation),
            ("secrets", "Secret fields whose non-echo was proven, by channel", _secrets),
        )
        for key, heading, render in sections:
            if isinstance(coverage.get(key), Mapping):
                body.append(f'<h3 id="{key}">{_e(heading)}</h3>')
                body.append(render(coverage[key]))
                missing = coverage[key].get("missing") or []
                if missing:
                    body.append(f"<p>missing ({len(missing)}):</p>" + _list(missing))
        if isinstance(coverage.get("transitions"), Mapping):
            body.append('<h3 id="transitions">Lifecycle transitions</h3>')
            body.append(_transitions(coverage["transitions"]))
    if document.get("interactions"):
        # verify-consumer: every recorded interaction pattern and how it replayed.
        rows = [
            (
                str(i.get("interaction", "")),
                [
                    ("", str(i.get("expected", ""))),
                    (_VERDICT_CLASS.get(str(i.get("verdict")), ""), str(i.get("verdict", ""))),
                    ("", "" if i.get("status") is None else str(i.get("status"))),
                ],
            )
            for i in document["interactions"]
            if isinstance(i, Mapping)
        ]
        body.append('<h2 id="interactions">Interactions</h2>')
        body.append(_table("interactions", ["expects", "verdict", "status"], rows))
    body.append('<h2 id="violations">Violations</h2>')
    body.append(_findings(document.get("findings") or document.get("violations") or [], ""))
    body.append('<h2 id="expectations">Expectations not met</h2>')
    body.append(_findings(document.get("expectations") or [], "expectation"))
    if document.get("not_run"):
        body.append("<h2>Probes that could not run</h2>" + _list(document["not_run"]))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        # Nothing may load, even if a report text slipped through unescaped.
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
