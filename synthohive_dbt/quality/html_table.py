"""One table's section of the HTML report: scores, integrity, column charts, correlation
heatmaps, relationships and privacy.

Column charts go worst first. The first ``EAGER_COLUMNS`` are in the page; the others
are handed to ``lazy`` (key to HTML) and drawn by the page's script when their
``<details>`` opens, so a 200-column table opens as fast as a 20-column one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .html_charts import (
    MAX_HEATMAP,
    cell_value,
    distribution,
    esc,
    heatmap,
    heatmap_columns,
    number,
    scale_legend,
    share,
)

EAGER_COLUMNS = 24
OPEN_PAIRS = 10  # a table with at most this many scored pairs lists them open
GOOD, FAIR = 0.8, 0.6  # score colours: green from GOOD, amber from FAIR, red below


def score_text(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.3f}"


def score_class(score: float | None) -> str:
    if score is None:
        return "na"
    return "good" if score >= GOOD else "fair" if score >= FAIR else "poor"


def badge(score: float | None, big: bool = False) -> str:
    """A score coloured by its band (the number itself carries the meaning)."""
    cls = score_class(score)
    size = " big" if big else ""
    return f'<span class="score {cls}{size}" title="{cls}">{score_text(score)}</span>'


def rows_text(total: Any, sampled: Any) -> str:
    """``20,000 (5,000 sampled)``, or the count alone when the sample is everything."""
    if total is None:
        return number(sampled)
    if sampled is None or sampled == total:
        return number(total)
    return f"{number(total)} <small>({number(sampled)} sampled)</small>"


def column_id(table_index: int, column_index: int) -> str:
    return f"t{table_index}-c{column_index}"


def worst_first(items: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices of ``items`` by score, lowest first, unscored last."""
    return sorted(
        range(len(items)),
        key=lambda i: (items[i].get("score") is None, items[i].get("score") or 0.0),
    )


def table_section(table: Mapping[str, Any], index: int, lazy: dict[str, str], open_: bool) -> str:
    """The ``<details>`` of the report's ``index``-th table (ids ``t{index}...``); charts
    drawn later are added to ``lazy``."""
    name = str(table.get("name", f"table {index + 1}"))
    parts = [
        _metrics(table),
        _integrity(table.get("integrity")),
        _columns(table.get("columns") or [], index, lazy),
        _unscored(table.get("unscored") or []),
        _pairs(table.get("pairs") or [], table.get("correlation") or {}, name),
        _relationships(table.get("relationships") or []),
    ]
    if table.get("privacy"):
        parts.append(_privacy(table["privacy"], name, index))
    return (
        f'<details class="table" id="t{index}"{" open" if open_ else ""}>'
        f"<summary><h2>{esc(name)}</h2>{badge(table.get('score'))}</summary>"
        f'<div class="table-body">{"".join(parts)}</div></details>'
    )


def _metrics(table: Mapping[str, Any]) -> str:
    cards = [
        ("Table score", badge(table.get("score"))),
        ("Column shapes", badge(table.get("column_shapes"))),
        ("Column pair trends", badge(table.get("column_pair_trends"))),
        ("Rows real", rows_text(table.get("rows_real"), table.get("sampled_rows_real"))),
        (
            "Rows synthetic",
            rows_text(table.get("rows_synthetic"), table.get("sampled_rows_synthetic")),
        ),
    ]
    return '<div class="cards">' + "".join(_card(label, value) for label, value in cards) + "</div>"


def _card(label: str, value: str) -> str:
    return f'<div class="card"><div class="label">{esc(label)}</div><div>{value}</div></div>'


def _integrity(integrity: Mapping[str, Any] | None) -> str:
    if not integrity:
        return ""
    labels = {"duplicate_keys": "Duplicate keys", "null_keys": "Null keys", "orphans": "Orphans"}
    items = []
    for key, label in labels.items():
        count = integrity.get(key)
        cls = "ok" if not count else "bad"
        items.append(f'<li class="{cls}">{label}: <b>{esc(number(count or 0))}</b></li>')
    verdict = "passed" if all(not integrity.get(k) for k in labels) else "failed"
    return (
        f'<section class="integrity"><h3>Integrity <span class="verdict {verdict}">'
        f'{verdict}</span></h3><ul class="counts">{"".join(items)}</ul></section>'
    )


def _column_card(column: Mapping[str, Any], anchor: str) -> str:
    name = str(column.get("name", ""))
    meta = " \u00b7 ".join(esc(x) for x in (column.get("kind"), column.get("metric")) if x)
    nulls = (
        f"nulls real {share(column.get('null_share_real'))}, "
        f"synthetic {share(column.get('null_share_synthetic'))}"
    )
    chart = distribution(
        column.get("chart"), label=f"{name}: real and synthetic", none=_no_chart(column)
    )
    return (
        f'<figure class="chart-card" id="{anchor}"><figcaption><span class="name">'
        f"{esc(name)}</span>{badge(column.get('score'))}</figcaption>"
        f'<div class="muted small">{meta} \u00b7 {nulls}</div>{chart}</figure>'
    )


def _no_chart(column: Mapping[str, Any]) -> str:
    """Why a column shows no values: a ``none`` chart is a personal column, or one with
    too few real values to chart without revealing one (a ``personal`` key tells which)."""
    personal = column.get("personal")
    if personal:
        return "Personal column: its values are never shown, only its score."
    few = "Too few real values to chart without revealing one; only the score is shown."
    if personal is False:
        return few
    return (
        "No values shown: a personal column, or too few real values to chart without "
        "revealing one. Only the score is shown."
    )


def _unscored(columns: Sequence[Mapping[str, Any]]) -> str:
    """Columns the report leaves out (keys, personal columns, identifier-like text)."""
    if not columns:
        return ""
    items = "".join(
        f"<li><b>{esc(c.get('name', ''))}</b>: {esc(c.get('reason', ''))}</li>" for c in columns
    )
    return f"<section><h3>Not scored <small>({len(columns)})</small></h3><ul>{items}</ul></section>"


def _columns(columns: Sequence[Mapping[str, Any]], index: int, lazy: dict[str, str]) -> str:
    if not columns:
        return ""
    order = worst_first(columns)
    cards = [_column_card(columns[i], column_id(index, i)) for i in order]
    html = [
        f"<section><h3>Columns <small>({len(columns)}, worst first)</small></h3>",
        '<div class="grid">' + "".join(cards[:EAGER_COLUMNS]) + "</div>",
    ]
    if len(cards) > EAGER_COLUMNS:
        key = f"t{index}-more"
        lazy[key] = '<div class="grid">' + "".join(cards[EAGER_COLUMNS:]) + "</div>"
        html.append(
            f'<details class="more" data-lazy="{key}"><summary>Charts of '
            f"{len(cards) - EAGER_COLUMNS} more columns</summary>"
            '<div class="lazy-body"></div></details>'
        )
    html.append(_column_table(columns, index))
    return "".join(html) + "</section>"


def _column_table(columns: Sequence[Mapping[str, Any]], index: int) -> str:
    rows = "".join(
        f'<tr><td><a href="#{column_id(index, i)}">{esc(c.get("name", ""))}</a></td>'
        f"<td>{esc(c.get('kind') or '')}</td><td>{esc(c.get('metric') or '')}</td>"
        f"<td>{badge(c.get('score'))}</td><td>{share(c.get('null_share_real'))}</td>"
        f"<td>{share(c.get('null_share_synthetic'))}</td></tr>"
        for i, c in enumerate(columns)
    )
    return (
        '<details class="list"><summary>All columns as a table</summary><div class="scroll">'
        "<table><thead><tr><th>Column</th><th>Kind</th><th>Metric</th><th>Score</th>"
        f"<th>Nulls real</th><th>Nulls synthetic</th></tr></thead><tbody>{rows}</tbody>"
        "</table></div></details>"
    )


def pair_row(pair: Mapping[str, Any], table: str | None = None) -> str:
    """A row of a pairs table: (table), the two columns, metric, score, correlations."""
    a, b = (list(pair.get("columns") or []) + ["", ""])[:2]
    first = f"<td>{esc(table)}</td>" if table is not None else ""
    metric = str(pair.get("metric") or "")
    return (
        f"<tr>{first}<td>{esc(a)} \u00d7 {esc(b)}</td>"
        f'<td title="{esc(metric)}">{esc(metric.removesuffix("Similarity"))}</td>'
        f"<td>{badge(pair.get('score'))}</td><td>{_corr(pair.get('real'))}</td>"
        f"<td>{_corr(pair.get('synthetic'))}</td></tr>"
    )


def _corr(value: Any) -> str:
    return "\u2013" if not isinstance(value, (int, float)) else f"{value:+.2f}"


def _pairs(pairs: Sequence[Mapping[str, Any]], correlation: Mapping[str, Any], name: str) -> str:
    if not pairs and not correlation.get("columns"):
        return ""
    html = ["<section><h3>Column pair trends</h3>", _heatmaps(correlation, name)]
    if pairs:
        rows = "".join(pair_row(pairs[i]) for i in worst_first(pairs))
        open_ = " open" if len(pairs) <= OPEN_PAIRS else ""
        html.append(
            f'<details class="list"{open_}><summary>All pairs ({len(pairs)}), worst first'
            "</summary>"
            '<div class="scroll"><table><thead><tr><th>Pair</th><th>Metric</th><th>Score</th>'
            f"<th>Real corr.</th><th>Synthetic corr.</th></tr></thead><tbody>{rows}</tbody>"
            "</table></div></details>"
        )
    return "".join(html) + "</section>"


def _heatmaps(correlation: Mapping[str, Any], name: str) -> str:
    names = [str(c) for c in correlation.get("columns") or []]
    if len(names) < 3:  # one correlation: the pairs table says it all
        return ""
    real, fake = correlation.get("real") or [], correlation.get("synthetic") or []
    diff = [
        [_minus(cell_value(fake, i, j), cell_value(real, i, j)) for j in range(len(names))]
        for i in range(len(names))
    ]
    keep, total = heatmap_columns(correlation)
    note = (
        f'<p class="muted small">{MAX_HEATMAP} of {total} columns: those whose correlations '
        "changed most.</p>"
        if len(keep) < total
        else ""
    )
    figures = "".join(
        f'<figure class="heat"><figcaption>{title}</figcaption>'
        f"{heatmap(names, matrix, keep, f'{name}: {title} correlations')}</figure>"
        for title, matrix in (("Real", real), ("Synthetic", fake), ("Synthetic \u2212 real", diff))
    )
    return f'<div class="heatmaps">{figures}</div>{scale_legend()}{note}'


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _relationships(relationships: Sequence[Mapping[str, Any]]) -> str:
    if not relationships:
        return ""
    cards = []
    for rel in relationships:
        fk = str(rel.get("fk") or f"{rel.get('child')} -> {rel.get('parent')}")
        orphans = rel.get("orphans") or 0
        cards.append(
            f'<figure class="chart-card"><figcaption><span class="name">{esc(fk)}</span>'
            f'</figcaption><div class="muted small">Cardinality {badge(rel.get("cardinality"))}'
            f" Intertable trends {badge(rel.get('intertable_trends'))} "
            f'<span class="{"bad" if orphans else "ok"}">orphans {esc(number(orphans))}</span>'
            '</div><div class="muted small">Children per parent</div>'
            + distribution(
                rel.get("chart"),
                label=f"{fk}: children per parent",
                none="Too few parents to chart without revealing one.",
            )
            + "</figure>"
        )
    return f'<section><h3>Relationships</h3><div class="grid">{"".join(cards)}</div></section>'


def _privacy(privacy: Mapping[str, Any], name: str, index: int) -> str:
    passed = privacy.get("passed")
    verdict = "passed" if passed else "failed" if passed is not None else "unknown"
    nndr = privacy.get("nndr_median")
    cards = [
        ("DCR share (ideal 0.5)", esc(number(privacy.get("dcr_share")))),
        ("Exact matches, training", share(privacy.get("exact_match_training"))),
        ("Exact matches, holdout", share(privacy.get("exact_match_holdout"))),
        ("NNDR median", "n/a" if nndr is None else f"{nndr:.2f}"),
    ]
    reasons = "".join(f"<li>{esc(r)}</li>" for r in privacy.get("reasons") or [])
    note = f'<p class="muted small">{esc(privacy["note"])}</p>' if privacy.get("note") else ""
    chart = ""
    if privacy.get("dcr_histogram"):
        chart = (
            '<figure class="chart-card"><figcaption>Distance of synthetic rows to the '
            "closest training row and to the closest holdout row</figcaption>"
            + distribution(
                {"type": "histogram", **privacy["dcr_histogram"]},
                names=("training", "holdout"),
                label=f"{name}: distances to closest record",
            )
            + "</figure>"
        )
    return (
        f'<section class="privacy" id="t{index}-privacy"><h3>Privacy <span class="verdict '
        f'{verdict}">{verdict}</span></h3><div class="cards">'
        + "".join(_card(label, value) for label, value in cards)
        + f"</div>{f'<ul>{reasons}</ul>' if reasons else ''}{note}"
        + '<p class="muted small">Synthetic rows compared with the training rows and a '
        "holdout the model never saw: synthetic rows should be no closer to training rows "
        "than to holdout rows.</p>" + f'<div class="grid">{chart}</div></section>'
    )
