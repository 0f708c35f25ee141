"""The report as one self-contained HTML page (``render_html``).

Everything is inside the file: the stylesheet and a small script (package data under
``assets/``), charts as inline SVG drawn here from the report's aggregates. Nothing is
fetched, so the page opens offline. The overview comes first (overall score, gate,
tables, worst columns and pairs), then one collapsible section per table
(``html_table``). Charts beyond the first few columns of a table travel as JSON and are
drawn when their section opens, which keeps a 200-column table quick to open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from .html_charts import esc, number
from .html_table import badge, column_id, pair_row, rows_text, table_section, worst_first

WORST = 10  # rows in the overview's worst columns and worst pairs
OPEN_TABLES = 3  # reports with at most this many tables open every section
TITLE = "Synthetic data quality report"
_DOT = " \u00b7 "


def render_html(report: Mapping[str, Any]) -> str:
    """The HTML page of ``report`` (the dict described in ``quality.spec``; ``gate`` and a
    table's ``privacy`` are drawn when present). Labels are escaped, values aggregated."""
    tables = list(report.get("tables") or [])
    lazy: dict[str, str] = {}
    sections = "".join(
        table_section(t, i, lazy, open_=len(tables) <= OPEN_TABLES) for i, t in enumerate(tables)
    )
    body = (
        _header(report)
        + '<main><section class="overview" id="overview"><h2>Overview</h2>'
        + _hero(report.get("overall") or {}, report.get("gate"))
        + _tables_table(tables, report.get("gate"))
        + '<div class="worst">'
        + _worst_columns(tables)
        + _worst_pairs(tables)
        + "</div></section>"
        + f'<h2 class="per-table">Tables</h2>{sections}</main>'
        + _footer(report)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(_title(report))}</title><style>{_asset('report.css')}</style></head>"
        f"<body>{body}"
        f'<script type="application/json" id="lazy-charts">{_script_json(lazy)}</script>'
        f"<script>{_asset('report.js')}</script></body></html>\n"
    )


def _asset(name: str) -> str:
    return (files(__package__) / "assets" / name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON that cannot end its ``<script>`` element early (``</script>``, ``<!--``);
    ``<\\/`` is still ``</`` to the parser, and the markup stays compact."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


def _title(report: Mapping[str, Any]) -> str:
    schema = report.get("schema")
    return f"{TITLE}: {schema}" if schema else TITLE


def _header(report: Mapping[str, Any]) -> str:
    facts = []
    if report.get("schema"):
        facts.append(f"schema <b>{esc(report['schema'])}</b>")
    tables = report.get("tables") or []
    facts.append(f"{len(tables)} table{'s' if len(tables) != 1 else ''}")
    if report.get("sample_rows"):
        facts.append(f"samples of at most {esc(number(report['sample_rows']))} rows a table")
    return (
        f'<header><h1>{esc(TITLE)}</h1><p class="muted">{_DOT.join(facts)}</p>'
        '<p class="legend-line"><span class="key k0">real</span>'
        '<span class="key k1">synthetic</span> <span class="muted small">Scores from 0 to 1, '
        'higher is better: <span class="score good">\u2265 0.8</span> '
        '<span class="score fair">\u2265 0.6</span> <span class="score poor">&lt; 0.6</span>'
        "</span></p></header>"
    )


def _hero(overall: Mapping[str, Any], gate: Mapping[str, Any] | None) -> str:
    parts = [
        '<div class="hero"><div class="card overall"><div class="label">Overall score</div>'
        f"{badge(overall.get('score'), big=True)}</div>"
    ]
    if gate:
        parts.append(_gate(gate))
    subs = (
        ("Column shapes", "column_shapes"),
        ("Column pair trends", "column_pair_trends"),
        ("Cardinality", "cardinality"),
        ("Intertable trends", "intertable_trends"),
    )
    parts.append('<div class="cards subs">')
    for label, key in subs:
        parts.append(
            f'<div class="card"><div class="label">{label}</div>{badge(overall.get(key))}</div>'
        )
    return "".join(parts) + "</div></div>"


def _gate(gate: Mapping[str, Any]) -> str:
    passed = bool(gate.get("passed"))
    threshold = gate.get("fail_under")
    limit = f"fail under {threshold:.3f}" if isinstance(threshold, (int, float)) else ""
    per_table = gate.get("tables") or {}
    if per_table:
        limit += (
            (", " if limit else "")
            + f"{len(per_table)} table threshold"
            + ("s" if len(per_table) != 1 else "")
        )
    failures = "".join(f"<li>{esc(f)}</li>" for f in gate.get("failures") or [])
    verdict = "passed" if passed else "failed"
    return (
        f'<div class="card gate {verdict}" id="gate"><div class="label">Gate</div>'
        f'<div class="gate-verdict">{verdict.upper()}</div>'
        f'<div class="muted small">{esc(limit or "no threshold")}</div>'
        f"{f'<ul>{failures}</ul>' if failures else ''}</div>"
    )


def _tables_table(tables: Sequence[Mapping[str, Any]], gate: Mapping[str, Any] | None) -> str:
    thresholds = (gate or {}).get("tables") or {}
    rows = []
    for i, t in enumerate(tables):
        integrity = t.get("integrity") or {}
        problems = sum(int(v or 0) for v in integrity.values() if isinstance(v, (int, float)))
        privacy = t.get("privacy")
        priv = "\u2013" if not privacy else "passed" if privacy.get("passed") else "failed"
        limit = thresholds.get(t.get("name"))
        rows.append(
            f'<tr><td><a href="#t{i}">{esc(t.get("name", ""))}</a></td>'
            f"<td>{badge(t.get('score'))}"
            f"{f' <small>(min {limit:.3f})</small>' if limit is not None else ''}</td>"
            f"<td>{badge(t.get('column_shapes'))}</td><td>{badge(t.get('column_pair_trends'))}</td>"
            f"<td>{rows_text(t.get('rows_real'), t.get('sampled_rows_real'))}</td>"
            f"<td>{rows_text(t.get('rows_synthetic'), t.get('sampled_rows_synthetic'))}</td>"
            f'<td class="{"bad" if problems else "ok"}">{"ok" if not problems else problems}</td>'
            f'<td class="{priv}">{priv}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="tables"><thead><tr><th>Table</th><th>Score</th>'
        "<th>Column shapes</th><th>Pair trends</th><th>Rows real</th><th>Rows synthetic</th>"
        f"<th>Integrity</th><th>Privacy</th></tr></thead><tbody>{''.join(rows)}</tbody>"
        "</table></div>"
    )


def _worst_columns(tables: Sequence[Mapping[str, Any]]) -> str:
    found = [
        (t.get("name", ""), ti, ci, c)
        for ti, t in enumerate(tables)
        for ci, c in enumerate(t.get("columns") or [])
        if c.get("score") is not None
    ]
    found.sort(key=lambda x: x[3]["score"])
    rows = "".join(
        f'<tr><td>{esc(name)}</td><td><a href="#{column_id(ti, ci)}">{esc(c.get("name", ""))}'
        f"</a></td><td>{esc(c.get('metric') or '')}</td><td>{badge(c['score'])}</td></tr>"
        for name, ti, ci, c in found[:WORST]
    )
    return (
        '<div><h3>Worst columns</h3><div class="scroll"><table><thead><tr><th>Table</th>'
        f"<th>Column</th><th>Metric</th><th>Score</th></tr></thead><tbody>{rows}</tbody>"
        "</table></div></div>"
        if rows
        else ""
    )


def _worst_pairs(tables: Sequence[Mapping[str, Any]]) -> str:
    found = [(t.get("name", ""), p) for t in tables for p in t.get("pairs") or []]
    order = [i for i in worst_first([p for _, p in found]) if found[i][1].get("score") is not None]
    rows = "".join(pair_row(found[i][1], found[i][0]) for i in order[:WORST])
    return (
        '<div><h3>Worst pairs</h3><div class="scroll"><table><thead><tr><th>Table</th>'
        "<th>Pair</th><th>Metric</th><th>Score</th><th>Real corr.</th><th>Synthetic corr.</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div></div>"
        if rows
        else ""
    )


def _footer(report: Mapping[str, Any]) -> str:
    version = report.get("format_version")
    made_by = report.get("generator") or "synthohive-dbt"
    return (
        f'<footer class="muted small">{esc(made_by)} quality report'
        f"{f', format version {esc(version)}' if version is not None else ''}. Aggregates "
        "only: shares, scores and counts; category labels only for values seen in enough "
        "real rows.</footer>"
    )
